// Google Benchmark of the decode kernels: one matrix-vector product over a weight matrix larger than the caches,
// per type and kernel table, reported as bytes of weights read per second (the decode speed limit).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

void register_avx2_fp8_kernels(KernelTable& t);  // src/kernels/avx2/avx2_fp8.cpp: not yet in an AVX2 table

namespace {

enum class Table { Ref, Avx2, Avx512 };

// The table to measure, or null when this CPU cannot run it.
const KernelTable* table(Table t) {
  switch (t) {
    case Table::Ref: return &ref_kernels();
    case Table::Avx2: return cpu_has_avx2() ? avx2_kernels() : nullptr;
    case Table::Avx512: return cpu_has_avx512() ? avx512_kernels() : nullptr;
  }
  return nullptr;
}

enum class Path { Q8, Q8x, F32, Dequant };

// A weight matrix of 4096 columns and enough rows to fill ~64 MiB (twice the L3), so each pass streams it from
// memory as decode does.
struct Weights {
  int64_t rows, cols = 4096;
  size_t rb;
  std::vector<uint8_t> w;
};

// hot: ~512 KiB instead, which stays in L2: the kernel's arithmetic speed, the ceiling it reaches when memory
// keeps up.
Weights make_weights(GgmlType type, bool hot = false) {
  Weights m;
  m.rb = row_bytes(type, m.cols);
  m.rows = hot ? int64_t((512u << 10) / m.rb) : std::max<int64_t>(8192, int64_t((64u << 20) / m.rb));
  m.w.resize(m.rb * size_t(m.rows));
  std::mt19937 rng(1);
  std::vector<float> tmp(size_t(m.cols));
  std::normal_distribution<float> d(0, 1);
  for (int64_t r = 0; r < m.rows; ++r) {
    uint8_t* row = m.w.data() + size_t(r) * m.rb;
    if (type == GgmlType::Q8_0 || type == GgmlType::F32) {
      for (auto& v : tmp) v = d(rng);
      if (type == GgmlType::Q8_0) quantize_row_q8_0(tmp.data(), row, m.cols);
      else std::memcpy(row, tmp.data(), m.rb);
    } else {
      for (size_t i = 0; i < m.rb; ++i) row[i] = uint8_t(rng() & 0x3f);  // any bit pattern; halves stay finite
    }
  }
  return m;
}

// One matrix-vector product per iteration as the decode path runs it (x quantised once, then every row), or the
// f32-activation dot, or the prefill's dequantisation of 32-row panels (weights read, floats written to L2).
void matvec(benchmark::State& state, GgmlType type, bool simd, Path path, bool hot = false) {
  const KernelTable& k = simd && cpu_has_avx512() ? *avx512_kernels() : ref_kernels();
  const TypeKernels& tk = k.of(type);
  if ((path == Path::Q8 && !tk.dot_q8) || (path == Path::Q8x && !tk.dot_q8x) || !tk.dot) {
    state.SkipWithError("no kernel");
    return;
  }
  const Weights m = make_weights(type, hot);
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> x(size_t(m.cols)), y(size_t(m.rows)), panel(size_t(kGemmPanelRows * m.cols));
  for (auto& v : x) v = d(rng);
  std::vector<uint8_t> xq(row_bytes(GgmlType::Q8_0, m.cols));
  const auto* xb = reinterpret_cast<const BlockQ8_0*>(xq.data());
  std::vector<int8_t> qs(size_t(m.cols));
  std::vector<float> d16(size_t(m.cols / 16)), s16(size_t(m.cols / 16));
  const Q8Act xa{qs.data(), d16.data(), s16.data()};
  for (auto _ : state) {
    if (path == Path::Q8) {
      k.quantize_q8_0(x.data(), xq.data(), m.cols);
      for (int64_t r = 0; r < m.rows; ++r) y[size_t(r)] = tk.dot_q8(m.w.data() + size_t(r) * m.rb, xb, m.cols);
    } else if (path == Path::Q8x) {
      k.quantize_q8_0(x.data(), xq.data(), m.cols);
      prepare_q8x(xb, m.cols, qs.data(), d16.data(), s16.data());
      for (int64_t r = 0; r < m.rows; ++r) tk.dot_q8x(m.w.data() + size_t(r) * m.rb, &xa, 1, m.cols, &y[size_t(r)]);
    } else if (path == Path::F32) {
      for (int64_t r = 0; r < m.rows; ++r) y[size_t(r)] = tk.dot(m.w.data() + size_t(r) * m.rb, x.data(), m.cols);
    } else {
      for (int64_t r = 0; r < m.rows; ++r)
        tk.dequant(m.w.data() + size_t(r) * m.rb, panel.data() + (r % kGemmPanelRows) * m.cols, m.cols);
      benchmark::DoNotOptimize(panel.data());
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m.w.size()));
}

// FP8 E4M3 with DeepSeek's 128x128 block scales: 8192 x 7168 (DeepSeek-V3's hidden size) bytes, 59 MB, more
// than the L3 of the machines we measure on. Codes are any finite byte; scales as DeepSeek's (~1e-4..1e-2).
enum class Fp8Table { Ref, Avx512, Avx2 };

const KernelTable& fp8_table(Fp8Table which) {
  static const KernelTable avx2 = [] {
    KernelTable t = ref_kernels();
    register_avx2_fp8_kernels(t);
    return t;
  }();
  if (which == Fp8Table::Avx512 && cpu_has_avx512()) return *avx512_kernels();
  if (which == Fp8Table::Avx2 && cpu_has_avx2()) return avx2;
  return ref_kernels();
}

void matvec_fp8(benchmark::State& state, Fp8Table which) {
  const KernelTable& k = fp8_table(which);
  const int64_t rows = 8192, cols = 7168, scale_cols = (cols + 127) / 128;
  std::vector<uint8_t> w(size_t(rows * cols));
  std::vector<float> scales(size_t((rows + 127) / 128 * scale_cols)), x(cols), y(rows);
  std::mt19937 rng(1);
  for (auto& c : w) do c = uint8_t(rng()); while ((c & 0x7f) == 0x7f);
  std::uniform_real_distribution<float> u(1e-4f, 1e-2f);
  for (auto& s : scales) s = u(rng);
  std::normal_distribution<float> d(0, 1);
  for (auto& v : x) v = d(rng);
  for (auto _ : state) {
    for (int64_t r = 0; r < rows; ++r)
      y[size_t(r)] = k.dot_f8_e4m3(w.data() + r * cols, scales.data() + (r / 128) * scale_cols, x.data(), cols);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(w.size() + scales.size() * 4));
}

BENCHMARK_CAPTURE(matvec_fp8, f8_e4m3_avx512, Fp8Table::Avx512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec_fp8, f8_e4m3_avx2, Fp8Table::Avx2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec_fp8, f8_e4m3_ref, Fp8Table::Ref)->Unit(benchmark::kMillisecond);
#define SEEK_BENCH(name, type, simd, path) \
  BENCHMARK_CAPTURE(matvec, name, type, simd, path)->Unit(benchmark::kMillisecond)

SEEK_BENCH(q8_0_avx512, GgmlType::Q8_0, true, Path::Q8);
SEEK_BENCH(q8_0_ref, GgmlType::Q8_0, false, Path::Q8);
SEEK_BENCH(f16_avx512, GgmlType::F16, true, Path::F32);
SEEK_BENCH(bf16_avx512, GgmlType::BF16, true, Path::F32);
SEEK_BENCH(f32_avx512, GgmlType::F32, true, Path::F32);

// The quantised types: decode (q8_0 activations) on both tables, the f32-activation dot and dequantisation.
#define SEEK_QUANT_BENCH(name, type)                            \
  SEEK_BENCH(name##_avx512, type, true, Path::Q8);               \
  SEEK_BENCH(name##_prepared_avx512, type, true, Path::Q8x);     \
  SEEK_BENCH(name##_ref, type, false, Path::Q8);                 \
  SEEK_BENCH(name##_f32act_avx512, type, true, Path::F32);       \
  SEEK_BENCH(name##_f32act_ref, type, false, Path::F32);         \
  SEEK_BENCH(name##_dequant_avx512, type, true, Path::Dequant);  \
  SEEK_BENCH(name##_dequant_ref, type, false, Path::Dequant)

// Arithmetic ceilings of the decode kernels (weights in L2).
#define SEEK_HOT_BENCH(name, type)                                                                     \
  BENCHMARK_CAPTURE(matvec, name##_hot_avx512, type, true, Path::Q8, true)->Unit(benchmark::kMicrosecond); \
  BENCHMARK_CAPTURE(matvec, name##_prepared_hot_avx512, type, true, Path::Q8x, true)->Unit(benchmark::kMicrosecond)
SEEK_HOT_BENCH(q8_0, GgmlType::Q8_0);
SEEK_HOT_BENCH(q4_0, GgmlType::Q4_0);
SEEK_HOT_BENCH(q4_K, GgmlType::Q4_K);
SEEK_HOT_BENCH(q5_K, GgmlType::Q5_K);
SEEK_HOT_BENCH(q6_K, GgmlType::Q6_K);

SEEK_QUANT_BENCH(q4_0, GgmlType::Q4_0);
SEEK_QUANT_BENCH(q5_0, GgmlType::Q5_0);
SEEK_QUANT_BENCH(q5_1, GgmlType::Q5_1);
SEEK_QUANT_BENCH(iq4_nl, GgmlType::IQ4_NL);
SEEK_QUANT_BENCH(q4_K, GgmlType::Q4_K);
SEEK_QUANT_BENCH(q5_K, GgmlType::Q5_K);
SEEK_QUANT_BENCH(q6_K, GgmlType::Q6_K);
SEEK_QUANT_BENCH(q2_K, GgmlType::Q2_K);
SEEK_QUANT_BENCH(q3_K, GgmlType::Q3_K);
SEEK_QUANT_BENCH(iq4_xs, GgmlType::IQ4_XS);

// Prefill as matmul runs it: per 32 rows of a Q8_0 matrix, dequantise, pack k-major, multiply with n_tok tokens.
// Reported as multiply-adds per second (items) — compute-bound, unlike decode.
void prefill(benchmark::State& state, Table which) {
  if (!table(which)) {
    state.SkipWithError("this CPU cannot run the table");
    return;
  }
  const KernelTable& k = *table(which);
  const int64_t rows = 1024, K = 2048, n_tok = state.range(0);
  const size_t rb = row_bytes(GgmlType::Q8_0, K);
  std::vector<uint8_t> w(rb * rows);
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> tmp(K), x(size_t(n_tok * K)), y(size_t(n_tok * rows));
  for (auto& v : x) v = d(rng);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : tmp) v = d(rng);
    quantize_row_q8_0(tmp.data(), w.data() + r * rb, K);
  }
  std::vector<float> packed_rows(size_t(kGemmPanelRows * K)), panel(size_t(kGemmPanelRows * K));
  for (auto _ : state) {
    for (int64_t r0 = 0; r0 < rows; r0 += kGemmPanelRows) {
      for (int64_t i = 0; i < kGemmPanelRows; ++i)
        k.of(GgmlType::Q8_0).dequant(w.data() + (r0 + i) * rb, packed_rows.data() + i * K, K);
      k.pack_panel(packed_rows.data(), K, panel.data());
      k.gemm_panel(panel.data(), K, x.data(), K, n_tok, y.data() + r0, rows, int(kGemmPanelRows));
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * rows * K * n_tok);
}

BENCHMARK_CAPTURE(prefill, q8_0_avx512, Table::Avx512)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(prefill, q8_0_avx2, Table::Avx2)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(prefill, q8_0_ref, Table::Ref)->Arg(64)->Unit(benchmark::kMillisecond);

// Decode attention over the MLA latent cache as the absorbed form runs it: 16 heads' queries of 576 values
// ([absorbed nope | rope]) meet the same cached rows (dot_rows_n), a softmax, then the weighted sum of the rows'
// first 512 values (sum_rows_n). Arg: cached positions. hot: one sequence's rows, left in L2 between passes; else 64
// sequences' rows in turn (~110 MiB at 768 positions), so each pass reads its rows from memory as decode does after
// a layer's weights went through the caches. Reported as multiply-adds per second.
void mla_decode_attention(benchmark::State& state, bool hot) {
  const KernelTable* k = table(Table::Avx512);
  if (!k || !k->dot_rows_n) {
    state.SkipWithError("this CPU has no many-query attention kernels");
    return;
  }
  constexpr int64_t H = 16, W = 576, R = 512;
  const int64_t n_rows = state.range(0), n_seq = hot ? 1 : 64;
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> q(size_t(H * W)), rows(size_t(n_seq * n_rows * W)), scores(size_t(H * n_rows)), ctx(size_t(H * R));
  for (auto& v : q) v = d(rng);
  for (auto& v : rows) v = d(rng);
  int64_t seq = 0;
  for (auto _ : state) {
    const float* r = rows.data() + seq * n_rows * W;
    seq = (seq + 1) % n_seq;
    k->dot_rows_n(q.data(), W, H, r, W, n_rows, W, 0.07f, scores.data(), n_rows);
    for (int64_t h = 0; h < H; ++h) k->softmax(scores.data() + h * n_rows, n_rows);
    k->sum_rows_n(scores.data(), n_rows, H, r, W, n_rows, R, ctx.data(), R);
    benchmark::DoNotOptimize(ctx.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * H * n_rows * (W + R));
}

BENCHMARK_CAPTURE(mla_decode_attention, hot_avx512, true)->Arg(192)->Arg(768)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mla_decode_attention, streamed_avx512, false)->Arg(192)->Arg(768)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace seek

BENCHMARK_MAIN();
