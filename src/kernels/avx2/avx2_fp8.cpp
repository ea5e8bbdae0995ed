// AVX2 FP8 E4M3 kernels (DeepSeek's FP8 weights with 128x128 block scales) for CPUs without AVX-512: the same
// decode and block structure as avx512_fp8.cpp in 8-lane vectors. Compiled with -mavx2 -mfma -mf16c only.
#include <immintrin.h>

#include <cstring>

#include "core/fp8.h"
#include "kernels/kernels.h"

namespace seek {

namespace {

constexpr int64_t kF8Block = 128;
constexpr int64_t kPrefetchBytes = 8192;  // as avx512_fp8.cpp: the decode is as slow as memory without it

// 16 codes -> two vectors of their values times 2^-8, exactly: sign | 0 | eeee | mmm | 0000000 is the IEEE half
// of an E4M3 code's value / 256 (see decode16_div256 in avx512_fp8.cpp). NaN codes come out as +-1.875.
inline void decode16_div256(const uint8_t* p, __m256& lo, __m256& hi) {
  const __m256i s = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i h = _mm256_and_si256(_mm256_slli_epi16(s, 7), _mm256_set1_epi16(int16_t(0xbfff)));
  lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
  hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
}

// Bytewise max of (code | 0x80): 0xFF only where a NaN code (0x7F, 0xFF) was seen.
inline __m256i nan_track(__m256i top, const uint8_t* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm256_max_epu8(top, _mm256_or_si256(v, _mm256_set1_epi8(int8_t(0x80))));
}

inline float hsum(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// Sum of w * x / 256 over `len` (a multiple of 16, at most 128) weights, in 8 lanes: four chains, each 16 weights
// feeding two of them in turn.
inline __m256 block_sum(const uint8_t* w, const float* x, int64_t len) {
  __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t k = 0, c = 0; k < len; k += 16, c ^= 2) {
    __m256 lo, hi;
    decode16_div256(w + k, lo, hi);
    s[c] = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x + k), s[c]);
    s[c + 1] = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + k + 8), s[c + 1]);
  }
  return _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
}

// Per 128-block: (sum of w * x / 256) * scale, accumulated over blocks, times 256 at the end (exact). The last
// 0..15 weights go through a zero-padded copy. Any NaN code makes the result NaN, as in the reference.
float dot_f8_e4m3(const uint8_t* row, const float* scales, const float* x, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256i top = _mm256_setzero_si256();
  const int64_t nb = n / kF8Block;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* w = row + b * kF8Block;
    _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchBytes), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchBytes + 64), _MM_HINT_T0);
    for (int q = 0; q < 4; ++q) top = nan_track(top, w + 32 * q);
    __m256& acc = b & 1 ? acc1 : acc0;
    acc = _mm256_fmadd_ps(block_sum(w, x + b * kF8Block, kF8Block), _mm256_set1_ps(scales[b]), acc);
  }
  bool has_nan = _mm256_movemask_epi8(_mm256_cmpeq_epi8(top, _mm256_set1_epi8(-1))) != 0;
  const int64_t k0 = nb * kF8Block, rem = n - k0;
  if (rem > 0) {
    const int64_t full = rem / 16 * 16, last = rem - full;
    __m256 s = block_sum(row + k0, x + k0, full);
    if (last > 0) {
      alignas(32) uint8_t wpad[32] = {};
      alignas(32) float xpad[16] = {};
      std::memcpy(wpad, row + k0 + full, size_t(last));
      std::memcpy(xpad, x + k0 + full, size_t(last) * 4);
      s = _mm256_add_ps(s, block_sum(wpad, xpad, 16));
    }
    for (int64_t k = k0; k < n; ++k) has_nan |= (row[k] & 0x7f) == 0x7f;
    acc1 = _mm256_fmadd_ps(s, _mm256_set1_ps(scales[nb]), acc1);
  }
  if (has_nan) return f32_from_bits(0x7fc00000u);
  return 256.0f * hsum(_mm256_add_ps(acc0, acc1));
}

// dst[k] = e4m3(row[k]) * scales[k / 128], bit for bit as the reference (decoded * 256 is exact; one rounding).
void dequant_f8_e4m3(const uint8_t* row, const float* scales, float* dst, int64_t n) {
  const __m256 k256 = _mm256_set1_ps(256.0f);
  for (int64_t k0 = 0; k0 < n; k0 += kF8Block) {
    const float scale = scales[k0 / kF8Block];
    const __m256 sc = _mm256_set1_ps(scale);
    const int64_t end = n - k0 < kF8Block ? n : k0 + kF8Block;
    int64_t k = k0;
    for (; k + 16 <= end; k += 16) {
      __m256 lo, hi;
      decode16_div256(row + k, lo, hi);
      _mm256_storeu_ps(dst + k, _mm256_mul_ps(_mm256_mul_ps(lo, k256), sc));
      _mm256_storeu_ps(dst + k + 8, _mm256_mul_ps(_mm256_mul_ps(hi, k256), sc));
      const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k));
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(c, _mm_set1_epi8(int8_t(0x80))), _mm_set1_epi8(-1))))
        for (int i = 0; i < 16; ++i)
          if ((row[k + i] & 0x7f) == 0x7f) dst[k + i] = f8_e4m3_to_f32(row[k + i]) * scale;
    }
    for (; k < end; ++k) dst[k] = f8_e4m3_to_f32(row[k]) * scale;
  }
}

}  // namespace

// Not yet in a table: make_avx2() registers it with one line once the AVX2 table exists.
void register_avx2_fp8_kernels(KernelTable& t) {
  t.dot_f8_e4m3 = dot_f8_e4m3;
  t.dequant_f8_e4m3 = dequant_f8_e4m3;
}

}  // namespace seek
