// The quantised types' kernels (Q8_0, Q4_0, Q5_0, Q5_1, IQ4_NL, Q2_K..Q6_K, IQ4_XS) on random blocks, extreme scales, all-min and all-max
// codes and odd lengths:
//   - AVX-512 dequant equals the reference dequant bit for bit;
//   - the reference dot_q8 equals a float64 dot product of the dequantised weights with the dequantised q8_0
//     activations, and the AVX-512 dot_q8 equals the reference, within the rounding bound below;
//   - both dot products with f32 activations equal the float64 dot product within their bound.
//
// Bounds. A group of 16 or 32 weights w = a*q - b contributes d_x*(a*sum(q q_x) - b*sum(q_x)); the integer sums
// are exact and a, b, d_x are exact products of halves and small integers, so every kernel computes the exact
// value S = sum_g (terms) up to float rounding: a few roundings per group term plus a running sum over the
// G groups of the row (the SIMD kernels sum shorter chains). With eps = 2^-23 (twice the unit roundoff) and
// M = sum_i (|w_i| + 2|b_g(i)|) |x_i| >= sum over groups of |a sum(q q_x)| + |b sum(q_x)|:
//   |dot_q8 - S| <= (G + 8) eps M            (and the float64 oracle differs from S only by the rounding of
//                                             each dequantised weight: eps M more)
//   |dot - S|    <= (L + G + n/64 + 10) eps M (L = group length: the reference's per-group sums; n/64: the
//                                             SIMD kernels' 64 accumulator chains)
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {
namespace {

constexpr double kEps = 1.0 / (1 << 23);

struct TypeCase {
  GgmlType type;
  std::vector<size_t> half_offsets;  // f16 scale fields (d, dmin) within a block: set to chosen values
  int group;                         // weights sharing (a, b)
};

std::vector<TypeCase> cases() {
  return {
      {GgmlType::Q8_0, {offsetof(BlockQ8_0, d)}, 32},
      {GgmlType::Q4_0, {offsetof(BlockQ4_0, d)}, 32},
      {GgmlType::Q5_0, {offsetof(BlockQ5_0, d)}, 32},
      {GgmlType::Q5_1, {offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)}, 32},
      {GgmlType::IQ4_NL, {offsetof(BlockIQ4NL, d)}, 32},
      {GgmlType::Q2_K, {offsetof(BlockQ2K, d), offsetof(BlockQ2K, dmin)}, 16},
      {GgmlType::Q3_K, {offsetof(BlockQ3K, d)}, 16},
      {GgmlType::Q4_K, {offsetof(BlockQ4K, d), offsetof(BlockQ4K, dmin)}, 32},
      {GgmlType::Q5_K, {offsetof(BlockQ5K, d), offsetof(BlockQ5K, dmin)}, 32},
      {GgmlType::Q6_K, {offsetof(BlockQ6K, d)}, 16},
      {GgmlType::IQ4_XS, {offsetof(BlockIQ4XS, d)}, 32},
  };
}

// The constant b of weight e's group (w = a*q - b): nonzero for the types with mins. Used only for the bound.
double group_min(GgmlType type, const uint8_t* row, int64_t e) {
  const int64_t blk = e / kQK_K, i = e % kQK_K;
  if (type == GgmlType::Q2_K) {
    const auto* b = reinterpret_cast<const BlockQ2K*>(row) + blk;
    return double(f16_to_f32(b->dmin)) * (b->scales[i / 16] >> 4);
  }
  if (type == GgmlType::Q5_1) return -double(f16_to_f32(reinterpret_cast<const BlockQ5_1*>(row)[e / 32].m));
  if (type == GgmlType::Q4_K || type == GgmlType::Q5_K) {
    const size_t bytes = type == GgmlType::Q4_K ? sizeof(BlockQ4K) : sizeof(BlockQ5K);
    const auto* b = reinterpret_cast<const BlockQ4K*>(row + blk * int64_t(bytes));  // d, dmin, scales: same place
    uint8_t sc, m;
    unpack_scale_min_k4(int(i / 32), b->scales, &sc, &m);
    return double(f16_to_f32(b->dmin)) * m;
  }
  return 0;
}

enum class Fill { Random, AllZero, AllOnes };
enum class Scale { Normal, Max, NegMax, Subnormal, Zero };

uint16_t pick_half(Scale s, std::mt19937& rng) {
  switch (s) {
    case Scale::Normal: return f32_to_f16(std::normal_distribution<float>(0.0f, 0.05f)(rng));
    case Scale::Max: return 0x7BFF;      // 65504
    case Scale::NegMax: return 0xFBFF;   // -65504
    case Scale::Subnormal: return 0x0001;
    case Scale::Zero: return 0;
  }
  return 0;
}

// A row of n_blocks blocks: every byte from `fill` (so all codes and sub-scales are at their minimum or maximum
// for AllZero / AllOnes), then the f16 fields from `scale` (Normal: a fresh value per field).
std::vector<uint8_t> make_row(const TypeCase& tc, int64_t n_blocks, Fill fill, Scale scale, std::mt19937& rng) {
  const int64_t bb = traits(tc.type).block_bytes;
  std::vector<uint8_t> row(size_t(n_blocks * bb));
  for (auto& byte : row) byte = fill == Fill::Random ? uint8_t(rng()) : fill == Fill::AllZero ? 0 : 0xFF;
  for (int64_t k = 0; k < n_blocks; ++k)
    for (size_t off : tc.half_offsets) {
      const uint16_t h = pick_half(scale, rng);
      std::memcpy(row.data() + k * bb + int64_t(off), &h, 2);
    }
  return row;
}

// q8_0 activations: random codes, or all +127 / all -127, with random or extreme scales.
std::vector<BlockQ8_0> make_activations(int64_t n, int kind, std::mt19937& rng) {
  std::vector<BlockQ8_0> x(size_t(n / kQK8_0));
  std::uniform_int_distribution<int> code(-127, 127);
  for (auto& b : x) {
    b.d = kind == 3 ? uint16_t(0x7BFF) : kind == 4 ? uint16_t(0x0001) : f32_to_f16(std::normal_distribution<float>(0.0f, 0.02f)(rng));
    for (auto& q : b.qs) q = int8_t(kind == 1 ? 127 : kind == 2 ? -127 : code(rng));
  }
  return x;
}

// q8_0 activations as prepare_q8x lays them out for dot_q8x.
struct PreparedQ8 {
  std::vector<int8_t> qs;
  std::vector<float> d16, s16;
  PreparedQ8(const std::vector<BlockQ8_0>& xq, int64_t n) : qs(size_t(n)), d16(size_t(n / 16)), s16(size_t(n / 16)) {
    prepare_q8x(xq.data(), n, qs.data(), d16.data(), s16.data());
  }
  Q8Act act() const { return {qs.data(), d16.data(), s16.data()}; }
};

// The prepared dot of one token.
float dot_q8x_one(const TypeKernels& tk, const uint8_t* row, const Q8Act& x, int64_t n) {
  float r;
  tk.dot_q8x(row, &x, 1, n, &r);
  return r;
}

struct Oracle {
  double value = 0;  // sum w_i x_i in float64 from the dequantised values
  double mag = 0;    // M = sum (|w_i| + 2|b_g|) |x_i|
};

Oracle oracle(GgmlType type, const uint8_t* row, const std::vector<float>& w, const std::vector<float>& x) {
  Oracle o;
  for (size_t i = 0; i < w.size(); ++i) {
    o.value += double(w[i]) * double(x[i]);
    o.mag += (std::fabs(double(w[i])) + 2 * std::fabs(group_min(type, row, int64_t(i)))) * std::fabs(double(x[i]));
  }
  return o;
}

// Passes when |actual - expected| <= bound; otherwise says by how much it missed.
::testing::AssertionResult within(double actual, double expected, double bound, const std::string& what) {
  const double diff = std::fabs(actual - expected);
  if (diff <= bound && std::isfinite(actual)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": expected " << expected << ", actual " << actual << ", |diff| "
                                       << diff << " > bound " << bound;
}

std::string describe(const TypeCase& tc, int64_t n, int fill, int scale, int xkind) {
  return std::string(traits(tc.type).name) + " n=" + std::to_string(n) + " fill=" + std::to_string(fill) +
         " scale=" + std::to_string(scale) + " x=" + std::to_string(xkind);
}

class QuantKernels : public ::testing::TestWithParam<TypeCase> {};

TEST_P(QuantKernels, MatchReferenceAndFloat64Oracle) {
  const TypeCase tc = GetParam();
  const TypeKernels& ref = ref_kernels().of(tc.type);
  ASSERT_TRUE(ref.dequant && ref.dot && ref.dot_q8) << traits(tc.type).name << " lacks a reference kernel";
  const KernelTable* simd = cpu_has_avx512() ? avx512_kernels() : nullptr;
  const int64_t bs = traits(tc.type).block_size;
  std::mt19937 rng(1234 + uint32_t(tc.type));
  for (int64_t n_blocks : {1, 2, 7, 8, 9, 16, 33}) {
    const int64_t n = n_blocks * bs;
    const int64_t groups = n / tc.group;
    for (int fill = 0; fill < 3; ++fill)
      for (int scale = 0; scale < 5; ++scale)
        for (int xkind = 0; xkind < 5; ++xkind) {
          if (fill != 0 && xkind != 0 && scale != 0) continue;  // extremes one at a time, plus random
          const std::string what = describe(tc, n, fill, scale, xkind);
          const auto row = make_row(tc, n_blocks, Fill(fill), Scale(scale), rng);
          const auto xq = make_activations(n, xkind, rng);
          std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n));
          ref.dequant(row.data(), w.data(), n);
          ref_kernels().of(GgmlType::Q8_0).dequant(reinterpret_cast<const uint8_t*>(xq.data()), x.data(), n);
          const Oracle o = oracle(tc.type, row.data(), w, x);

          const float r_q8 = ref.dot_q8(row.data(), xq.data(), n);
          const double bound_q8 = double(groups + 8) * kEps * o.mag;
          ASSERT_TRUE(within(r_q8, o.value, bound_q8 + kEps * o.mag, "ref dot_q8 vs float64, " + what));
          const float r_dot = ref.dot(row.data(), x.data(), n);
          const double bound_dot = double(tc.group + groups + n / 64 + 10) * kEps * o.mag;
          ASSERT_TRUE(within(r_dot, o.value, bound_dot, "ref dot vs float64, " + what));

          if (!simd) continue;
          const TypeKernels& s = simd->of(tc.type);
          ASSERT_NE(s.dot_q8, ref.dot_q8) << traits(tc.type).name << " has no AVX-512 dot_q8";
          std::vector<float> ws(static_cast<size_t>(n), -1.0f);
          s.dequant(row.data(), ws.data(), n);
          for (int64_t i = 0; i < n; ++i)
            ASSERT_EQ(bits_from_f32(ws[size_t(i)]), bits_from_f32(w[size_t(i)]))
                << "dequant element " << i << " of " << what << ": ref " << w[size_t(i)] << ", avx512 " << ws[size_t(i)];
          ASSERT_TRUE(within(s.dot_q8(row.data(), xq.data(), n), r_q8, 2 * bound_q8, "avx512 dot_q8 vs ref, " + what));
          ASSERT_NE(s.dot_q8x, nullptr) << traits(tc.type).name << " has no AVX-512 dot_q8x";
          const PreparedQ8 xp(xq, n);
          ASSERT_TRUE(within(dot_q8x_one(s, row.data(), xp.act(), n), r_q8, 2 * bound_q8, "avx512 dot_q8x vs ref, " + what));
          ASSERT_TRUE(within(s.dot(row.data(), x.data(), n), o.value, bound_dot, "avx512 dot vs float64, " + what));
        }
  }
}

