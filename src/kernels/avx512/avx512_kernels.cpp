// AVX-512 kernels (F16C for halves, VNNI-free f32 FMA paths). Compiled with AVX-512 flags; only called when
// cpu_has_avx512() is true.
#include <immintrin.h>

#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

namespace {

inline __mmask16 tail_mask(int64_t rem) { return __mmask16((1u << rem) - 1); }

float dot_f32(const float* a, const float* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float vdot_f32(const uint8_t* row, const float* x, int64_t n) {
  return dot_f32(reinterpret_cast<const float*>(row), x, n);
}

inline __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load_bf16(const uint16_t* p) {
  __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

template <bool kBf16>
float vdot_half(const uint8_t* row, const float* x, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(row);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 w0 = kBf16 ? load_bf16(s + i) : load_f16(s + i);
    const __m512 w1 = kBf16 ? load_bf16(s + i + 16) : load_f16(s + i + 16);
    acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i + 16), acc1);
  }
  float acc = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < n; ++i) acc += (kBf16 ? bf16_to_f32(s[i]) : f16_to_f32(s[i])) * x[i];
  return acc;
}

template <bool kBf16>
void dequant_half(const uint8_t* src, float* dst, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, kBf16 ? load_bf16(s + i) : load_f16(s + i));
  for (; i < n; ++i) dst[i] = kBf16 ? bf16_to_f32(s[i]) : f16_to_f32(s[i]);
}

void dequant_f32(const uint8_t* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

inline __m512 load_q8(const int8_t* q) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
}

// Same per-block structure as the reference: d * (sum of q*x over the block).
float vdot_q8_0(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const float* xs = x + k * kQK8_0;
    __m512 s = _mm512_mul_ps(load_q8(b[k].qs), _mm512_loadu_ps(xs));
    s = _mm512_fmadd_ps(load_q8(b[k].qs + 16), _mm512_loadu_ps(xs + 16), s);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(f16_to_f32(b[k].d)), s, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

void dequant_q8_0(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(src);
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const __m512 d = _mm512_set1_ps(f16_to_f32(b[k].d));
    _mm512_storeu_ps(dst + k * kQK8_0, _mm512_mul_ps(d, load_q8(b[k].qs)));
    _mm512_storeu_ps(dst + k * kQK8_0 + 16, _mm512_mul_ps(d, load_q8(b[k].qs + 16)));
  }
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

KernelTable make_avx512() {
  KernelTable t;
  t.name = "avx512";
  t.by_type[uint32_t(GgmlType::F32)] = {dequant_f32, vdot_f32};
  t.by_type[uint32_t(GgmlType::F16)] = {dequant_half<false>, vdot_half<false>};
  t.by_type[uint32_t(GgmlType::BF16)] = {dequant_half<true>, vdot_half<true>};
  t.by_type[uint32_t(GgmlType::Q8_0)] = {dequant_q8_0, vdot_q8_0};
  t.axpy = axpy;
  t.dot_f32 = dot_f32;
  return t;
}

}  // namespace

const KernelTable* avx512_kernels() {
  static const KernelTable t = make_avx512();
  return &t;
}

}  // namespace seek
