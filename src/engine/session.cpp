// Session: bounds checks and batching around Model::forward.
#include "engine/session.h"

#include <algorithm>

namespace seek {

Session::Session(const Model& model, ThreadPool& pool, int64_t n_ctx)
    : model_(model), pool_(pool), n_ctx_(n_ctx), state_(model.new_state(n_ctx)) {}

Result<void> Session::eval(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>& logits,
                           int64_t batch) {
  const int64_t n = int64_t(tokens.size()), V = model_.n_vocab();
  if (n == 0) return err("nothing to evaluate: the token list is empty");
  for (int64_t i = 0; i < n; ++i)
    if (tokens[size_t(i)] < 0 || tokens[size_t(i)] >= V)
      return err("token id %d at position %lld is outside the vocabulary (0..%lld)", tokens[size_t(i)], (long long)i,
                 (long long)(V - 1));
  if (n_past_ + n > n_ctx_)
    return err("context is full: %lld tokens already, %lld more would exceed the context size %lld",
               (long long)n_past_, (long long)n, (long long)n_ctx_);
  logits.resize(size_t(all_logits ? n * V : V));
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t m = std::min(batch, n - i);
    const bool last = i + m == n;
    // A piece of the prompt before its last: no logits (the head is skipped).
    float* out = all_logits ? logits.data() + i * V : last ? logits.data() : nullptr;
    model_.forward(*state_, pool_, tokens.data() + i, m, n_past_, all_logits, out);
    n_past_ += m;
  }
  return {};
}

}  // namespace seek
