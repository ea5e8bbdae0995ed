// What most subcommands do first: open a model (GGUF), its tokenizer, and a thread pool, reporting load time.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/args.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace seek::cli {

struct Loaded {
  std::unique_ptr<Model> model;
  std::optional<Tokenizer> tokenizer;
  double load_ms = 0;
};

// Options shared by run, perplexity and bench: -m, -t, --kernels, --mla.

// need_tokenizer: fail without a usable tokenizer. Otherwise a tokenizer is still loaded when the file has one
// seek can use (so ids given on the command line still decode to text), and left out when it has not.
Result<Loaded> load_model_and_tokenizer(const std::string& path, bool need_tokenizer);

// Applies -t/--threads, --kernels, --mla and --f32-activations from args, then (unless --no-repack) holds the
// model's Q8_0 weights as integer-GEMM panels (model/repack.h), adding the time that takes to *load_ms when given;
// returns the thread count.
Result<int> apply_common_options(const Args& a, Model* model, double* load_ms = nullptr);

// The flags apply_common_options reads, for Args' declarations.
inline std::vector<std::string> common_value_flags() { return {"-m", "--model", "-t", "--threads", "--kernels", "--mla"}; }
inline std::vector<std::string> common_switches() { return {"--f32-activations", "--no-repack", "--help", "-h"}; }

std::string model_arg(const Args& a);

// Whether n_seq KV caches of n_ctx tokens fit in the memory available now (after the weights): an error that names
// both sizes and the options to lower (`options`, e.g. "-c/--ctx or --parallel") when not; nothing is checked where
// /proc/meminfo is unreadable. The caches are faulted in when made, so past this they would end the process.
Result<void> check_kv_memory(const Model& model, int64_t n_seq, int64_t n_ctx, const char* options);

}  // namespace seek::cli
