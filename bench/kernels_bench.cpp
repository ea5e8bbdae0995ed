// Google Benchmark of the decode kernels: one matrix-vector product over a weight matrix larger than the caches,
// per type and kernel table, reported as bytes of weights read per second (the decode speed limit).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {
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

void matvec(benchmark::State& state, GgmlType type, Table which) {
  if (!table(which)) {
    state.SkipWithError("this CPU cannot run the table");
    return;
  }
  const KernelTable& k = *table(which);
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

#define SEEK_MATVEC(name, type, table) \
  BENCHMARK_CAPTURE(matvec, name, type, table)->Unit(benchmark::kMillisecond)

SEEK_MATVEC(q8_0_avx512, GgmlType::Q8_0, Table::Avx512);
SEEK_MATVEC(q8_0_avx2, GgmlType::Q8_0, Table::Avx2);
SEEK_MATVEC(q8_0_ref, GgmlType::Q8_0, Table::Ref);
SEEK_MATVEC(f16_avx512, GgmlType::F16, Table::Avx512);
SEEK_MATVEC(f16_avx2, GgmlType::F16, Table::Avx2);
SEEK_MATVEC(f16_ref, GgmlType::F16, Table::Ref);
SEEK_MATVEC(bf16_avx512, GgmlType::BF16, Table::Avx512);
SEEK_MATVEC(bf16_avx2, GgmlType::BF16, Table::Avx2);
SEEK_MATVEC(f32_avx512, GgmlType::F32, Table::Avx512);
SEEK_MATVEC(f32_avx2, GgmlType::F32, Table::Avx2);
SEEK_MATVEC(q4_0_avx2, GgmlType::Q4_0, Table::Avx2);
SEEK_MATVEC(q4_0_ref, GgmlType::Q4_0, Table::Ref);
SEEK_MATVEC(q5_0_avx2, GgmlType::Q5_0, Table::Avx2);
SEEK_MATVEC(q5_0_ref, GgmlType::Q5_0, Table::Ref);
SEEK_MATVEC(q4_K_avx2, GgmlType::Q4_K, Table::Avx2);
SEEK_MATVEC(q4_K_ref, GgmlType::Q4_K, Table::Ref);
SEEK_MATVEC(q6_K_avx2, GgmlType::Q6_K, Table::Avx2);
SEEK_MATVEC(q6_K_ref, GgmlType::Q6_K, Table::Ref);

}  // namespace
}  // namespace seek

BENCHMARK_MAIN();
