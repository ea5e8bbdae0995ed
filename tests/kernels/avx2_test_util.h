// Helpers of the AVX2 kernel tests: the fixture that skips on CPUs without AVX2, random rows of each weight type,
// and the error bound of a float sum.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek::avx2_test {

// Unit roundoff of f32 (round to nearest): every +, * and FMA is exact times (1 + e), |e| <= u.
constexpr double kU = 1.0 / (1 << 24);

// A float sum of m terms, in any order and grouping, is within gamma(m) * sum |term| of the exact sum
// (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5); the +8 covers the products feeding the
// terms, the per-block scalings and the 8-lane reduction. Doubled for margin (f16 scales formed in f32 and the
// like), so a failure is a wrong result, not an unlucky rounding.
inline double sum_bound(int64_t m, double abs_sum) { return 2.0 * double(m + 8) * kU * abs_sum + 1e-30; }

class Avx2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu_has_avx2()) GTEST_SKIP() << "CPU has no AVX2+FMA+F16C: the AVX2 table cannot run here";
    simd = avx2_kernels();
    ASSERT_NE(simd, nullptr) << "avx2_kernels() is null on a CPU with AVX2";
  }
  const KernelTable& ref = ref_kernels();
  const KernelTable* simd = nullptr;
};

inline std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A random f16 scale of either sign with magnitude in [0.5, 2) * 2^e.
inline uint16_t random_scale(std::mt19937& rng, int e = -6) {
  std::uniform_real_distribution<float> m(0.5f, 2.0f);
  return f32_to_f16(std::ldexp(m(rng), e) * (rng() & 1 ? -1.0f : 1.0f));
}

// A row of n elements of `type`: floats encoded as the type, or, for the block types, random bytes (every code,
// scale and bit pattern occurs) with the f16 block scales overwritten by finite random values.
inline std::vector<uint8_t> random_row(GgmlType type, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> out(row_bytes(type, n));
  const auto v = random_vec(size_t(n), rng);
  auto* h = reinterpret_cast<uint16_t*>(out.data());
  switch (type) {
    case GgmlType::F32: std::memcpy(out.data(), v.data(), out.size()); break;
    case GgmlType::F16: for (int64_t i = 0; i < n; ++i) h[i] = f32_to_f16(v[size_t(i)]); break;
    case GgmlType::BF16: for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(v[size_t(i)]); break;
    case GgmlType::Q8_0: quantize_row_q8_0(v.data(), out.data(), n); break;
    default: {
      for (auto& b : out) b = uint8_t(rng());
      const int64_t bb = traits(type).block_bytes;
      // where each block keeps its f16 factors: d first (and Q4_K/Q5_K's dmin, Q5_1's m next), Q6_K's d last
      const size_t at = type == GgmlType::Q6_K ? offsetof(BlockQ6K, d) : 0;
      const int count = type == GgmlType::Q4_K || type == GgmlType::Q5_K || type == GgmlType::Q5_1 ? 2 : 1;
      for (int64_t k = 0; k < n / traits(type).block_size; ++k) {
        const uint16_t s[2] = {random_scale(rng), random_scale(rng, -8)};
        std::memcpy(out.data() + k * bb + at, s, size_t(2 * count));
      }
    }
  }
  return out;
}

// The magnitude the kernels add for each weight: where w = s + o with a per-block or per-group offset o (Q4_K's
// and Q5_K's -dmin * m, Q5_1's m) summed separately from s, that is |w - o| + |o|; for every other type |w| itself.
inline std::vector<double> weight_magnitudes(GgmlType type, const uint8_t* row, const float* w, int64_t n) {
  std::vector<double> offset(static_cast<size_t>(n), 0.0), mag(static_cast<size_t>(n));
  for (int64_t i = 0; i < n && type == GgmlType::Q5_1; ++i)
    offset[size_t(i)] = f16_to_f32(reinterpret_cast<const BlockQ5_1*>(row)[i / 32].m);
  for (int64_t i = 0; i < n && (type == GgmlType::Q4_K || type == GgmlType::Q5_K); ++i) {
    const int64_t bb = traits(type).block_bytes;
    const uint8_t* blk = row + i / kQK_K * bb;  // Q4_K and Q5_K share the leading d, dmin, scales
    uint8_t sc, m;
    unpack_scale_min_k4(int(i % kQK_K / 32), reinterpret_cast<const BlockQ4K*>(blk)->scales, &sc, &m);
    offset[size_t(i)] = -double(f16_to_f32(reinterpret_cast<const BlockQ4K*>(blk)->dmin)) * m;
  }
  for (int64_t i = 0; i < n; ++i)
    mag[size_t(i)] = std::fabs(double(w[i]) - offset[size_t(i)]) + std::fabs(offset[size_t(i)]);
  return mag;
}

// The worst of a set of checks |got - want| <= bound, kept so that a failure reports the case that failed by the
// most rather than the first one.
struct Worst {
  double ratio = 0;  // |got - want| / bound
  std::string where;
  void add(double got, double want, double bound, const std::string& at) {
    const double r = std::fabs(got - want) / bound;
    if (!(r <= ratio)) {  // also keeps a NaN
      ratio = r;
      char buf[160];
      std::snprintf(buf, sizeof buf, ": got %.9g, want %.9g, |diff| %.3g, bound %.3g", got, want,
                    std::fabs(got - want), bound);
      where = at + buf;
    }
  }
  bool ok() const { return ratio <= 1.0; }
};

}  // namespace seek::avx2_test
