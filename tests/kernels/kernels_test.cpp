// Kernels against their scalar references (random data, odd lengths), and the half-precision conversions
// against the CPU's own F16C instructions and exhaustive round trips.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {
namespace {

// The scalar reference and, on a CPU that has it, the AVX-512 table.
std::vector<const KernelTable*> ref_and_avx512() {
  std::vector<const KernelTable*> tables = {&ref_kernels()};
  if (cpu_has_avx512()) tables.push_back(avx512_kernels());
  return tables;
}

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Encodes f32 values as a row of `type`.
std::vector<uint8_t> encode(const std::vector<float>& v, GgmlType type) {
  std::vector<uint8_t> out(row_bytes(type, int64_t(v.size())));
  for (size_t i = 0; i < v.size(); ++i) {
    if (type == GgmlType::F32) std::memcpy(out.data() + 4 * i, &v[i], 4);
    if (type == GgmlType::F16) reinterpret_cast<uint16_t*>(out.data())[i] = f32_to_f16(v[i]);
    if (type == GgmlType::BF16) reinterpret_cast<uint16_t*>(out.data())[i] = f32_to_bf16(v[i]);
  }
  if (type == GgmlType::Q8_0) quantize_row_q8_0(v.data(), out.data(), int64_t(v.size()));
  return out;
}

TEST(Half, F16RoundTripIsExactForAllValues) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), h) << "half 0x" << std::hex << h;
  }
}

__attribute__((target("f16c"))) uint16_t hw_f32_to_f16(float f) {
  return uint16_t(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
__attribute__((target("f16c"))) float hw_f16_to_f32(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_set1_epi16(short(h)))); }

TEST(Half, MatchesF16CHardware) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "CPU has no F16C";
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    const float f = f32_from_bits(bits(rng));
    if (std::isnan(f)) continue;
    const uint16_t hw = hw_f32_to_f16(f);
    ASSERT_EQ(f32_to_f16(f), hw) << "f32 bits 0x" << std::hex << bits_from_f32(f);
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    const float hw = hw_f16_to_f32(uint16_t(h));
    const float sw = f16_to_f32(uint16_t(h));
    if (std::isnan(hw)) { ASSERT_TRUE(std::isnan(sw)); continue; }
    ASSERT_EQ(bits_from_f32(sw), bits_from_f32(hw)) << h;
  }
}

TEST(Half, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001)), 0x3f81);
  EXPECT_EQ(bf16_to_f32(0xc000), -2.0f);
}

TEST(Q8_0, QuantisesAsGgmlDoes) {
  // One block: max |x| = 127 gives d = 1 and q = round(x).
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[size_t(i)] = float(i * 4 - 62) + 0.4f;
  x[31] = 127.0f;
  std::vector<uint8_t> b(34);
  quantize_row_q8_0(x.data(), b.data(), 32);
  const BlockQ8_0* blk = reinterpret_cast<const BlockQ8_0*>(b.data());
  EXPECT_EQ(f16_to_f32(blk->d), 1.0f);
  for (int i = 0; i < 31; ++i) EXPECT_EQ(blk->qs[i], int8_t(std::roundf(x[size_t(i)])));
  EXPECT_EQ(blk->qs[31], 127);
}

class KernelVsRef : public ::testing::TestWithParam<GgmlType> {};