// The bounds are tight enough to see one changed code: a row differing from the oracle's in a single weight
// fails the dot_q8 check (run on the longest row, where the bound is widest).
TEST_P(QuantKernels, BoundCatchesOneWrongWeight) {
  const TypeCase tc = GetParam();
  const TypeKernels& ref = ref_kernels().of(tc.type);
  const int64_t n_blocks = 33, n = n_blocks * traits(tc.type).block_size;
  std::mt19937 rng(99);
  const auto row = make_row(tc, n_blocks, Fill::Random, Scale::Normal, rng);
  const auto xq = make_activations(n, 0, rng);
  std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n)), w2(static_cast<size_t>(n));
  ref.dequant(row.data(), w.data(), n);
  ref_kernels().of(GgmlType::Q8_0).dequant(reinterpret_cast<const uint8_t*>(xq.data()), x.data(), n);
  const Oracle o = oracle(tc.type, row.data(), w, x);
  const double bound = double(n / tc.group + 9) * kEps * o.mag;
  ASSERT_TRUE(within(ref.dot_q8(row.data(), xq.data(), n), o.value, bound, "unchanged row"));
  // Flip one bit of the last block at a time until a single weight changes by about a typical term (most bytes
  // are codes; some are scales, whose change moves many weights); the product with that row must then fail the
  // check against the original oracle.
  const int64_t bb = traits(tc.type).block_bytes;
  for (int64_t byte = int64_t(row.size()) - bb; byte < int64_t(row.size()); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = row;
      bad[size_t(byte)] ^= uint8_t(1 << bit);
      ref.dequant(bad.data(), w2.data(), n);
      int changed = 0;
      double delta = 0;
      for (int64_t i = 0; i < n; ++i) {
        changed += w2[size_t(i)] != w[size_t(i)];
        delta += (double(w2[size_t(i)]) - w[size_t(i)]) * x[size_t(i)];
      }
      if (changed != 1 || std::fabs(delta) < 2 * bound) continue;
      EXPECT_FALSE(within(ref.dot_q8(bad.data(), xq.data(), n), o.value, bound, "one wrong weight"))
          << traits(tc.type).name << ": a change of " << delta << " (bound " << bound << ") went unnoticed";
      if (avx512_kernels() && cpu_has_avx512()) {
        EXPECT_FALSE(within(avx512_kernels()->of(tc.type).dot_q8(bad.data(), xq.data(), n), o.value, bound, "x"));
        const PreparedQ8 xp(xq, n);
        EXPECT_FALSE(within(dot_q8x_one(avx512_kernels()->of(tc.type), bad.data(), xp.act(), n), o.value, bound, "x"));
      }
      return;
    }
  FAIL() << "no single-weight change in the last block exceeds twice the bound " << bound;
}

