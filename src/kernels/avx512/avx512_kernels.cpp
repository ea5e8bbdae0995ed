// AVX-512 kernels (F16C for halves, VNNI-free f32 FMA paths). Compiled with AVX-512 flags; only called when
// cpu_has_avx512() is true.
#include <immintrin.h>

#include <cstring>

#include "core/half.h"
#include "kernels/avx512/avx512_transpose.h"
#include "kernels/kernels.h"
#include "kernels/token_blocks.h"
#include "quant/blocks.h"

namespace seek {

void register_avx512_gemm_q8(KernelTable& t);  // avx512_gemm_q8.cpp
void register_avx512_iquant_kernels(KernelTable& t);  // avx512_iquants.cpp
void register_avx512_fp8_kernels(KernelTable& t);  // avx512_fp8.cpp
void register_avx512_quant_kernels(KernelTable& t);  // avx512_quants.cpp
void register_avx512_legacy_kernels(KernelTable& t);  // avx512_legacy.cpp
void register_avx512_attention_kernels(KernelTable& t);  // avx512_attention.cpp

namespace {

inline __mmask16 tail_mask(int64_t rem) { return __mmask16((1u << rem) - 1); }

// One half to float with the F16C instruction (exact, like the scalar f16_to_f32).
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

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

// Same per-block structure as the reference: d * (sum of q*x over the block). Four blocks per iteration with
// their own accumulators, so the FMA latency chain does not limit a memory-bound loop.
inline __m512 q8_block(const BlockQ8_0& b, const float* xs) {
  const __m512 s = _mm512_mul_ps(load_q8(b.qs), _mm512_loadu_ps(xs));
  return _mm512_fmadd_ps(load_q8(b.qs + 16), _mm512_loadu_ps(xs + 16), s);
}

float vdot_q8_0(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  const int64_t nb = n / kQK8_0;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t k = 0;
  for (; k + 4 <= nb; k += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(b + k + 16), _MM_HINT_T0);
    for (int u = 0; u < 4; ++u)
      acc[u] = _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(b[k + u].d)), q8_block(b[k + u], x + (k + u) * kQK8_0), acc[u]);
  }
  for (; k < nb; ++k)
    acc[0] = _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(b[k].d)), q8_block(b[k], x + k * kQK8_0), acc[0]);
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

// Two 32-value blocks per step with 256-bit VNNI: |w| (unsigned) times x carrying w's sign gives w * x, summed
// into 8 int32 lanes by vpdpbusd, then scaled by d_w * d_x in float. Same arithmetic as the reference.
inline __m256 q8q8_block(const BlockQ8_0& w, const BlockQ8_0& x) {
  const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs));
  const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
  const __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
  return _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(half_to_float(w.d) * half_to_float(x.d)));
}

float vdot_q8_0_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  const int64_t nb = n / kQK8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    // Decode streams rows back to back: fetching 8 KiB ahead (into the next rows) keeps more reads in flight than
    // the hardware prefetcher does (a prefetch never faults, even past the matrix).
    _mm_prefetch(reinterpret_cast<const char*>(b + k) + 8192, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + k) + 8192 + 64, _MM_HINT_T0);
    acc0 = _mm256_add_ps(acc0, q8q8_block(b[k], xq[k]));
    acc1 = _mm256_add_ps(acc1, q8q8_block(b[k + 1], xq[k + 1]));
  }
  if (k < nb) acc0 = _mm256_add_ps(acc0, q8q8_block(b[k], xq[k]));
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

void dequant_q8_0(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(src);
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const __m512 d = _mm512_set1_ps(half_to_float(b[k].d));
    _mm512_storeu_ps(dst + k * kQK8_0, _mm512_mul_ps(d, load_q8(b[k].qs)));
    _mm512_storeu_ps(dst + k * kQK8_0 + 16, _mm512_mul_ps(d, load_q8(b[k].qs + 16)));
  }
}

