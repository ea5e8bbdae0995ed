// Reference quantisers of the k-quants Q2_K..Q6_K (256-element super-blocks). Each follows ggml's
// quantize_row_q*_K_ref, which llama.cpp uses for model files quantised without an importance matrix:
//   1. fit a scale (and for Q2_K/Q4_K/Q5_K an offset) per group of 16 or 32 values (scale_fit.h);
//   2. quantise those group scales against one f16 super-block scale (6 or 8 bits; 4 for Q2_K);
//   3. re-derive every code from the *stored* (rounded) scales, so the codes fit what a reader will compute.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize.h"
#include "quant/scale_fit.h"

namespace seek {

using quant::fit_scale_min;
using quant::fit_symmetric;
using quant::fit_symmetric_iterative;
using quant::nearest_int;

namespace {

// Codes of a group for x ~ d*q - dm, q in [0, nmax].
void requantize_asym(const float* x, int n, float d, float dm, int nmax, uint8_t* L) {
  for (int i = 0; i < n; ++i) L[i] = uint8_t(std::clamp(nearest_int((x[i] + dm) / d), 0, nmax));
}

// 2-bit planes of Q2_K/Q3_K: per 128-element half, byte l holds elements l, l+32, l+64, l+96 (bits 0,2,4,6).
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int h = 0; h < kQK_K; h += 128)
    for (int l = 0; l < 32; ++l)
      qs[h / 4 + l] = uint8_t(L[h + l] | (L[h + l + 32] << 2) | (L[h + l + 64] << 4) | (L[h + l + 96] << 6));
}

// Inverse of unpack_scale_min_k4 (blocks.h) for group g.
void pack_scale_min_k4(int g, uint8_t ls, uint8_t lm, uint8_t* scales) {
  if (g < 4) {
    scales[g] = ls;
    scales[g + 4] = lm;
  } else {
    scales[g + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
    scales[g - 4] |= uint8_t((ls >> 4) << 6);
    scales[g] |= uint8_t((lm >> 4) << 6);
  }
}

// Q4_K and Q5_K share everything but the code range and the scan of fit_scale_min.
struct K4Params {
  int nmax;
  float rmin, rdelta;
  int nstep;
};

// Steps 1-3 for one Q4_K/Q5_K super-block: fills d, dmin, scales and the codes L[256].
void quantize_superblock_k4(const float* x, const K4Params& p, uint16_t* d_out, uint16_t* dmin_out,
                            uint8_t* packed_scales, uint8_t* L) {
  float scales[8], mins[8], weights[32];
  float max_scale = 0, max_min = 0;  // scales and mins are >= 0 (the offset is subtracted)
  for (int g = 0; g < 8; ++g) {
    const float* xg = x + 32 * g;
    // weights: |x| plus the group's RMS, so that large values count more without ignoring small ones
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xg[l] * xg[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xg[l]);
    scales[g] = fit_scale_min(32, p.nmax, xg, weights, L + 32 * g, &mins[g], p.rmin, p.rdelta, p.nstep, false);
    max_scale = std::max(max_scale, scales[g]);
    max_min = std::max(max_min, mins[g]);
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(packed_scales, 0, kKScaleSize);
  for (int g = 0; g < 8; ++g) {
    const uint8_t ls = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[g])));
    const uint8_t lm = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * mins[g])));
    pack_scale_min_k4(g, ls, lm, packed_scales);
  }
  *d_out = f32_to_f16(max_scale / 63.0f);
  *dmin_out = f32_to_f16(max_min / 63.0f);
  for (int g = 0; g < 8; ++g) {
    uint8_t sc, m;
    unpack_scale_min_k4(g, packed_scales, &sc, &m);
    const float d = f16_to_f32(*d_out) * float(sc);
    if (d == 0.0f) continue;
    const float dm = f16_to_f32(*dmin_out) * float(m);
    requantize_asym(x + 32 * g, 32, d, dm, p.nmax, L + 32 * g);
  }
}

}  // namespace

// Q2_K: 16 groups of 16, x ~ d*sc*q - dmin*m with 4-bit sc and m; group fits minimise the weighted absolute
// error with weights |x|.
void quantize_row_q2_K(const float* src, uint8_t* dst, int64_t n) {
  BlockQ2K* y = reinterpret_cast<BlockQ2K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    uint8_t L[kQK_K];
    float scales[16], mins[16], weights[16];
    float max_scale = 0, max_min = 0;
    for (int g = 0; g < 16; ++g) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * g + l]);
      scales[g] = fit_scale_min(16, 3, x + 16 * g, weights, L + 16 * g, &mins[g], -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[g]);
      max_min = std::max(max_min, mins[g]);
    }
    const float q4scale = 15.0f;
    std::memset(y[b].scales, 0, sizeof y[b].scales);
    y[b].d = f32_to_f16(0.0f);
    y[b].dmin = f32_to_f16(0.0f);
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int g = 0; g < 16; ++g) y[b].scales[g] = uint8_t(nearest_int(iscale * scales[g]));
      y[b].d = f32_to_f16(max_scale / q4scale);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int g = 0; g < 16; ++g) y[b].scales[g] |= uint8_t(nearest_int(iscale * mins[g]) << 4);
      y[b].dmin = f32_to_f16(max_min / q4scale);
    }
    for (int g = 0; g < 16; ++g) {
      const float d = f16_to_f32(y[b].d) * float(y[b].scales[g] & 0xF);
      if (d == 0.0f) continue;
      const float dm = f16_to_f32(y[b].dmin) * float(y[b].scales[g] >> 4);
      requantize_asym(x + 16 * g, 16, d, dm, 3, L + 16 * g);
    }
    pack_2bit(L, y[b].qs);
  }
}

