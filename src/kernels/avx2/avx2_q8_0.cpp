// AVX2 kernels of block_q8_0 (32 int8 codes and an f16 scale): dequantisation, the dot product with f32 and with
// q8_0-quantised activations, and the activation quantiser (byte-identical to quantize_row_q8_0).
#include "core/half.h"
#include "kernels/avx2/avx2_util.h"
#include "quant/blocks.h"

namespace seek::avx2 {

namespace {

// The 32 codes of a block as four vectors of 8 floats (exact).
inline void q8_to_ps(const int8_t* qs, __m256 out[4]) {
  for (int j = 0; j < 4; ++j) out[j] = i8x8_to_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs + 8 * j)));
}

// d * q, one product per element as the reference forms it: bit-identical.
void dequant_q8_0(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(src);
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const __m256 d = _mm256_set1_ps(half_to_float(b[k].d));
    __m256 q[4];
    q8_to_ps(b[k].qs, q);
    for (int j = 0; j < 4; ++j) _mm256_storeu_ps(dst + k * kQK8_0 + 8 * j, _mm256_mul_ps(d, q[j]));
  }
}

// sum(q * x) over one block, in 8 lanes.
inline __m256 q8_block(const BlockQ8_0& b, const float* x) {
  __m256 q[4];
  q8_to_ps(b.qs, q);
  __m256 s = _mm256_mul_ps(q[0], _mm256_loadu_ps(x));
  for (int j = 1; j < 4; ++j) s = _mm256_fmadd_ps(q[j], _mm256_loadu_ps(x + 8 * j), s);
  return s;
}

// The reference's structure (d times the block's sum of q*x), two blocks per step on separate accumulators.
float vdot_q8_0(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  const int64_t nb = n / kQK8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), q8_block(b[k], x + k * kQK8_0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k + 1].d)), q8_block(b[k + 1], x + (k + 1) * kQK8_0), acc1);
  }
  if (k < nb) acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), q8_block(b[k], x + k * kQK8_0), acc0);
  return hsum(_mm256_add_ps(acc0, acc1));
}

// One block pair: the integer dot product is exact (dot_i8_pairs); its 8 lanes are scaled by d_w * d_x in float.
inline __m256 q8q8_block(const BlockQ8_0& w, const BlockQ8_0& x, __m256 acc) {
  const __m256 d = _mm256_set1_ps(half_to_float(w.d) * half_to_float(x.d));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8_pairs(loadu256(w.qs), loadu256(x.qs))), d, acc);
}

float vdot_q8_0_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  const int64_t nb = n / kQK8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    acc0 = q8q8_block(b[k], xq[k], acc0);
    acc1 = q8q8_block(b[k + 1], xq[k + 1], acc1);
  }
  if (k < nb) acc0 = q8q8_block(b[k], xq[k], acc0);
  return hsum(_mm256_add_ps(acc0, acc1));
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// roundf: to nearest, ties away from zero (the hardware's rounding mode breaks ties to even). v - trunc(v) is
// exact, so comparing it with 0.5 decides exactly as roundf does.
inline __m256 round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(t, _mm256_and_ps(up, _mm256_or_ps(sign, _mm256_set1_ps(1.0f))));
}

// quantize_row_q8_0 with the same scalar d = amax / 127 and id = 1 / d, the same products x * id and the same
// rounding, so the blocks are byte-identical.
void quantize_q8_0(const float* x, uint8_t* out, int64_t n) {
  BlockQ8_0* b = reinterpret_cast<BlockQ8_0*>(out);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const float* xs = x + k * kQK8_0;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(xs + 8 * j);
      amax = _mm256_max_ps(_mm256_and_ps(v[j], abs_mask), amax);  // a NaN x is skipped, as fmax does
    }
    const float d = hmax(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = f32_to_f16(d);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v[j], _mm256_set1_ps(id))));
    // packs works within 128-bit lanes: bytes come out as q0[0..3] q1[0..3] q2[0..3] q3[0..3] | q0[4..7] ...;
    // the dword permutation restores element order. |q| <= 127, so nothing saturates.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[k].qs), ordered);
  }
}

}  // namespace

void register_q8_0_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q8_0)] = {dequant_q8_0, vdot_q8_0, vdot_q8_0_q8};
  t.quantize_q8_0 = quantize_q8_0;
}

}  // namespace seek::avx2
