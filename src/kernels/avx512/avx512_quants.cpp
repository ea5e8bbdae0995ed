// AVX-512 kernels of Q4_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS: dot products with q8_0 activations (VNNI
// vpdpbusd, the decode path), dot products with f32 activations, and row dequantisation (prefill panels).
//
// Every type is read through one shape, 256 elements at a time (a k-quant super-block; eight Q4_0 blocks):
//   - codes(c): the 64 elements 64c..64c+63 as unsigned bytes u, so that w = a_g * (u - kOffset) - b_g;
//   - scales(): a_g and b_g per group of 16 elements (types with groups of 32 repeat each value twice).
// With q8_0 activations (x = d_x * q_x per 32 values) one vpdpbusd of u with q_x gives, per 32-bit lane, the
// integer sum over 4 consecutive elements; a lane lies inside one group and one activation block, so the
// lane's contribution is d_x * (a_g * (sum u*q_x - kOffset * sum q_x) - b_g * sum q_x). The integer parts are
// exact; the per-lane factors d_x * a_g and d_x * b_g are formed once per super-block and the lanes are summed
// in f32 (the reference kernels sum per group in a different order: tests/kernels bound the difference).
// Dequantisation forms a_g * (u - kOffset) - b_g with the reference's operations, so its output is identical.
#include <immintrin.h>

#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

void register_avx512_quant_kernels(KernelTable& t);

namespace {

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// 32 bytes at p in both 256-bit halves.
inline __m512i broadcast32(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Bytes of a __mmask64 / __mmask32 selecting the upper 256 bits (32 bytes / 16 words).
constexpr __mmask64 kUpperBytes = 0xFFFFFFFF00000000ull;
constexpr __mmask32 kUpperWords = 0xFFFF0000u;

// The 64 activation codes of q8_0 blocks x[0] and x[1].
inline __m512i load_q8_pair(const BlockQ8_0* x) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[0].qs));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[1].qs));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// The f16 scales of 8 consecutive blocks whose d fields lie every `stride` bytes from p (stride 34 for q8_0,
// 18 for Q4_0), as 8 floats. Words are picked out of vector loads with vpermt2w instead of 8 scalar inserts;
// every byte read lies inside the 8 blocks.
template <int kStride>
inline __m256 load_scales8(const uint8_t* p) {
  static_assert(kStride == 34 || kStride == 18);
  constexpr uint16_t w = kStride / 2;  // the d of block j is word w*j
  if constexpr (kStride == 18) {  // all 8 within the first 128 bytes
    alignas(64) static constexpr uint16_t kIdx[32] = {0, w, 2 * w, 3 * w, 4 * w, 5 * w, 6 * w, 7 * w};
    const __m512i h = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), _mm512_load_si512(kIdx), _mm512_loadu_si512(p + 64));
    return _mm256_cvtph_ps(_mm512_castsi512_si128(h));
  } else {  // blocks 0-3 within bytes 0..127, blocks 4-7 within bytes 128..255
    alignas(64) static constexpr uint16_t kIdx[32] = {0, w, 2 * w, 3 * w, 4 * w - 64, 5 * w - 64, 6 * w - 64, 7 * w - 64};
    const __m512i idx = _mm512_load_si512(kIdx);
    const __m512i a = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
    const __m512i b = _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 128), idx, _mm512_loadu_si512(p + 192));
    return _mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_mask_blend_epi16(0xF0, a, b)));
  }
}

