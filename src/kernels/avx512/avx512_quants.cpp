// AVX-512 kernels of Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS: dot products with q8_0 activations (VNNI vpdpbusd,
// the decode path, plain and prepared), dot products with f32 activations, and row dequantisation (prefill
// panels). Each type supplies its codes and scales in the unit shape of avx512_units.h, whose drivers do the rest.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx512/avx512_units.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

void register_avx512_quant_kernels(KernelTable& t);

namespace {

using namespace avx512;

// ---- per-type layouts (blocks.h) --------------------------------------------------------------------------

// Q4_K/Q5_K scales and mins: 8 six-bit values each in 12 bytes (see unpack_scale_min_k4), groups of 32.
inline void k4_scales(const uint8_t* block, __m512* a, __m512* b) {
  // The block's first 16 bytes as dwords [d | dmin, s0, s1, s2]; s0..s2 are the 12 packed bytes.
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
  const __m128i x = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 1));                              // s0 s1 s0 s1
  const __m128i y = _mm_srlv_epi32(_mm_shuffle_epi32(v, 0xFF), _mm_setr_epi32(0, 0, 0, 4));    //  .  . s2 s2>>4
  const __m128i lo = _mm_and_si128(x, _mm_set1_epi8(0x3f));  // scales 0-3, mins 0-3
  const __m128i hi = _mm_or_si128(_mm_and_si128(y, _mm_set1_epi8(0x0f)),  // scales 4-7, mins 4-7: top 2 bits
                                  _mm_and_si128(_mm_srli_epi32(x, 2), _mm_set1_epi8(0x30)));  // from s0, s1
  const __m128i r = _mm_blend_epi32(lo, hi, 0xC);  // bytes: scales 0-3, mins 0-3, scales 4-7, mins 4-7
  const __m128i sc = _mm_shuffle_epi8(r, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 8, 8, 9, 9, 10, 10, 11, 11));
  const __m128i mn = _mm_shuffle_epi8(r, _mm_setr_epi8(4, 4, 5, 5, 6, 6, 7, 7, 12, 12, 13, 13, 14, 14, 15, 15));
  const __m128 dd = _mm_cvtph_ps(v);  // d, dmin
  *a = _mm512_mul_ps(_mm512_broadcastss_ps(dd), _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc)));  // each value twice
  *b = _mm512_mul_ps(_mm512_broadcastss_ps(_mm_movehdup_ps(dd)), _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(mn)));
}

// Low and high nibbles of 32 bytes: elements 0..31 and 32..63 of a Q4_K/Q5_K chunk.
inline __m512i nibbles64(const uint8_t* p) {
  const __m512i v = broadcast32(p);
  return _mm512_and_si512(_mm512_mask_srli_epi16(v, kUpperWords, v, 4), _mm512_set1_epi8(0x0F));
}

// Q4_K/Q5_K's low 4 bits interleaved (avx512_units.h): group 2j's values 8r .. 8r + 7 are the low nibbles of qs
// qword 4j + r, group 2j + 1's the high nibbles of the same qword.
inline void k4_codes_il(const uint8_t* qs, __m512i u[4]) {
  const __m512i z0 = _mm512_loadu_si512(qs), z1 = _mm512_loadu_si512(qs + 64);
  for (int r = 0; r < 4; ++r) {
    const __m512i v = _mm512_permutex2var_epi64(z0, _mm512_setr_epi64(r, r, 4 + r, 4 + r, 8 + r, 8 + r, 12 + r, 12 + r), z1);
    u[r] = _mm512_and_si512(_mm512_mask_srli_epi64(v, 0xAA, v, 4), _mm512_set1_epi8(0x0F));
  }
}

// Two-bit fields of a Q2_K/Q3_K plane: chunk c holds shifts 2s, 2s+2 (s = 2 (c % 2)) of qs[32 (c / 2) ..].
inline __m512i two_bits64(const uint8_t* qs, int c) {
  const __m512i t = _mm512_srli_epi16(broadcast32(qs + 32 * (c / 2)), unsigned(4 * (c % 2)));
  return _mm512_and_si512(_mm512_mask_srli_epi16(t, kUpperWords, t, 2), _mm512_set1_epi8(3));
}

