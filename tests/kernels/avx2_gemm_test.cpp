// The AVX2 table's vector kernels (axpy, dot_f32) and prefill GEMM (pack_panel, gemm_panel) against exact values
// and the scalar reference: odd lengths, row counts that do not fill the 32-row panel, 1..13 tokens, strides
// wider than the data, and nothing written outside the output.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "avx2_test_util.h"

namespace seek {
namespace {

using avx2_test::Avx2Test;
using avx2_test::kU;
using avx2_test::random_vec;
using avx2_test::sum_bound;
using avx2_test::Worst;

// y + a x: the reference rounds the product and the sum, AVX2 only the FMA's result, so both are within
// 2u (|a x| + |y|) of the exact value.
TEST_F(Avx2Test, AxpyMatchesExactValueWithinTwoRoundings) {
  std::mt19937 rng(201);
  Worst worst_simd, worst_ref;
  for (int64_t n = 1; n <= 300; ++n) {
    const auto x = random_vec(size_t(n), rng), y0 = random_vec(size_t(n), rng);
    const float a = float(rng() % 1000) / 333.0f - 1.5f;
    auto y_ref = y0, y_simd = y0;
    y_ref.push_back(-9.0f);
    y_simd.push_back(-9.0f);
    ref.axpy(a, x.data(), y_ref.data(), n);
    simd->axpy(a, x.data(), y_simd.data(), n);
    ASSERT_EQ(y_simd[size_t(n)], -9.0f) << "n=" << n << ": wrote past the end";
    for (int64_t i = 0; i < n; ++i) {
      const double exact = double(y0[size_t(i)]) + double(a) * x[size_t(i)];
      const double bound = 2 * kU * (std::fabs(double(a) * x[size_t(i)]) + std::fabs(y0[size_t(i)])) + 1e-30;
      const std::string where = "n=" + std::to_string(n) + " i=" + std::to_string(i);
      worst_simd.add(y_simd[size_t(i)], exact, bound, where);
      worst_ref.add(y_ref[size_t(i)], exact, bound, where);
    }
  }
  EXPECT_TRUE(worst_simd.ok()) << "avx2 " << worst_simd.where;
  EXPECT_TRUE(worst_ref.ok()) << "ref " << worst_ref.where;
}

TEST_F(Avx2Test, DotF32MatchesExactValueWithinFloatSumBound) {
  std::mt19937 rng(202);
  Worst worst_simd, worst_ref;
  for (int64_t n = 1; n <= 300; ++n) {
    const auto a = random_vec(size_t(n), rng), b = random_vec(size_t(n), rng);
    double exact = 0, abs_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += double(a[size_t(i)]) * b[size_t(i)];
      abs_sum += std::fabs(double(a[size_t(i)]) * b[size_t(i)]);
    }
    const std::string where = "n=" + std::to_string(n);
    worst_simd.add(simd->dot_f32(a.data(), b.data(), n), exact, sum_bound(n, abs_sum), where);
    worst_ref.add(ref.dot_f32(a.data(), b.data(), n), exact, sum_bound(n, abs_sum), where);
  }
  EXPECT_TRUE(worst_simd.ok()) << "avx2 " << worst_simd.where;
  EXPECT_TRUE(worst_ref.ok()) << "ref " << worst_ref.where;
}

// Packing only moves floats: identical to the reference's panel, for K not a multiple of the 8-wide transpose.
TEST_F(Avx2Test, PackPanelIsIdenticalToReference) {
  std::mt19937 rng(203);
  for (int64_t K = 1; K <= 70; ++K) {
    const auto rows = random_vec(size_t(32 * K), rng);
    std::vector<float> want(size_t(32 * K) + 1, -5.0f), got(want);
    ref.pack_panel(rows.data(), K, want.data());
    simd->pack_panel(rows.data(), K, got.data());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << "K=" << K << " panel[" << i << "] (k=" << i / 32 << ", row " << i % 32 << ")";
  }
}

// gemm_panel over a packed panel: every written y within the bound of a K-term float sum of the exact product;
// rows >= n_rows, the padding of each y row (ldy > 32) and the token after n_tok keep their sentinel.
TEST_F(Avx2Test, GemmPanelMatchesExactProductsAndWritesOnlyItsOutput) {
  std::mt19937 rng(204);
  constexpr int64_t kLdy = 37;
  constexpr float kSentinel = -7.0f;
  Worst worst;
  for (int64_t K : {1, 7, 8, 9, 31, 100, 257}) {
    const int64_t ldx = K + 3;
    for (int n_rows : {1, 5, 8, 9, 15, 16, 17, 24, 31, 32}) {
      auto rows = random_vec(size_t(32 * K), rng);
      std::fill(rows.begin() + n_rows * K, rows.end(), 0.0f);  // the contract: rows >= n_rows are zero
      std::vector<float> panel(size_t(32 * K));
      simd->pack_panel(rows.data(), K, panel.data());
      for (int64_t n_tok = 1; n_tok <= 13; ++n_tok) {
        const auto x = random_vec(size_t(n_tok * ldx), rng);
        std::vector<float> y(size_t((n_tok + 1) * kLdy), kSentinel);
        simd->gemm_panel(panel.data(), K, x.data(), ldx, n_tok, y.data(), kLdy, n_rows);
        for (int64_t t = 0; t <= n_tok; ++t)
          for (int i = 0; i < kLdy; ++i) {
            const float got = y[size_t(t * kLdy + i)];
            const std::string where = "K=" + std::to_string(K) + " n_rows=" + std::to_string(n_rows) +
                                      " n_tok=" + std::to_string(n_tok) + " y[token " + std::to_string(t) +
                                      "][row " + std::to_string(i) + "]";
            if (t == n_tok || i >= n_rows) {
              ASSERT_EQ(got, kSentinel) << where << " was written";
              continue;
            }
            double exact = 0, abs_sum = 0;
            for (int64_t k = 0; k < K; ++k) {
              const double p = double(rows[size_t(i * K + k)]) * x[size_t(t * ldx + k)];
              exact += p;
              abs_sum += std::fabs(p);
            }
            worst.add(got, exact, sum_bound(K, abs_sum), where);
          }
      }
    }
  }
  EXPECT_TRUE(worst.ok()) << worst.where;
}

// Pack then multiply as matmul's prefill path does, AVX2 against the reference table: the two differ only in
// summation order.
TEST_F(Avx2Test, PackAndGemmAgreeWithReferenceTable) {
  std::mt19937 rng(205);
  const int64_t K = 96;
  const auto rows = random_vec(size_t(32 * K), rng);
  for (int64_t n_tok : {1, 6, 7, 13}) {
    const auto x = random_vec(size_t(n_tok * K), rng);
    std::vector<float> p_ref(size_t(32 * K)), p_simd(size_t(32 * K)), y_ref(size_t(n_tok * 32)), y_simd(y_ref);
    ref.pack_panel(rows.data(), K, p_ref.data());
    simd->pack_panel(rows.data(), K, p_simd.data());
    ref.gemm_panel(p_ref.data(), K, x.data(), K, n_tok, y_ref.data(), 32, 32);
    simd->gemm_panel(p_simd.data(), K, x.data(), K, n_tok, y_simd.data(), 32, 32);
    Worst worst;
    for (int64_t t = 0; t < n_tok; ++t)
      for (int i = 0; i < 32; ++i) {
        double abs_sum = 0;
        for (int64_t k = 0; k < K; ++k) abs_sum += std::fabs(double(rows[size_t(i * K + k)]) * x[size_t(t * K + k)]);
        // each within sum_bound of the exact value, so within twice that of each other
        worst.add(y_simd[size_t(t * 32 + i)], y_ref[size_t(t * 32 + i)], 2 * sum_bound(K, abs_sum),
                  "n_tok=" + std::to_string(n_tok) + " token " + std::to_string(t) + " row " + std::to_string(i));
      }
    EXPECT_TRUE(worst.ok()) << worst.where;
  }
}

}  // namespace
}  // namespace seek
