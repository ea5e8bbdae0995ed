// Memory read bandwidth of this machine with 1 and 2 threads: each thread sums its half of a 1 GiB buffer with
// AVX-512 loads. This is the physical limit decode works against (each active weight byte is read once per token).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBytes = size_t(1) << 30;

__attribute__((target("avx512f"))) float sum_range(const float* p, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  for (size_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

void read_bandwidth(benchmark::State& state) {
  const int threads = int(state.range(0));
  static float* buf = [] {
    auto* b = static_cast<float*>(std::aligned_alloc(64, kBytes));
    // Distinct, normal values: pages of zeros can be shared by the kernel (KSM, the zero page) and read from cache,
    // and byte patterns that make denormal floats slow the adds down.
    const size_t n = kBytes / sizeof(float);
    for (size_t i = 0; i < n; ++i) b[i] = float(i % 65521) * 0.25f + 1.0f;
    return b;
  }();
  const size_t n = kBytes / sizeof(float), per = n / size_t(threads);
  std::vector<float> out(static_cast<size_t>(threads));
  for (auto _ : state) {
    std::vector<std::thread> ts;
    for (int t = 1; t < threads; ++t) ts.emplace_back([&, t] { out[size_t(t)] = sum_range(buf + size_t(t) * per, per); });
    out[0] = sum_range(buf, per);
    for (auto& t : ts) t.join();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kBytes));
}

BENCHMARK(read_bandwidth)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
