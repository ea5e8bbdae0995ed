// Google Benchmark of prefill products: a Q8_0 weight matrix (2048 x 2048) times a batch of tokens through
// model/ops.h's matmul on one thread, with the integer VNNI GEMM (activations quantised to q8_0, the default) and
// with the f32 panel GEMM (--f32-activations), reported as multiply-adds per second; and the matrix repacked into
// Q8_0 panels at load (model/repack.h) as a model's weights are, hot and streamed from memory.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/ops.h"
#include "model/repack.h"
#include "quant/blocks.h"

namespace seek {
namespace {

void prefill(benchmark::State& state, bool int8, bool repacked = false, int64_t rows = 2048) {
  select_kernels(KernelChoice::Auto);
  set_quantized_activations(int8);
  const int64_t cols = 2048, n_tok = state.range(0);
  const size_t rb = row_bytes(GgmlType::Q8_0, cols);
  std::vector<uint8_t> w(rb * rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> tmp(static_cast<size_t>(cols)), x(static_cast<size_t>(cols * n_tok)), y(static_cast<size_t>(rows * n_tok));
  for (auto& v : x) v = d(rng);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : tmp) v = d(rng);
    quantize_row_q8_0(tmp.data(), w.data() + size_t(r) * rb, cols);
  }
  Mat m;
  m.type = GgmlType::Q8_0;
  m.rows = rows;
  m.cols = cols;
  m.row_stride = rb;
  m.data = w.data();
  ThreadPool pool(1);
  PackedWeights packed;
  if (repacked) packed = repack_q8_0({&m}, pool, nullptr, 0);
  for (auto _ : state) {
    matmul(pool, m, x.data(), n_tok, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * rows * cols * n_tok);
  set_quantized_activations(true);
}

BENCHMARK_CAPTURE(prefill, q8_0_int8, true)->Arg(4)->Arg(5)->Arg(6)->Arg(8)->Arg(12)->Arg(16)->Arg(24)->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond);
// Repacked at load (model/repack.h): hot (4 MiB, in L2/L3 after the first pass) and streamed from memory (64 MiB).
BENCHMARK_CAPTURE(prefill, q8_0_repacked, true, true)->Arg(1)->Arg(2)->Arg(4)->Arg(6)->Arg(8)->Arg(12)->Arg(16)->Arg(24)->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(prefill, q8_0_repacked_streamed, true, true, 32768)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(48)->Arg(96)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(prefill, q8_0_f32, false)->Arg(4)->Arg(5)->Arg(6)->Arg(8)->Arg(12)->Arg(16)->Arg(24)->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seek

BENCHMARK_MAIN();
