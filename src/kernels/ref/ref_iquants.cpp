// Scalar reference kernels of the codebook types IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S and IQ1_M (the dynamic R1
// quants). Dequantisers reproduce ggml's dequantize_row_* bit for bit: the same float products in the same order
// (block formulas in quant/blocks.h). The dot product dequantises a block and sums in f32. The codebooks come
// from the generated header iq_grids.h (iq_grids.cmake); a build without it registers none of these types.
#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

#ifdef SEEK_HAVE_IQ_GRIDS
#include "iq_grids.h"  // generated in the build directory from llama.cpp's ggml-common.h
#endif

namespace seek {

bool iq_grids_missing(GgmlType t) {
#ifdef SEEK_HAVE_IQ_GRIDS
  (void)t;
  return false;
#else
  return t == GgmlType::IQ2_XXS || t == GgmlType::IQ2_XS || t == GgmlType::IQ3_XXS || t == GgmlType::IQ1_S ||
         t == GgmlType::IQ1_M;
#endif
}

#ifdef SEEK_HAVE_IQ_GRIDS

namespace {

using iq_grids::kIq1sGrid;
using iq_grids::kIq2xsGrid;
using iq_grids::kIq2xxsGrid;
using iq_grids::kIq3xxsGrid;

// ggml's ksigns_iq2xs: 7 stored sign bits, the 8th chosen so that the number of minus signs is even (the
// quantiser flips the smallest weight's sign to make it so). extract_iq_grids.py checks upstream agrees.
constexpr uint8_t sign_byte(uint32_t seven_bits) {
  return uint8_t(seven_bits | (uint32_t(__builtin_popcount(seven_bits) & 1) << 7));
}

constexpr float kIq1Delta = 0.125f;  // IQ1S_DELTA, IQ1M_DELTA

// Byte j of a grid entry: element j of the run.
inline uint8_t level(uint64_t entry, int j) { return uint8_t(entry >> (8 * j)); }

// 8 weights = db * level * sign, as ggml: y = db * grid[j] * (sign ? -1 : 1).
inline void signed_run(float db, uint64_t entry, uint8_t signs, float* y) {
  for (int j = 0; j < 8; ++j) {
    const float v = db * float(level(entry, j));
    y[j] = (signs >> j) & 1 ? -v : v;
  }
}

void block_iq2_xxs(const BlockIQ2XXS& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int ib = 0; ib < 8; ++ib) {
    uint32_t aux[2];
    std::memcpy(aux, b.qs + 4 * ib, 8);
    const float db = d * (0.5f + float(aux[1] >> 28)) * 0.25f;
    for (int l = 0; l < 4; ++l)
      signed_run(db, kIq2xxsGrid[(aux[0] >> (8 * l)) & 0xFF], sign_byte((aux[1] >> (7 * l)) & 127), y + 32 * ib + 8 * l);
  }
}

void block_iq2_xs(const BlockIQ2XS& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int ib = 0; ib < 8; ++ib) {
    const float db[2] = {d * (0.5f + float(b.scales[ib] & 0xF)) * 0.25f, d * (0.5f + float(b.scales[ib] >> 4)) * 0.25f};
    for (int l = 0; l < 4; ++l) {
      const uint16_t q = b.qs[4 * ib + l];
      signed_run(db[l / 2], kIq2xsGrid[q & 511], sign_byte(q >> 9), y + 32 * ib + 8 * l);
    }
  }
}

void block_iq3_xxs(const BlockIQ3XXS& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int ib = 0; ib < 8; ++ib) {
    uint32_t aux;
    std::memcpy(&aux, b.qs + kQK_K / 4 + 4 * ib, 4);
    const float db = d * (0.5f + float(aux >> 28)) * 0.5f;
    for (int l = 0; l < 4; ++l) {
      const uint8_t* q = b.qs + 8 * ib + 2 * l;
      // two 4-weight entries make one run of 8
      const uint64_t entry = uint64_t(kIq3xxsGrid[q[0]]) | uint64_t(kIq3xxsGrid[q[1]]) << 32;
      signed_run(db, entry, sign_byte((aux >> (7 * l)) & 127), y + 32 * ib + 8 * l);
    }
  }
}

// 8 weights = dl * (level + delta), levels -1, 0, +1 stored as int8.
inline void shifted_run(float dl, uint64_t entry, float delta, float* y) {
  for (int j = 0; j < 8; ++j) y[j] = dl * (float(int8_t(level(entry, j))) + delta);
}

void block_iq1_s(const BlockIQ1S& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int ib = 0; ib < 8; ++ib) {
    const uint16_t qh = b.qh[ib];
    const float dl = d * float(2 * ((qh >> 12) & 7) + 1);
    const float delta = qh & 0x8000 ? -kIq1Delta : kIq1Delta;
    for (int l = 0; l < 4; ++l)
      shifted_run(dl, kIq1sGrid[b.qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8)], delta, y + 32 * ib + 8 * l);
  }
}

void block_iq1_m(const BlockIQ1M& b, float* y) {
  uint16_t sc[4];
  std::memcpy(sc, b.scales, 8);
  const uint16_t d16 = uint16_t((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
  const float d = f16_to_f32(d16);
  for (int ib = 0; ib < 8; ++ib) {
    const int shift = 6 * (ib % 2);
    const float dl[2] = {d * float(2 * ((sc[ib / 2] >> shift) & 7) + 1),
                         d * float(2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1)};
    for (int l = 0; l < 4; ++l) {
      const uint8_t h = b.qh[2 * ib + l / 2] >> (4 * (l % 2));  // this run's nibble of qh
      const float delta = h & 0x08 ? -kIq1Delta : kIq1Delta;
      shifted_run(dl[l / 2], kIq1sGrid[b.qs[4 * ib + l] | ((h & 7) << 8)], delta, y + 32 * ib + 8 * l);
    }
  }
}

template <class Block, void (*kDecode)(const Block&, float*)>
void dequant(const uint8_t* src, float* dst, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(src);
  for (int64_t k = 0; k < n / kQK_K; ++k) kDecode(b[k], dst + k * kQK_K);
}

// Per block: the dequantised weights times x, summed in f32, then added to the row's sum.
template <class Block, void (*kDecode)(const Block&, float*)>
float vdot(const uint8_t* row, const float* x, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  float acc = 0;
  float w[kQK_K];
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    kDecode(b[k], w);
    float s = 0;
    for (int j = 0; j < kQK_K; ++j) s += w[j] * x[k * kQK_K + j];
    acc += s;
  }
  return acc;
}

}  // namespace

void register_iquant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::IQ2_XXS)] = {dequant<BlockIQ2XXS, block_iq2_xxs>, vdot<BlockIQ2XXS, block_iq2_xxs>};
  t.by_type[uint32_t(GgmlType::IQ2_XS)] = {dequant<BlockIQ2XS, block_iq2_xs>, vdot<BlockIQ2XS, block_iq2_xs>};
  t.by_type[uint32_t(GgmlType::IQ3_XXS)] = {dequant<BlockIQ3XXS, block_iq3_xxs>, vdot<BlockIQ3XXS, block_iq3_xxs>};
  t.by_type[uint32_t(GgmlType::IQ1_S)] = {dequant<BlockIQ1S, block_iq1_s>, vdot<BlockIQ1S, block_iq1_s>};
  t.by_type[uint32_t(GgmlType::IQ1_M)] = {dequant<BlockIQ1M, block_iq1_m>, vdot<BlockIQ1M, block_iq1_m>};
}

#else

void register_iquant_kernels(KernelTable&) {}  // no codebooks in this build: the types stay unsupported

#endif

}  // namespace seek