TEST_P(KernelVsRef, DotAndDequantMatchReference) {
  const KernelTable* simd = avx512_kernels();
  if (!cpu_has_avx512() || !simd) GTEST_SKIP() << "CPU has no AVX-512";
  const GgmlType type = GetParam();
  const int64_t bs = traits(type).block_size;
  std::mt19937 rng(42);
  for (int64_t n : {int64_t(32), int64_t(64), int64_t(96), int64_t(160), int64_t(4096), int64_t(7 * 32 * 3)}) {
    for (int64_t extra : {int64_t(0), int64_t(1), int64_t(15), int64_t(17)}) {
      const int64_t len = bs == 1 ? n + extra : n;
      const auto w = random_vec(size_t(len), rng);
      const auto x = random_vec(size_t(len), rng);
      const auto row = encode(w, type);
      std::vector<float> d_ref(static_cast<size_t>(len)), d_simd(static_cast<size_t>(len));
      ref_kernels().of(type).dequant(row.data(), d_ref.data(), len);
      simd->of(type).dequant(row.data(), d_simd.data(), len);
      for (int64_t i = 0; i < len; ++i) ASSERT_EQ(d_ref[size_t(i)], d_simd[size_t(i)]) << "dequant element " << i;
      // Error bound of an f32 dot product of length n, in any summation order: n * eps * sum |w_i x_i|.
      double abs_sum = 0, exact = 0;
      for (int64_t i = 0; i < len; ++i) {
        abs_sum += std::fabs(double(d_ref[size_t(i)]) * x[size_t(i)]);
        exact += double(d_ref[size_t(i)]) * x[size_t(i)];
      }
      const double tol = double(len) * 1.2e-7 * abs_sum + 1e-30;
      const float r = ref_kernels().of(type).dot(row.data(), x.data(), len);
      const float s = simd->of(type).dot(row.data(), x.data(), len);
      EXPECT_NEAR(r, exact, tol) << traits(type).name << " n=" << len;
      EXPECT_NEAR(s, exact, tol) << traits(type).name << " n=" << len;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, KernelVsRef,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0),
                         [](const auto& info) { return std::string(traits(info.param).name); });

// The codebook types (built with their codebooks): blocks of random bytes with a finite scale d (the first two
// bytes of these four layouts), so every grid entry and sign pattern occurs; the SIMD dot against the exact dot
// of the reference's dequantised row, within (n + 2) * eps * sum |w_i x_i| (the SIMD kernels scale a group's
// sum once: one more rounding per term than dequantise-then-dot).
TEST(Kernels, CodebookTypeDotsMatchReference) {
  const KernelTable* simd = avx512_kernels();
  if (!cpu_has_avx512() || !simd) GTEST_SKIP() << "CPU has no AVX-512";
  if (!ref_kernels().supports(GgmlType::IQ2_XXS)) GTEST_SKIP() << kNoIqGridsMessage;
  std::mt19937 rng(3);
  for (GgmlType type : {GgmlType::IQ2_XXS, GgmlType::IQ2_XS, GgmlType::IQ3_XXS, GgmlType::IQ1_S}) {
    const size_t block = size_t(traits(type).block_bytes);
    for (int64_t n : {int64_t(256), int64_t(512), int64_t(256 * 28)}) {
      std::vector<uint8_t> row(row_bytes(type, n));
      for (auto& b : row) b = uint8_t(rng());
      std::uniform_real_distribution<float> scale(1e-3f, 2.0f);
      for (size_t off = 0; off < row.size(); off += block) {
        const uint16_t d = f32_to_f16(scale(rng));
        std::memcpy(row.data() + off, &d, 2);
      }
      const auto x = random_vec(size_t(n), rng);
      std::vector<float> w(static_cast<size_t>(n));
      ref_kernels().of(type).dequant(row.data(), w.data(), n);
      double abs_sum = 0, exact = 0;
      for (int64_t i = 0; i < n; ++i) {
        abs_sum += std::fabs(double(w[size_t(i)]) * x[size_t(i)]);
        exact += double(w[size_t(i)]) * x[size_t(i)];
      }
      const double tol = double(n + 2) * 1.2e-7 * abs_sum;
      EXPECT_NEAR(ref_kernels().of(type).dot(row.data(), x.data(), n), exact, tol) << traits(type).name << " ref n=" << n;
      EXPECT_NEAR(simd->of(type).dot(row.data(), x.data(), n), exact, tol) << traits(type).name << " avx512 n=" << n;
    }
  }
}

TEST(Kernels, AxpyAndDotF32MatchReference) {
  const KernelTable* simd = avx512_kernels();
  if (!cpu_has_avx512() || !simd) GTEST_SKIP() << "CPU has no AVX-512";
  std::mt19937 rng(3);
  for (int64_t n : {1, 5, 16, 17, 33, 100, 1000}) {
    const auto x = random_vec(size_t(n), rng), y0 = random_vec(size_t(n), rng);
    auto y1 = y0, y2 = y0;
    ref_kernels().axpy(0.37f, x.data(), y1.data(), n);
    simd->axpy(0.37f, x.data(), y2.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y1[size_t(i)], y2[size_t(i)], 1e-6f * (1 + std::fabs(y1[size_t(i)])));
    double abs_sum = 0;
    for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs(double(x[size_t(i)]) * y0[size_t(i)]);
    EXPECT_NEAR(ref_kernels().dot_f32(x.data(), y0.data(), n), simd->dot_f32(x.data(), y0.data(), n),
                2.0 * double(n) * 1.2e-7 * abs_sum);
  }
}

// The prefill GEMM (pack + panel multiply) against plain dot products, for odd row and token counts.
TEST(Kernels, PackedPanelGemmMatchesDotProducts) {
  std::mt19937 rng(11);
  for (const KernelTable* t : {&ref_kernels(), cpu_has_avx512() ? avx512_kernels() : &ref_kernels()}) {
    for (int64_t K : {16, 48, 100, 512}) {
      for (int n_rows : {1, 16, 17, 32}) {
        for (int64_t n_tok : {1, 5, 6, 13}) {
          auto rows = random_vec(size_t(32 * K), rng);
          for (int64_t i = n_rows; i < 32; ++i) std::fill(rows.begin() + i * K, rows.begin() + (i + 1) * K, 0.0f);
          const auto x = random_vec(size_t(n_tok * K), rng);
          std::vector<float> panel(size_t(32 * K)), y(size_t(n_tok * 40), -7.0f);
          t->pack_panel(rows.data(), K, panel.data());
          for (int64_t k = 0; k < K; ++k)
            for (int i = 0; i < 32; ++i) ASSERT_EQ(panel[size_t(k * 32 + i)], rows[size_t(i * K + k)]) << t->name;
          t->gemm_panel(panel.data(), K, x.data(), K, n_tok, y.data(), 40, n_rows);
          for (int64_t j = 0; j < n_tok; ++j) {
            for (int i = 0; i < n_rows; ++i) {
              double exact = 0, abs_sum = 0;
              for (int64_t k = 0; k < K; ++k) {
                exact += double(rows[size_t(i * K + k)]) * x[size_t(j * K + k)];
                abs_sum += std::fabs(double(rows[size_t(i * K + k)]) * x[size_t(j * K + k)]);
              }
              ASSERT_NEAR(y[size_t(j * 40 + i)], exact, double(K) * 1.2e-7 * abs_sum) << t->name << " K=" << K;
            }
            for (int i = n_rows; i < 40; ++i) ASSERT_EQ(y[size_t(j * 40 + i)], -7.0f) << "wrote past n_rows";
          }
        }
      }
    }
  }
}

// q8_0 weights times q8_0-quantised activations: SIMD equals the reference up to float summation order, and both
// stay within the activation-rounding error of the f32 dot product (each x rounds by at most d_x / 2).
TEST(Kernels, Q8ActivationDotMatchesReference) {
  std::mt19937 rng(5);
  for (int64_t n : {32, 64, 96, 4096}) {
    const auto w = random_vec(size_t(n), rng), x = random_vec(size_t(n), rng);
    const auto row = encode(w, GgmlType::Q8_0), xq = encode(x, GgmlType::Q8_0);
    const auto* xb = reinterpret_cast<const BlockQ8_0*>(xq.data());
    const float r = ref_kernels().of(GgmlType::Q8_0).dot_q8(row.data(), xb, n);
    std::vector<float> wd(static_cast<size_t>(n)), xd(static_cast<size_t>(n));
    ref_kernels().of(GgmlType::Q8_0).dequant(row.data(), wd.data(), n);
    ref_kernels().of(GgmlType::Q8_0).dequant(xq.data(), xd.data(), n);
    double exact = 0, abs_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += double(wd[size_t(i)]) * xd[size_t(i)];
      abs_sum += std::fabs(double(wd[size_t(i)]) * xd[size_t(i)]);
    }
    EXPECT_NEAR(r, exact, double(n) * 1.2e-7 * abs_sum) << n;
    if (cpu_has_avx512()) {
      EXPECT_NEAR(avx512_kernels()->of(GgmlType::Q8_0).dot_q8(row.data(), xb, n), exact, double(n) * 1.2e-7 * abs_sum) << n;
    }
  }
}

