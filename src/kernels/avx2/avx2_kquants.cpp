// AVX2 kernels of the 256-element super-block types Q4_K, Q5_K, Q6_K and IQ4_XS: dequantisation (bit-identical to the reference: the same products
// and differences per element), the dot product with f32 activations (the reference's per-group structure), and
// the dot product with q8_0-quantised activations (exact integer sums per q8_0 block, scaled in float; decode's
// path). Codes are unpacked 32 at a time into bytes in element order, one q8_0 block's worth.
#include "core/half.h"
#include "kernels/avx2/avx2_util.h"
#include "quant/blocks.h"

namespace seek::avx2 {

namespace {

// ---- Q4_K and Q5_K: 8 groups of 32, w = d * sc[g] * q - dmin * m[g], q in 0..15 (Q5_K: 0..31); chunk c of qs
// holds group 2c in its low nibbles and group 2c + 1 in its high nibbles; Q5_K's bit 4 of group g is bit g of qh.

struct KScales {
  float a[8], b[8];    // a = d * sc, b = dmin * m, formed as the reference forms them
  int16_t sc[8], m[8];
};

template <class Block>
inline void k4_scales(const Block& blk, KScales* s) {
  const float d = half_to_float(blk.d), dmin = half_to_float(blk.dmin);
  for (int g = 0; g < 8; ++g) {
    uint8_t sc, m;
    unpack_scale_min_k4(g, blk.scales, &sc, &m);
    s->sc[g] = sc;
    s->m[g] = m;
    s->a[g] = d * float(sc);
    s->b[g] = dmin * float(m);
  }
}

// Codes of group g (32 elements, unsigned).
inline __m256i k4_codes(const BlockQ4K& blk, int g) {
  const __m256i v = loadu256(blk.qs + 32 * (g / 2));
  return _mm256_and_si256(g % 2 ? _mm256_srli_epi16(v, 4) : v, mask8(0xF));
}
inline __m256i k4_codes(const BlockQ5K& blk, int g) {
  const __m256i v = loadu256(blk.qs + 32 * (g / 2));
  const __m256i bit = mask8(1 << g);
  const __m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(loadu256(blk.qh), bit), bit), mask8(0x10));
  return _mm256_or_si256(_mm256_and_si256(g % 2 ? _mm256_srli_epi16(v, 4) : v, mask8(0xF)), high);
}

template <class Block>
void dequant_k4(const uint8_t* src, float* dst, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(src);
  KScales s;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    k4_scales(b[k], &s);
    for (int g = 0; g < 8; ++g) {
      const __m256 a = _mm256_set1_ps(s.a[g]), m = _mm256_set1_ps(s.b[g]);
      __m256 q[4];
      i8x32_to_ps(k4_codes(b[k], g), q);
      for (int j = 0; j < 4; ++j)  // a * q - b, two roundings as in the reference (no FMA)
        _mm256_storeu_ps(dst + kQK_K * k + 32 * g + 8 * j, _mm256_sub_ps(_mm256_mul_ps(a, q[j]), m));
    }
  }
}

// sum (a q - b) x = a * sum(q x) - b * sum(x), per group.
template <class Block>
float vdot_k4(const uint8_t* row, const float* x, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  KScales s;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    k4_scales(b[k], &s);
    for (int g = 0; g < 8; ++g) {
      const float* xg = x + kQK_K * k + 32 * g;
      acc = _mm256_fmadd_ps(_mm256_set1_ps(s.a[g]), dot_codes_ps(k4_codes(b[k], g), xg), acc);
      acc = _mm256_fnmadd_ps(_mm256_set1_ps(s.b[g]), sum32(xg), acc);
    }
  }
  return hsum(acc);
}

