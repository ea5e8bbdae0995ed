// AVX-512 kernels of the 32-element block types Q4_0, Q5_0, Q5_1 and IQ4_NL (and Q8_0's prepared dot) (llama.cpp's fallbacks where a
// k-quant does not fit a row: Q4_K_M writes Q5_0 for DeepSeek's 128-column attn_k_b). Eight blocks form one
// 256-element unit of avx512_units.h (group of 16 g takes block g / 2's scale); the n / 32 % 8 blocks after the
// last whole unit go one block at a time through the same codes in 256-bit registers.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx512/avx512_units.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

void register_avx512_legacy_kernels(KernelTable& t);

namespace {

using namespace avx512;

template <class B>
struct Blocks8 {
  B b[8];
};

// The 32 codes of one block in element order: low nibbles of qs (elements 0..15), then high nibbles (16..31).
inline __m256i nibbles32(const uint8_t* qs) {
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_mask_srli_epi16(v, 0xFF00u, v, 4), _mm256_set1_epi8(0x0F));
}

// The 64 codes of blocks b0, b1 (elements 0..63 of a chunk): nibbles32 of each, in one register.
inline __m512i nibbles64(const uint8_t* qs0, const uint8_t* qs1) {
  const __m256i v = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1)), 1);
  const __m512i z = _mm512_shuffle_i64x2(_mm512_castsi256_si512(v), _mm512_castsi256_si512(v), 0x50);
  return _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4), _mm512_set1_epi8(0x0F));
}

inline uint32_t high_bits(const uint8_t* qh) {
  uint32_t m;
  std::memcpy(&m, qh, 4);
  return m;
}

// IQ4_NL's levels offset by 128 (unsigned bytes for vpdpbusd), in every 128-bit lane.
inline __m128i iq4nl_lut() {
  alignas(16) static constexpr uint8_t kLut[16] = {
      uint8_t(kIq4nlValues[0] + 128),  uint8_t(kIq4nlValues[1] + 128),  uint8_t(kIq4nlValues[2] + 128),
      uint8_t(kIq4nlValues[3] + 128),  uint8_t(kIq4nlValues[4] + 128),  uint8_t(kIq4nlValues[5] + 128),
      uint8_t(kIq4nlValues[6] + 128),  uint8_t(kIq4nlValues[7] + 128),  uint8_t(kIq4nlValues[8] + 128),
      uint8_t(kIq4nlValues[9] + 128),  uint8_t(kIq4nlValues[10] + 128), uint8_t(kIq4nlValues[11] + 128),
      uint8_t(kIq4nlValues[12] + 128), uint8_t(kIq4nlValues[13] + 128), uint8_t(kIq4nlValues[14] + 128),
      uint8_t(kIq4nlValues[15] + 128)};
  return _mm_load_si128(reinterpret_cast<const __m128i*>(kLut));
}

// Each type: its block (One), kOffset/kMin as in avx512_units.h, codes of one block (codes32) and of a block
// pair (codes64), and its per-block scale a = d and minimum b (w = a * (u - kOffset) - b).
struct Q40 {
  using One = BlockQ4_0;
  static constexpr int kOffset = 8;
  static constexpr bool kMin = false;
  static __m256i codes32(const One& b) { return nibbles32(b.qs); }
  static __m512i codes64(const One& b0, const One& b1) { return nibbles64(b0.qs, b1.qs); }
};

// Q5_0 and Q5_1's 5-bit codes: bit j of qh is bit 4 of element j.
template <class One>
inline __m256i five_bits32(const One& b) {
  const __m256i u = nibbles32(b.qs);
  return _mm256_mask_add_epi8(u, _cvtu32_mask32(high_bits(b.qh)), u, _mm256_set1_epi8(16));
}
template <class One>
inline __m512i five_bits64(const One& b0, const One& b1) {
  const __m512i u = nibbles64(b0.qs, b1.qs);
  const __mmask64 k = _cvtu64_mask64(uint64_t(high_bits(b0.qh)) | uint64_t(high_bits(b1.qh)) << 32);
  return _mm512_mask_add_epi8(u, k, u, _mm512_set1_epi8(16));
}