// Decode attention's row kernels (every table that has them) against float64: scores within n·ε·Σ|q·r| of the
// exact dot, the weighted sum within n_rows·ε·Σ|p·r| per value; rows that are strided slices of longer rows,
// lengths with and without a partial vector, 0 to 9 rows.
TEST(Kernels, AttentionRowKernelsMatchFloat64) {
  std::vector<const KernelTable*> tables = ref_and_avx512();
  if (cpu_has_avx2() && avx2_kernels()) tables.push_back(avx2_kernels());
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0, 1);
  const double eps = 1.0 / (1 << 23);
  for (const KernelTable* k : tables) {
    ASSERT_TRUE(k->dot_rows && k->sum_rows) << k->name;
    for (int64_t n : {1, 15, 16, 17, 64, 255, 256, 257, 512, 576}) {
      const int64_t stride = n + 7;
      for (int64_t n_rows : {0, 1, 3, 4, 5, 9}) {
        std::vector<float> q(static_cast<size_t>(n)), rows(static_cast<size_t>(stride * std::max<int64_t>(n_rows, 1))),
            p(static_cast<size_t>(n_rows));
        for (auto& v : q) v = d(rng);
        for (auto& v : rows) v = d(rng);
        for (auto& v : p) v = std::fabs(d(rng));
        std::vector<float> scores(size_t(n_rows) + 1, -1.0f), ctx(size_t(n) + 1, -1.0f);
        k->dot_rows(q.data(), rows.data(), stride, n_rows, n, 0.5f, scores.data());
        k->sum_rows(p.data(), rows.data(), stride, n_rows, n, ctx.data());
        for (int64_t s = 0; s < n_rows; ++s) {
          double exact = 0, mag = 0;
          for (int64_t i = 0; i < n; ++i) {
            exact += double(q[size_t(i)]) * rows[size_t(s * stride + i)];
            mag += std::fabs(double(q[size_t(i)]) * rows[size_t(s * stride + i)]);
          }
          EXPECT_NEAR(scores[size_t(s)], 0.5 * exact, 0.5 * double(n + 2) * eps * mag) << k->name << " n=" << n << " row " << s;
        }
        EXPECT_EQ(scores[size_t(n_rows)], -1.0f) << k->name << ": wrote past the scores";
        for (int64_t i = 0; i < n; ++i) {
          double exact = 0, mag = 0;
          for (int64_t s = 0; s < n_rows; ++s) {
            exact += double(p[size_t(s)]) * rows[size_t(s * stride + i)];
            mag += std::fabs(double(p[size_t(s)]) * rows[size_t(s * stride + i)]);
          }
          ASSERT_NEAR(ctx[size_t(i)], exact, double(n_rows + 1) * eps * mag) << k->name << " n=" << n << " rows=" << n_rows << " value " << i;
        }
        EXPECT_EQ(ctx[size_t(n)], -1.0f) << k->name << ": wrote past the sum";
      }
    }
  }
}

