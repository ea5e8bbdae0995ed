// Quantisation accuracy per type, measured as llama.cpp's tests/test-quantize-fns.cpp measures it (same data,
// same metric, same budgets), and the reference dot product against dequantise-then-dot with a tolerance
// derived from f32 rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "quant_test_util.h"

namespace seek {
namespace {

using test::QuantCase;

class QuantError : public ::testing::TestWithParam<QuantCase> {};

// test-quantize-fns.cpp: 4096 values 0.1 + 2cos(i), quantise, dequantise, sqrt(sum e^2)/n < budget.
TEST_P(QuantError, TotalErrorWithinLlamaCppBudget) {
  const QuantCase c = GetParam();
  const std::vector<float> x = test::cosine_data(32 * 128, 0.0f);
  const std::vector<float> y = test::dequantize(c.type, test::quantize(c.type, x), x.size());
  const float err = test::array_rmse(x.data(), y.data(), x.size());
  std::printf("%-7s total quantisation error %.6f (llama.cpp budget %.4f)\n", test::type_name(c.type).c_str(), err,
              c.max_total_error);
  EXPECT_LT(err, c.max_total_error) << test::type_name(c.type);
}

// test-quantize-fns.cpp's dot product check, with seek's f32 activations: |dot(q(a), b) - a.b| / n < budget.
TEST_P(QuantError, DotProductErrorWithinLlamaCppBudget) {
  const QuantCase c = GetParam();
  const size_t n = 32 * 128;
  const std::vector<float> a = test::cosine_data(n, 0.0f), b = test::cosine_data(n, 1.0f);
  double exact = 0;
  for (size_t i = 0; i < n; ++i) exact += a[i] * b[i];
  const std::vector<uint8_t> q = test::quantize(c.type, a);
  const float got = ref_kernels().of(c.type).dot(q.data(), b.data(), int64_t(n));
  const float err = float(std::fabs(got - exact) / double(n));
  std::printf("%-7s dot product error %.6f (llama.cpp budget %.3f)\n", test::type_name(c.type).c_str(), err,
              c.max_dot_error);
  EXPECT_LT(err, c.max_dot_error) << test::type_name(c.type);
}

// dot(row, x) against the f64 dot of the dequantised row. The kernel sums code*x per group in f32 and scales per
// group (w = a*q - b), so its rounding error is at most ~(n+4)u * sum(|a q x| + |b x|); |a q| <= |w| + |b| and
// |b| <= 3*max|w| bound that by (n+4)u * sum (|w| + 6 max|w|) |x|.
TEST_P(QuantError, DotMatchesDequantisedDot) {
  const QuantCase c = GetParam();
  for (int64_t n : {int64_t(256), int64_t(4096), int64_t(7168)}) {
    const std::vector<float> w0 = test::mixed_data(size_t(n), 7), x = test::mixed_data(size_t(n), 11);
    const std::vector<uint8_t> q = test::quantize(c.type, w0);
    const std::vector<float> w = test::dequantize(c.type, q, size_t(n));
    double exact = 0, mag = 0, wmax = 0;
    for (int64_t i = 0; i < n; ++i) wmax = std::max(wmax, double(std::fabs(w[size_t(i)])));
    for (int64_t i = 0; i < n; ++i) {
      exact += double(w[size_t(i)]) * x[size_t(i)];
      mag += (std::fabs(w[size_t(i)]) + 6 * wmax) * std::fabs(x[size_t(i)]);
    }
    const double tol = double(n + 4) * std::ldexp(1.0, -24) * mag;
    const float got = ref_kernels().of(c.type).dot(q.data(), x.data(), n);
    EXPECT_NEAR(got, exact, tol) << test::type_name(c.type) << " n=" << n << " (tolerance " << tol << ")";
  }
}

// Rows are independent: quantising a row of k blocks equals quantising each block alone, and the values of a
// row never depend on what follows it (the writer quantises rows in parallel and in slabs).
TEST_P(QuantError, BlocksAreIndependent) {
  const QuantCase c = GetParam();
  const TypeTraits tt = traits(c.type);
  const std::vector<float> x = test::mixed_data(2048, 3);
  const std::vector<uint8_t> whole = test::quantize(c.type, x);
  for (size_t b = 0; b * size_t(tt.block_size) < x.size(); ++b) {
    std::vector<float> part(x.begin() + long(b * size_t(tt.block_size)), x.begin() + long((b + 1) * size_t(tt.block_size)));
    const std::vector<uint8_t> one = test::quantize(c.type, part);
    ASSERT_EQ(0, std::memcmp(one.data(), whole.data() + b * size_t(tt.block_bytes), one.size()))
        << test::type_name(c.type) << " block " << b;
  }
}

// Degenerate inputs: zeros dequantise to zeros, and a constant or one-hot block stays finite and close.
TEST_P(QuantError, DegenerateBlocks) {
  const QuantCase c = GetParam();
  const size_t n = 256;
  std::vector<float> zeros(n, 0.0f);
  for (float v : test::dequantize(c.type, test::quantize(c.type, zeros), n)) ASSERT_EQ(v, 0.0f) << test::type_name(c.type);
  std::vector<float> one_hot(n, 0.0f);
  one_hot[77] = -3.5f;
  const std::vector<float> y = test::dequantize(c.type, test::quantize(c.type, one_hot), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(std::isfinite(y[i]));
    ASSERT_NEAR(y[i], one_hot[i], 3.5f * 0.12f) << test::type_name(c.type) << " at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantError, ::testing::ValuesIn(test::quant_cases()),
                         [](const auto& info) { return test::type_name(info.param.type); });

}  // namespace
}  // namespace seek
