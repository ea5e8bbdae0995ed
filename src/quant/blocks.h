// Block layouts of the quantised types, byte-compatible with ggml's block structs (ggml-common.h). Each struct
// is named after its ggml twin (BlockQ4K <-> block_q4_K) and its size is pinned by a static_assert, so a layout
// change can never go unnoticed. Values are always d (f16 scale) times small integers; the comment on each type
// gives the formula, and src/kernels/ref/ref_*.cpp holds the scalar dequantiser that defines it exactly.
#pragma once

#include <cstdint>

namespace seek {

constexpr int kQK8_0 = 32;
constexpr int kQK4_0 = 32;
constexpr int kQK5_0 = 32;
constexpr int kQK5_1 = 32;
constexpr int kQK4_NL = 32;
constexpr int kQK_K = 256;        // elements per super-block of the k-quants and IQ4_XS
constexpr int kKScaleSize = 12;   // bytes of packed 6-bit scales and mins in Q4_K/Q5_K

// ggml block_q8_0: 32 weights = d (f16) * q (int8)
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes");

// ggml block_q4_0: w[j] = d * (q[j] - 8), q in 0..15. Byte j holds q[j] (low nibble) and q[j+16] (high).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes");

// ggml block_q5_0: w[j] = d * (q[j] - 16), q in 0..31; low nibbles as Q4_0, bit 4 of q[j] is bit j of qh
// (a little-endian uint32).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22, "block_q5_0 is 22 bytes");

// ggml block_q5_1: w[j] = d * q[j] + m, q in 0..31, packed as Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24, "block_q5_1 is 24 bytes");

// ggml block_q2_K: 16 groups of 16. w = d * (scales[g] & 15) * q - dmin * (scales[g] >> 4), q in 0..3.
// qs: two 128-element halves of 32 bytes; within a half, element 32*s + l sits in bits 2s..2s+1 of byte l.
struct BlockQ2K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2K) == 84, "block_q2_K is 84 bytes");

// ggml block_q3_K: 16 groups of 16. w = d * (s[g] - 32) * (q - 4), q in 0..7: low 2 bits in qs (packed as
// Q2_K), bit 2 in hmask (element i: bit i/32 of hmask[i%32]). s[g] are 6-bit: low nibbles in scales[0..7],
// high 2-bit pairs in scales[8..11] (group g: bits 2*(g/4) of scales[8 + g%4]).
struct BlockQ3K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3K) == 110, "block_q3_K is 110 bytes");

// ggml block_q4_K: 8 groups of 32. w = d * sc[g] * q - dmin * m[g], q in 0..15; sc, m are 6-bit, packed in
// `scales` (see unpack_scale_min_k4). qs: four 64-element chunks of 32 bytes, low nibble = first 32 elements.
struct BlockQ4K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4K) == 144, "block_q4_K is 144 bytes");

// ggml block_q5_K: as Q4_K with q in 0..31; bit 4 of element 64c + 32h + l is bit 2c+h of qh[l].
struct BlockQ5K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5K) == 176, "block_q5_K is 176 bytes");

// ggml block_q6_K: 16 groups of 16. w = d * scales[g] * (q - 32), q in 0..63, scales int8. Per 128-element
// half: ql[0..63] hold low nibbles (elements l and l+64 in byte l, l+32 and l+96 in byte l+32), qh[0..31] the
// high 2-bit pairs (elements l, l+32, l+64, l+96 at bits 0, 2, 4, 6 of byte l).
struct BlockQ6K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6K) == 210, "block_q6_K is 210 bytes");

// The 16 non-uniform levels of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl): w = scale * kIq4nlValues[q].
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// ggml block_iq4_nl: w[j] = d * kIq4nlValues[q[j]], nibbles packed as Q4_0.
struct BlockIQ4NL {
  uint16_t d;
  uint8_t qs[kQK4_NL / 2];
};
static_assert(sizeof(BlockIQ4NL) == 18, "block_iq4_nl is 18 bytes");

// ggml block_iq4_xs: 8 groups of 32. w = d * (ls[g] - 32) * kIq4nlValues[q]; ls is 6-bit: low nibble in
// scales_l[g/2] (bits 4*(g%2)), high 2 bits at bits 2g of scales_h. Each group's nibbles are packed as Q4_0.
struct BlockIQ4XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4XS) == 136, "block_iq4_xs is 136 bytes");