// u + add where bit 2c (first 32 bytes) or 2c+1 (last 32) of mask[l] is set (Q3_K hmask, Q5_K qh).
inline __m512i add_high_bit(__m512i u, const uint8_t* mask, int c, int add) {
  const __m512i bits = _mm512_mask_blend_epi8(kUpperBytes, _mm512_set1_epi8(char(1 << (2 * c))),
                                              _mm512_set1_epi8(char(1 << (2 * c + 1))));
  const __mmask64 k = _mm512_test_epi8_mask(broadcast32(mask), bits);
  return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(char(add)));
}

struct Q4K {
  using Block = BlockQ4K;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static constexpr int kGroup = 32;
  static void scales(const Block& b, __m512* a, __m512* m) { k4_scales(reinterpret_cast<const uint8_t*>(&b), a, m); }
  static __m512i codes(const Block& b, int c) { return nibbles64(b.qs + 32 * c); }
  static void codes_il(const Block& b, __m512i u[4]) { k4_codes_il(b.qs, u); }
};

struct Q5K {
  using Block = BlockQ5K;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static constexpr int kGroup = 32;
  static void scales(const Block& b, __m512* a, __m512* m) { k4_scales(reinterpret_cast<const uint8_t*>(&b), a, m); }
  static __m512i codes(const Block& b, int c) { return add_high_bit(nibbles64(b.qs + 32 * c), b.qh, c, 16); }
  // Bit g of qh[l] is bit 4 of element 32g + l: slot g of register r takes qh[8r .. 8r + 7] rotated so bit g
  // lands on bit 4.
  static void codes_il(const Block& b, __m512i u[4]) {
    k4_codes_il(b.qs, u);
    const __m512i qh = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh)));
    const __m512i rot = _mm512_setr_epi64(4, 3, 2, 1, 0, 63, 62, 61);
    for (int r = 0; r < 4; ++r) {
      const __m512i h = _mm512_rolv_epi64(_mm512_permutexvar_epi64(_mm512_set1_epi64(r), qh), rot);
      u[r] = _mm512_ternarylogic_epi64(u[r], h, _mm512_set1_epi8(0x10), 0xF8);  // u | (h & 0x10)
    }
  }
};

struct Q2K {
  using Block = BlockQ2K;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static constexpr int kGroup = 16;
  static void scales(const Block& b, __m512* a, __m512* m) {
    const __m512i s = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    *a = _mm512_mul_ps(_mm512_set1_ps(half_to_float(b.d)),
                       _mm512_cvtepi32_ps(_mm512_and_si512(s, _mm512_set1_epi32(15))));
    *m = _mm512_mul_ps(_mm512_set1_ps(half_to_float(b.dmin)), _mm512_cvtepi32_ps(_mm512_srli_epi32(s, 4)));
  }
  static __m512i codes(const Block& b, int c) { return two_bits64(b.qs, c); }
};

struct Q3K {
  using Block = BlockQ3K;
  static constexpr int kOffset = 4;  // u = low 2 bits + 4 * hmask bit, 0..7
  static constexpr bool kMin = false;
  static constexpr int kGroup = 16;
  // 16 six-bit scales (unpack_scales_q3k): low nibbles of bytes 0-7 for groups 0-7, high nibbles for 8-15;
  // top 2 bits of group g at bits 2 (g / 4) of byte 8 + g % 4. Four groups per 32-bit word.
  static void scales(const Block& b, __m512* a, __m512* m) {
    uint32_t w[3];
    std::memcpy(w, b.scales, 12);
    const uint32_t low[4] = {w[0] & 0x0f0f0f0f, w[1] & 0x0f0f0f0f, (w[0] >> 4) & 0x0f0f0f0f, (w[1] >> 4) & 0x0f0f0f0f};
    uint32_t s[4];
    for (int k = 0; k < 4; ++k) s[k] = low[k] | ((w[2] >> (2 * k)) & 0x03030303) << 4;
    const __m128i v = _mm_sub_epi8(_mm_setr_epi32(int(s[0]), int(s[1]), int(s[2]), int(s[3])), _mm_set1_epi8(32));
    *a = _mm512_mul_ps(_mm512_set1_ps(half_to_float(b.d)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)));
    *m = _mm512_setzero_ps();
  }
  static __m512i codes(const Block& b, int c) { return add_high_bit(two_bits64(b.qs, c), b.hmask, c, 4); }
};