void pack_panel(const float* rows, int64_t K, float* panel) {
  int64_t k0 = 0;
  for (; k0 + 16 <= K; k0 += 16)
    for (int rb = 0; rb < 2; ++rb) {
      __m512 r[16], out[16];
      for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(rows + (rb * 16 + i) * K + k0);
      transpose16(r, out);
      for (int c = 0; c < 16; ++c) _mm512_storeu_ps(panel + (k0 + c) * 32 + rb * 16, out[c]);
    }
  for (; k0 < K; ++k0)
    for (int i = 0; i < 32; ++i) panel[k0 * 32 + i] = rows[i * K + k0];
}

// Register block of 32 rows x NT tokens: per k, two vector loads of the panel and NT broadcasts feed 2*NT FMAs.
template <int NT>
void gemm_block(const float* panel, int64_t K, const float* x, int64_t ldx, float* y, int64_t ldy, int n_rows) {
  __m512 acc0[NT], acc1[NT];
  for (int j = 0; j < NT; ++j) acc0[j] = acc1[j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m512 w0 = _mm512_loadu_ps(panel + k * 32), w1 = _mm512_loadu_ps(panel + k * 32 + 16);
    for (int j = 0; j < NT; ++j) {
      const __m512 b = _mm512_set1_ps(x[j * ldx + k]);
      acc0[j] = _mm512_fmadd_ps(w0, b, acc0[j]);
      acc1[j] = _mm512_fmadd_ps(w1, b, acc1[j]);
    }
  }
  const __mmask16 m0 = n_rows >= 16 ? __mmask16(0xffff) : tail_mask(n_rows);
  const __mmask16 m1 = n_rows >= 32 ? __mmask16(0xffff) : n_rows > 16 ? tail_mask(n_rows - 16) : __mmask16(0);
  for (int j = 0; j < NT; ++j) {
    _mm512_mask_storeu_ps(y + j * ldy, m0, acc0[j]);
    _mm512_mask_storeu_ps(y + j * ldy + 16, m1, acc1[j]);
  }
}

void gemm_panel(const float* panel, int64_t K, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy,
                int n_rows) {
  for_token_blocks<6>(n_tok, [&]<int NT>(int64_t t) { gemm_block<NT>(panel, K, x + t * ldx, ldx, y + t * ldy, ldy, n_rows); });
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

KernelTable make_avx512() {
  KernelTable t = ref_kernels();  // types without an AVX-512 version keep their reference kernels
  t.name = "avx512";
  t.by_type[uint32_t(GgmlType::F32)] = {dequant_f32, vdot_f32};
  t.by_type[uint32_t(GgmlType::F16)] = {dequant_half<false>, vdot_half<false>};
  t.by_type[uint32_t(GgmlType::BF16)] = {dequant_half<true>, vdot_half<true>};
  t.by_type[uint32_t(GgmlType::Q8_0)] = {dequant_q8_0, vdot_q8_0, vdot_q8_0_q8};
  register_avx512_iquant_kernels(t);  // IQ2_XXS, IQ1_S dots (when built with the codebooks)
  register_avx512_quant_kernels(t);  // Q2_K..Q6_K, IQ4_XS: avx512_quants.cpp
  register_avx512_legacy_kernels(t);  // Q4_0, Q5_0, Q5_1, IQ4_NL, Q8_0's dot_q8x: avx512_legacy.cpp
  t.axpy = axpy;
  t.dot_f32 = dot_f32;
  register_avx512_attention_kernels(t);  // dot_rows, sum_rows
  t.gemm_panel = gemm_panel;
  t.pack_panel = pack_panel;
  register_avx512_gemm_q8(t);
  register_avx512_fp8_kernels(t);  // F8_E4M3 with block scales
  return t;
}

}  // namespace

const KernelTable* avx512_kernels() {
  static const KernelTable t = make_avx512();
  return &t;
}

}  // namespace seek
