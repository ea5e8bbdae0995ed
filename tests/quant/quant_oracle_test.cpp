// Bit-compatibility with llama.cpp, checked against llama.cpp itself (libggml-base.so of the prebuilt v0.4.0,
// opened at test time; see ggml_oracle.h): seek's blocks dequantise in ggml to exactly seek's floats, ggml's
// blocks dequantise in seek to exactly ggml's floats, random bytes decode identically in both, and seek's
// quantisers write the same bytes as the quantisers llama-quantize runs for model files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "ggml_oracle.h"
#include "quant_test_util.h"

namespace seek {
namespace {

using test::GgmlOracle;
using test::QuantCase;

// Data sets: llama.cpp's cosine generator and the mixed corner cases, at three magnitudes (f16 scale range).
std::vector<std::pair<std::string, std::vector<float>>> data_sets() {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  out.emplace_back("cosine", test::cosine_data(4096, 0.0f));
  for (uint64_t seed : {1, 2, 3}) out.emplace_back("mixed" + std::to_string(seed), test::mixed_data(4096, seed));
  for (float scale : {1e-3f, 300.0f}) {
    std::vector<float> v = test::mixed_data(4096, 9);
    for (float& x : v) x *= scale;
    out.emplace_back("mixed*" + std::to_string(scale), v);
  }
  return out;
}

// Compares two float arrays bit for bit (any NaN equal to any NaN); reports the first difference.
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub && !(std::isnan(a[i]) && std::isnan(b[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  }
  return ::testing::AssertionSuccess();
}

std::vector<float> ggml_dequant(GgmlType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  GgmlOracle::get().dequant(test::type_name(t))(q.data(), y.data(), int64_t(n));
  return y;
}

class QuantOracle : public ::testing::TestWithParam<QuantCase> {
 protected:
  void SetUp() override {
    SEEK_REQUIRE_GGML_ORACLE();
    const std::string name = test::type_name(GetParam().type);
    ASSERT_NE(GgmlOracle::get().dequant(name), nullptr) << "libggml-base has no dequantize_row_" << name;
    ASSERT_NE(GgmlOracle::get().quantize_chunk(name), nullptr) << "libggml-base has no quantize_" << name;
  }
};

TEST_P(QuantOracle, SeekBlocksDequantiseIdenticallyInLlamaCpp) {
  const GgmlType t = GetParam().type;
  for (const auto& [name, x] : data_sets()) {
    const std::vector<uint8_t> q = test::quantize(t, x);
    EXPECT_TRUE(same_bits(test::dequantize(t, q, x.size()), ggml_dequant(t, q, x.size())))
        << test::type_name(t) << " on " << name;
  }
}

// Blocks from both of ggml's quantisers: the model-file one and quantize_row_<type>_ref (which differs for
// IQ4_NL: a quicker search).
TEST_P(QuantOracle, LlamaCppBlocksDequantiseIdenticallyInSeek) {
  const GgmlType t = GetParam().type;
  const std::string type = test::type_name(t);
  for (const auto& [name, x] : data_sets()) {
    std::vector<uint8_t> q(row_bytes(t, int64_t(x.size())));
    GgmlOracle::get().quantize_chunk(type)(x.data(), q.data(), 1, int64_t(x.size()), nullptr);
    EXPECT_TRUE(same_bits(test::dequantize(t, q, x.size()), ggml_dequant(t, q, x.size()))) << type << " on " << name;
    if (auto ref = GgmlOracle::get().quantize_ref(type)) {
      ref(x.data(), q.data(), int64_t(x.size()));
      EXPECT_TRUE(same_bits(test::dequantize(t, q, x.size()), ggml_dequant(t, q, x.size())))
          << type << " (quantize_row_" << type << "_ref) on " << name;
    }
  }
}

// Blocks of random bytes (any scale, any code, NaN and infinity included) decode to the same bits.
TEST_P(QuantOracle, RandomBytesDecodeIdentically) {
  const GgmlType t = GetParam().type;
  std::mt19937 rng(1234);
  const size_t n = 256 * 64;
  std::vector<uint8_t> q(row_bytes(t, int64_t(n)));
  for (auto& b : q) b = uint8_t(rng());
  EXPECT_TRUE(same_bits(test::dequantize(t, q, n), ggml_dequant(t, q, n))) << test::type_name(t);
}

// seek's quantiser against ggml's model-file quantiser (quantize_<type> without an importance matrix): the
// same bytes, block for block. Also prints both total errors on llama.cpp's test data.
TEST_P(QuantOracle, SameBytesAsLlamaQuantize) {
  const GgmlType t = GetParam().type;
  const TypeTraits tt = traits(t);
  for (const auto& [name, x] : data_sets()) {
    const std::vector<uint8_t> ours = test::quantize(t, x);
    std::vector<uint8_t> theirs(ours.size());
    GgmlOracle::get().quantize_chunk(test::type_name(t))(x.data(), theirs.data(), 1, int64_t(x.size()), nullptr);
    size_t differing = 0, first = SIZE_MAX;
    for (size_t b = 0; b < ours.size() / size_t(tt.block_bytes); ++b)
      if (std::memcmp(&ours[b * size_t(tt.block_bytes)], &theirs[b * size_t(tt.block_bytes)], size_t(tt.block_bytes))) {
        ++differing;
        first = std::min(first, b);
      }
    EXPECT_EQ(differing, 0u) << test::type_name(t) << " on " << name << ": " << differing << " of "
                             << ours.size() / size_t(tt.block_bytes) << " blocks differ, first " << first;
    if (name == "cosine") {
      const float e_ours = test::array_rmse(x.data(), test::dequantize(t, ours, x.size()).data(), x.size());
      const float e_theirs = test::array_rmse(x.data(), ggml_dequant(t, theirs, x.size()).data(), x.size());
      std::printf("%-7s total error: seek %.6f, llama.cpp %.6f (budget %.4f)\n", test::type_name(t).c_str(), e_ours,
                  e_theirs, GetParam().max_total_error);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantOracle, ::testing::ValuesIn(test::quant_cases()),
                         [](const auto& info) { return test::type_name(info.param.type); });

}  // namespace
}  // namespace seek