struct Q6K {
  using Block = BlockQ6K;
  static constexpr int kOffset = 32;
  static constexpr bool kMin = false;
  static constexpr int kGroup = 16;
  static void scales(const Block& b, __m512* a, __m512* m) {
    const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    *a = _mm512_mul_ps(_mm512_set1_ps(half_to_float(b.d)), _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s)));
    *m = _mm512_setzero_ps();
  }
  // Chunk 2h: low nibbles of ql[64h ..] with qh bits 0-1 (first 32) or 2-3 (last 32) as bits 4-5;
  // chunk 2h+1: high nibbles with qh bits 4-5 or 6-7.
  static __m512i codes(const Block& b, int c) {
    const __m512i l = _mm512_loadu_si512(b.ql + 64 * (c / 2));
    const __m512i q = broadcast32(b.qh + 32 * (c / 2));
    const __m512i qs = _mm512_mask_srli_epi16(q, kUpperWords, q, 2);
    const __m512i m30 = _mm512_set1_epi8(0x30), m0f = _mm512_set1_epi8(0x0F);
    if (c % 2 == 0)
      return _mm512_or_si512(_mm512_and_si512(l, m0f), _mm512_and_si512(_mm512_slli_epi16(qs, 4), m30));
    return _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m0f), _mm512_and_si512(qs, m30));
  }
  // Group g = 4h + j (h = half, j = 0..3) takes its low 4 bits from ql qword 8h + 4 (j % 2) + r (high nibbles
  // for j >= 2) and its top 2 bits from bits 2j of qh qword 4h + r.
  static void codes_il(const Block& b, __m512i u[4]) {
    const __m512i l0 = _mm512_loadu_si512(b.ql), l1 = _mm512_loadu_si512(b.ql + 64), qh = _mm512_loadu_si512(b.qh);
    const __m512i rot = _mm512_setr_epi64(4, 2, 0, 62, 4, 2, 0, 62);  // bits 2j to bits 4-5
    for (int r = 0; r < 4; ++r) {
      __m512i l = _mm512_permutex2var_epi64(l0, _mm512_setr_epi64(r, 4 + r, r, 4 + r, 8 + r, 12 + r, 8 + r, 12 + r), l1);
      l = _mm512_mask_srli_epi64(l, 0xCC, l, 4);
      const __m512i h = _mm512_rolv_epi64(
          _mm512_permutexvar_epi64(_mm512_setr_epi64(r, r, r, r, 4 + r, 4 + r, 4 + r, 4 + r), qh), rot);
      u[r] = _mm512_ternarylogic_epi64(l, _mm512_and_si512(h, _mm512_set1_epi8(0x30)), _mm512_set1_epi8(0x0F), 0xEC);  // (l & 0x0F) | h
    }
  }
};

