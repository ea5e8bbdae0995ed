// The shape every AVX-512 kernel of the 4- to 6-bit types reads its weights through, and the drivers built on
// it (avx512_quants.cpp: the k-quants and IQ4_XS; avx512_legacy.cpp: the 32-element block types).
//
// A type is read 256 elements at a time (a k-quant super-block; eight 32-element blocks), a "unit":
//   - codes(c): the 64 elements 64c..64c+63 as unsigned bytes u, so that w = a_g * (u - kOffset) - b_g;
//   - scales(): a_g and b_g per group of 16 elements (types with groups of 32 repeat each value twice).
// With q8_0 activations (x = d_x * q_x per 32 values) one vpdpbusd of u with q_x gives, per 32-bit lane, the
// integer sum over 4 consecutive elements; a lane lies inside one group and one activation block, so the
// lane's contribution is d_x * (a_g * (sum u*q_x - kOffset * sum q_x) - b_g * sum q_x). The integer parts are
// exact; the per-lane factors d_x * a_g and d_x * b_g are formed once per unit and the lanes are summed
// in f32 (the reference kernels sum per group in a different order: tests/kernels bound the difference).
// Dequantisation forms a_g * (u - kOffset) - b_g with the reference's operations, so its output is identical.
// Compiled only into the AVX-512 sources (their flags enable the instructions).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek::avx512 {

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// 32 bytes at p in both 256-bit halves.
inline __m512i broadcast32(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Bytes of a __mmask64 / __mmask32 selecting the upper 256 bits (32 bytes / 16 words).
inline constexpr __mmask64 kUpperBytes = 0xFFFFFFFF00000000ull;
inline constexpr __mmask32 kUpperWords = 0xFFFF0000u;

// The 64 activation codes of q8_0 blocks x[0] and x[1].
inline __m512i load_q8_pair(const BlockQ8_0* x) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[0].qs));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[1].qs));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Word index of block j's f16 field in load_scales8's first (j * w < 64) or second (from byte 64) register pair.
constexpr uint16_t scale_word(int j, int w) { return uint16_t(j * w < 64 ? j * w : j * w - 32); }

// The f16 fields of 8 consecutive blocks that lie every kStride bytes from p (stride 34 for q8_0, 18 for Q4_0,
// 22 for Q5_0, 24 for Q5_1; p may point at a later field of the first block), as 8 floats. Words are picked out
// of vector loads with vpermt2w instead of 8 scalar inserts; no byte past the 8 blocks is read (the last
// register comes from a masked load, which reads nothing where the mask is clear).
template <int kStride>
inline __m256 load_scales8(const uint8_t* p) {
  static_assert(kStride == 34 || (kStride % 2 == 0 && kStride >= 16 && kStride <= 24));
  constexpr int w = kStride / 2;  // the field of block j is word w*j
  if constexpr (kStride == 34) {  // blocks 0-3 within bytes 0..127, blocks 4-7 within bytes 128..255
    alignas(64) static constexpr uint16_t kIdx[32] = {0, w, 2 * w, 3 * w, 4 * w - 64, 5 * w - 64, 6 * w - 64, 7 * w - 64};
    const __m512i idx = _mm512_load_si512(kIdx);
    const __m512i a = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 64));
    const __m512i b = _mm512_permutex2var_epi16(_mm512_loadu_si512(p + 128), idx, _mm512_loadu_si512(p + 192));
    return _mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_mask_blend_epi16(0xF0, a, b)));
  } else {
    alignas(64) static constexpr uint16_t kIdx[32] = {scale_word(0, w), scale_word(1, w), scale_word(2, w),
                                                      scale_word(3, w), scale_word(4, w), scale_word(5, w),
                                                      scale_word(6, w), scale_word(7, w)};
    constexpr int kEnd = 7 * kStride + 2;  // bytes from p up to the end of block 7's field
    const __m512i idx = _mm512_load_si512(kIdx);
    const __m512i hi = _mm512_loadu_si512(p + 64);
    __m512i h = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, hi);
    if constexpr (kEnd > 128) {
      constexpr __mmask32 kSecond = __mmask32((6 * w >= 64 ? 0x40 : 0) | (7 * w >= 64 ? 0x80 : 0));
      const __m512i last = _mm512_maskz_loadu_epi8((__mmask64(1) << (kEnd - 128)) - 1, p + 128);
      h = _mm512_mask_blend_epi16(kSecond, h, _mm512_permutex2var_epi16(hi, idx, last));
    }
    return _mm256_cvtph_ps(_mm512_castsi512_si128(h));
  }
}

