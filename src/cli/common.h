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

Result<Loaded> load_model_and_tokenizer(const std::string& path, bool need_tokenizer);

// Applies -t/--threads, --kernels and --mla from args; returns the thread count.
Result<int> apply_common_options(const Args& a, Model* model);

// The flags apply_common_options reads, for Args' declarations.
inline std::vector<std::string> common_value_flags() { return {"-m", "--model", "-t", "--threads", "--kernels", "--mla"}; }

std::string model_arg(const Args& a);

}  // namespace seek::cli