// The IQ1/IQ2/IQ3 types: each run of 8 (IQ3_XXS: 4) weights is one entry of a codebook of byte levels (the
// "grids" ggml's authors measured; see iq_grids.cmake for where seek gets them), with signs and scales on top.
// 256 weights per block, 8 groups of 32, 4 runs of 8 per group.

// ggml block_iq2_xxs: per group ib, the 8 bytes qs[4ib..4ib+3] are, little-endian, grid indices a (bytes 0-3, one
// per run) and a word b (bytes 4-7): bits 7l..7l+6 are run l's sign bits (ksigns_iq2xs), bits 28-31 the scale s.
// w = d * (0.5 + s) * 0.25 * iq2xxs_grid[a_l][j] * (sign ? -1 : 1).
struct BlockIQ2XXS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
};
static_assert(sizeof(BlockIQ2XXS) == 66, "block_iq2_xxs is 66 bytes");

// ggml block_iq2_xs: qs[4ib + l] is run l of group ib: bits 0-8 an iq2xs_grid index, bits 9-15 its sign bits.
// Runs 0-1 use scale scales[ib] & 15, runs 2-3 scales[ib] >> 4: w = d * (0.5 + s) * 0.25 * grid[j] * sign.
struct BlockIQ2XS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
  uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ2XS) == 74, "block_iq2_xs is 74 bytes");

// ggml block_iq3_xxs: qs[0..63] are iq3xxs_grid indices (two 4-weight halves per run, 8 per group); qs[64 + 4ib]
// starts group ib's little-endian word: bits 7l..7l+6 run l's sign bits, bits 28-31 the scale s.
// w = d * (0.5 + s) * 0.5 * grid[j] * sign.
struct BlockIQ3XXS {
  uint16_t d;
  uint8_t qs[3 * kQK_K / 8];
};
static_assert(sizeof(BlockIQ3XXS) == 98, "block_iq3_xxs is 98 bytes");

// ggml block_iq1_s: run l of group ib is iq1s_grid entry qs[4ib + l] | ((qh[ib] >> 3l) & 7) << 8 (levels -1, 0,
// +1 as int8); qh[ib] bits 12-14 are the scale s, bit 15 the sign of the shift delta = +-1/8 (IQ1S_DELTA).
// w = d * (2s + 1) * (grid[j] + delta).
struct BlockIQ1S {
  uint16_t d;
  uint8_t qs[kQK_K / 8];
  uint16_t qh[kQK_K / 32];
};
static_assert(sizeof(BlockIQ1S) == 50, "block_iq1_s is 50 bytes");

// ggml block_iq1_m: no stored d field. The f16 super-block scale is the top nibbles of the four little-endian
// words of `scales`; the rest of word ib/2 holds 3-bit scales, bits 6(ib%2) (runs 0-1 of group ib) and
// 6(ib%2) + 3 (runs 2-3). Run l's grid index is qs[4ib + l] plus 3 high bits from qh[2ib + l/2] (bits 0-2 for
// even l, 4-6 for odd), whose bit 3 (7) is the delta's sign. w = d * (2s + 1) * (grid[j] + delta).
struct BlockIQ1M {
  uint8_t qs[kQK_K / 8];
  uint8_t qh[kQK_K / 16];
  uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ1M) == 56, "block_iq1_m is 56 bytes");

// Q4_K/Q5_K scale packing (ggml's get_scale_min_k4): groups 0-3 keep their 6-bit scale and min in the low bits
// of bytes 0-3 and 4-7; groups 4-7 keep low nibbles in bytes 8-11 and their top 2 bits in the spare top bits of
// bytes 0-7.
inline void unpack_scale_min_k4(int g, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (g < 4) {
    *sc = q[g] & 63;
    *m = q[g + 4] & 63;
  } else {
    *sc = uint8_t((q[g + 4] & 0xF) | ((q[g - 4] >> 6) << 4));
    *m = uint8_t((q[g + 4] >> 4) | ((q[g] >> 6) << 4));
  }
}

// Q3_K's 16 six-bit scales, unpacked to signed values s[g] - 32.
inline void unpack_scales_q3k(const uint8_t* packed, int8_t out[16]) {
  for (int g = 0; g < 16; ++g) {
    const int low = g < 8 ? packed[g] & 0xF : packed[g - 8] >> 4;
    const int high = (packed[8 + g % 4] >> (2 * (g / 4))) & 3;
    out[g] = int8_t((low | (high << 4)) - 32);
  }
}

}  // namespace seek
