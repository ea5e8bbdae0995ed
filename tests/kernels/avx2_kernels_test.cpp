// The AVX2 table's per-type kernels against the scalar reference on random rows of every length: dequantisation
// and the q8_0 activation quantiser bit for bit, the dot products (f32 and q8_0 activations) within the rounding
// bound of a float sum around the exact (double) value.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "avx2_test_util.h"

namespace seek {
namespace {

using avx2_test::Avx2Test;
using avx2_test::random_row;
using avx2_test::random_vec;
using avx2_test::sum_bound;
using avx2_test::weight_magnitudes;
using avx2_test::Worst;

// Every type with an AVX2 dequant and dot.
const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,    GgmlType::BF16, GgmlType::Q8_0,
                           GgmlType::Q4_0, GgmlType::Q5_0,   GgmlType::Q5_1, GgmlType::IQ4_NL,
                           GgmlType::Q4_K, GgmlType::Q5_K,   GgmlType::Q6_K, GgmlType::IQ4_XS};
// ... and a dot product with q8_0 activations.
const GgmlType kQ8Types[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::IQ4_NL,
                             GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_XS};

// Row lengths to try: every n in 1..300 for the unblocked types; 1..40 blocks (and a model-sized row) otherwise.
std::vector<int64_t> lengths(GgmlType type) {
  const int64_t bs = traits(type).block_size;
  std::vector<int64_t> out;
  if (bs == 1) {
    for (int64_t n = 1; n <= 300; ++n) out.push_back(n);
    out.push_back(7168);
    return out;
  }
  for (int64_t nb = 1; nb <= (bs == 32 ? 40 : 9); ++nb) out.push_back(nb * bs);
  out.push_back(7168);
  return out;
}

std::string at(GgmlType type, int64_t n) { return std::string(traits(type).name) + " n=" + std::to_string(n); }

TEST_F(Avx2Test, TableNamesItselfAndReplacesTheListedKernels) {
  EXPECT_STREQ(simd->name, "avx2");
  for (GgmlType t : kTypes) {
    EXPECT_NE(simd->of(t).dequant, ref.of(t).dequant) << traits(t).name;
    EXPECT_NE(simd->of(t).dot, ref.of(t).dot) << traits(t).name;
  }
  for (GgmlType t : kQ8Types) EXPECT_NE(simd->of(t).dot_q8, nullptr) << traits(t).name;
  EXPECT_NE(simd->axpy, ref.axpy);
  EXPECT_NE(simd->dot_f32, ref.dot_f32);
  EXPECT_NE(simd->quantize_q8_0, ref.quantize_q8_0);
  EXPECT_NE(simd->pack_panel, ref.pack_panel);
  EXPECT_NE(simd->gemm_panel, ref.gemm_panel);
  // Types without an AVX2 version keep the reference's kernels.
  for (uint32_t id = 0; id < kMaxTypeId; ++id) {
    bool listed = false;
    for (GgmlType t : kTypes) listed |= uint32_t(t) == id;
    if (listed) continue;
    EXPECT_EQ(simd->by_type[id].dequant, ref.by_type[id].dequant) << "type id " << id;
    EXPECT_EQ(simd->by_type[id].dot, ref.by_type[id].dot) << "type id " << id;
  }
  EXPECT_NE(simd->dot_f8_e4m3, ref.dot_f8_e4m3);  // avx2_fp8.cpp
  EXPECT_EQ(simd->gemm_q8_0_panel, nullptr);       // no integer GEMM without VNNI
}

TEST_F(Avx2Test, SelectKernelsForcesTheAvx2Table) {
  ASSERT_STREQ(select_kernels(KernelChoice::Avx2), "avx2");
  EXPECT_EQ(&kernels(), simd);
  select_kernels(KernelChoice::Auto);
}

// Dequantisation forms each value with the reference's own products and differences: bit-identical.
TEST_F(Avx2Test, DequantIsBitIdenticalToReference) {
  std::mt19937 rng(101);
  for (GgmlType type : kTypes)
    for (int64_t n : lengths(type)) {
      const auto row = random_row(type, n, rng);
      std::vector<float> want(size_t(n) + 1, -3.0f), got(size_t(n) + 1, -3.0f);
      ref.of(type).dequant(row.data(), want.data(), n);
      simd->of(type).dequant(row.data(), got.data(), n);
      for (int64_t i = 0; i <= n; ++i)
        ASSERT_EQ(bits_from_f32(got[size_t(i)]), bits_from_f32(want[size_t(i)]))
            << at(type, n) << " element " << i << ": got " << got[size_t(i)] << ", want " << want[size_t(i)]
            << (i == n ? " (one past the end was written)" : "");
    }
}

// F16 and BF16 rows holding every one of the 65536 bit patterns (subnormals, infinities, NaNs included), at
// every offset modulo 8 so that each pattern passes through both the vector loop and the scalar tail.
TEST_F(Avx2Test, HalfDequantIsExactForEveryBitPattern) {
  std::vector<uint16_t> all(65536 + 7);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  for (GgmlType type : {GgmlType::F16, GgmlType::BF16})
    for (int64_t start = 0; start < 8; ++start) {
      const int64_t n = 65536 - start + (start ? 7 : 0);
      const auto* row = reinterpret_cast<const uint8_t*>(all.data() + start);
      std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
      ref.of(type).dequant(row, want.data(), n);
      simd->of(type).dequant(row, got.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const float w = want[size_t(i)], g = got[size_t(i)];
        if (std::isnan(w)) {  // F16C quiets a signalling NaN; a NaN is all that is asked for
          ASSERT_TRUE(std::isnan(g)) << traits(type).name << " bits 0x" << std::hex << all[size_t(start + i)];
          continue;
        }
        ASSERT_EQ(bits_from_f32(g), bits_from_f32(w)) << traits(type).name << " bits 0x" << std::hex
                                                      << all[size_t(start + i)] << ": got " << g << ", want " << w;
      }
    }
}

// Dot with f32 activations: both the reference and AVX2 within the bound of an n-term float sum of the exact
// value sum w_i x_i (w as dequantised).
TEST_F(Avx2Test, DotMatchesExactValueWithinFloatSumBound) {
  std::mt19937 rng(102);
  for (GgmlType type : kTypes) {
    Worst worst_simd, worst_ref;
    for (int64_t n : lengths(type)) {
      const auto row = random_row(type, n, rng);
      const auto x = random_vec(size_t(n), rng);
      std::vector<float> w(static_cast<size_t>(n));
      ref.of(type).dequant(row.data(), w.data(), n);
      const auto mag = weight_magnitudes(type, row.data(), w.data(), n);
      double exact = 0, abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += double(w[size_t(i)]) * x[size_t(i)];
        abs_sum += mag[size_t(i)] * std::fabs(x[size_t(i)]);
      }
      const double bound = sum_bound(n, abs_sum);
      worst_simd.add(simd->of(type).dot(row.data(), x.data(), n), exact, bound, at(type, n));
      worst_ref.add(ref.of(type).dot(row.data(), x.data(), n), exact, bound, at(type, n));
    }
    EXPECT_TRUE(worst_simd.ok()) << "avx2 " << worst_simd.where;
    EXPECT_TRUE(worst_ref.ok()) << "ref " << worst_ref.where;
  }
}