// Group g meets q8_0 block g of the super-block: d_x * (d * sc * sum(q qx) - dmin * m * sum(qx)). The integer
// sums (times sc or m, by madd with the 16-bit factor) are exact; the d_x-scaled sums of the 8 groups gather in
// two vectors that d and dmin multiply once per super-block.
template <class Block>
float vdot_k4_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  const __m256i ones = mask8(1);
  KScales s;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    k4_scales(b[k], &s);
    __m256 fd = _mm256_setzero_ps(), fm = _mm256_setzero_ps();
    for (int g = 0; g < 8; ++g) {
      const BlockQ8_0& xb = xq[8 * k + g];
      const __m256i qx = loadu256(xb.qs);
      const __m256 dx = _mm256_set1_ps(half_to_float(xb.d));
      // q <= 31 and |qx| <= 127: the pair sums of maddubs stay far from int16 saturation
      const __m256i qq = _mm256_madd_epi16(_mm256_maddubs_epi16(k4_codes(b[k], g), qx), _mm256_set1_epi16(s.sc[g]));
      const __m256i sx = _mm256_madd_epi16(_mm256_maddubs_epi16(ones, qx), _mm256_set1_epi16(s.m[g]));
      fd = _mm256_fmadd_ps(_mm256_cvtepi32_ps(qq), dx, fd);
      fm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sx), dx, fm);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), fd, acc);
    acc = _mm256_fnmadd_ps(_mm256_set1_ps(half_to_float(b[k].dmin)), fm, acc);
  }
  return hsum(acc);
}

// ---- IQ4_XS: 8 groups of 32, w = d * (ls[g] - 32) * level[q]; group g's nibbles are packed as Q4_0's in
// qs[16g .. 16g + 15].

inline int iq4_xs_scale(const BlockIQ4XS& b, int g) {
  return (((b.scales_l[g / 2] >> (4 * (g % 2))) & 0xF) | (((b.scales_h >> (2 * g)) & 3) << 4)) - 32;
}

inline __m256i iq4_xs_codes(const BlockIQ4XS& b, int g) {
  return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(loadu128(kIq4nlValues)), nibbles(b.qs + 16 * g));
}

void dequant_iq4_xs(const uint8_t* src, float* dst, int64_t n) {
  const BlockIQ4XS* b = reinterpret_cast<const BlockIQ4XS*>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float d = half_to_float(b[k].d);
    for (int g = 0; g < 8; ++g) {
      const __m256 a = _mm256_set1_ps(d * float(iq4_xs_scale(b[k], g)));
      __m256 q[4];
      i8x32_to_ps(iq4_xs_codes(b[k], g), q);
      for (int j = 0; j < 4; ++j) _mm256_storeu_ps(dst + kQK_K * k + 32 * g + 8 * j, _mm256_mul_ps(a, q[j]));
    }
  }
}

float vdot_iq4_xs(const uint8_t* row, const float* x, int64_t n) {
  const BlockIQ4XS* b = reinterpret_cast<const BlockIQ4XS*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float d = half_to_float(b[k].d);
    for (int g = 0; g < 8; ++g)
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * float(iq4_xs_scale(b[k], g))),
                            dot_codes_ps(iq4_xs_codes(b[k], g), x + kQK_K * k + 32 * g), acc);
  }
  return hsum(acc);
}

// Group g meets q8_0 block g: (ls - 32) * sum(level * qx) exactly (madd with the 16-bit scale; |level| <= 127).
float vdot_iq4_xs_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockIQ4XS* b = reinterpret_cast<const BlockIQ4XS*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    __m256 fx = _mm256_setzero_ps();
    for (int g = 0; g < 8; ++g) {
      const BlockQ8_0& xb = xq[8 * k + g];
      const __m256i c = iq4_xs_codes(b[k], g), qx = loadu256(xb.qs);
      const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(c, c), _mm256_sign_epi8(qx, c));
      const __m256i s = _mm256_madd_epi16(p, _mm256_set1_epi16(int16_t(iq4_xs_scale(b[k], g))));
      fx = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(half_to_float(xb.d)), fx);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), fx, acc);
  }
  return hsum(acc);
}

// ---- Q6_K: 16 groups of 16, w = d * scales[g] * (q - 32), q in 0..63; see BlockQ6K for the bit planes.

