// The codebook types (IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ1_M: unsloth's dynamic R1 quants) against llama.cpp
// itself (libggml-base.so of the prebuilt v0.4.0, opened at test time; see ggml_oracle.h). Blocks quantised by
// libggml (ggml_quantize_chunk with an importance matrix of ones, as these types need one) dequantise in seek
// to exactly the floats of ggml's own dequantiser (its type traits' to_float), in every kernel table; so do
// blocks of random bytes; and each table's dot product is within a rounding bound of the exact dot of those floats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "ggml_oracle.h"
#include "quant/blocks.h"
#include "quant_test_util.h"

namespace seek {
namespace {

using test::GgmlOracle;

const GgmlType kIqTypes[] = {GgmlType::IQ2_XXS, GgmlType::IQ2_XS, GgmlType::IQ3_XXS, GgmlType::IQ1_S,
                             GgmlType::IQ1_M};

// Without codebooks (no llama.cpp source at build time) these tests skip locally and fail in CI, like a missing
// oracle: the source and the oracle library come from the same npm package.
#ifdef SEEK_HAVE_IQ_GRIDS
#define SEEK_REQUIRE_IQ_GRIDS() \
  do {                          \
  } while (0)
#else
#define SEEK_REQUIRE_IQ_GRIDS()                         \
  do {                                                  \
    if (test::ci_run()) FAIL() << kNoIqGridsMessage;    \
    GTEST_SKIP() << kNoIqGridsMessage;                  \
  } while (0)
#endif

TEST(IqTypes, BlockSizesMatchTheTypeTable) {
  struct S { GgmlType t; size_t bytes; };
  for (S s : {S{GgmlType::IQ2_XXS, sizeof(BlockIQ2XXS)}, S{GgmlType::IQ2_XS, sizeof(BlockIQ2XS)},
              S{GgmlType::IQ3_XXS, sizeof(BlockIQ3XXS)}, S{GgmlType::IQ1_S, sizeof(BlockIQ1S)},
              S{GgmlType::IQ1_M, sizeof(BlockIQ1M)}}) {
    EXPECT_EQ(traits(s.t).block_bytes, int64_t(s.bytes)) << test::type_name(s.t);
    EXPECT_EQ(traits(s.t).block_size, kQK_K) << test::type_name(s.t);
  }
}

// A build with codebooks computes all five types; one without refuses them, saying how to get them.
TEST(IqTypes, SupportedExactlyWhenBuiltWithCodebooks) {
  for (GgmlType t : kIqTypes) {
#ifdef SEEK_HAVE_IQ_GRIDS
    EXPECT_TRUE(ref_kernels().supports(t)) << test::type_name(t);
    EXPECT_FALSE(iq_grids_missing(t)) << test::type_name(t);
#else
    EXPECT_FALSE(ref_kernels().supports(t)) << test::type_name(t);
    EXPECT_TRUE(iq_grids_missing(t)) << test::type_name(t);
#endif
  }
  EXPECT_FALSE(iq_grids_missing(GgmlType::Q4_K));
  EXPECT_FALSE(iq_grids_missing(GgmlType::IQ4_XS));  // a fixed 16-level table, not a codebook
}

// The kernel tables this CPU runs: the reference and the SIMD ones (which inherit or replace its IQ kernels).
std::vector<const KernelTable*> tables() {
  std::vector<const KernelTable*> v{&ref_kernels()};
  if (cpu_has_avx512() && avx512_kernels()) v.push_back(avx512_kernels());
  if (cpu_has_avx2() && avx2_kernels()) v.push_back(avx2_kernels());
  return v;
}

// Weights to quantise: llama.cpp's cosine data, the mixed corner cases (zero, constant and one-signed
// super-blocks, outliers) at three magnitudes, and Gaussian rows like a trained matrix's.
std::vector<std::pair<std::string, std::vector<float>>> data_sets(size_t n) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  out.emplace_back("cosine", test::cosine_data(n, 0.0f));
  for (float scale : {1.0f, 1e-3f, 300.0f}) {
    std::vector<float> v = test::mixed_data(n, 5);
    for (float& x : v) x *= scale;
    out.emplace_back("mixed*" + std::to_string(scale), v);
  }
  std::mt19937 rng(42);
  std::normal_distribution<float> g(0.0f, 0.02f);
  std::vector<float> v(n);
  for (float& x : v) x = g(rng);
  out.emplace_back("gaussian", v);
  return out;
}

::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  size_t differing = 0, first = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub && !(std::isnan(a[i]) && std::isnan(b[i])) && differing++ == 0) first = i;
  }
  if (!differing) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << differing << " of " << a.size() << " elements differ; first at " << first
                                       << ": seek " << a[first] << ", ggml " << b[first];
}

class IqOracle : public ::testing::TestWithParam<GgmlType> {
 protected:
  void SetUp() override {
    SEEK_REQUIRE_GGML_ORACLE();
    SEEK_REQUIRE_IQ_GRIDS();
    const GgmlType t = GetParam();
    const GgmlOracle::TypeTraits* tt = GgmlOracle::get().type_traits(uint32_t(t));
    ASSERT_NE(tt, nullptr) << "libggml-base has no ggml_get_type_traits";
    // The struct layout is ours to assume: check it reads as ggml's table for this type before calling into it.
    ASSERT_EQ(std::string(tt->type_name), test::type_name(t));
    ASSERT_EQ(tt->blck_size, traits(t).block_size);
    ASSERT_EQ(int64_t(tt->type_size), traits(t).block_bytes);
    ASSERT_NE(tt->to_float, nullptr);
    to_float_ = tt->to_float;
    quantize_ = GgmlOracle::get().ggml_quantize_chunk();
    ASSERT_NE(quantize_, nullptr) << "libggml-base has no ggml_quantize_chunk";
  }

