// Session: one sequence being decoded: a model, its cache, and the number of tokens already in it.
// Checks every token id and the context limit before the model sees them.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "core/result.h"
#include "core/thread_pool.h"
#include "model/model.h"

namespace seek {

class Session {
 public:
  Session(const Model& model, ThreadPool& pool, int64_t n_ctx);

  // Appends tokens, in chunks of at most `batch` tokens. logits receives the last token's logits (n_vocab), or
  // every token's (n * n_vocab) when all_logits.
  Result<void> eval(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>& logits, int64_t batch = 512);

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return n_ctx_; }
  void reset() { n_past_ = 0; }
  // Keeps the first n tokens of the cache (prefix reuse): later evals overwrite from position n on.
  void truncate(int64_t n) { n_past_ = std::min(n_past_, std::max<int64_t>(0, n)); }
  ModelState& state() { return *state_; }
  const Model& model() const { return model_; }

 private:
  const Model& model_;
  ThreadPool& pool_;
  int64_t n_ctx_;
  int64_t n_past_ = 0;
  std::unique_ptr<ModelState> state_;
};

}  // namespace seek
