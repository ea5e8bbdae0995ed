// Scalar reference of the FP8 E4M3 kernels (DeepSeek's FP8 weights with 128x128 block scales, used as stored):
// the definition the SIMD versions are tested against.
#include "core/fp8.h"
#include "kernels/kernels.h"

namespace seek {

namespace {

constexpr int64_t kF8Block = 128;  // DeepSeek's weight_block_size along a row

// dst[k] = e4m3(row[k]) * scales[k / 128]: one rounding per element (the decoded value is exact).
void dequant_f8_e4m3(const uint8_t* row, const float* scales, float* dst, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dst[k] = f8_e4m3_to_f32(row[k]) * scales[k / kF8Block];
}

// Per 128-block (the last one may be partial): scale * sum(e4m3(w_j) * x_j), the sum taken in f32 in order.
// Error: within gamma(128 + ceil(n/128)) * sum |scale w x| of the exact value (each block sum is a dot product of
// at most 128 terms, then one multiplication and the running sum over blocks).
float dot_f8_e4m3(const uint8_t* row, const float* scales, const float* x, int64_t n) {
  float acc = 0;
  for (int64_t k0 = 0; k0 < n; k0 += kF8Block) {
    const int64_t k1 = k0 + kF8Block < n ? k0 + kF8Block : n;
    float s = 0;
    for (int64_t k = k0; k < k1; ++k) s += f8_e4m3_to_f32(row[k]) * x[k];
    acc += scales[k0 / kF8Block] * s;
  }
  return acc;
}

}  // namespace

void register_fp8_kernels(KernelTable& t) {
  t.dot_f8_e4m3 = dot_f8_e4m3;
  t.dequant_f8_e4m3 = dequant_f8_e4m3;
}

}  // namespace seek
