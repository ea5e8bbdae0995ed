// AVX2 + FMA + F16C kernel table for CPUs without AVX-512 (compiled with -mavx2 -mfma -mf16c only), and its
// float kernels: F32/F16/BF16 rows, axpy, dot_f32. Quantised types, quantize_q8_0 and the prefill GEMM live in
// the other files of this folder; types without an AVX2 version keep the reference kernels.
#include <cstring>

#include "core/half.h"
#include "kernels/avx2/avx2_util.h"
#include "quant/blocks.h"

namespace seek {
namespace avx2 {

namespace {

// Lanes 0..rem-1 set, for the masked loads of a tail of rem < 8 floats.
inline __m256i tail_mask(int64_t rem) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(rem)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Four accumulators (32 floats per step) so the FMA latency chain does not limit a memory-bound loop.
float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(),
         acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  if (i < n) {  // masked loads read nothing past the end
    const __m256i m = tail_mask(n - i);
    acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

float vdot_f32(const uint8_t* row, const float* x, int64_t n) {
  return dot_f32(reinterpret_cast<const float*>(row), x, n);
}

inline __m256 load_f16(const uint16_t* p) { return _mm256_cvtph_ps(loadu128(p)); }
// bf16 is the top half of an f32: widen to 32 bits and shift into place (exact).
inline __m256 load_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(loadu128(p)), 16));
}
template <bool kBf16>
inline __m256 load_half(const uint16_t* p) {
  return kBf16 ? load_bf16(p) : load_f16(p);
}
template <bool kBf16>
inline float half_scalar(uint16_t h) {
  return kBf16 ? bf16_to_f32(h) : f16_to_f32(h);
}

template <bool kBf16>
float vdot_half(const uint8_t* row, const float* x, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(row);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(),
         acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load_half<kBf16>(s + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(load_half<kBf16>(s + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load_half<kBf16>(s + i + 16), _mm256_loadu_ps(x + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load_half<kBf16>(s + i + 24), _mm256_loadu_ps(x + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_half<kBf16>(s + i), _mm256_loadu_ps(x + i), acc0);
  float acc = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) acc += half_scalar<kBf16>(s[i]) * x[i];
  return acc;
}

// Both conversions are exact, so the result is bit-identical to the reference.
template <bool kBf16>
void dequant_half(const uint8_t* src, float* dst, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_half<kBf16>(s + i));
  for (; i < n; ++i) dst[i] = half_scalar<kBf16>(s[i]);
}

void dequant_f32(const uint8_t* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

// y += a * x with one rounding per element (FMA) where the reference rounds twice.
void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

void dot_rows(const float* q, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float scale, float* out) {
  for (int64_t s = 0; s < n_rows; ++s) out[s] = scale * dot_f32(q, rows + s * stride, n);
}

void sum_rows(const float* p, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
  for (int64_t s = 0; s < n_rows; ++s) axpy(p[s], rows + s * stride, out, n);
}

}  // namespace

void register_float_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::F32)] = {dequant_f32, vdot_f32};
  t.by_type[uint32_t(GgmlType::F16)] = {dequant_half<false>, vdot_half<false>};
  t.by_type[uint32_t(GgmlType::BF16)] = {dequant_half<true>, vdot_half<true>};
  t.axpy = axpy;
  t.dot_f32 = dot_f32;
  t.dot_rows = dot_rows;
  t.sum_rows = sum_rows;
}

}  // namespace avx2

void register_avx2_fp8_kernels(KernelTable& t);  // avx2_fp8.cpp

namespace {

KernelTable make_avx2() {
  KernelTable t = ref_kernels();  // types without an AVX2 version keep their reference kernels
  t.name = "avx2";
  avx2::register_float_kernels(t);
  avx2::register_q8_0_kernels(t);
  avx2::register_legacy_kernels(t);
  avx2::register_kquant_kernels(t);
  avx2::register_gemm_kernels(t);
  register_avx2_fp8_kernels(t);  // avx2_fp8.cpp
  // No integer GEMM without VNNI yet: batches of Q8_0 take the f32 panel GEMM above, not the scalar reference's.
  t.pack_q8_0_panel = nullptr;
  t.gemm_q8_0_panel = nullptr;
  return t;
}

}  // namespace

// Built on first use, which select_kernels only reaches after cpu_has_avx2(): the constructor itself may use
// AVX instructions.
const KernelTable* avx2_kernels() {
  static const KernelTable t = make_avx2();
  return &t;
}

}  // namespace seek
