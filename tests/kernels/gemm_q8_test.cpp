// The Q8_0 integer GEMM (pack_q8_0_panel + gemm_q8_0_panel) against an independent double-precision product of
// the dequantised weights and the dequantised q8_0 tokens, for the scalar reference and the AVX-512 table, on odd
// shapes (rows not a multiple of 32, an odd number of blocks, 1..13 tokens).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/kernels.h"
#include "core/thread_pool.h"
#include "model/ops.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace seek {
namespace {

// A view of `rows` rows of K values of type t, stored one after another.
Mat stored_rows(GgmlType t, int64_t rows, int64_t K, const uint8_t* data) {
  Mat m;
  m.type = t;
  m.rows = rows;
  m.cols = K;
  m.row_stride = row_bytes(t, K);
  m.data = data;
  return m;
}

// `rows` rows of K values of type t, the values drawn by value(r) in row order and quantised row by row.
template <class Value>
std::vector<uint8_t> random_rows(GgmlType t, int64_t rows, int64_t K, Value value) {
  const size_t stride = row_bytes(t, K);
  std::vector<uint8_t> w(size_t(rows) * stride);
  std::vector<float> v(static_cast<size_t>(K));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& e : v) e = value(r);
    quantizer(t)(v.data(), w.data() + size_t(r) * stride, K);
  }
  return w;
}

struct Case {
  int rows;
  int64_t K;
  int n_tok;
};

// Runs the table's GEMM on random Q8_0 weights and tokens; checks every output against the double product of
// what the blocks hold. Bound: each block's integer dot is exact, so only the f32 scaling and the f32 sum over
// blocks round: |err| <= (nb + 2) * eps * sum_b |w_scale * x_scale * dot_b|.
void check(const KernelTable& k, const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t nb = c.K / kQK8_0;
  const size_t row_stride = size_t(nb) * sizeof(BlockQ8_0);
  std::vector<uint8_t> w(size_t(c.rows) * row_stride);
  std::vector<float> vals(static_cast<size_t>(c.K));
  for (int r = 0; r < c.rows; ++r) {
    const float scale = std::exp(nd(rng));  // rows of different magnitudes
    for (auto& v : vals) v = nd(rng) * scale;
    quantize_row_q8_0(vals.data(), w.data() + size_t(r) * row_stride, c.K);
  }
  std::vector<BlockQ8_0> xq(size_t(c.n_tok * nb));
  std::vector<float> xd(xq.size());
  std::vector<int32_t> xoff(xq.size());
  for (int t = 0; t < c.n_tok; ++t) {
    for (auto& v : vals) v = nd(rng);
    quantize_row_q8_0(vals.data(), reinterpret_cast<uint8_t*>(xq.data() + t * nb), c.K);
  }
  for (size_t i = 0; i < xq.size(); ++i) {
    xd[i] = f16_to_f32(xq[i].d);
    xoff[i] = 0;
    for (int j = 0; j < kQK8_0; ++j) xoff[i] += xq[i].qs[j];
    xoff[i] *= -128;
  }
  std::vector<uint8_t> panel(q8_0_panel_bytes(c.K));
  const int64_t ldy = 37;
  for (int r0 = 0; r0 < c.rows; r0 += 32) {
    const int nr = std::min(32, c.rows - r0);
    k.pack_q8_0_panel(w.data() + size_t(r0) * row_stride, row_stride, nr, c.K, panel.data());
    std::vector<float> part(size_t(c.n_tok * ldy), NAN);
    k.gemm_q8_0_panel(panel.data(), c.K, xq.data(), xd.data(), xoff.data(), c.n_tok, part.data(), ldy, nr,
                      r0 + 32 < c.rows ? w.data() + size_t(r0 + 32) * row_stride : nullptr, row_stride,
                      std::min(32, c.rows - r0 - 32));
    for (int t = 0; t < c.n_tok; ++t) {
      for (int i = nr; i < 32 && i < ldy; ++i)  // rows past n_rows are not written
        ASSERT_TRUE(std::isnan(part[size_t(t * ldy + i)])) << "row " << i << " written past n_rows " << nr;
    }
    for (int t = 0; t < c.n_tok; ++t)
      for (int i = 0; i < nr; ++i) {
        const BlockQ8_0* wr = reinterpret_cast<const BlockQ8_0*>(w.data() + size_t(r0 + i) * row_stride);
        double exact = 0, mag = 0;
        for (int64_t b = 0; b < nb; ++b) {
          int64_t dot = 0;
          for (int j = 0; j < kQK8_0; ++j) dot += int64_t(wr[b].qs[j]) * xq[size_t(t * nb + b)].qs[j];
          const double term = double(f16_to_f32(wr[b].d)) * double(xd[size_t(t * nb + b)]) * double(dot);
          exact += term;
          mag += std::fabs(term);
        }
        const double got = part[size_t(t * ldy + i)];
        const double bound = double(nb + 2) * 1.2e-7 * mag + 1e-30;
        ASSERT_LE(std::fabs(got - exact), bound)
            << k.name << " rows " << c.rows << " K " << c.K << " tokens " << c.n_tok << ": row " << r0 + i
            << " token " << t << " got " << got << " expected " << exact;
      }
  }
}

