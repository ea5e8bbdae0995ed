// Google Benchmark of the decode kernels: one matrix-vector product over a weight matrix larger than the caches,
// per type and kernel table, reported as bytes of weights read per second (the decode speed limit).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

void register_avx2_fp8_kernels(KernelTable& t);  // src/kernels/avx2/avx2_fp8.cpp: not yet in an AVX2 table

namespace {

void matvec(benchmark::State& state, GgmlType type, bool simd) {
  const KernelTable& k = simd && cpu_has_avx512() ? *avx512_kernels() : ref_kernels();
  const int64_t rows = 8192, cols = 4096;
  const size_t rb = row_bytes(type, cols);
  std::vector<uint8_t> w(rb * rows);
  std::mt19937 rng(1);
  std::vector<float> tmp(cols), x(cols), y(rows);
  std::normal_distribution<float> d(0, 1);
  for (auto& v : x) v = d(rng);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : tmp) v = d(rng);
    if (type == GgmlType::Q8_0) quantize_row_q8_0(tmp.data(), w.data() + r * rb, cols);
    else if (type == GgmlType::F32) std::memcpy(w.data() + r * rb, tmp.data(), rb);
    else for (size_t i = 0; i < rb; ++i) w[r * rb + i] = uint8_t(rng() & 0x3f);  // any bit pattern
  }
  std::vector<uint8_t> xq(row_bytes(GgmlType::Q8_0, cols));
  for (auto _ : state) {
    if (k.of(type).dot_q8) {  // as the decode path does: x quantised once, then every row
      k.quantize_q8_0(x.data(), xq.data(), cols);
      for (int64_t r = 0; r < rows; ++r)
        y[size_t(r)] = k.of(type).dot_q8(w.data() + r * rb, reinterpret_cast<const BlockQ8_0*>(xq.data()), cols);
    } else {
      for (int64_t r = 0; r < rows; ++r) y[size_t(r)] = k.of(type).dot(w.data() + r * rb, x.data(), cols);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(w.size()));
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
BENCHMARK_CAPTURE(matvec, q8_0_avx512, GgmlType::Q8_0, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec, q8_0_ref, GgmlType::Q8_0, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec, f16_avx512, GgmlType::F16, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec, bf16_avx512, GgmlType::BF16, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec, f32_avx512, GgmlType::F32, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec, q4_K_ref, GgmlType::Q4_K, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(matvec, q6_K_ref, GgmlType::Q6_K, false)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seek

BENCHMARK_MAIN();