// Q3_K: 16 groups of 16, x ~ d*s*(q - 4) with signed 6-bit s; group fits by coordinate descent (weights x^2).
void quantize_row_q3_K(const float* src, uint8_t* dst, int64_t n) {
  BlockQ3K* y = reinterpret_cast<BlockQ3K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    int8_t L[kQK_K];
    float scales[16];
    float max_scale = 0, amax = 0;  // the group scale of largest magnitude, with its sign
    for (int g = 0; g < 16; ++g) {
      scales[g] = fit_symmetric_iterative(16, 4, x + 16 * g, L + 16 * g);
      if (std::fabs(scales[g]) > amax) {
        amax = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    std::memset(y[b].scales, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int g = 0; g < 16; ++g) {
        int8_t l = int8_t(nearest_int(iscale * scales[g]));
        l = int8_t(std::clamp<int>(l, -32, 31) + 32);
        if (g < 8)
          y[b].scales[g] = uint8_t(l & 0xF);
        else
          y[b].scales[g - 8] |= uint8_t((l & 0xF) << 4);
        y[b].scales[8 + g % 4] |= uint8_t((l >> 4) << (2 * (g / 4)));
      }
      y[b].d = f32_to_f16(1 / iscale);
    } else {
      y[b].d = f32_to_f16(0.0f);
    }
    int8_t s[16];
    unpack_scales_q3k(y[b].scales, s);
    for (int g = 0; g < 16; ++g) {
      const float d = f16_to_f32(y[b].d) * float(s[g]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) L[16 * g + i] = int8_t(std::clamp(nearest_int(x[16 * g + i] / d), -4, 3) + 4);
    }
    // bit 2 of each code goes to hmask (element i: bit i/32 of byte i%32), the low 2 bits to qs
    std::memset(y[b].hmask, 0, sizeof y[b].hmask);
    uint8_t low[kQK_K];
    for (int i = 0; i < kQK_K; ++i) {
      if (L[i] > 3) y[b].hmask[i % 32] |= uint8_t(1 << (i / 32));
      low[i] = uint8_t(L[i] & 3);
    }
    pack_2bit(low, y[b].qs);
  }
}

// Q4_K: 8 groups of 32, x ~ d*sc*q - dmin*m, 6-bit sc and m.
void quantize_row_q4_K(const float* src, uint8_t* dst, int64_t n) {
  BlockQ4K* y = reinterpret_cast<BlockQ4K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t L[kQK_K];
    quantize_superblock_k4(src + b * kQK_K, {15, -1.0f, 0.1f, 20}, &y[b].d, &y[b].dmin, y[b].scales, L);
    for (int c = 0; c < 4; ++c)  // 64-element chunk c: first 32 in the low nibbles, next 32 in the high ones
      for (int l = 0; l < 32; ++l) y[b].qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + l + 32] << 4));
  }
}

// Q5_K: as Q4_K with 5-bit codes; bit 4 goes to qh.
void quantize_row_q5_K(const float* src, uint8_t* dst, int64_t n) {
  BlockQ5K* y = reinterpret_cast<BlockQ5K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t L[kQK_K];
    quantize_superblock_k4(src + b * kQK_K, {31, -0.5f, 0.1f, 15}, &y[b].d, &y[b].dmin, y[b].scales, L);
    std::memset(y[b].qh, 0, sizeof y[b].qh);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = L[64 * c + l], hi = L[64 * c + l + 32];
        y[b].qs[32 * c + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
        y[b].qh[l] |= uint8_t(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
  }
}

// Q6_K: 16 groups of 16, x ~ d*sc*(q - 32) with int8 sc; group fits weighted by x^2.
void quantize_row_q6_K(const float* src, uint8_t* dst, int64_t n) {
  BlockQ6K* y = reinterpret_cast<BlockQ6K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    int8_t L[kQK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int g = 0; g < 16; ++g) {
      scales[g] = fit_symmetric(16, 32, x + 16 * g, L + 16 * g, nullptr);
      if (std::fabs(scales[g]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    if (max_abs_scale < quant::kGroupMaxEps) {
      std::memset(&y[b], 0, sizeof y[b]);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    y[b].d = f32_to_f16(1 / iscale);
    for (int g = 0; g < 16; ++g) y[b].scales[g] = int8_t(std::min(127, nearest_int(iscale * scales[g])));
    for (int g = 0; g < 16; ++g) {
      const float d = f16_to_f32(y[b].d) * float(y[b].scales[g]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i)
        L[16 * g + i] = int8_t(std::clamp(nearest_int(x[16 * g + i] / d), -32, 31) + 32);
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      uint8_t* ql = y[b].ql + 64 * h;
      uint8_t* qh = y[b].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = uint8_t((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
        ql[l + 32] = uint8_t((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
        qh[l] = uint8_t((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace seek