// Per-lane factor of chunk c: lane l (elements 64c + 4l .. 64c + 4l + 3) belongs to 16-group 4c + l/4.
alignas(64) inline constexpr int32_t kChunkGroup[4][16] = {
    {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
    {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
    {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
    {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
// 16-group g lies in activation block g / 2.
alignas(64) inline constexpr int32_t kGroupBlock[16] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7};

inline __m512i load_index(const int32_t* p) { return _mm512_load_si512(p); }

// 8 values (float) repeated to 16: groups of 32 seen as pairs of groups of 16.
inline __m512 repeat_pairs(__m256 v8) {
  return _mm512_permutexvar_ps(load_index(kGroupBlock), _mm512_castps256_ps512(v8));
}

// ---- the drivers --------------------------------------------------------------------------------------------


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

// ---- prepared activations (Q8Act, interleaved) ----------------------------------------------------------
//
// prepare_q8x lays out each whole 256-value unit of the activations interleaved: register r (r = 0..3, 64 bytes)
// holds, in its 8-byte slot g, the values 32g + 8r .. 32g + 8r + 7. A type's codes_il(b, u) gives its codes in
// the same order, so every 32-bit lane of a vpdpbusd of register r stays inside one 32-value group g (lanes 2g,
// 2g + 1) in all four registers: the four products chain into one integer accumulator (types with groups of 32)
// or two (groups of 16: registers 0-1 hold the first half of each 32, registers 2-3 the second), and a unit
// costs one or two conversions and FMAs. A group's min and offset terms, sum_g (b_g + kOffset a_g) s16_g, take
// one FMA per unit from the pre-scaled quant sums.

// Slot g of register r from element-order chunks: the 8-value run 4g + r of the unit lies in chunk g / 2,
// qword 4 (g % 2) + r. Two rounds of qword permutes.
inline void interleave_chunks(const __m512i c[4], __m512i u[4]) {
  const __m512i lo = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13), hi = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i p01 = _mm512_permutex2var_epi64(c[0], lo, c[1]), q01 = _mm512_permutex2var_epi64(c[0], hi, c[1]);
  const __m512i p23 = _mm512_permutex2var_epi64(c[2], lo, c[3]), q23 = _mm512_permutex2var_epi64(c[2], hi, c[3]);
  u[0] = _mm512_shuffle_i64x2(p01, p23, 0x44);
  u[1] = _mm512_shuffle_i64x2(p01, p23, 0xEE);
  u[2] = _mm512_shuffle_i64x2(q01, q23, 0x44);
  u[3] = _mm512_shuffle_i64x2(q01, q23, 0xEE);
}

template <class T>
concept HasInterleavedCodes = requires(const typename T::Block& b, __m512i* u) { T::codes_il(b, u); };

template <class T>
inline void codes_interleaved(const typename T::Block& b, __m512i u[4]) {
  if constexpr (HasInterleavedCodes<T>) {
    T::codes_il(b, u);
  } else {
    const __m512i c[4] = {T::codes(b, 0), T::codes(b, 1), T::codes(b, 2), T::codes(b, 3)};
    interleave_chunks(c, u);
  }
}

// Types whose codes are signed bytes (Q8_0): vpdpbusd takes |w| and x with w's sign, so the integer sums stay
// exact without an offset (an offset of 128 would be taken back in float, with an error no smaller than the
// offset term however small the weights are).
template <class T>
constexpr bool signed_codes() {
  if constexpr (requires { T::kSigned; }) return T::kSigned;
  return false;
}

inline void move_sign(__m512i& u, __m512i& q) {
  q = _mm512_mask_sub_epi8(q, _mm512_movepi8_mask(u), _mm512_setzero_si512(), q);
  u = _mm512_abs_epi8(u);
}

// NT tokens' dots with one row: each unit's scales and codes are formed once and serve every token, whose sums
// land in an accumulator of its own. The single-token dot is NT = 1 of the same code, so a token's result does
// not depend on how many others share the pass (decoding sequences together gives each the bits it gets alone).
template <class T, int NT>
void dot_q8x_units_n(const typename T::Block* w, const Q8Act* x, int64_t units, float* out) {
  static_assert(T::kGroup == 16 || T::kGroup == 32);
  __m512 acc[NT];  // in registers only with every loop over it unrolled first (else GCC stores it every unit)
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i even = _mm512_setr_epi32(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
  const __m512i odd = _mm512_setr_epi32(1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
  for (int64_t i = 0; i < units; ++i) {
    for (size_t off = 0; off < sizeof(typename T::Block); off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(w + i) + 4096 + off, _MM_HINT_T0);
    __m512 a, b;
    T::scales(w[i], &a, &b);
    __m512 m = T::kMin ? b : _mm512_setzero_ps();
    if constexpr (T::kOffset != 0) m = _mm512_fmadd_ps(_mm512_set1_ps(float(T::kOffset)), a, m);
    __m512 a_lo = a, a_hi = a;  // groups of 16: the factors of registers 0-1 and 2-3
    if constexpr (T::kGroup == 16) {
      a_lo = _mm512_permutexvar_ps(even, a);
      a_hi = _mm512_permutexvar_ps(odd, a);
    }
    __m512i u[4];
    codes_interleaved<T>(w[i], u);
    __mmask64 neg[4] = {0, 0, 0, 0};
    if constexpr (signed_codes<T>()) {
      for (int r = 0; r < 4; ++r) {
        neg[r] = _mm512_movepi8_mask(u[r]);
        u[r] = _mm512_abs_epi8(u[r]);
      }
    }
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const int8_t* q = x[t].qs + 256 * i;
      __m512i qx[4];
      for (int r = 0; r < 4; ++r) {
        qx[r] = _mm512_loadu_si512(q + 64 * r);
        if constexpr (signed_codes<T>()) qx[r] = _mm512_mask_sub_epi8(qx[r], neg[r], _mm512_setzero_si512(), qx[r]);
      }
      __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[0], qx[0]);
      s0 = _mm512_dpbusd_epi32(s0, u[1], qx[1]);
      __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[2], qx[2]);
      s1 = _mm512_dpbusd_epi32(s1, u[3], qx[3]);
      const __m512 dx = _mm512_loadu_ps(x[t].d16 + 16 * i);  // lanes 2g, 2g + 1: block g's scale
      if constexpr (T::kMin || T::kOffset != 0) acc[t] = _mm512_fnmadd_ps(m, _mm512_loadu_ps(x[t].s16 + 16 * i), acc[t]);
      if constexpr (T::kGroup == 32) {  // a: lanes 2g, 2g + 1 both a_g
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), _mm512_mul_ps(dx, a), acc[t]);
      } else {  // a: lane k is 16-group k; group g's halves are 2g (registers 0-1) and 2g + 1 (2-3)
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), _mm512_mul_ps(dx, a_lo), acc[t]);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), _mm512_mul_ps(dx, a_hi), acc[t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

static_assert(kMaxRowPassTokens == 8);
template <class T>
void dot_q8x_units_any(const typename T::Block* w, const Q8Act* x, int nt, int64_t units, float* out) {
  switch (nt) {
    case 1: return dot_q8x_units_n<T, 1>(w, x, units, out);
    case 2: return dot_q8x_units_n<T, 2>(w, x, units, out);
    case 3: return dot_q8x_units_n<T, 3>(w, x, units, out);
    case 4: return dot_q8x_units_n<T, 4>(w, x, units, out);
    case 5: return dot_q8x_units_n<T, 5>(w, x, units, out);
    case 6: return dot_q8x_units_n<T, 6>(w, x, units, out);
    case 7: return dot_q8x_units_n<T, 7>(w, x, units, out);
    case 8: return dot_q8x_units_n<T, 8>(w, x, units, out);
    default: return;
  }
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

// Calls fn(e, k, v) for each run of 16 weights of the units in order: e the index of the first, k = (e / 16) % 4,
// v the weights as floats.
template <class T, class Fn>
inline void each_weights16(const typename T::Block* w, int64_t units, Fn&& fn) {
  alignas(64) float a[16], b[16];
  alignas(64) uint8_t u[64];
  for (int64_t i = 0; i < units; ++i) {
    __m512 va, vb;
    T::scales(w[i], &va, &vb);
    _mm512_store_ps(a, va);
    _mm512_store_ps(b, vb);
    for (int c = 0; c < 4; ++c) {
      _mm512_store_si512(u, T::codes(w[i], c));
      for (int k = 0; k < 4; ++k) fn(256 * i + 64 * c + 16 * k, k, weights16<T>(u, k, a, b, 4 * c + k));
    }
  }
}

template <class T>
void dequant_units(const typename T::Block* w, float* dst, int64_t units) {
  each_weights16<T>(w, units, [&](int64_t e, int, __m512 v) { _mm512_storeu_ps(dst + e, v); });
}

template <class T>
float dot_units(const typename T::Block* w, const float* x, int64_t units) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  each_weights16<T>(w, units, [&](int64_t e, int k, __m512 v) { acc[k] = _mm512_fmadd_ps(v, _mm512_loadu_ps(x + e), acc[k]); });
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace seek::avx512