// Activations whose q8_0 blocks have very different scales, so a kernel that mixes up blocks' d cannot pass.
std::vector<float> uneven_activations(int64_t n, std::mt19937& rng) {
  auto x = random_vec(size_t(n), rng);
  for (int64_t i = 0; i < n; ++i) x[size_t(i)] *= std::ldexp(1.0f, int((i / 32) * 7 % 11) - 5);
  return x;
}

// Dot with q8_0 activations: the integer products are exact, so the result is within the bound of a float sum
// of one term per q8_0 block around sum w_i * xq_i (w and xq as dequantised). Where the reference table has a
// dot_q8 for the type, it is held to the same bound.
TEST_F(Avx2Test, DotQ8MatchesExactValueWithinBlockSumBound) {
  std::mt19937 rng(103);
  for (GgmlType type : kQ8Types) {
    Worst worst_simd, worst_ref;
    for (int64_t n : lengths(type)) {
      const auto row = random_row(type, n, rng);
      const auto x = uneven_activations(n, rng);
      std::vector<uint8_t> xq(row_bytes(GgmlType::Q8_0, n));
      quantize_row_q8_0(x.data(), xq.data(), n);
      std::vector<float> w(static_cast<size_t>(n)), xd(static_cast<size_t>(n));
      ref.of(type).dequant(row.data(), w.data(), n);
      ref.of(GgmlType::Q8_0).dequant(xq.data(), xd.data(), n);
      const auto mag = weight_magnitudes(type, row.data(), w.data(), n);
      double exact = 0, abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += double(w[size_t(i)]) * xd[size_t(i)];
        abs_sum += mag[size_t(i)] * std::fabs(xd[size_t(i)]);
      }
      const double bound = sum_bound(n / kQK8_0, abs_sum);
      const auto* xb = reinterpret_cast<const BlockQ8_0*>(xq.data());
      worst_simd.add(simd->of(type).dot_q8(row.data(), xb, n), exact, bound, at(type, n));
      if (ref.of(type).dot_q8) worst_ref.add(ref.of(type).dot_q8(row.data(), xb, n), exact, bound, at(type, n));
    }
    EXPECT_TRUE(worst_simd.ok()) << "avx2 " << worst_simd.where;
    EXPECT_TRUE(worst_ref.ok()) << "ref " << worst_ref.where;
  }
}

