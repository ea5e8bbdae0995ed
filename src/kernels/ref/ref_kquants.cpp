// Scalar reference kernels of the 256-element super-block types Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS.
// Every such block decodes to the same shape: 256 small signed codes and, per group of 16 or 32, an affine map
// w = a*q - b (b = 0 for the symmetric types). Each type has one `unpack` that reads its bit layout (blocks.h)
// into that shape; dequantisation and the dot product are then shared. a and b are formed exactly as ggml's
// dequantize_row_* forms them (f16 scale times integer sub-scale, in f32), so dequantised values are
// bit-identical to llama.cpp's.
#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

namespace {

struct Decoded {
  int group;          // 16 or 32 elements share (a, b)
  int8_t q[kQK_K];    // codes, offsets already applied (e.g. Q6_K: q - 32; IQ4_XS: the level's value)
  float a[16], b[16];
};

// Two-bit field s (0..3) of element l within a 128-element half of a Q2_K/Q3_K qs plane.
inline int two_bits(const uint8_t* qs, int i) { return (qs[(i / 128) * 32 + i % 32] >> (2 * ((i % 128) / 32))) & 3; }

void unpack_q2_K(const uint8_t* p, Decoded* o) {
  const BlockQ2K& b = *reinterpret_cast<const BlockQ2K*>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  o->group = 16;
  for (int g = 0; g < 16; ++g) {
    o->a[g] = d * float(b.scales[g] & 0xF);
    o->b[g] = dmin * float(b.scales[g] >> 4);
  }
  for (int i = 0; i < kQK_K; ++i) o->q[i] = int8_t(two_bits(b.qs, i));
}

void unpack_q3_K(const uint8_t* p, Decoded* o) {
  const BlockQ3K& b = *reinterpret_cast<const BlockQ3K*>(p);
  const float d = f16_to_f32(b.d);
  int8_t s[16];
  unpack_scales_q3k(b.scales, s);
  o->group = 16;
  for (int g = 0; g < 16; ++g) {
    o->a[g] = d * float(s[g]);
    o->b[g] = 0;
  }
  // a set hmask bit means the code is 0..3 as stored; a clear one subtracts 4
  for (int i = 0; i < kQK_K; ++i)
    o->q[i] = int8_t(two_bits(b.qs, i) - ((b.hmask[i % 32] >> (i / 32)) & 1 ? 0 : 4));
}

// Q4_K and Q5_K: 8 groups of 32, a = d*sc, b = dmin*m; 4 low bits per element in qs (+1 high bit for Q5_K).
template <class Block, bool kFiveBit>
void unpack_k4(const uint8_t* p, Decoded* o) {
  const Block& b = *reinterpret_cast<const Block*>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  o->group = 32;
  for (int g = 0; g < 8; ++g) {
    uint8_t sc, m;
    unpack_scale_min_k4(g, b.scales, &sc, &m);
    o->a[g] = d * float(sc);
    o->b[g] = dmin * float(m);
  }
  for (int c = 0; c < 4; ++c)  // 64-element chunk c: low nibbles then high nibbles of qs[32c .. 32c+31]
    for (int l = 0; l < 32; ++l) {
      int lo = b.qs[32 * c + l] & 0xF, hi = b.qs[32 * c + l] >> 4;
      if constexpr (kFiveBit) {
        lo += (b.qh[l] >> (2 * c)) & 1 ? 16 : 0;
        hi += (b.qh[l] >> (2 * c + 1)) & 1 ? 16 : 0;
      }
      o->q[64 * c + l] = int8_t(lo);
      o->q[64 * c + 32 + l] = int8_t(hi);
    }
}

void unpack_q6_K(const uint8_t* p, Decoded* o) {
  const BlockQ6K& b = *reinterpret_cast<const BlockQ6K*>(p);
  const float d = f16_to_f32(b.d);
  o->group = 16;
  for (int g = 0; g < 16; ++g) {
    o->a[g] = d * float(b.scales[g]);
    o->b[g] = 0;
  }
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* q = o->q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = int8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      q[l + 32] = int8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      q[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      q[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

void unpack_iq4_xs(const uint8_t* p, Decoded* o) {
  const BlockIQ4XS& b = *reinterpret_cast<const BlockIQ4XS*>(p);
  const float d = f16_to_f32(b.d);
  o->group = 32;
  for (int g = 0; g < 8; ++g) {
    const int ls = ((b.scales_l[g / 2] >> (4 * (g % 2))) & 0xF) | (((b.scales_h >> (2 * g)) & 3) << 4);
    o->a[g] = d * float(ls - 32);
    o->b[g] = 0;
    for (int j = 0; j < 16; ++j) {
      o->q[32 * g + j] = kIq4nlValues[b.qs[16 * g + j] & 0xF];
      o->q[32 * g + 16 + j] = kIq4nlValues[b.qs[16 * g + j] >> 4];
    }
  }
}

using UnpackFn = void (*)(const uint8_t*, Decoded*);

template <UnpackFn kUnpack, int kBlockBytes>
void dequant(const uint8_t* src, float* dst, int64_t n) {
  Decoded d;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    kUnpack(src + k * kBlockBytes, &d);
    for (int i = 0; i < kQK_K; ++i) dst[k * kQK_K + i] = d.a[i / d.group] * float(d.q[i]) - d.b[i / d.group];
  }
}

// sum_i (a q_i - b) x_i = sum over groups of a * sum(q x) - b * sum(x)
template <UnpackFn kUnpack, int kBlockBytes>
float vdot(const uint8_t* row, const float* x, int64_t n) {
  Decoded d;
  float acc = 0;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    kUnpack(row + k * kBlockBytes, &d);
    const float* xb = x + k * kQK_K;
    for (int g = 0; g < kQK_K / d.group; ++g) {
      float sqx = 0, sx = 0;
      for (int j = g * d.group; j < (g + 1) * d.group; ++j) {
        sqx += float(d.q[j]) * xb[j];
        sx += xb[j];
      }
      acc += d.a[g] * sqx - d.b[g] * sx;
    }
  }
  return acc;
}

// Activations quantised to q8_0 (x = d_x * q_x per 32 values): a group of 16 or 32 weights lies inside one
// activation block, so sum_j (a q_j - b) x_j = d_x * (a * sum(q q_x) - b * sum(q_x)). Both sums are exact
// integers; only the scaling and the running sum round.
template <UnpackFn kUnpack, int kBlockBytes>
float vdot_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  Decoded d;
  float acc = 0;
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    kUnpack(row + k * kBlockBytes, &d);
    for (int g = 0; g < kQK_K / d.group; ++g) {
      const int first = g * d.group;  // element index within the super-block
      const BlockQ8_0& xb = xq[(k * kQK_K + first) / kQK8_0];
      const int8_t* qx = xb.qs + first % kQK8_0;
      int32_t sqq = 0, sq = 0;
      for (int j = 0; j < d.group; ++j) {
        sqq += int32_t(d.q[first + j]) * int32_t(qx[j]);
        sq += qx[j];
      }
      acc += f16_to_f32(xb.d) * (d.a[g] * float(sqq) - d.b[g] * float(sq));
    }
  }
  return acc;
}

template <UnpackFn kUnpack, class Block>
TypeKernels kernels_of() {
  return {dequant<kUnpack, sizeof(Block)>, vdot<kUnpack, sizeof(Block)>, vdot_q8<kUnpack, sizeof(Block)>};
}

}  // namespace

void register_kquant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q2_K)] = kernels_of<unpack_q2_K, BlockQ2K>();
  t.by_type[uint32_t(GgmlType::Q3_K)] = kernels_of<unpack_q3_K, BlockQ3K>();
  t.by_type[uint32_t(GgmlType::Q4_K)] = kernels_of<unpack_k4<BlockQ4K, false>, BlockQ4K>();
  t.by_type[uint32_t(GgmlType::Q5_K)] = kernels_of<unpack_k4<BlockQ5K, true>, BlockQ5K>();
  t.by_type[uint32_t(GgmlType::Q6_K)] = kernels_of<unpack_q6_K, BlockQ6K>();
  t.by_type[uint32_t(GgmlType::IQ4_XS)] = kernels_of<unpack_iq4_xs, BlockIQ4XS>();
}

}  // namespace seek