  // libggml's blocks for x, as rows of n_per_row, with an importance matrix of ones.
  std::vector<uint8_t> ggml_quantize(const std::vector<float>& x, int64_t n_per_row) const {
    const GgmlType t = GetParam();
    const int64_t nrows = int64_t(x.size()) / n_per_row;
    std::vector<uint8_t> q(row_bytes(t, int64_t(x.size())));
    const std::vector<float> ones(size_t(n_per_row), 1.0f);
    const size_t written = quantize_(int(t), x.data(), q.data(), 0, nrows, n_per_row, ones.data());
    EXPECT_EQ(written, q.size());
    return q;
  }
  std::vector<float> ggml_dequant(const std::vector<uint8_t>& q, size_t n) const {
    std::vector<float> y(n);
    to_float_(q.data(), y.data(), int64_t(n));
    return y;
  }
  std::vector<float> seek_dequant(const KernelTable& k, const std::vector<uint8_t>& q, size_t n) const {
    std::vector<float> y(n);
    k.of(GetParam()).dequant(q.data(), y.data(), int64_t(n));
    return y;
  }

  void expect_dots_within_rounding() const;

  GgmlOracle::DequantFn to_float_ = nullptr;
  GgmlOracle::QuantizeChunkFn quantize_ = nullptr;
};

// Each table's dot(row, x) against the exact (double) dot of ggml's dequantised row with x. Any order of f32 sums
// of n rounded products is within gamma_n * sum|w_i x_i| of it (Higham, Accuracy and Stability, eq. 3.5; gamma_n =
// n u / (1 - n u), u = 2^-24); a kernel that scales a block's integer-level sum once instead of each weight
// rounds once more per term. The bound used: (n + 2) u / (1 - (n + 2) u) * sum|w_i x_i|.
void IqOracle::expect_dots_within_rounding() const {
  const GgmlType t = GetParam();
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (int64_t n : {int64_t(256), int64_t(256 * 7), int64_t(7168)}) {  // 7168: DeepSeek-V3's dim
    std::vector<float> w(static_cast<size_t>(n) * 3), x(static_cast<size_t>(n));
    for (float& v : w) v = g(rng);
    for (float& v : x) v = g(rng);
    const std::vector<uint8_t> q = ggml_quantize(w, n);
    const std::vector<float> wd = ggml_dequant(q, w.size());
    const size_t rb = row_bytes(t, n);
    for (int r = 0; r < 3; ++r) {
      double exact = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += double(wd[size_t(r * n + i)]) * double(x[size_t(i)]);
        mag += std::fabs(double(wd[size_t(r * n + i)]) * double(x[size_t(i)]));
      }
      const double u = std::ldexp(1.0, -24), nu = double(n + 2) * u;
      const double bound = nu / (1 - nu) * mag;
      for (const KernelTable* k : tables()) {
        const double got = k->of(t).dot(q.data() + size_t(r) * rb, x.data(), n);
        EXPECT_LE(std::fabs(got - exact), bound)
            << test::type_name(t) << " " << k->name << " n=" << n << " row " << r << ": dot " << got << ", exact "
            << exact << ", bound " << bound;
      }
    }
  }
}

// One test per type for everything quantised by libggml: ggml's search tables for IQ1_S/IQ1_M take seconds to
// build, once per process (and CTest runs each test in its own).
TEST_P(IqOracle, LlamaCppBlocksDecodeIdenticallyAndDotWithinRounding) {
  const GgmlType t = GetParam();
  const std::string name = test::type_name(t);
  const GgmlOracle::DequantFn row_fn = GgmlOracle::get().dequant(name);
  for (const auto& [label, x] : data_sets(2048)) {
    const std::vector<uint8_t> q = ggml_quantize(x, 1024);
    const std::vector<float> want = ggml_dequant(q, x.size());
    for (const KernelTable* k : tables())
      EXPECT_TRUE(same_bits(seek_dequant(*k, q, x.size()), want)) << name << " on " << label << ", " << k->name;
    if (row_fn) {  // the exported dequantize_row_<type> is the same function as the traits' to_float
      std::vector<float> y(x.size());
      row_fn(q.data(), y.data(), int64_t(y.size()));
      EXPECT_TRUE(same_bits(y, want)) << "ggml's dequantize_row_" << name << " vs its to_float";
    }
    if (label == "cosine")  // the quantisation error, for the record (llama.cpp's metric and budgets)
      std::printf("%-8s quantised by libggml: total error %.6f on llama.cpp's test data\n", name.c_str(),
                  test::array_rmse(x.data(), want.data(), x.size()));
  }
  expect_dots_within_rounding();
}

// Random bytes: every code, any scale (NaN and infinity included); grid indices of every width stay inside
// their table (8, 9, 8 and 11 bits for 256, 512, 256 and 2048 entries).
TEST_P(IqOracle, RandomBytesDecodeIdentically) {
  const GgmlType t = GetParam();
  std::mt19937 rng(1234);
  const size_t n = size_t(kQK_K) * 256;
  std::vector<uint8_t> q(row_bytes(t, int64_t(n)));
  for (auto& b : q) b = uint8_t(rng());
  const std::vector<float> want = ggml_dequant(q, n);
  for (const KernelTable* k : tables())
    EXPECT_TRUE(same_bits(seek_dequant(*k, q, n), want)) << test::type_name(t) << ", " << k->name;
}

INSTANTIATE_TEST_SUITE_P(CodebookTypes, IqOracle, ::testing::ValuesIn(kIqTypes),
                         [](const auto& info) { return test::type_name(info.param); });

}  // namespace
}  // namespace seek
