// Reference quantisers of the non-linear 4-bit types IQ4_NL (32-element blocks, one f16 scale) and IQ4_XS
// (256-element super-blocks, 6-bit group scales). Codes index the 16 fixed levels kIq4nlValues. This is the
// search llama.cpp runs for model files (ggml's quantize_iq4_nl / quantize_iq4_xs without an importance
// matrix): per group of 32, start from the scale that maps the extreme value onto the extreme level, try 15
// scales around it, and keep the least-squares scale of the best code assignment (weights x^2).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize.h"
#include "quant/scale_fit.h"

namespace seek {

using quant::nearest_int;
using quant::nearest_level;

namespace {

constexpr int kTries = 7;  // scales tried on each side of the start (ggml's ntry for model files)

// Least-squares scale of a group of 32 for codes chosen at inverse scale `id`, as (sum w q x, sum w q^2).
struct Fit {
  float qx = 0, q2 = 0;
};

Fit fit_at(const float* x, float id, uint8_t* L) {
  Fit f;
  for (int j = 0; j < 32; ++j) {
    const int l = nearest_level(kIq4nlValues, 16, id * x[j]);
    if (L) L[j] = uint8_t(l);
    const float q = float(kIq4nlValues[l]);
    const float w = x[j] * x[j];
    f.qx += w * q * x[j];
    f.q2 += w * q * q;
  }
  return f;
}

// The best scale for one group of 32 (0 for an all-zero group); leaves the start's codes in L.
float group_scale(const float* x, uint8_t* L) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  if (amax < quant::kGroupMaxEps) return 0.0f;
  const float v0 = float(kIq4nlValues[0]);  // -127: the level of largest magnitude
  float d = -max / v0;
  Fit f = fit_at(x, 1 / d, L);
  d = f.q2 > 0 ? f.qx / f.q2 : 0.0f;
  float best = d * f.qx;
  for (int t = -kTries; t <= kTries; ++t) {
    f = fit_at(x, (float(t) + v0) / max, nullptr);
    if (f.q2 > 0 && f.qx * f.qx > best * f.q2) {
      d = f.qx / f.q2;
      best = d * f.qx;
    }
  }
  return d;
}

void pack_nibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t(L[j] | (L[j + 16] << 4));
}

}  // namespace

void quantize_row_iq4_nl(const float* src, uint8_t* dst, int64_t n) {
  BlockIQ4NL* y = reinterpret_cast<BlockIQ4NL*>(dst);
  for (int64_t b = 0; b < n / kQK4_NL; ++b) {
    const float* x = src + b * kQK4_NL;
    uint8_t L[32];
    const float d = group_scale(x, L);
    y[b].d = f32_to_f16(d);
    // codes for the chosen scale itself (the f32 one: the f16 rounding is left to the reader)
    const float id = d != 0.0f ? 1 / d : 0.0f;
    for (int j = 0; j < 32; ++j) L[j] = uint8_t(nearest_level(kIq4nlValues, 16, id * x[j]));
    pack_nibbles(L, y[b].qs);
  }
}

// IQ4_XS: the 8 group scales are quantised to 6 bits against d = -max_scale/32 (max_scale: the group scale of
// largest magnitude, signed), and each group's codes are re-chosen for its rounded scale.
void quantize_row_iq4_xs(const float* src, uint8_t* dst, int64_t n) {
  BlockIQ4XS* y = reinterpret_cast<BlockIQ4XS*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    uint8_t L[kQK_K];
    float scales[8];
    float max_scale = 0, amax_scale = 0;
    for (int g = 0; g < 8; ++g) {
      scales[g] = group_scale(x + 32 * g, L + 32 * g);
      if (std::fabs(scales[g]) > amax_scale) {
        amax_scale = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    const float d = -max_scale / 32;
    y[b].d = f32_to_f16(d);
    y[b].scales_h = 0;
    std::memset(y[b].scales_l, 0, sizeof y[b].scales_l);
    const float id = d != 0.0f ? 1 / d : 0.0f;
    for (int g = 0; g < 8; ++g) {
      const int l = std::clamp(nearest_int(id * scales[g]), -32, 31);
      const float dl = d * float(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.0f;
      for (int j = 0; j < 32; ++j) L[32 * g + j] = uint8_t(nearest_level(kIq4nlValues, 16, idl * x[32 * g + j]));
      const int u = l + 32;
      y[b].scales_l[g / 2] |= uint8_t((u & 0xF) << (4 * (g % 2)));
      y[b].scales_h |= uint16_t((u >> 4) << (2 * g));
    }
    for (int g = 0; g < 8; ++g) pack_nibbles(L + 32 * g, y[b].qs + 16 * g);
  }
}

}  // namespace seek