// The many-query forms (several heads sharing the rows) give every query exactly the bits of the one-query
// kernels (themselves checked against float64 above), write nothing past their outputs, and handle query counts
// that are not a multiple of their blocking, row counts past one block of rows, and no rows at all.
TEST(Kernels, ManyQueryAttentionKernelsGiveTheOneQueryBits) {
  std::vector<const KernelTable*> tables;
  if (cpu_has_avx512()) tables.push_back(avx512_kernels());
  if (tables.empty()) GTEST_SKIP() << "no table on this CPU has the many-query kernels";
  std::mt19937 rng(9);
  std::normal_distribution<float> d(0, 1);
  for (const KernelTable* k : tables) {
    ASSERT_TRUE(k->dot_rows_n && k->sum_rows_n) << k->name;
    for (int64_t n : {17, 64, 512, 576}) {
      const int64_t stride = n + 3, ldq = n + 5, ldo_c = n + 2;
      for (int64_t n_rows : {0, 1, 4, 6, 33, 70}) {
        for (int64_t n_q : {1, 3, 4, 8, 9, 16}) {
          std::vector<float> q(static_cast<size_t>(ldq * n_q)), rows(static_cast<size_t>(stride * std::max<int64_t>(n_rows, 1))),
              p(static_cast<size_t>(n_q * (n_rows + 1)));
          for (auto& v : q) v = d(rng);
          for (auto& v : rows) v = d(rng);
          for (auto& v : p) v = std::fabs(d(rng));
          const int64_t ldo_s = n_rows + 1;
          std::vector<float> scores(static_cast<size_t>(ldo_s * n_q), -1.0f), ctx(static_cast<size_t>(ldo_c * n_q), -1.0f);
          k->dot_rows_n(q.data(), ldq, n_q, rows.data(), stride, n_rows, n, 0.125f, scores.data(), ldo_s);
          k->sum_rows_n(p.data(), n_rows + 1, n_q, rows.data(), stride, n_rows, n, ctx.data(), ldo_c);
          std::vector<float> one_s(static_cast<size_t>(n_rows) + 1), one_c(static_cast<size_t>(n));
          for (int64_t j = 0; j < n_q; ++j) {
            k->dot_rows(q.data() + j * ldq, rows.data(), stride, n_rows, n, 0.125f, one_s.data());
            k->sum_rows(p.data() + j * (n_rows + 1), rows.data(), stride, n_rows, n, one_c.data());
            for (int64_t s = 0; s < n_rows; ++s)
              ASSERT_EQ(scores[size_t(j * ldo_s + s)], one_s[size_t(s)]) << k->name << " n=" << n << " rows=" << n_rows
                                                                          << " queries=" << n_q << " q" << j << " row " << s;
            ASSERT_EQ(scores[size_t(j * ldo_s + n_rows)], -1.0f) << "wrote past the scores";
            for (int64_t c = 0; c < n; ++c)
              ASSERT_EQ(ctx[size_t(j * ldo_c + c)], one_c[size_t(c)]) << k->name << " n=" << n << " rows=" << n_rows
                                                                       << " queries=" << n_q << " q" << j << " value " << c;
            for (int64_t c = n; c < ldo_c; ++c) ASSERT_EQ(ctx[size_t(j * ldo_c + c)], -1.0f) << "wrote past the sum";
          }
        }
      }
    }
  }
}