struct Q50 {
  using One = BlockQ5_0;
  static constexpr int kOffset = 16;
  static constexpr bool kMin = false;
  static __m256i codes32(const One& b) { return five_bits32(b); }
  static __m512i codes64(const One& b0, const One& b1) { return five_bits64(b0, b1); }
};

struct Q51 {
  using One = BlockQ5_1;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;  // w = d q + m: b = -m
  static __m256i codes32(const One& b) { return five_bits32(b); }
  static __m512i codes64(const One& b0, const One& b1) { return five_bits64(b0, b1); }
};

struct IQ4NL {
  using One = BlockIQ4NL;
  static constexpr int kOffset = 128;
  static constexpr bool kMin = false;
  static __m256i codes32(const One& b) {
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(iq4nl_lut()), nibbles32(b.qs));
  }
  static __m512i codes64(const One& b0, const One& b1) {
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(iq4nl_lut()), nibbles64(b0.qs, b1.qs));
  }
};

// Q8_0 weights for the prepared dot only (its other kernels are in avx512_kernels.cpp): signed codes
// (avx512_units.h's signed_codes).
struct Q80 {
  using One = BlockQ8_0;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = false;
  static constexpr bool kSigned = true;
  static __m256i codes32(const One& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }
  static __m512i codes64(const One& b0, const One& b1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(codes32(b0)), codes32(b1), 1);
  }
};

template <class T>
float min_of(const typename T::One& b) {
  if constexpr (T::kMin) return -half_to_float(b.m);
  return 0.0f;
}

// Eight blocks of T as one unit of avx512_units.h.
template <class T>
struct Unit {
  using Block = Blocks8<typename T::One>;
  static constexpr int kOffset = T::kOffset;
  static constexpr bool kMin = T::kMin;
  static constexpr int kGroup = 32;
  static constexpr bool kSigned = signed_codes<T>();
  static constexpr int kStride = int(sizeof(typename T::One));
  static void scales(const Block& b, __m512* a, __m512* m) {
    const auto* p = reinterpret_cast<const uint8_t*>(&b);
    *a = repeat_pairs(load_scales8<kStride>(p));
    if constexpr (T::kMin) *m = _mm512_sub_ps(_mm512_setzero_ps(), repeat_pairs(load_scales8<kStride>(p + 2)));
    else *m = _mm512_setzero_ps();
  }
  static __m512i codes(const Block& b, int c) { return T::codes64(b.b[2 * c], b.b[2 * c + 1]); }
};

inline int32_t hsum_i32(__m256i v) {
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1)));
}

// One block's integer sums with 32 activation quants: sum u q and sum q.
template <class T>
inline void block_sums(const typename T::One& b, const int8_t* q, int32_t* suq, int32_t* sq) {
  const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  *suq = hsum_i32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), T::codes32(b), qx));
  *sq = hsum_i32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), qx));
}

template <class T>
float dot_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const int64_t units = n / 256;
  const auto* b = reinterpret_cast<const typename T::One*>(row);
  float acc = dot_q8_units<Unit<T>>(reinterpret_cast<const typename Unit<T>::Block*>(row), xq, units);
  for (int64_t k = 8 * units; k < n / 32; ++k) {
    int32_t suq, sq;
    block_sums<T>(b[k], xq[k].qs, &suq, &sq);
    const float a = half_to_float(b[k].d), dx = half_to_float(xq[k].d);
    acc += dx * (a * float(suq - T::kOffset * sq) - min_of<T>(b[k]) * float(sq));
  }
  return acc;
}

