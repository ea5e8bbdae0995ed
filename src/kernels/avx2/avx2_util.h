// Helpers shared by the AVX2 kernel files (horizontal sums, half loads, the signed 8-bit dot product) and the
// registration functions each file exposes to avx2_kernels.cpp. Include only from src/kernels/avx2/: these files
// are compiled with -mavx2 -mfma -mf16c, and nothing here may run on a CPU without them.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace seek::avx2 {

// Each kernel file fills its entries of the table (the rest keep the reference kernels).
void register_float_kernels(KernelTable& t);   // avx2_kernels.cpp: F32/F16/BF16, axpy, dot_f32
void register_q8_0_kernels(KernelTable& t);    // avx2_q8_0.cpp: Q8_0, quantize_q8_0
void register_gemm_kernels(KernelTable& t);    // avx2_gemm.cpp: pack_panel, gemm_panel
void register_legacy_kernels(KernelTable& t);  // avx2_legacy.cpp: Q4_0, Q5_0, Q5_1, IQ4_NL
void register_kquant_kernels(KernelTable& t);  // avx2_kquants.cpp: Q4_K, Q5_K, Q6_K, IQ4_XS

inline float hsum(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

inline __m256i loadu256(const void* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline __m128i loadu128(const void* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// One half to float with the F16C instruction (exact, like the scalar f16_to_f32).
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// 8 int8 values (the low 8 bytes of v) to floats, exactly.
inline __m256 i8x8_to_ps(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

inline __m256i mask8(int v) { return _mm256_set1_epi8(char(v)); }

// The 4-bit fields of 16 bytes packed as Q4_0's: element j in the low nibble of byte j, element j + 16 in the
// high one.
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i v = loadu128(qs);
  const __m128i m = _mm_set1_epi8(0xF);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

// 32 int8 codes to four vectors of 8 floats, in element order (exact).
inline void i8x32_to_ps(__m256i c, __m256 out[4]) {
  const __m128i lo = _mm256_castsi256_si128(c), hi = _mm256_extracti128_si256(c, 1);
  out[0] = i8x8_to_ps(lo);
  out[1] = i8x8_to_ps(_mm_srli_si128(lo, 8));
  out[2] = i8x8_to_ps(hi);
  out[3] = i8x8_to_ps(_mm_srli_si128(hi, 8));
}

// Sum of q * x over 32 elements (codes c, floats x), in 8 lanes.
inline __m256 dot_codes_ps(__m256i c, const float* x) {
  __m256 q[4];
  i8x32_to_ps(c, q);
  __m256 s = _mm256_mul_ps(q[0], _mm256_loadu_ps(x));
  for (int j = 1; j < 4; ++j) s = _mm256_fmadd_ps(q[j], _mm256_loadu_ps(x + 8 * j), s);
  return s;
}

// Sum of 32 floats, in 8 lanes.
inline __m256 sum32(const float* x) {
  return _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)),
                       _mm256_add_ps(_mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24)));
}

// Sum of products of 32 signed bytes, as 8 int32 lanes (each lane the sum of 4 products). AVX2 has no signed x
// signed byte multiply, so |a| (unsigned) meets b carrying a's sign: maddubs sums pairs into int16 without
// saturating as long as |a| * |b| * 2 <= 32767, true for the q8_0 range |q| <= 127 (127 * 128 * 2 = 32512).
inline __m256i dot_i8_pairs(__m256i a, __m256i b) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

}  // namespace seek::avx2
