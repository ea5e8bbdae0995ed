// FP8 E4M3 <-> f32 for DeepSeek's FP8 weights: the OCP "E4M3FN" variant (1 sign, 4 exponent bits with bias 7,
// 3 mantissa bits, subnormals, no infinities; S.1111.111 is NaN; the largest finite value is 448).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/half.h"

namespace seek {

constexpr float kF8E4M3Max = 448.0f;

// E4M3 -> f32, exact for every finite code. 0x7F and 0xFF decode to a quiet NaN carrying the code's sign.
inline float f8_e4m3_to_f32(uint8_t b) {
  const uint32_t sign = uint32_t(b & 0x80) << 24;
  const uint32_t exp = (b >> 3) & 0xf;
  const uint32_t man = b & 0x7;
  if (exp == 0xf && man == 0x7) return f32_from_bits(sign | 0x7fc00000u);
  if (exp == 0) return f32_from_bits(sign | bits_from_f32(float(man) * (1.0f / 512.0f)));  // man * 2^-9
  return f32_from_bits(sign | ((exp + 120) << 23) | (man << 20));  // rebias 7 -> 127
}

// f32 -> E4M3, round to nearest even. Saturating: every |f| > 448, infinities included, becomes +-448 (0x7E/0xFE),
// as DeepSeek's quantiser clamps before casting; NaN becomes 0x7F with f's sign.
inline uint8_t f32_to_f8_e4m3(float f) {
  const uint32_t x = bits_from_f32(f);
  const uint8_t sign = uint8_t((x >> 24) & 0x80);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7f;
  if (ax >= 0x43e00000u) return sign | 0x7e;  // >= 448 (and infinity)
  if (ax < 0x3c800000u) {                     // below 2^-6, the smallest normal: subnormal or zero
    // value / 2^-9 is at most 8 (the smallest normal's code, 0x08); exact scaling, rounded to even by the FPU
    return sign | uint8_t(std::nearbyint(f32_from_bits(ax) * 512.0f));
  }
  const uint32_t r = ax + 0x7ffffu + ((ax >> 20) & 1);  // round to nearest even on the 20 dropped bits
  return sign | uint8_t((r >> 20) - (120u << 3));        // below 448, so rounding never reaches the NaN code
}

}  // namespace seek
