// Scalar reference kernels: the definition of each type's numerics. Every SIMD kernel is tested against these.
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

void register_legacy_quant_kernels(KernelTable& t);
void register_kquant_kernels(KernelTable& t);
void register_ref_gemm_q8(KernelTable& t);
void register_iquant_kernels(KernelTable& t);
void register_fp8_kernels(KernelTable& t);

namespace {

void dequant_f32(const uint8_t* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

void dequant_f16(const uint8_t* src, float* dst, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
}

void dequant_bf16(const uint8_t* src, float* dst, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
}

// block_q8_0: value = d * q
void dequant_q8_0(const uint8_t* src, float* dst, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(src);
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const float d = f16_to_f32(b[k].d);
    for (int j = 0; j < kQK8_0; ++j) dst[k * kQK8_0 + j] = d * float(b[k].qs[j]);
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

float vdot_f32(const uint8_t* row, const float* x, int64_t n) {
  return dot_f32(reinterpret_cast<const float*>(row), x, n);
}

float vdot_f16(const uint8_t* row, const float* x, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(row);
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += f16_to_f32(s[i]) * x[i];
  return acc;
}

float vdot_bf16(const uint8_t* row, const float* x, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(row);
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += bf16_to_f32(s[i]) * x[i];
  return acc;
}

// Per block: d * sum(q_j * x_j), the sum taken in f32.
float vdot_q8_0(const uint8_t* row, const float* x, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    float s = 0;
    for (int j = 0; j < kQK8_0; ++j) s += float(b[k].qs[j]) * x[k * kQK8_0 + j];
    acc += f16_to_f32(b[k].d) * s;
  }
  return acc;
}

void pack_panel(const float* rows, int64_t K, float* panel) {
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < kGemmPanelRows; ++i) panel[k * kGemmPanelRows + i] = rows[i * K + k];
}

void gemm_panel(const float* panel, int64_t K, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy,
                int n_rows) {
  for (int64_t t = 0; t < n_tok; ++t)
    for (int i = 0; i < n_rows; ++i) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k) s += panel[k * kGemmPanelRows + i] * x[t * ldx + k];
      y[t * ldy + i] = s;
    }
}

// Per block: d_w * d_x * (integer sum of q_w * q_x).
float vdot_q8_0_q8(const uint8_t* row, const BlockQ8_0* xq, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row);
  float acc = 0;
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    int32_t s = 0;
    for (int j = 0; j < kQK8_0; ++j) s += int32_t(b[k].qs[j]) * int32_t(xq[k].qs[j]);
    acc += f16_to_f32(b[k].d) * f16_to_f32(xq[k].d) * float(s);
  }
  return acc;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void dot_rows(const float* q, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float scale, float* out) {
  for (int64_t s = 0; s < n_rows; ++s) out[s] = scale * dot_f32(q, rows + s * stride, n);
}

void sum_rows(const float* p, const float* rows, int64_t stride, int64_t n_rows, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
  for (int64_t s = 0; s < n_rows; ++s) axpy(p[s], rows + s * stride, out, n);
}

void softmax(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::fmax(mx, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
}

KernelTable make_ref() {
  KernelTable t;
  t.name = "ref";
  t.by_type[uint32_t(GgmlType::F32)] = {dequant_f32, vdot_f32};
  t.by_type[uint32_t(GgmlType::F16)] = {dequant_f16, vdot_f16};
  t.by_type[uint32_t(GgmlType::BF16)] = {dequant_bf16, vdot_bf16};
  t.by_type[uint32_t(GgmlType::Q8_0)] = {dequant_q8_0, vdot_q8_0, vdot_q8_0_q8};
  t.quantize_q8_0 = quantize_row_q8_0;
  register_legacy_quant_kernels(t);  // Q4_0, Q5_0, Q5_1, IQ4_NL: ref_legacy.cpp
  register_kquant_kernels(t);        // Q2_K..Q6_K, IQ4_XS: ref_kquants.cpp
  register_ref_gemm_q8(t);           // Q8_0 integer GEMM: ref_gemm_q8.cpp
  register_iquant_kernels(t);        // IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ1_M (when built with codebooks)
  register_fp8_kernels(t);           // F8_E4M3 with block scales: ref_fp8.cpp
  t.axpy = axpy;
  t.dot_f32 = dot_f32;
  t.dot_rows = dot_rows;
  t.sum_rows = sum_rows;
  t.softmax = softmax;
  t.swiglu = swiglu;
  t.gemm_panel = gemm_panel;
  t.pack_panel = pack_panel;
  return t;
}

}  // namespace

const KernelTable& ref_kernels() {
  static const KernelTable t = make_ref();
  return t;
}

// ggml's quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d).
void quantize_row_q8_0(const float* src, uint8_t* dst, int64_t n) {
  BlockQ8_0* b = reinterpret_cast<BlockQ8_0*>(dst);
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    float amax = 0;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(src[k * kQK8_0 + j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[k].d = f32_to_f16(d);
    for (int j = 0; j < kQK8_0; ++j) b[k].qs[j] = int8_t(std::roundf(src[k * kQK8_0 + j] * id));
  }
}

}  // namespace seek

namespace seek {

void prepare_q8x(const BlockQ8_0* xq, int64_t n, int8_t* qs, float* d16, float* s16) {
  for (int64_t k = 0; k < n / kQK8_0; ++k) {
    const float d = f16_to_f32(xq[k].d);
    for (int h = 0; h < 2; ++h) {
      int32_t s = 0;
      for (int j = 0; j < 16; ++j) s += xq[k].qs[16 * h + j];
      d16[2 * k + h] = d;
      s16[2 * k + h] = d * float(s);
    }
  }
  // Whole 256-value units interleaved (value 32g + 8r + j of a unit at 64r + 8g + j), the rest in order.
  const int64_t units = n / 256;
  for (int64_t u = 0; u < units; ++u)
    for (int g = 0; g < 8; ++g)
      for (int r = 0; r < 4; ++r) std::memcpy(qs + 256 * u + 64 * r + 8 * g, xq[8 * u + g].qs + 8 * r, 8);
  for (int64_t k = 8 * units; k < n / kQK8_0; ++k) std::memcpy(qs + 32 * k, xq[k].qs, kQK8_0);
}

}  // namespace seek