// Per-lane factor of chunk c: lane l (elements 64c + 4l .. 64c + 4l + 3) belongs to 16-group 4c + l/4.
alignas(64) constexpr int32_t kChunkGroup[4][16] = {
    {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
    {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
    {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
    {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
// 16-group g lies in activation block g / 2.
alignas(64) constexpr int32_t kGroupBlock[16] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7};

inline __m512i load_index(const int32_t* p) { return _mm512_load_si512(p); }

// 8 values (float) repeated to 16: groups of 32 seen as pairs of groups of 16.
inline __m512 repeat_pairs(__m256 v8) {
  return _mm512_permutexvar_ps(load_index(kGroupBlock), _mm512_castps256_ps512(v8));
}

// ---- per-type layouts (blocks.h) --------------------------------------------------------------------------

// Q4_K/Q5_K scales and mins: 8 six-bit values each in 12 bytes (see unpack_scale_min_k4), groups of 32.
inline void k4_scales(uint16_t d16, uint16_t dmin16, const uint8_t* packed, __m512* a, __m512* b) {
  uint32_t s[3];
  std::memcpy(s, packed, 12);
  const uint32_t sc_lo = s[0] & 0x3f3f3f3f, m_lo = s[1] & 0x3f3f3f3f;
  const uint32_t sc_hi = (s[2] & 0x0f0f0f0f) | ((s[0] >> 2) & 0x30303030);  // top 2 bits of bytes 0-3 -> bits 4-5
  const uint32_t m_hi = ((s[2] >> 4) & 0x0f0f0f0f) | ((s[1] >> 2) & 0x30303030);
  const __m128i v = _mm_set_epi64x(int64_t(m_lo | uint64_t(m_hi) << 32), int64_t(sc_lo | uint64_t(sc_hi) << 32));
  const __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(v, v)));  // each value twice
  const __m512 m = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi8(v, v)));
  *a = _mm512_mul_ps(_mm512_set1_ps(half_to_float(d16)), sc);
  *b = _mm512_mul_ps(_mm512_set1_ps(half_to_float(dmin16)), m);
}

// Low and high nibbles of 32 bytes: elements 0..31 and 32..63 of a Q4_K/Q5_K chunk.
inline __m512i nibbles64(const uint8_t* p) {
  const __m512i v = broadcast32(p);
  return _mm512_and_si512(_mm512_mask_srli_epi16(v, kUpperWords, v, 4), _mm512_set1_epi8(0x0F));
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
  static void scales(const Block& b, __m512* a, __m512* m) { k4_scales(b.d, b.dmin, b.scales, a, m); }
  static __m512i codes(const Block& b, int c) { return nibbles64(b.qs + 32 * c); }
};

struct Q5K {
  using Block = BlockQ5K;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static void scales(const Block& b, __m512* a, __m512* m) { k4_scales(b.d, b.dmin, b.scales, a, m); }
  static __m512i codes(const Block& b, int c) { return add_high_bit(nibbles64(b.qs + 32 * c), b.qh, c, 16); }
};

struct Q2K {
  using Block = BlockQ2K;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
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
};

struct IQ4XS {
  using Block = BlockIQ4XS;
  static constexpr int kOffset = 128;  // u = level + 128, 1..241
  static constexpr bool kMin = false;
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

// Eight Q4_0 blocks read as one 256-element unit: group of 16 g has scale d of block g / 2.
struct Q4_0x8 {
  BlockQ4_0 b[8];
};
static_assert(sizeof(Q4_0x8) == 8 * sizeof(BlockQ4_0));

struct Q40 {
  using Block = Q4_0x8;
  static constexpr int kOffset = 8;
  static constexpr bool kMin = false;
  static void scales(const Block& b, __m512* a, __m512* m) {
    *a = repeat_pairs(load_scales8<sizeof(BlockQ4_0)>(reinterpret_cast<const uint8_t*>(&b)));
    *m = _mm512_setzero_ps();
  }
  // Blocks 2c, 2c+1: 128-bit lanes [lo, hi] of each block's 16 bytes.
  static __m512i codes(const Block& b, int c) {
    const __m256i v = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.b[2 * c].qs))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.b[2 * c + 1].qs)), 1);
    const __m512i z = _mm512_shuffle_i64x2(_mm512_castsi256_si512(v), _mm512_castsi256_si512(v), 0x50);
    return _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4), _mm512_set1_epi8(0x0F));
  }
};

// ---- the shared drivers --------------------------------------------------------------------------------------

