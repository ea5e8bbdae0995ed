// Reference quantisers of the 32-element types Q4_0, Q5_0 and Q5_1 (ggml's quantize_row_q4_0_ref and
// siblings: one absmax or min/max scale per block, codes by rounding), and the plain f32/f16/bf16 rows.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace seek {

namespace {

// The value of largest magnitude, with its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

// Stores bit 4 of the 5-bit codes q[0..31] as the little-endian bit mask qh.
void pack_high_bits(const uint8_t* q, uint8_t qh[4]) {
  uint32_t bits = 0;
  for (int j = 0; j < 32; ++j) bits |= uint32_t((q[j] >> 4) & 1) << j;
  std::memcpy(qh, &bits, 4);
}

}  // namespace

// Q4_0: d = max / -8 so that the extreme value lands on code 0 (-8*d); codes round x/d + 8, capped at 15.
void quantize_row_q4_0(const float* src, uint8_t* dst, int64_t n) {
  BlockQ4_0* y = reinterpret_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float* x = src + b * kQK4_0;
    const float d = signed_absmax(x, kQK4_0) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      // truncation of x/d + 8.5 (always >= 0.5) is rounding half up
      const uint8_t q0 = uint8_t(std::min<int>(15, int8_t(x[j] * id + 8.5f)));
      const uint8_t q1 = uint8_t(std::min<int>(15, int8_t(x[j + 16] * id + 8.5f)));
      y[b].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

// Q5_0: as Q4_0 with 32 levels: d = max / -16, codes x/d + 16 rounded, capped at 31.
void quantize_row_q5_0(const float* src, uint8_t* dst, int64_t n) {
  BlockQ5_0* y = reinterpret_cast<BlockQ5_0*>(dst);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const float* x = src + b * kQK5_0;
    const float d = signed_absmax(x, kQK5_0) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) q[j] = uint8_t(std::min<int>(31, int8_t(x[j] * id + 16.5f)));
    for (int j = 0; j < 16; ++j) y[b].qs[j] = uint8_t((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
    pack_high_bits(q, y[b].qh);
  }
}

// Q5_1: offset m = min(x), d = (max - min) / 31, codes (x - min)/d rounded.
void quantize_row_q5_1(const float* src, uint8_t* dst, int64_t n) {
  BlockQ5_1* y = reinterpret_cast<BlockQ5_1*>(dst);
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float* x = src + b * kQK5_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < 32; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    y[b].m = f32_to_f16(min);
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) q[j] = uint8_t((x[j] - min) * id + 0.5f);
    for (int j = 0; j < 16; ++j) y[b].qs[j] = uint8_t((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
    pack_high_bits(q, y[b].qh);
  }
}

void quantize_row_f32(const float* src, uint8_t* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

void quantize_row_f16(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_f16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void quantize_row_bf16(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

}  // namespace seek