const Case kCases[] = {{32, 32, 1}, {32, 64, 6}, {7, 96, 5}, {45, 160, 13}, {64, 2048, 12}, {33, 352, 7}, {1, 32, 3}};

TEST(GemmQ8, ReferenceMatchesDoubleProduct) {
  uint32_t seed = 1;
  for (const Case& c : kCases) check(ref_kernels(), c, seed++);
}

TEST(GemmQ8, Avx512MatchesDoubleProduct) {
  if (!cpu_has_avx512() || !avx512_kernels()) GTEST_SKIP() << "CPU has no AVX-512";
  uint32_t seed = 100;
  for (const Case& c : kCases) check(*avx512_kernels(), c, seed++);
}

// The packed layout is the table's own business, but both tables must agree on it bit for bit: the AVX-512
// packer is checked against the scalar one.
TEST(GemmQ8, Avx512PacksLikeReference) {
  if (!cpu_has_avx512() || !avx512_kernels()) GTEST_SKIP() << "CPU has no AVX-512";
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t K : {32, 64, 96, 608}) {
    for (int rows : {1, 16, 17, 32}) {
      const size_t stride = size_t(K / 32) * sizeof(BlockQ8_0);
      const auto w = random_rows(GgmlType::Q8_0, rows, K, [&](int64_t) { return nd(rng); });
      std::vector<uint8_t> a(q8_0_panel_bytes(K)), b(q8_0_panel_bytes(K));
      ref_kernels().pack_q8_0_panel(w.data(), stride, rows, K, a.data());
      avx512_kernels()->pack_q8_0_panel(w.data(), stride, rows, K, b.data());
      ASSERT_EQ(a, b) << "K " << K << " rows " << rows;
    }
  }
}

// q8_0_panel_row gives each packed row back as the blocks it was packed from.
TEST(GemmQ8, PanelRowsUnpackToTheStoredBlocks) {
  std::mt19937 rng(6);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t K : {32, 96, 608}) {
    const int rows = 32;
    const size_t stride = size_t(K / 32) * sizeof(BlockQ8_0);
    const auto w = random_rows(GgmlType::Q8_0, rows, K, [&](int64_t r) { return nd(rng) * float(r + 1); });
    std::vector<uint8_t> panel(q8_0_panel_bytes(K)), back(stride);
    kernels().pack_q8_0_panel(w.data(), stride, rows, K, panel.data());
    for (int r = 0; r < rows; ++r) {
      q8_0_panel_row(panel.data(), K, r, reinterpret_cast<BlockQ8_0*>(back.data()));
      ASSERT_EQ(0, std::memcmp(back.data(), w.data() + size_t(r) * stride, stride)) << "K " << K << " row " << r;
    }
  }
}

// The AVX-512 activation quantiser must write the reference's bytes exactly (llama.cpp's quantize_row_q8_0),
// including ties, which roundf rounds away from zero: with max|x| = 127 the scale is 1 and x = k + 0.5 is a tie.
TEST(GemmQ8, Avx512QuantiserIsBitIdentical) {
  if (!cpu_has_avx512() || !avx512_kernels()) GTEST_SKIP() << "CPU has no AVX-512";
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(32 * 300));
  for (size_t i = 0; i < x.size(); ++i) x[i] = nd(rng) * std::exp(nd(rng) * 3.0f);
  for (int j = 0; j < 32; ++j) x[size_t(j)] = 0.0f;  // an all-zero block (scale 0)
  for (int j = 0; j < 32; ++j) x[size_t(32 + j)] = j == 0 ? 127.0f : float(j % 2 ? 1 : -1) * (float(j) + 0.5f);
  std::vector<uint8_t> a(row_bytes(GgmlType::Q8_0, int64_t(x.size()))), b(a.size());
  quantize_row_q8_0(x.data(), a.data(), int64_t(x.size()));
  avx512_kernels()->quantize_q8_0(x.data(), b.data(), int64_t(x.size()));
  ASSERT_EQ(a, b);
  const BlockQ8_0* ties = reinterpret_cast<const BlockQ8_0*>(a.data()) + 1;
  EXPECT_EQ(ties->qs[1], 2);    // 1.5 -> 2
  EXPECT_EQ(ties->qs[2], -3);   // -2.5 -> -3
}