struct IQ4XS {
  using Block = BlockIQ4XS;
  static constexpr int kOffset = 128;  // u = level + 128, 1..241
  static constexpr bool kMin = false;
  static constexpr int kGroup = 32;
  // ls_g: low nibble g % 2 of scales_l[g / 2], high 2 bits at bits 2g of scales_h; each used by 2 groups of 16.
  static void scales(const Block& b, __m512* a, __m512* m) {
    uint32_t l;
    std::memcpy(&l, b.scales_l, 4);
    const __m128i lo = _mm_cvtsi32_si128(int(l & 0x0f0f0f0f)), hi = _mm_cvtsi32_si128(int((l >> 4) & 0x0f0f0f0f));
    const __m128i nib = _mm_cvtepu8_epi16(_mm_unpacklo_epi8(lo, hi));  // 8 words, group order
    const __m128i top = _mm_srlv_epi16(_mm_set1_epi16(short(b.scales_h)), _mm_setr_epi16(0, 2, 4, 6, 8, 10, 12, 14));
    const __m128i ls = _mm_sub_epi16(_mm_or_si128(nib, _mm_slli_epi16(_mm_and_si128(top, _mm_set1_epi16(3)), 4)),
                                     _mm_set1_epi16(32));
    const __m256i pairs = _mm256_set_m128i(_mm_unpackhi_epi16(ls, ls), _mm_unpacklo_epi16(ls, ls));
    *a = _mm512_mul_ps(_mm512_set1_ps(half_to_float(b.d)), _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(pairs)));
    *m = _mm512_setzero_ps();
  }
  // Groups 2c and 2c+1: 128-bit lanes [lo, hi] of qs[32c .. +15] and [lo, hi] of qs[32c+16 .. +31], then the
  // level table (offset by 128 so it is unsigned).
  static __m512i codes(const Block& b, int c) {
    const __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c)));
    __m512i z = _mm512_shuffle_i64x2(v, v, 0x50);
    z = _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4), _mm512_set1_epi8(0x0F));
    const __m512i lut = _mm512_broadcast_i32x4(_mm_set_epi8(
        char(kIq4nlValues[15] + 128), char(kIq4nlValues[14] + 128), char(kIq4nlValues[13] + 128),
        char(kIq4nlValues[12] + 128), char(kIq4nlValues[11] + 128), char(kIq4nlValues[10] + 128),
        char(kIq4nlValues[9] + 128), char(kIq4nlValues[8] + 128), char(kIq4nlValues[7] + 128),
        char(kIq4nlValues[6] + 128), char(kIq4nlValues[5] + 128), char(kIq4nlValues[4] + 128),
        char(kIq4nlValues[3] + 128), char(kIq4nlValues[2] + 128), char(kIq4nlValues[1] + 128),
        char(kIq4nlValues[0] + 128)));
    return _mm512_shuffle_epi8(lut, z);
  }
};

// The super-block types: n is a multiple of 256.
template <class T>
float kquant_dot_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  return dot_q8_units<T>(reinterpret_cast<const typename T::Block*>(row), xq, n / kQK_K);
}
template <class T>
void kquant_dot_q8x(const uint8_t* row, const Q8Act* x, int n_tok, int64_t n, float* out) {
  dot_q8x_units_any<T>(reinterpret_cast<const typename T::Block*>(row), x, n_tok, n / kQK_K, out);
}
template <class T>
float kquant_dot(const uint8_t* row, const float* x, int64_t n) {
  return dot_units<T>(reinterpret_cast<const typename T::Block*>(row), x, n / kQK_K);
}
template <class T>
void kquant_dequant(const uint8_t* src, float* dst, int64_t n) {
  dequant_units<T>(reinterpret_cast<const typename T::Block*>(src), dst, n / kQK_K);
}

template <class T>
TypeKernels kquant_kernels() {
  return {kquant_dequant<T>, kquant_dot<T>, kquant_dot_q8<T>, kquant_dot_q8x<T>};
}

}  // namespace

void register_avx512_quant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q2_K)] = kquant_kernels<Q2K>();
  t.by_type[uint32_t(GgmlType::Q3_K)] = kquant_kernels<Q3K>();
  t.by_type[uint32_t(GgmlType::Q4_K)] = kquant_kernels<Q4K>();
  t.by_type[uint32_t(GgmlType::Q5_K)] = kquant_kernels<Q5K>();
  t.by_type[uint32_t(GgmlType::Q6_K)] = kquant_kernels<Q6K>();
  t.by_type[uint32_t(GgmlType::IQ4_XS)] = kquant_kernels<IQ4XS>();
}

}  // namespace seek
