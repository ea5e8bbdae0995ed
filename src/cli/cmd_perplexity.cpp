// seek perplexity: perplexity of a text file computed as llama.cpp's llama-perplexity does: the text tokenised
// with BOS, cut into non-overlapping chunks of --ctx tokens (each chunk's first token replaced by BOS), and the
// second half of each chunk scored. Prints a running estimate per chunk; the last line is "perplexity: X".
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/common.h"
#include "cli/commands.h"
#include "engine/session.h"

namespace seek::cli {

namespace {

constexpr const char* kHelp =
    "usage: seek perplexity [-m MODEL] -f TEXT [--ctx N] [--chunks K] [-b BATCH] [-t THREADS] [--json]\n";

// -log softmax(logits)[target], accumulated in double.
double nll(const float* logits, int64_t n, int32_t target) {
  float mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - mx);
  return -(double(logits[target]) - mx - std::log(sum));
}

}  // namespace

int cmd_perplexity(int argc, char** argv) {
  auto flags = common_value_flags();
  flags.insert(flags.end(), {"-f", "--file", "--ctx", "-c", "--chunks", "-b", "--batch"});
  auto switches = common_switches();
  switches.push_back("--json");
  Args a("perplexity", flags, switches);
  if (auto r = a.parse(argc, argv); !r) return usage_error("perplexity", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  auto file = a.str("-f") ? a.str("-f") : a.str("--file");
  if (!file) return usage_error("perplexity", "give the text file with -f FILE");
  std::ifstream in(*file, std::ios::binary);
  if (!in) return fail("perplexity", *file + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // As llama.cpp's -f does: one trailing newline is not part of the text.
  if (!text.empty() && text.back() == '\n') text.pop_back();

  auto loaded = load_model_and_tokenizer(model_arg(a), true);
  if (!loaded) return fail("perplexity", loaded.error().message);
  Model& model = *loaded->model;
  const Tokenizer& tok = *loaded->tokenizer;
  auto threads = apply_common_options(a, &model, &loaded->load_ms);
  if (!threads) return usage_error("perplexity", threads.error().message);
  auto ctx = a.integer(a.has("-c") ? "-c" : "--ctx", std::min<long long>(512, model.n_ctx_train()), 2,
                       model.n_ctx_train());
  auto max_chunks = a.integer("--chunks", 0, 0, 1 << 30);
  auto batch = a.integer(a.has("-b") ? "-b" : "--batch", 512, 1, 1 << 20);
  for (auto* r : {&ctx, &max_chunks, &batch})
    if (!*r) return usage_error("perplexity", r->error().message);

  const std::vector<int32_t> tokens = tok.encode(text, tok.add_bos(), false);
  const int64_t n_ctx = *ctx;
  if (auto r = check_kv_memory(model, 1, n_ctx, "-c/--ctx"); !r) return usage_error("perplexity", r.error().message);
  int64_t n_chunks = int64_t(tokens.size()) / n_ctx;
  if (*max_chunks > 0) n_chunks = std::min<int64_t>(n_chunks, *max_chunks);
  if (int64_t(tokens.size()) < 2 * n_ctx)  // llama-perplexity's requirement too
    return fail("perplexity", "the text has " + std::to_string(tokens.size()) + " tokens; at least 2 x --ctx = " +
                                  std::to_string(2 * n_ctx) + " are needed (use a smaller --ctx)");
  const bool json = a.has("--json");
  if (!json)
    std::fprintf(stderr, "perplexity: %zu tokens, %lld chunks of %lld, scoring the second half of each\n",
                 tokens.size(), (long long)n_chunks, (long long)n_ctx);

  ThreadPool pool(*threads);
  Session session(model, pool, n_ctx);
  const int64_t V = model.n_vocab(), first = n_ctx / 2;
  double nll_sum = 0.0, nll2_sum = 0.0;
  int64_t count = 0;
  std::vector<float> logits;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
    if (tok.add_bos() && tok.bos() >= 0) chunk[0] = tok.bos();
    session.reset();
    if (auto r = session.eval(chunk, true, logits, *batch); !r) return fail("perplexity", r.error().message);
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const double v = nll(logits.data() + j * V, V, tokens[size_t(c * n_ctx + j + 1)]);
      nll_sum += v;
      nll2_sum += v * v;
      ++count;
    }
    if (!json) {
      std::fprintf(stderr, "[%lld]%.4f%s", (long long)(c + 1), std::exp(nll_sum / count), c + 1 == n_chunks ? "\n" : ",");
      std::fflush(stderr);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mean = nll_sum / count, ppl = std::exp(mean);
  // Standard error of the mean NLL, carried to the perplexity (as llama-perplexity reports it).
  const double var = std::max(0.0, nll2_sum / count - mean * mean);
  const double err_ppl = ppl * std::sqrt(var / std::max<int64_t>(1, count - 1));
  if (json) {
    nlohmann::json j = {{"perplexity", ppl},     {"ppl_stderr", err_ppl}, {"n_tokens", tokens.size()},
                        {"n_chunks", n_chunks},  {"ctx", n_ctx},          {"n_scored", count},
                        {"nll_sum", nll_sum},    {"seconds", secs},       {"threads", *threads}};
    std::puts(j.dump().c_str());
  } else {
    std::printf("estimate: %.4f +/- %.4f (%lld tokens scored, %.1f s)\n", ppl, err_ppl, (long long)count, secs);
    std::printf("perplexity: %.4f\n", ppl);
  }
  return 0;
}

}  // namespace seek::cli