// Batches of lower-bit weights (here Q4_K) are requantised to q8_0 for the integer GEMM (as the activations are).
// Each 8-bit rounding moves a value by at most half a step of max|block|/127, so on random data the product stays
// within a few 1/127 of sum |w x| of the exact double product of the dequantised weights and f32 activations; we
// allow 2/127 (a tolerance from that estimate, not a worst-case bound). A wrong scale or offset misses it by far.
TEST(GemmQ8, RequantisedQ4KBatchStaysWithinEightBitError) {
  select_kernels(KernelChoice::Auto);
  set_quantized_activations(true);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t rows = 70, K = 512, n_tok = 9;
  const size_t stride = row_bytes(GgmlType::Q4_K, K);
  const auto w = random_rows(GgmlType::Q4_K, rows, K, [&](int64_t) { return nd(rng); });
  std::vector<float> x(static_cast<size_t>(K * n_tok)), y(static_cast<size_t>(rows * n_tok));
  for (auto& e : x) e = nd(rng);
  Mat m = stored_rows(GgmlType::Q4_K, rows, K, w.data());
  ThreadPool pool(2);
  matmul(pool, m, x.data(), n_tok, y.data());
  std::vector<float> wr(static_cast<size_t>(K));
  for (int64_t r = 0; r < rows; ++r) {
    ref_kernels().of(GgmlType::Q4_K).dequant(w.data() + size_t(r) * stride, wr.data(), K);
    for (int64_t t = 0; t < n_tok; ++t) {
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        exact += double(wr[size_t(k)]) * x[size_t(t * K + k)];
        mag += std::fabs(double(wr[size_t(k)]) * x[size_t(t * K + k)]);
      }
      ASSERT_LE(std::fabs(y[size_t(t * rows + r)] - exact), 2.0 / 127.0 * mag + 1e-6) << "row " << r << " token " << t;
    }
  }
}

}  // namespace
}  // namespace seek

#include "model/repack.h"

