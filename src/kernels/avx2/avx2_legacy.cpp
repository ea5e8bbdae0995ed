// AVX2 kernels of the 32-element types Q4_0, Q5_0, IQ4_NL (w = d * c, c a signed code) and Q5_1 (w = d * q + m):
// dequantisation bit-identical to the reference (the same product, and sum, per element), the dot product with
// f32 activations (d times the block's sum of c * x, as the reference), and with q8_0 activations (the block's
// exact integer sum times d * d_x). Each block's codes are unpacked into 32 bytes in element order.
#include <cstring>

#include "core/half.h"
#include "kernels/avx2/avx2_util.h"
#include "quant/blocks.h"

namespace seek::avx2 {

namespace {

// Bit j of the little-endian 32-bit mask as 0x10 in byte j: bit 4 of Q5_0/Q5_1's code j. Each byte takes the mask
// byte j / 8 (vpshufb works within 128-bit lanes, and every lane holds all four), keeps bit j % 8 and compares.
inline __m256i high_bits(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(qh)), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                   2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), mask8(0x10));
}

// Signed codes c of each symmetric type (w = d * c).
inline __m256i codes(const BlockQ4_0& b) { return _mm256_sub_epi8(nibbles(b.qs), mask8(8)); }
inline __m256i codes(const BlockQ5_0& b) {
  return _mm256_sub_epi8(_mm256_or_si256(nibbles(b.qs), high_bits(b.qh)), mask8(16));
}
inline __m256i codes(const BlockIQ4NL& b) {  // the 16 levels looked up with vpshufb (in both lanes)
  const __m256i levels = _mm256_broadcastsi128_si256(loadu128(kIq4nlValues));
  return _mm256_shuffle_epi8(levels, nibbles(b.qs));
}

template <class Block>
void dequant_sym(const uint8_t* src, float* dst, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(src);
  for (int64_t k = 0; k < n / 32; ++k) {
    const __m256 d = _mm256_set1_ps(half_to_float(b[k].d));
    __m256 q[4];
    i8x32_to_ps(codes(b[k]), q);
    for (int j = 0; j < 4; ++j) _mm256_storeu_ps(dst + 32 * k + 8 * j, _mm256_mul_ps(q[j], d));
  }
}

template <class Block>
float vdot_sym(const uint8_t* row, const float* x, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / 32; ++k)
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), dot_codes_ps(codes(b[k]), x + 32 * k), acc);
  return hsum(acc);
}

// |c| <= 127 for every symmetric type (IQ4_NL's levels reach -127), so dot_i8_pairs cannot saturate.
template <class Block>
inline __m256 sym_q8_block(const Block& w, const BlockQ8_0& x, __m256 acc) {
  const __m256 d = _mm256_set1_ps(half_to_float(w.d) * half_to_float(x.d));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8_pairs(codes(w), loadu256(x.qs))), d, acc);
}

template <class Block>
float vdot_sym_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  const int64_t nb = n / 32;
  int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    acc0 = sym_q8_block(b[k], xq[k], acc0);
    acc1 = sym_q8_block(b[k + 1], xq[k + 1], acc1);
  }
  if (k < nb) acc0 = sym_q8_block(b[k], xq[k], acc0);
  return hsum(_mm256_add_ps(acc0, acc1));
}

template <class Block>
TypeKernels sym_kernels() {
  return {dequant_sym<Block>, vdot_sym<Block>, vdot_sym_q8<Block>};
}

// ---- Q5_1: w = d * q + m, q in 0..31 (unsigned).

inline __m256i codes_q5_1(const BlockQ5_1& b) { return _mm256_or_si256(nibbles(b.qs), high_bits(b.qh)); }

void dequant_q5_1(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(src);
  for (int64_t k = 0; k < n / kQK5_1; ++k) {
    const __m256 d = _mm256_set1_ps(half_to_float(b[k].d)), m = _mm256_set1_ps(half_to_float(b[k].m));
    __m256 q[4];
    i8x32_to_ps(codes_q5_1(b[k]), q);
    for (int j = 0; j < 4; ++j)  // q * d + m, two roundings as in the reference (no FMA)
      _mm256_storeu_ps(dst + 32 * k + 8 * j, _mm256_add_ps(_mm256_mul_ps(q[j], d), m));
  }
}

// sum (d q + m) x = d * sum(q x) + m * sum(x)
float vdot_q5_1(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK5_1; ++k) {
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), dot_codes_ps(codes_q5_1(b[k]), x + 32 * k), acc);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].m)), sum32(x + 32 * k), acc);
  }
  return hsum(acc);
}

// d_x * (d * sum(q qx) + m * sum(qx)): q is unsigned (0..31), so maddubs takes it directly.
float vdot_q5_1_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(row);
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK5_1; ++k) {
    const __m256i qx = loadu256(xq[k].qs);
    const float dx = half_to_float(xq[k].d);
    const __m256i sqq = _mm256_madd_epi16(_mm256_maddubs_epi16(codes_q5_1(b[k]), qx), ones16);
    const __m256i sx = _mm256_madd_epi16(_mm256_maddubs_epi16(mask8(1), qx), ones16);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sqq), _mm256_set1_ps(half_to_float(b[k].d) * dx), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sx), _mm256_set1_ps(half_to_float(b[k].m) * dx), acc);
  }
  return hsum(acc);
}

}  // namespace

void register_legacy_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q4_0)] = sym_kernels<BlockQ4_0>();
  t.by_type[uint32_t(GgmlType::Q5_0)] = sym_kernels<BlockQ5_0>();
  t.by_type[uint32_t(GgmlType::IQ4_NL)] = sym_kernels<BlockIQ4NL>();
  t.by_type[uint32_t(GgmlType::Q5_1)] = {dequant_q5_1, vdot_q5_1, vdot_q5_1_q8};
}

}  // namespace seek::avx2
