// Model + tokenizer loading and the options every model-running command shares.
#include "cli/common.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "formats/gguf.h"
#include "cli/progress.h"
#include "core/memory_stats.h"
#include "kernels/kernels.h"
#include "model/repack.h"

namespace seek::cli {

namespace {

// The memory figure the checks compare against: MemAvailable, or SEEK_TEST_AVAILABLE_MEMORY (tests only).
int64_t memory_available() {
  if (const char* m = std::getenv("SEEK_TEST_AVAILABLE_MEMORY")) return std::atoll(m);
  return available_memory_bytes();
}

std::string bytes_text(double b) {
  char buf[32];
  if (b >= 1e12) std::snprintf(buf, sizeof buf, "%.1f TB", b / 1e12);
  else if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f KB", b / 1e3);
  return buf;
}

}  // namespace

Result<Loaded> load_model_and_tokenizer(const std::string& path, bool need_tokenizer) {
  const auto t0 = std::chrono::steady_clock::now();
  auto f = open_model_file(path);
  if (!f) return f.error();
  auto file = std::make_shared<GgufFile>(std::move(*f));
  Loaded l;
  // The model first: a file of another architecture should be reported as that, not as a tokenizer problem.
  auto m = load_model_from_gguf(file);
  if (!m) return m.error();
  l.model = std::move(*m);
  auto vocab = vocab_from_gguf(*file);
  if (!vocab && need_tokenizer) return vocab.error();
  if (vocab) {
    auto tok = Tokenizer::create(std::move(*vocab));
    if (!tok && need_tokenizer) return err("%s: tokenizer: %s", path.c_str(), tok.error().message.c_str());
    if (tok) l.tokenizer.emplace(std::move(*tok));
  }
  if (l.tokenizer && l.tokenizer->n_vocab() > l.model->n_vocab())
    return err("%s: the tokenizer has %d tokens but the model's embedding has only %lld rows", path.c_str(),
               l.tokenizer->n_vocab(), (long long)l.model->n_vocab());
  l.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return l;
}

std::string model_arg(const Args& a) {
  if (auto m = a.str("-m")) return *m;
  if (auto m = a.str("--model")) return *m;
  return default_model_path();
}

Result<int> apply_common_options(const Args& a, Model* model, double* load_ms) {
  const long long hw = std::max(1u, std::thread::hardware_concurrency());
  std::string tflag = a.has("--threads") ? "--threads" : "-t";
  auto threads = a.integer(tflag, hw, 1, 1024);
  if (!threads) return threads.error();
  if (auto k = a.str("--kernels")) {
    KernelChoice c;
    if (*k == "ref") c = KernelChoice::Ref;
    else if (*k == "auto") c = KernelChoice::Auto;
    else if (*k == "avx2") c = KernelChoice::Avx2;
    else if (*k == "avx512") c = KernelChoice::Avx512;
    else return err("option --kernels must be auto, ref, avx2 or avx512, got '%s'", k->c_str());
    if (!select_kernels(c)) return err("--kernels %s: this CPU or build has no %s kernels", k->c_str(), k->c_str());
  } else {
    select_kernels(KernelChoice::Auto);
  }
  set_quantized_activations(!a.has("--f32-activations"));
  if (auto m = a.str("--mla")) {
    if (*m == "naive") model->options.mla = MlaMode::Naive;
    else if (*m == "absorbed") model->options.expand = ExpandedPrefill::Never;
    else if (*m == "expanded") model->options.expand = ExpandedPrefill::Always;
    else if (*m != "auto") return err("option --mla must be auto, absorbed, expanded or naive, got '%s'", m->c_str());
  }
  if (!a.has("--no-repack") && repack_available()) {
    const auto t0 = std::chrono::steady_clock::now();
    ThreadPool pool{static_cast<int>(*threads)};
    Progress p("repacking Q8_0 weights");
    // The panels are anonymous memory: a model that does not fit beside what is already used stays mapped.
    const int64_t avail = memory_available();
    const size_t budget = avail < 0 ? SIZE_MAX : size_t(double(avail) * 0.8);  // the rest: caches, activations
    const Model::RepackReport r =
        model->repack_weights(pool, budget, [&p](size_t done, size_t total) { p.update(done, total); });
    if (r.repacked_bytes > 0) p.done();
    if (r.declined_bytes > 0) {
      std::fprintf(stderr, "seek: Q8_0 weights kept as stored: repacking them takes %s and %s of memory is available\n",
                   bytes_text(double(r.declined_bytes)).c_str(), bytes_text(double(avail)).c_str());
    }
    if (load_ms) *load_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  return int(*threads);
}

Result<void> check_kv_memory(const Model& model, int64_t n_seq, int64_t n_ctx, const char* options) {
  const int64_t avail = memory_available();
  if (avail < 0) return {};
  // In double: n_seq x n_ctx x bytes per token can pass 2^63 for absurd arguments.
  const double need = double(n_seq) * double(n_ctx) * double(model.kv_bytes_per_token());
  if (need <= double(avail)) return {};
  const std::string what = n_seq == 1 ? "the KV cache of one sequence of " + std::to_string(n_ctx) + " tokens"
                                      : "the KV caches of " + std::to_string(n_seq) + " sequences of " +
                                            std::to_string(n_ctx) + " tokens";
  return err("%s take%s %s and %s of memory is available (lower %s)", what.c_str(), n_seq == 1 ? "s" : "",
             bytes_text(need).c_str(), bytes_text(double(avail)).c_str(), options);
}

}  // namespace seek::cli
