// IEEE half (F16) and bfloat16 conversions, bit-exact with ggml's scalar versions (round to nearest even).
#pragma once

#include <cstdint>
#include <cstring>

namespace seek {

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t bits_from_f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// F16 -> F32, exact for every input including subnormals, infinities and NaN.
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t man = h & 0x3ff;
  if (exp == 0) {
    if (man == 0) return f32_from_bits(sign);
    // subnormal: value = man * 2^-24
    float v = float(man) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (man << 13));
  return f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
}

// F32 -> F16 with round-to-nearest-even, overflow to infinity, NaN kept NaN.
inline uint16_t f32_to_f16(float f) {
  const uint32_t x = bits_from_f32(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | (ax > 0x7f800000u ? 0x7e00 : 0x7c00);
  if (ax >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: infinity
  if (ax < 0x38800000u) {                       // below the smallest normal half: subnormal or zero
    // value / 2^-24, rounded to nearest even by the FPU
    float v = f32_from_bits(ax) * 16777216.0f;
    uint32_t m = uint32_t(__builtin_nearbyintf(v));
    return sign | uint16_t(m);
  }
  uint32_t mant_odd = (ax >> 13) & 1;
  uint32_t r = ax + 0xfffu + mant_odd;  // round to nearest even on the 13 dropped bits
  return sign | uint16_t(((r >> 13) - (112u << 10)) & 0x7fff);
}

inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

// F32 -> BF16 as ggml does: round to nearest even, NaN quieted.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = bits_from_f32(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 64);
  return uint16_t((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

}  // namespace seek