// After the whole units, per block: the codes' integer sums stay in 8 lanes, scaled by a * d_x into a vector
// accumulator (one reduction per row), and the offset and min terms come from the prepared sums. DeepSeek's
// attn_k_b rows (128 values: no whole unit) take only this path.
template <class T>
float tail_q8x(const typename T::One* b, const Q8Act& x, int64_t k0, int64_t nb) {
  float acc = 0.0f;
  __m256 tail = _mm256_setzero_ps();
  for (int64_t k = k0; k < nb; ++k) {
    __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * k));
    __m256i u = T::codes32(b[k]);
    if constexpr (signed_codes<T>()) {
      qx = _mm256_mask_sub_epi8(qx, _mm256_movepi8_mask(u), _mm256_setzero_si256(), qx);
      u = _mm256_abs_epi8(u);
    }
    const __m256i suq = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, qx);
    const float a = half_to_float(b[k].d);
    tail = _mm256_fmadd_ps(_mm256_cvtepi32_ps(suq), _mm256_set1_ps(a * x.d16[2 * k]), tail);
    acc -= (float(T::kOffset) * a + min_of<T>(b[k])) * (x.s16[2 * k] + x.s16[2 * k + 1]);
  }
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(tail), _mm256_extractf128_ps(tail, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return acc + _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

template <class T>
void dot_q8x(const uint8_t* row, const Q8Act* x, int n_tok, int64_t n, float* out) {
  const int64_t units = n / 256;
  dot_q8x_units_any<Unit<T>>(reinterpret_cast<const typename Unit<T>::Block*>(row), x, n_tok, units, out);
  if (8 * units == n / 32) return;
  const auto* b = reinterpret_cast<const typename T::One*>(row);
  for (int t = 0; t < n_tok; ++t) out[t] += tail_q8x<T>(b, x[t], 8 * units, n / 32);
}

// One block's 32 weights as two vectors of 16 (the unit drivers' weights16 on a unit of one block).
template <class T>
inline void block_weights(const typename T::One& b, __m512* w0, __m512* w1) {
  alignas(64) uint8_t u[64];
  _mm256_store_si256(reinterpret_cast<__m256i*>(u), T::codes32(b));
  const float a[2] = {half_to_float(b.d), half_to_float(b.d)}, m[2] = {min_of<T>(b), min_of<T>(b)};
  *w0 = weights16<Unit<T>>(u, 0, a, m, 0);
  *w1 = weights16<Unit<T>>(u, 1, a, m, 1);
}

template <class T>
float dot(const uint8_t* row, const float* x, int64_t n) {
  const int64_t units = n / 256;
  const auto* b = reinterpret_cast<const typename T::One*>(row);
  float acc = dot_units<Unit<T>>(reinterpret_cast<const typename Unit<T>::Block*>(row), x, units);
  __m512 tail = _mm512_setzero_ps();
  for (int64_t k = 8 * units; k < n / 32; ++k) {
    __m512 w0, w1;
    block_weights<T>(b[k], &w0, &w1);
    tail = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + 32 * k), tail);
    tail = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 32 * k + 16), tail);
  }
  return acc + _mm512_reduce_add_ps(tail);
}

template <class T>
void dequant(const uint8_t* src, float* dst, int64_t n) {
  const int64_t units = n / 256;
  const auto* b = reinterpret_cast<const typename T::One*>(src);
  dequant_units<Unit<T>>(reinterpret_cast<const typename Unit<T>::Block*>(src), dst, units);
  for (int64_t k = 8 * units; k < n / 32; ++k) {
    __m512 w0, w1;
    block_weights<T>(b[k], &w0, &w1);
    _mm512_storeu_ps(dst + 32 * k, w0);
    _mm512_storeu_ps(dst + 32 * k + 16, w1);
  }
}

template <class T>
TypeKernels legacy_kernels() {
  return {dequant<T>, dot<T>, dot_q8<T>, dot_q8x<T>};
}

}  // namespace

void register_avx512_legacy_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q8_0)].dot_q8x = dot_q8x<Q80>;
  t.by_type[uint32_t(GgmlType::Q4_0)] = legacy_kernels<Q40>();
  t.by_type[uint32_t(GgmlType::Q5_0)] = legacy_kernels<Q50>();
  t.by_type[uint32_t(GgmlType::Q5_1)] = legacy_kernels<Q51>();
  t.by_type[uint32_t(GgmlType::IQ4_NL)] = legacy_kernels<IQ4NL>();
}

}  // namespace seek
