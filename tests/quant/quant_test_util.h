// Shared pieces of the quantisation tests: the types under test with llama.cpp's error budgets, and the data
// generator and error metric of llama.cpp's tests/test-quantize-fns.cpp, so seek's numbers read against the
// same budgets.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "quant/quantize.h"
#include "quant/types.h"

namespace seek::test {

struct QuantCase {
  GgmlType type;
  float max_total_error;  // test-quantize-fns.cpp: MAX_QUANTIZATION_TOTAL_ERROR[_2BITS/_3BITS]
  float max_dot_error;    // test-quantize-fns.cpp: MAX_DOT_PRODUCT_ERROR[_LOWBIT]
};

// Every type seek quantises, with llama.cpp's budgets for its bit width.
inline const std::vector<QuantCase>& quant_cases() {
  static const std::vector<QuantCase> cases = {
      {GgmlType::Q8_0, 0.002f, 0.02f},   {GgmlType::Q4_0, 0.002f, 0.02f},   {GgmlType::Q5_0, 0.002f, 0.02f},
      {GgmlType::Q5_1, 0.002f, 0.02f},   {GgmlType::IQ4_NL, 0.002f, 0.02f}, {GgmlType::Q2_K, 0.0075f, 0.04f},
      {GgmlType::Q3_K, 0.0040f, 0.02f},  {GgmlType::Q4_K, 0.002f, 0.02f},   {GgmlType::Q5_K, 0.002f, 0.02f},
      {GgmlType::Q6_K, 0.002f, 0.02f},   {GgmlType::IQ4_XS, 0.002f, 0.02f},
  };
  return cases;
}

inline std::string type_name(GgmlType t) { return std::string(traits(t).name); }

// test-quantize-fns.cpp's generator: 0.1 + 2*cosf(i + offset), with its float/double mix.
inline std::vector<float> cosine_data(size_t n, float offset) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(0.1 + double(2 * std::cos(float(i) + offset)));
  return v;
}

// test-quantize-fns.cpp's metric: sqrt(sum (a-b)^2) / n (an RMS error divided by sqrt(n) once more).
inline float array_rmse(const float* a, const float* b, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += double(a[i] - b[i]) * double(a[i] - b[i]);
  return float(std::sqrt(sum) / double(n));
}

// A deterministic mix that exercises the corners: Gaussian-like values, rare large outliers, an all-zero
// stretch, a constant stretch and a stretch of one sign.
inline std::vector<float> mixed_data(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  auto uniform = [&]() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return float(double(s >> 11) / 9007199254740992.0);
  };
  for (size_t i = 0; i < n; ++i) {
    const float g = uniform() + uniform() + uniform() + uniform() - 2.0f;  // ~ N(0, 1/3)
    v[i] = (uniform() < 0.01f ? 20.0f : 1.0f) * g;
    const size_t block = i / 256;
    if (block % 7 == 3) v[i] = 0.0f;                      // an all-zero super-block
    if (block % 7 == 5) v[i] = 0.75f;                     // a constant super-block
    if (block % 7 == 6) v[i] = std::fabs(v[i]) + 1e-3f;   // one sign only
  }
  return v;
}

inline std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, int64_t(x.size())));
  quantizer(t)(x.data(), q.data(), int64_t(x.size()));
  return q;
}

inline std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  ref_kernels().of(t).dequant(q.data(), y.data(), int64_t(n));
  return y;
}

}  // namespace seek::test