namespace seek {
namespace {

// A Q8_0 matrix held as panels (model/repack.h) multiplies like the stored rows: every output within the block
// bound of the double product of what the blocks hold (as above), serial and pooled, for 1..40 tokens and for a
// slice at a panel boundary; and a token's result has the same bits whatever other tokens share the product
// (continuous batching gives a sequence what it gets alone), and whether its activations come quantised (Q8Batch,
// gathered rows) or as f32.
void check_repacked(KernelChoice choice) {
  ASSERT_TRUE(select_kernels(choice));
  set_quantized_activations(true);
  ASSERT_TRUE(repack_available()) << kernels().name;
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const auto& [rows, K] : {std::pair<int64_t, int64_t>{70, 352}, {96, 2048}, {5, 32}}) {
    const size_t stride = row_bytes(GgmlType::Q8_0, K);
    const auto w = random_rows(GgmlType::Q8_0, rows, K, [&](int64_t) { return nd(rng) * std::exp(nd(rng)); });
    Mat m = stored_rows(GgmlType::Q8_0, rows, K, w.data());
    Mat p = m;
    ThreadPool pool(2);
    const PackedWeights packed = repack_q8_0({&p, &p}, pool, nullptr, 0);
    ASSERT_TRUE(p.panels());
    ASSERT_EQ(packed.matrices, 1);
    ASSERT_EQ(packed.bytes, size_t((rows + 31) / 32 * 32) * stride);  // as many bytes per row as stored
    const int64_t nb = K / kQK8_0;
    for (int64_t n_tok : {1, 2, 3, 5, 8, 9, 16, 17, 40}) {
      std::vector<float> x(static_cast<size_t>(K * n_tok));
      for (auto& e : x) e = nd(rng);
      std::vector<float> y(static_cast<size_t>(rows * n_tok)), ys(y.size()), y1(static_cast<size_t>(rows));
      matmul(pool, p, x.data(), n_tok, y.data());
      matmul_serial(p, x.data(), K, n_tok, ys.data(), rows);
      ASSERT_EQ(y, ys) << "pooled and serial differ, " << rows << "x" << K << ", " << n_tok << " tokens";
      // Quantised once (Q8Batch, pooled or not) for several products: the same bits; gathered rows, each its own.
      Q8Batch xb, xb1, picked;
      quantize_batch(&pool, x.data(), K, n_tok, K, xb);
      quantize_batch(nullptr, x.data(), K, n_tok, K, xb1);
      ASSERT_TRUE(takes_q8_batch(p) && !takes_q8_batch(m));
      std::vector<float> yb(y.size()), yb1(y.size());
      matmul(pool, p, xb, yb.data(), rows);
      matmul_serial(p, xb1, yb1.data(), rows);
      ASSERT_EQ(yb, y) << "a Q8Batch product differs, " << n_tok << " tokens";
      ASSERT_EQ(yb1, y) << "a serially quantised Q8Batch product differs, " << n_tok << " tokens";
      std::vector<int64_t> order(static_cast<size_t>(n_tok));
      for (int64_t t = 0; t < n_tok; ++t) order[size_t(t)] = (t * 7 + 3) % n_tok;  // any order, rows repeated
      gather_batch(xb, order.data(), n_tok, picked);
      std::vector<float> yg(y.size());
      matmul_serial(p, picked, yg.data(), rows);
      for (int64_t t = 0; t < n_tok; ++t)
        for (int64_t r = 0; r < rows; ++r)
          ASSERT_EQ(yg[size_t(t * rows + r)], y[size_t(order[size_t(t)] * rows + r)]) << "gathered row " << t;
      std::vector<BlockQ8_0> xq(static_cast<size_t>(nb));
      for (int64_t t = 0; t < n_tok; ++t) {
        matmul(pool, p, x.data() + t * K, 1, y1.data());
        for (int64_t r = 0; r < rows; ++r)
          ASSERT_EQ(y[size_t(t * rows + r)], y1[size_t(r)]) << "token " << t << " of " << n_tok << ", row " << r;
        quantize_row_q8_0(x.data() + t * K, reinterpret_cast<uint8_t*>(xq.data()), K);
        for (int64_t r = 0; r < rows; ++r) {
          const BlockQ8_0* wr = reinterpret_cast<const BlockQ8_0*>(w.data() + size_t(r) * stride);
          double exact = 0, mag = 0;
          for (int64_t b = 0; b < nb; ++b) {
            int64_t dot = 0;
            for (int j = 0; j < kQK8_0; ++j) dot += int64_t(wr[b].qs[j]) * xq[size_t(b)].qs[j];
            const double term = double(f16_to_f32(wr[b].d)) * double(f16_to_f32(xq[size_t(b)].d)) * double(dot);
            exact += term;
            mag += std::fabs(term);
          }
          ASSERT_LE(std::fabs(y[size_t(t * rows + r)] - exact), double(nb + 2) * 1.2e-7 * mag + 1e-30)
              << kernels().name << " " << rows << "x" << K << ", " << n_tok << " tokens: row " << r << " token " << t;
        }
      }
      if (rows > 32) {  // the rows from the second panel on, as their own matrix
        std::vector<float> ysl(static_cast<size_t>((rows - 32) * n_tok));
        matmul(pool, p.slice_rows(32, rows - 32), x.data(), n_tok, ysl.data());
        for (int64_t t = 0; t < n_tok; ++t)
          for (int64_t r = 32; r < rows; ++r)
            ASSERT_EQ(ysl[size_t(t * (rows - 32) + r - 32)], y[size_t(t * rows + r)]) << "slice row " << r;
      }
    }
  }
  select_kernels(KernelChoice::Auto);
}

TEST(Repack, Avx512PanelsMatchDoubleProductAndAreBatchInvariant) {
  if (!cpu_has_avx512() || !avx512_kernels()) GTEST_SKIP() << "CPU has no AVX-512";
  check_repacked(KernelChoice::Avx512);
}

TEST(Repack, ReferencePanelsMatchDoubleProductAndAreBatchInvariant) { check_repacked(KernelChoice::Ref); }

// Panels that would not fit the memory given are declined whole: every view keeps its rows.
TEST(Repack, DeclinedWhenThePanelsExceedTheBudget) {
  select_kernels(KernelChoice::Auto);
  set_quantized_activations(true);
  const int64_t rows = 64, K = 64;
  const size_t stride = row_bytes(GgmlType::Q8_0, K);
  std::vector<uint8_t> w(size_t(rows) * stride, 0);
  Mat a = stored_rows(GgmlType::Q8_0, rows, K, w.data());
  Mat b = a.slice_rows(32, 32);
  a = a.slice_rows(0, 32);
  ThreadPool pool(1);
  const PackedWeights packed = repack_q8_0({&a, &b}, pool, nullptr, 0, size_t(rows) * stride - 1);
  EXPECT_EQ(packed.declined_bytes, size_t(rows) * stride);
  EXPECT_EQ(packed.bytes, 0u);
  EXPECT_FALSE(a.panels() || b.panels());
  EXPECT_EQ(a.data, w.data());
  const PackedWeights fits = repack_q8_0({&a, &b}, pool, nullptr, 0, size_t(rows) * stride);
  EXPECT_EQ(fits.bytes, size_t(rows) * stride);
  EXPECT_TRUE(a.panels() && b.panels());
}

// Only Q8_0 matrices whose width is whole blocks are repacked; the others keep their rows.
TEST(Repack, LeavesOtherMatricesAsStored) {
  select_kernels(KernelChoice::Auto);
  set_quantized_activations(true);
  std::vector<uint8_t> bytes(4096, 0);
  Mat f32 = stored_rows(GgmlType::F32, 4, 64, bytes.data());
  Mat empty;
  empty.type = GgmlType::Q8_0;
  ThreadPool pool(1);
  const PackedWeights packed = repack_q8_0({&f32, &empty, nullptr}, pool, nullptr, 0);
  EXPECT_EQ(packed.matrices, 0);
  EXPECT_EQ(packed.bytes, 0u);
  EXPECT_FALSE(f32.panels());
  EXPECT_EQ(f32.data, bytes.data());
}

// Up to 16 tokens, a type with a prepared dot (here Q4_K and Q6_K, Q4_K_M's pair) reads each row once, in passes
// of at most 8 tokens: every token gets exactly the bits it gets alone, pooled or serial, and the result stays
// within the type's 8-bit-activation error of the double product of the dequantised weights.
TEST(GemmQ8, PreparedRowPassesGiveEachTokenItsOwnBits) {
  select_kernels(KernelChoice::Auto);
  set_quantized_activations(true);
  std::mt19937 rng(17);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K}) {
    const int64_t rows = 70, K = 512;
    const size_t stride = row_bytes(type, K);
    const auto w = random_rows(type, rows, K, [&](int64_t) { return nd(rng); });
    Mat m = stored_rows(type, rows, K, w.data());
    ThreadPool pool(2);
    std::vector<float> wr(static_cast<size_t>(rows * K));
    for (int64_t r = 0; r < rows; ++r) ref_kernels().of(type).dequant(w.data() + size_t(r) * stride, wr.data() + r * K, K);
    for (int64_t n_tok : {9, 12, 16}) {
      std::vector<float> x(static_cast<size_t>(K * n_tok)), y(static_cast<size_t>(rows * n_tok)), ys(y.size()),
          y1(static_cast<size_t>(rows));
      for (auto& e : x) e = nd(rng);
      matmul(pool, m, x.data(), n_tok, y.data());
      matmul_serial(m, x.data(), K, n_tok, ys.data(), rows);
      ASSERT_EQ(y, ys) << traits(type).name << " " << n_tok << " tokens";
      for (int64_t t = 0; t < n_tok; ++t) {
        matmul(pool, m, x.data() + t * K, 1, y1.data());
        for (int64_t r = 0; r < rows; ++r) {
          ASSERT_EQ(y[size_t(t * rows + r)], y1[size_t(r)]) << traits(type).name << " token " << t << " of " << n_tok;
          double exact = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            exact += double(wr[size_t(r * K + k)]) * x[size_t(t * K + k)];
            mag += std::fabs(double(wr[size_t(r * K + k)]) * x[size_t(t * K + k)]);
          }
          ASSERT_LE(std::fabs(y[size_t(t * rows + r)] - exact), 2.0 / 127.0 * mag + 1e-6);
        }
      }
    }
  }
}

}  // namespace
}  // namespace seek