// dot_q8x gives each of up to kMaxRowPassTokens tokens exactly the bits it gives that token alone (sequences
// decoded together get what they get alone), on rows with and without a partial unit.
TEST_P(QuantKernels, MultiTokenDotIsTheSingleDotBitForBit) {
  const TypeCase tc = GetParam();
  if (!cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const TypeKernels& s = avx512_kernels()->of(tc.type);
  ASSERT_NE(s.dot_q8x, nullptr) << traits(tc.type).name;
  std::mt19937 rng(7);
  for (int64_t n_blocks : {1, 4, 8, 9, 33}) {
    const int64_t n = n_blocks * traits(tc.type).block_size;
    if (n % kQK8_0 != 0) continue;
    const auto row = make_row(tc, n_blocks, Fill::Random, Scale::Normal, rng);
    std::vector<PreparedQ8> xs;
    std::vector<Q8Act> acts;
    for (int t = 0; t < kMaxRowPassTokens; ++t) xs.emplace_back(make_activations(n, t % 3, rng), n);
    for (const auto& x : xs) acts.push_back(x.act());
    for (int nt = 1; nt <= kMaxRowPassTokens; ++nt) {
      float out[kMaxRowPassTokens];
      s.dot_q8x(row.data(), acts.data(), nt, n, out);
      for (int t = 0; t < nt; ++t)
        ASSERT_EQ(bits_from_f32(out[t]), bits_from_f32(dot_q8x_one(s, row.data(), acts[size_t(t)], n)))
            << traits(tc.type).name << " n=" << n << " tokens=" << nt << " token " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantKernels, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(traits(info.param.type).name); });

}  // namespace
}  // namespace seek
