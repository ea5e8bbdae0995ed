// seek bench: prompt-processing and generation speed as llama-bench measures them (pp: one batch of -p tokens
// into an empty cache; tg: -n tokens one at a time from an empty cache), medians over -r repetitions after a
// warm-up, plus the bytes of weights decode reads per token and the resulting GB/s. With --parallel N also
// tg over N sequences decoded together (one forward per step, as seek serve --parallel batches them; llama.cpp's
// batched-bench measures the same), as aggregate tokens/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "cli/commands.h"
#include "engine/session.h"

namespace seek::cli {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Deterministic token ids that avoid the first few (special) ids.
std::vector<int32_t> bench_tokens(int64_t n, int64_t vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint64_t x = 88172645463325252ull;
  for (auto& id : t) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    id = int32_t(2 + x % uint64_t(std::max<int64_t>(1, vocab - 2)));
  }
  return t;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  auto flags = common_value_flags();
  flags.insert(flags.end(), {"-p", "-n", "-r", "--parallel"});
  auto switches = common_switches();
  switches.push_back("--json");
  Args a("bench", flags, switches);
  if (auto r = a.parse(argc, argv); !r) return usage_error("bench", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::puts("usage: seek bench [-m MODEL] [-p 512] [-n 128] [-t THREADS] [-r 3] [--parallel N] [--json] [--kernels auto|ref|avx2|avx512]");
    return 0;
  }
  auto pp = a.integer("-p", 512, 0, 1 << 20);
  auto tg = a.integer("-n", 128, 0, 1 << 20);
  auto reps = a.integer("-r", 3, 1, 1000);
  auto parallel = a.integer("--parallel", 0, 0, 256);
  for (auto* r : {&pp, &tg, &reps, &parallel})
    if (!*r) return usage_error("bench", r->error().message);
  auto loaded = load_model_and_tokenizer(model_arg(a), false);
  if (!loaded) return fail("bench", loaded.error().message);
  Model& model = *loaded->model;
  auto threads = apply_common_options(a, &model, &loaded->load_ms);
  if (!threads) return usage_error("bench", threads.error().message);
  const int64_t n_ctx = std::max<int64_t>({*pp, *tg, 1});
  if (n_ctx > model.n_ctx_train())
    return usage_error("bench", "-p/-n exceed the model's context (" + std::to_string(model.n_ctx_train()) + ")");
  if (auto r = check_kv_memory(model, *parallel + 1, n_ctx, "-p/-n or --parallel"); !r)
    return usage_error("bench", r.error().message);

  ThreadPool pool(*threads);
  Session session(model, pool, n_ctx);
  std::vector<float> logits;
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  const auto prompt = bench_tokens(std::max<int64_t>(*pp, *tg), model.n_vocab());

  // Warm-up: touches the weights (page cache) and the allocator once.
  if (auto r = session.eval({prompt[0]}, false, logits); !r) return fail("bench", r.error().message);

  std::vector<double> pp_s, tg_s;
  for (long long rep = 0; rep < *reps; ++rep) {
    if (*pp > 0) {
      session.reset();
      const std::vector<int32_t> batch(prompt.begin(), prompt.begin() + *pp);
      const auto t0 = clock::now();
      if (auto r = session.eval(batch, false, logits, *pp); !r) return fail("bench", r.error().message);
      pp_s.push_back(seconds(t0, clock::now()));
    }
    if (*tg > 0) {
      session.reset();
      const auto t0 = clock::now();
      for (long long i = 0; i < *tg; ++i)
        if (auto r = session.eval({prompt[size_t(i)]}, false, logits); !r) return fail("bench", r.error().message);
      tg_s.push_back(seconds(t0, clock::now()));
    }
  }
  // N sequences, each from an empty cache, one token each per step.
  std::vector<double> par_s;
  if (*parallel > 0 && *tg > 0) {
    const int64_t N = *parallel, V = model.n_vocab();
    std::vector<float> out(static_cast<size_t>(N * V));
    std::vector<int32_t> ids(static_cast<size_t>(N));
    for (long long rep = 0; rep < *reps; ++rep) {
      std::vector<std::unique_ptr<ModelState>> states;
      for (int64_t s = 0; s < N; ++s) states.push_back(model.new_state(n_ctx));
      std::vector<SeqChunk> chunks(static_cast<size_t>(N));
      const auto t0 = clock::now();
      for (long long i = 0; i < *tg; ++i) {
        for (int64_t s = 0; s < N; ++s) {
          ids[size_t(s)] = prompt[size_t((i + 7 * s) % int64_t(prompt.size()))];
          chunks[size_t(s)] = {states[size_t(s)].get(), &ids[size_t(s)], 1, i, false, out.data() + s * V};
        }
        model.forward_multi(pool, chunks.data(), chunks.size());
      }
      par_s.push_back(seconds(t0, clock::now()));
    }
  }
  const double par_tps = par_s.empty() ? 0.0 : double(*parallel) * double(*tg) / median(par_s);
  const double pp_tps = *pp > 0 ? double(*pp) / median(pp_s) : 0.0;
  const double tg_tps = *tg > 0 ? double(*tg) / median(tg_s) : 0.0;
  const double bytes = double(model.active_bytes_per_token());
  const double gbps = tg_tps * bytes / 1e9;
  if (a.has("--json")) {
    nlohmann::json j = {{"pp", {{"n", *pp}, {"tokens_per_s", pp_tps}}},
                        {"tg", {{"n", *tg}, {"tokens_per_s", tg_tps}, {"gb_per_s", gbps}}},
                        {"threads", *threads},
                        {"parallel", {{"sequences", *parallel}, {"tokens_per_s", par_tps}}},
                        {"repetitions", *reps},
                        {"model", model_arg(a)},
                        {"weight_bytes", model.weight_bytes()},
                        {"active_bytes_per_token", model.active_bytes_per_token()}};
    std::puts(j.dump().c_str());
  } else {
    std::printf("model: %s (%.2f GB of weights, %.1f MB read per decoded token), %d threads, median of %lld\n",
                model_arg(a).c_str(), model.weight_bytes() / 1e9, bytes / 1e6, *threads, *reps);
    if (*pp) std::printf("pp %6lld: %9.1f tokens/s\n", *pp, pp_tps);
    if (*tg) std::printf("tg %6lld: %9.1f tokens/s  %6.1f GB/s of weights\n", *tg, tg_tps, gbps);
    if (par_tps > 0)
      std::printf("tg %6lld x %lld sequences together: %9.1f tokens/s (%.2fx one sequence)\n", *tg, *parallel, par_tps,
                  par_tps / tg_tps);
  }
  return 0;
}

}  // namespace seek::cli