// Sum over `units` 256-element units of w . x with q8_0 activations (see the top of the file).
template <class T>
float dot_q8_units(const typename T::Block* w, const BlockQ8_0* xq, int64_t units) {
  const __m512i ones = _mm512_set1_epi8(1), offset = _mm512_set1_epi8(char(T::kOffset));
  // One accumulator per chunk (and per chunk for the min terms), so no FMA waits on another in a super-block.
  __m512 acc[4], accm[4];
  for (int c = 0; c < 4; ++c) acc[c] = accm[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < units; ++i) {
    // Rows are streamed back to back in decode: keep reads in flight 4 KiB ahead (prefetches never fault).
    for (size_t off = 0; off < sizeof(typename T::Block); off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(w + i) + 4096 + off, _MM_HINT_T0);
    const BlockQ8_0* x = xq + 8 * i;
    __m512 a, b;
    T::scales(w[i], &a, &b);
    const __m512 dx = repeat_pairs(load_scales8<sizeof(BlockQ8_0)>(reinterpret_cast<const uint8_t*>(x)));
    const __m512 fa = _mm512_mul_ps(dx, a);
    const __m512 fb = _mm512_mul_ps(dx, b);
    for (int c = 0; c < 4; ++c) {
      const __m512i u = T::codes(w[i], c);
      const __m512i qx = load_q8_pair(x + 2 * c);
      const __m512i idx = load_index(kChunkGroup[c]);
      __m512i suq = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, qx);
      if constexpr (T::kOffset != 0) suq = _mm512_sub_epi32(suq, _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, qx));
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(suq), _mm512_permutexvar_ps(idx, fa), acc[c]);
      if constexpr (T::kMin) {
        const __m512i sq = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, qx);
        accm[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sq), _mm512_permutexvar_ps(idx, fb), accm[c]);
      }
    }
  }
  const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
  if constexpr (T::kMin) {
    const __m512 mins = _mm512_add_ps(_mm512_add_ps(accm[0], accm[1]), _mm512_add_ps(accm[2], accm[3]));
    return _mm512_reduce_add_ps(_mm512_sub_ps(sum, mins));
  }
  return _mm512_reduce_add_ps(sum);
}

// The 16 weights 64c + 16k .. +15 of a unit as floats: a_g * (u - kOffset) - b_g, g = 4c + k, formed with the
// reference's operations (an exact product, then one rounded subtraction).
template <class T>
inline __m512 weights16(const uint8_t* u64, int k, const float* a, const float* b, int g) {
  __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u64 + 16 * k)));
  if constexpr (T::kOffset != 0) q = _mm512_sub_epi32(q, _mm512_set1_epi32(T::kOffset));
  const __m512 w = _mm512_mul_ps(_mm512_set1_ps(a[g]), _mm512_cvtepi32_ps(q));
  if constexpr (T::kMin) return _mm512_sub_ps(w, _mm512_set1_ps(b[g]));
  return w;
}

template <class T>
void dequant_units(const typename T::Block* w, float* dst, int64_t units) {
  alignas(64) float a[16], b[16];
  alignas(64) uint8_t u[64];
  for (int64_t i = 0; i < units; ++i) {
    __m512 va, vb;
    T::scales(w[i], &va, &vb);
    _mm512_store_ps(a, va);
    _mm512_store_ps(b, vb);
    for (int c = 0; c < 4; ++c) {
      _mm512_store_si512(u, T::codes(w[i], c));
      for (int k = 0; k < 4; ++k) _mm512_storeu_ps(dst + 256 * i + 64 * c + 16 * k, weights16<T>(u, k, a, b, 4 * c + k));
    }
  }
}

