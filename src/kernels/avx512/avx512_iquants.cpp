// AVX-512 dot products of IQ2_XXS and IQ1_S, the bulk of unsloth's dynamic R1 quants (their routed experts).
// Per 32-weight group: four codebook entries are gathered into 32 int8 levels, signs applied with a byte mask,
// widened to two f32 vectors and multiplied with x; the group's scale is applied once to the group's sum. The
// scalar definitions are in kernels/ref/ref_iquants.cpp; dequantisation stays the reference's (prefill only).
#include <immintrin.h>

#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

#ifdef SEEK_HAVE_IQ_GRIDS
#include "iq_grids.h"  // generated in the build directory from llama.cpp's ggml-common.h
#endif

namespace seek {

#ifdef SEEK_HAVE_IQ_GRIDS

namespace {

// 32 int8 levels (one group) times x[0..31], as two 16-lane f32 products summed.
inline __m512 group_dot(__m256i levels, const float* x) {
  const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(levels)));
  const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(levels, 1)));
  return _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + 16), _mm512_mul_ps(lo, _mm512_loadu_ps(x)));
}

// The 8 sign bits of a run from its 7 stored ones (ggml's ksigns_iq2xs: the 8th makes the count of minus signs
// even).
inline uint32_t run_signs(uint32_t seven) { return seven | (uint32_t(__builtin_popcount(seven) & 1) << 7); }

// IQ2_XXS: w = d * (0.5 + s) * 0.25 * level * sign (quant/blocks.h).
float vdot_iq2_xxs(const uint8_t* row, const float* x, int64_t n) {
  const BlockIQ2XXS* b = reinterpret_cast<const BlockIQ2XXS*>(row);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k, x += kQK_K) {
    const float d = f16_to_f32(b[k].d);
    for (int ib = 0; ib < 8; ++ib) {
      uint32_t aux[2];
      std::memcpy(aux, b[k].qs + 4 * ib, 8);
      const __m256i levels = _mm256_set_epi64x(
          int64_t(iq_grids::kIq2xxsGrid[aux[0] >> 24]), int64_t(iq_grids::kIq2xxsGrid[(aux[0] >> 16) & 0xFF]),
          int64_t(iq_grids::kIq2xxsGrid[(aux[0] >> 8) & 0xFF]), int64_t(iq_grids::kIq2xxsGrid[aux[0] & 0xFF]));
      const __mmask32 neg = run_signs(aux[1] & 127) | run_signs((aux[1] >> 7) & 127) << 8 |
                            run_signs((aux[1] >> 14) & 127) << 16 | run_signs((aux[1] >> 21) & 127) << 24;
      const __m256i signed_levels = _mm256_mask_sub_epi8(levels, neg, _mm256_setzero_si256(), levels);
      const float db = d * (0.5f + float(aux[1] >> 28)) * 0.25f;
      acc = _mm512_fmadd_ps(_mm512_set1_ps(db), group_dot(signed_levels, x + 32 * ib), acc);
    }
  }
  return _mm512_reduce_add_ps(acc);
}

// IQ1_S: w = d * (2s + 1) * (level + delta), levels -1, 0, +1; level + delta is exact in f32.
float vdot_iq1_s(const uint8_t* row, const float* x, int64_t n) {
  const BlockIQ1S* b = reinterpret_cast<const BlockIQ1S*>(row);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k, x += kQK_K) {
    const float d = f16_to_f32(b[k].d);
    for (int ib = 0; ib < 8; ++ib) {
      const uint32_t qh = b[k].qh[ib];
      const uint8_t* qs = b[k].qs + 4 * ib;
      const __m256i levels = _mm256_set_epi64x(int64_t(iq_grids::kIq1sGrid[qs[3] | ((qh >> 9) & 7) << 8]),
                                               int64_t(iq_grids::kIq1sGrid[qs[2] | ((qh >> 6) & 7) << 8]),
                                               int64_t(iq_grids::kIq1sGrid[qs[1] | ((qh >> 3) & 7) << 8]),
                                               int64_t(iq_grids::kIq1sGrid[qs[0] | (qh & 7) << 8]));
      const __m512 delta = _mm512_set1_ps(qh & 0x8000 ? -0.125f : 0.125f);
      const float* xg = x + 32 * ib;
      const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(levels)));
      const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(levels, 1)));
      const __m512 s = _mm512_fmadd_ps(_mm512_add_ps(hi, delta), _mm512_loadu_ps(xg + 16),
                                       _mm512_mul_ps(_mm512_add_ps(lo, delta), _mm512_loadu_ps(xg)));
      const float dl = d * float(2 * ((qh >> 12) & 7) + 1);
      acc = _mm512_fmadd_ps(_mm512_set1_ps(dl), s, acc);
    }
  }
  return _mm512_reduce_add_ps(acc);
}

}  // namespace

void register_avx512_iquant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::IQ2_XXS)].dot = vdot_iq2_xxs;
  t.by_type[uint32_t(GgmlType::IQ1_S)].dot = vdot_iq1_s;
}

#else

void register_avx512_iquant_kernels(KernelTable&) {}  // no codebooks in this build

#endif

}  // namespace seek