// Softmax (every table) against float64: each probability within 6 ulp of the exact one (the f32 exponential's
// ~2 ulp and the scaling) plus what rounding x - max to f32 moves it, arguments far below the maximum giving 0 as
// expf does, lengths with and without a partial vector.
TEST(Kernels, SoftmaxMatchesFloat64) {
  std::vector<const KernelTable*> tables = ref_and_avx512();
  std::mt19937 rng(13);
  for (const KernelTable* k : tables) {
    ASSERT_TRUE(k->softmax) << k->name;
    for (float spread : {0.1f, 3.0f, 40.0f})
      for (int64_t n : {1, 2, 15, 16, 17, 100, 129, 4097}) {
        std::normal_distribution<float> d(0.0f, spread);
        std::vector<float> x(static_cast<size_t>(n) + 1, 7.0f);
        for (int64_t i = 0; i < n; ++i) x[size_t(i)] = d(rng);
        if (n > 3) x[2] = x[0] - 200.0f;  // underflows to 0
        std::vector<double> exact(static_cast<size_t>(n));
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(x[size_t(i)]));
        for (int64_t i = 0; i < n; ++i) sum += exact[size_t(i)] = std::exp(double(x[size_t(i)]) - mx);
        const std::vector<float> in = x;
        k->softmax(x.data(), n);
        double total = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double e = exact[size_t(i)] / sum;
          // x - max is rounded to f32 first: half an ulp of |x - max| moves the exponential by that much relative.
          const double arg = std::fabs(double(in[size_t(i)]) - mx);
          ASSERT_NEAR(x[size_t(i)], e, (6.0 * 1.2e-7 + arg * 6e-8) * e + 1e-44)
              << k->name << " n=" << n << " spread " << spread << " i=" << i;
          total += x[size_t(i)];
        }
        EXPECT_NEAR(total, 1.0, 1e-5) << k->name;
        EXPECT_EQ(x[size_t(n)], 7.0f) << k->name << ": wrote past the end";
      }
  }
}

// The SwiGLU gate (every table) against float64: silu(a) * b within 4 ulp of the exact value, including gates far
// into both tails (where exp(-a) underflows or overflows) and lengths with and without a partial vector.
TEST(Kernels, SwigluMatchesFloat64) {
  std::vector<const KernelTable*> tables = ref_and_avx512();
  std::mt19937 rng(19);
  for (const KernelTable* k : tables) {
    ASSERT_TRUE(k->swiglu) << k->name;
    for (float spread : {1.0f, 8.0f, 60.0f})
      for (int64_t n : {1, 15, 16, 33, 1000}) {
        std::normal_distribution<float> d(0.0f, spread);
        std::vector<float> a(static_cast<size_t>(n) + 1, 5.0f), b(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) a[size_t(i)] = d(rng), b[size_t(i)] = d(rng);
        if (n > 2) a[0] = -150.0f, a[1] = 150.0f;
        const std::vector<float> in = a;
        k->swiglu(a.data(), b.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const double x = in[size_t(i)], exact = x / (1.0 + std::exp(-x)) * double(b[size_t(i)]);
          // exp(-a) overflows f32 below a = -88.7, where |silu(a)| < 89 e^-88.7 < 3e-37: there the result is 0.
          ASSERT_NEAR(a[size_t(i)], exact, 4 * 1.2e-7 * std::fabs(exact) + 3e-37 * (1.0 + std::fabs(b[size_t(i)])))
              << k->name << " n=" << n << " a=" << x << " b=" << b[size_t(i)];
        }
        EXPECT_EQ(a[size_t(n)], 5.0f) << k->name << ": wrote past the end";
      }
  }
}

}  // namespace
}  // namespace seek