// The largest products the 8-bit formats allow: maddubs's int16 pair sums must not saturate.
TEST_F(Avx2Test, DotQ8ExtremeCodesDoNotSaturate) {
  const int64_t n = 256;
  std::vector<uint8_t> row(row_bytes(GgmlType::Q8_0, n)), xq(row_bytes(GgmlType::Q8_0, n));
  auto* w = reinterpret_cast<BlockQ8_0*>(row.data());
  auto* x = reinterpret_cast<BlockQ8_0*>(xq.data());
  double exact = 0;
  for (int64_t k = 0; k < n / 32; ++k) {
    w[k].d = f32_to_f16(1.0f);
    x[k].d = f32_to_f16(1.0f);
    for (int j = 0; j < 32; ++j) {
      w[k].qs[j] = int8_t(k % 2 ? -127 : 127);
      x[k].qs[j] = int8_t(k % 4 < 2 ? -127 : 127);
      exact += double(w[k].qs[j]) * x[k].qs[j];
    }
  }
  EXPECT_EQ(simd->of(GgmlType::Q8_0).dot_q8(row.data(), x, n), float(exact));
}

// quantize_q8_0 must produce the reference's bytes exactly (decode multiplies with them; the server's batched
// and solo results rely on identical activations). Random rows at many scales, plus exact ties of the rounding,
// all-zero blocks and a block whose scale is an f16 subnormal.
TEST_F(Avx2Test, QuantizeQ8_0IsByteIdenticalToReference) {
  std::mt19937 rng(104);
  std::vector<std::vector<float>> rows;
  for (int64_t nb = 1; nb <= 40; ++nb) rows.push_back(uneven_activations(nb * 32, rng));
  rows.push_back(uneven_activations(7168, rng));
  std::vector<float> ties(96, 0.0f);  // block 0: d = 1, values k + 0.5 (roundf: away from zero); block 2: zeros
  for (int j = 0; j < 32; ++j) ties[size_t(j)] = float(j - 16) + 0.5f;
  ties[31] = 127.0f;
  for (int j = 0; j < 32; ++j) ties[size_t(32 + j)] = float(j % 3) * 1e-6f;  // d = 2e-6 / 127: f16 subnormal
  rows.push_back(ties);
  for (const auto& x : rows) {
    const int64_t n = int64_t(x.size());
    std::vector<uint8_t> want(row_bytes(GgmlType::Q8_0, n) + 1, 0xAB), got(want);
    ref.quantize_q8_0(x.data(), want.data(), n);
    simd->quantize_q8_0(x.data(), got.data(), n);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(int(got[i]), int(want[i])) << "n=" << n << " byte " << i << " (block " << i / 34 << ", "
                                           << (i % 34 < 2 ? "d" : "qs[" + std::to_string(i % 34 - 2) + "]") << ")"
                                           << (i + 1 == want.size() ? " past the end" : "");
  }
}

}  // namespace
}  // namespace seek