// Signed codes q - 32 of elements 128h + 32j .. 128h + 32j + 31 (j = 0..3); each 128-bit lane is one group.
inline __m256i q6_k_codes(const BlockQ6K& blk, int h, int j) {
  const __m256i ql = loadu256(blk.ql + 64 * h + 32 * (j % 2));
  const __m256i qh = loadu256(blk.qh + 32 * h);
  const __m256i low = _mm256_and_si256(j < 2 ? ql : _mm256_srli_epi16(ql, 4), mask8(0xF));
  // bits 2j, 2j+1 of qh become bits 4, 5 (the 16-bit shifts cannot carry bits across bytes once masked)
  const __m256i hb = _mm256_and_si256(qh, mask8(3 << (2 * j)));
  const __m256i high = j == 0   ? _mm256_slli_epi16(hb, 4)
                       : j == 1 ? _mm256_slli_epi16(hb, 2)
                       : j == 2 ? hb
                                : _mm256_srli_epi16(hb, 2);
  return _mm256_sub_epi8(_mm256_or_si256(low, high), mask8(32));
}

void dequant_q6_k(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ6K* b = reinterpret_cast<const BlockQ6K*>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float d = half_to_float(b[k].d);
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 4; ++j) {
        const int g = 8 * h + 2 * j;  // elements 0..15 of the 32 are group g, 16..31 group g + 1
        const __m256 a0 = _mm256_set1_ps(d * float(b[k].scales[g]));
        const __m256 a1 = _mm256_set1_ps(d * float(b[k].scales[g + 1]));
        __m256 q[4];
        i8x32_to_ps(q6_k_codes(b[k], h, j), q);
        float* out = dst + kQK_K * k + 16 * g;
        _mm256_storeu_ps(out, _mm256_mul_ps(a0, q[0]));
        _mm256_storeu_ps(out + 8, _mm256_mul_ps(a0, q[1]));
        _mm256_storeu_ps(out + 16, _mm256_mul_ps(a1, q[2]));
        _mm256_storeu_ps(out + 24, _mm256_mul_ps(a1, q[3]));
      }
  }
}

float vdot_q6_k(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ6K* b = reinterpret_cast<const BlockQ6K*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float d = half_to_float(b[k].d);
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 4; ++j) {
        const int g = 8 * h + 2 * j;
        const float* xg = x + kQK_K * k + 16 * g;
        __m256 q[4];
        i8x32_to_ps(q6_k_codes(b[k], h, j), q);
        const __m256 s0 = _mm256_fmadd_ps(q[1], _mm256_loadu_ps(xg + 8), _mm256_mul_ps(q[0], _mm256_loadu_ps(xg)));
        const __m256 s1 = _mm256_fmadd_ps(q[3], _mm256_loadu_ps(xg + 24), _mm256_mul_ps(q[2], _mm256_loadu_ps(xg + 16)));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d * float(b[k].scales[g])), s0, acc);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d * float(b[k].scales[g + 1])), s1, acc);
      }
  }
  return hsum(acc);
}

// q8_0 block 4h + j of the super-block covers groups 8h + 2j (low lane) and 8h + 2j + 1 (high lane): madd with
// the two int16 scales gives sc * sum((q - 32) qx) per lane exactly (|lane| < 2^22, exact in float too).
float vdot_q6_k_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockQ6K* b = reinterpret_cast<const BlockQ6K*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    __m256 fx = _mm256_setzero_ps();
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 4; ++j) {
        const int g = 8 * h + 2 * j;
        const BlockQ8_0& xb = xq[8 * k + 4 * h + j];
        const __m256i c = q6_k_codes(b[k], h, j), qx = loadu256(xb.qs);
        const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(c, c), _mm256_sign_epi8(qx, c));  // |c| <= 32
        const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(b[k].scales[g + 1]), _mm_set1_epi16(b[k].scales[g]));
        fx = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(p, sc)), _mm256_set1_ps(half_to_float(xb.d)), fx);
      }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(b[k].d)), fx, acc);
  }
  return hsum(acc);
}

}  // namespace

void register_kquant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q4_K)] = {dequant_k4<BlockQ4K>, vdot_k4<BlockQ4K>, vdot_k4_q8<BlockQ4K>};
  t.by_type[uint32_t(GgmlType::Q5_K)] = {dequant_k4<BlockQ5K>, vdot_k4<BlockQ5K>, vdot_k4_q8<BlockQ5K>};
  t.by_type[uint32_t(GgmlType::IQ4_XS)] = {dequant_iq4_xs, vdot_iq4_xs, vdot_iq4_xs_q8};
  t.by_type[uint32_t(GgmlType::Q6_K)] = {dequant_q6_k, vdot_q6_k, vdot_q6_k_q8};
}

}  // namespace seek::avx2