template <class T>
float dot_units(const typename T::Block* w, const float* x, int64_t units) {
  alignas(64) float a[16], b[16];
  alignas(64) uint8_t u[64];
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < units; ++i) {
    __m512 va, vb;
    T::scales(w[i], &va, &vb);
    _mm512_store_ps(a, va);
    _mm512_store_ps(b, vb);
    for (int c = 0; c < 4; ++c) {
      _mm512_store_si512(u, T::codes(w[i], c));
      for (int k = 0; k < 4; ++k)
        acc[k] = _mm512_fmadd_ps(weights16<T>(u, k, a, b, 4 * c + k), _mm512_loadu_ps(x + 256 * i + 64 * c + 16 * k), acc[k]);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

// The super-block types: n is a multiple of 256.
template <class T>
float kquant_dot_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  return dot_q8_units<T>(reinterpret_cast<const typename T::Block*>(row), xq, n / kQK_K);
}
template <class T>
float kquant_dot(const uint8_t* row, const float* x, int64_t n) {
  return dot_units<T>(reinterpret_cast<const typename T::Block*>(row), x, n / kQK_K);
}
template <class T>
void kquant_dequant(const uint8_t* src, float* dst, int64_t n) {
  dequant_units<T>(reinterpret_cast<const typename T::Block*>(src), dst, n / kQK_K);
}

// Q4_0: whole groups of eight blocks through the shared drivers, the last n/32 % 8 blocks one at a time.
float q4_0_dot_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const int64_t units = n / 256;
  float acc = dot_q8_units<Q40>(reinterpret_cast<const Q4_0x8*>(row), xq, units);
  const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(row);
  for (int64_t k = 8 * units; k < n / kQK4_0; ++k) {
    int32_t s = 0;
    for (int j = 0; j < 16; ++j)
      s += ((b[k].qs[j] & 0xF) - 8) * int32_t(xq[k].qs[j]) + ((b[k].qs[j] >> 4) - 8) * int32_t(xq[k].qs[j + 16]);
    acc += half_to_float(b[k].d) * half_to_float(xq[k].d) * float(s);
  }
  return acc;
}

float q4_0_dot(const uint8_t* row, const float* x, int64_t n) {
  const int64_t units = n / 256;
  float acc = dot_units<Q40>(reinterpret_cast<const Q4_0x8*>(row), x, units);
  const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(row);
  for (int64_t k = 8 * units; k < n / kQK4_0; ++k) {
    float s = 0;
    for (int j = 0; j < 16; ++j)
      s += float((b[k].qs[j] & 0xF) - 8) * x[32 * k + j] + float((b[k].qs[j] >> 4) - 8) * x[32 * k + j + 16];
    acc += half_to_float(b[k].d) * s;
  }
  return acc;
}

void q4_0_dequant(const uint8_t* src, float* dst, int64_t n) {
  const int64_t units = n / 256;
  dequant_units<Q40>(reinterpret_cast<const Q4_0x8*>(src), dst, units);
  const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(src);
  for (int64_t k = 8 * units; k < n / kQK4_0; ++k) {
    const float d = half_to_float(b[k].d);
    for (int j = 0; j < 16; ++j) {
      dst[32 * k + j] = float((b[k].qs[j] & 0xF) - 8) * d;
      dst[32 * k + j + 16] = float((b[k].qs[j] >> 4) - 8) * d;
    }
  }
}

template <class T>
TypeKernels kquant_kernels() {
  return {kquant_dequant<T>, kquant_dot<T>, kquant_dot_q8<T>};
}

}  // namespace

void register_avx512_quant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q4_0)] = {q4_0_dequant, q4_0_dot, q4_0_dot_q8};
  t.by_type[uint32_t(GgmlType::Q2_K)] = kquant_kernels<Q2K>();
  t.by_type[uint32_t(GgmlType::Q3_K)] = kquant_kernels<Q3K>();
  t.by_type[uint32_t(GgmlType::Q4_K)] = kquant_kernels<Q4K>();
  t.by_type[uint32_t(GgmlType::Q5_K)] = kquant_kernels<Q5K>();
  t.by_type[uint32_t(GgmlType::Q6_K)] = kquant_kernels<Q6K>();
  t.by_type[uint32_t(GgmlType::IQ4_XS)] = kquant_kernels<IQ4XS>();
}

}  // namespace seek
