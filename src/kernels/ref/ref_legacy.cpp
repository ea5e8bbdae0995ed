// Scalar reference kernels of the 32-element types Q4_0, Q5_0, Q5_1 and IQ4_NL: the dequantisers reproduce
// ggml's dequantize_row_* bit for bit (same products in the same order); the dot products sum code*x per block
// in f32 and scale once per block.
#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

namespace {

// Codes of a Q4_0/IQ4_NL-style block: element j in the low nibble of byte j, element j+16 in the high one.
inline void nibbles(const uint8_t* qs, int q[32]) {
  for (int j = 0; j < 16; ++j) {
    q[j] = qs[j] & 0xF;
    q[j + 16] = qs[j] >> 4;
  }
}

// 5-bit codes of Q5_0/Q5_1: nibbles plus bit j of the little-endian mask qh as bit 4 of element j.
inline void five_bit(const uint8_t* qs, const uint8_t* qh_bytes, int q[32]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  nibbles(qs, q);
  for (int j = 0; j < 32; ++j) q[j] |= int((qh >> j) & 1) << 4;
}

// The unsigned codes of a Q4_0 (offset 8) or Q5_0 (offset 16) block.
template <int kOffset, class Block>
inline void sym_codes(const Block& b, int q[32]) {
  if constexpr (kOffset == 8) nibbles(b.qs, q);
  else five_bit(b.qs, b.qh, q);
}

template <class Block, int kOffset>
void dequant_sym(const uint8_t* src, float* dst, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(src);
  for (int64_t k = 0; k < n / 32; ++k) {
    const float d = f16_to_f32(b[k].d);
    int q[32];
    sym_codes<kOffset>(b[k], q);
    for (int j = 0; j < 32; ++j) dst[32 * k + j] = float(q[j] - kOffset) * d;
  }
}

template <class Block, int kOffset>
float vdot_sym(const uint8_t* row, const float* x, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / 32; ++k) {
    int q[32];
    sym_codes<kOffset>(b[k], q);
    float s = 0;
    for (int j = 0; j < 32; ++j) s += float(q[j] - kOffset) * x[32 * k + j];
    acc += f16_to_f32(b[k].d) * s;
  }
  return acc;
}

// The symmetric types (w = d * c, c = code - kOffset, or IQ4_NL's level) times q8_0 activations: per block
// d_w * d_x * (integer sum of c * q_x).
template <class Block, int kOffset>
float vdot_sym_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const Block* b = reinterpret_cast<const Block*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / 32; ++k) {
    int q[32];
    sym_codes<kOffset>(b[k], q);
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += (q[j] - kOffset) * int32_t(xq[k].qs[j]);
    acc += f16_to_f32(b[k].d) * f16_to_f32(xq[k].d) * float(s);
  }
  return acc;
}

// Q5_1: w = d*q + m
void dequant_q5_1(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(src);
  for (int64_t k = 0; k < n / kQK5_1; ++k) {
    const float d = f16_to_f32(b[k].d), m = f16_to_f32(b[k].m);
    int q[32];
    five_bit(b[k].qs, b[k].qh, q);
    for (int j = 0; j < 32; ++j) dst[32 * k + j] = float(q[j]) * d + m;
  }
}

// sum (d*q + m) x = d * sum q x + m * sum x
float vdot_q5_1(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / kQK5_1; ++k) {
    int q[32];
    five_bit(b[k].qs, b[k].qh, q);
    float sqx = 0, sx = 0;
    for (int j = 0; j < 32; ++j) {
      sqx += float(q[j]) * x[32 * k + j];
      sx += x[32 * k + j];
    }
    acc += f16_to_f32(b[k].d) * sqx + f16_to_f32(b[k].m) * sx;
  }
  return acc;
}

// d_x * (d * sum(q q_x) + m * sum(q_x)) per block
float vdot_q5_1_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / kQK5_1; ++k) {
    int q[32];
    five_bit(b[k].qs, b[k].qh, q);
    int32_t sqq = 0, sq = 0;
    for (int j = 0; j < 32; ++j) {
      sqq += q[j] * int32_t(xq[k].qs[j]);
      sq += xq[k].qs[j];
    }
    acc += f16_to_f32(xq[k].d) * (f16_to_f32(b[k].d) * float(sqq) + f16_to_f32(b[k].m) * float(sq));
  }
  return acc;
}

// IQ4_NL: w = d * kIq4nlValues[q]
void dequant_iq4_nl(const uint8_t* src, float* dst, int64_t n) {
  const BlockIQ4NL* b = reinterpret_cast<const BlockIQ4NL*>(src);
  for (int64_t k = 0; k < n / kQK4_NL; ++k) {
    const float d = f16_to_f32(b[k].d);
    int q[32];
    nibbles(b[k].qs, q);
    for (int j = 0; j < 32; ++j) dst[32 * k + j] = d * float(kIq4nlValues[q[j]]);
  }
}

float vdot_iq4_nl(const uint8_t* row, const float* x, int64_t n) {
  const BlockIQ4NL* b = reinterpret_cast<const BlockIQ4NL*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / kQK4_NL; ++k) {
    int q[32];
    nibbles(b[k].qs, q);
    float s = 0;
    for (int j = 0; j < 32; ++j) s += float(kIq4nlValues[q[j]]) * x[32 * k + j];
    acc += f16_to_f32(b[k].d) * s;
  }
  return acc;
}

float vdot_iq4_nl_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockIQ4NL* b = reinterpret_cast<const BlockIQ4NL*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / kQK4_NL; ++k) {
    int q[32];
    nibbles(b[k].qs, q);
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += kIq4nlValues[q[j]] * int32_t(xq[k].qs[j]);
    acc += f16_to_f32(b[k].d) * f16_to_f32(xq[k].d) * float(s);
  }
  return acc;
}

}  // namespace

void register_legacy_quant_kernels(KernelTable& t) {
  t.by_type[uint32_t(GgmlType::Q4_0)] = {dequant_sym<BlockQ4_0, 8>, vdot_sym<BlockQ4_0, 8>, vdot_sym_q8<BlockQ4_0, 8>};
  t.by_type[uint32_t(GgmlType::Q5_0)] = {dequant_sym<BlockQ5_0, 16>, vdot_sym<BlockQ5_0, 16>, vdot_sym_q8<BlockQ5_0, 16>};
  t.by_type[uint32_t(GgmlType::Q5_1)] = {dequant_q5_1, vdot_q5_1, vdot_q5_1_q8};
  t.by_type[uint32_t(GgmlType::IQ4_NL)] = {dequant_iq4_nl, vdot_iq4_nl, vdot_iq4_nl_q8};
}

}  // namespace seek
