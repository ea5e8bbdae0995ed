// One reply being generated: sampling (penalties, the JSON mask, temperature/top-p/top-k), log-probabilities,
// UTF-8-safe decoding, the reasoning split, stop strings, and the finish reason. Runs on the engine thread, one
// call per generated token; knows nothing of HTTP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/sampler.h"
#include "server/json_grammar.h"
#include "server/request.h"
#include "server/text_filters.h"
#include "tokenizer/tokenizer.h"

namespace seek::server {

struct GenerationSpec {
  GenerationOptions opts;
  int64_t max_tokens = 16;
  uint64_t seed = 0;                 // used when opts.sampling.seed is not set
  bool split_reasoning = false;      // chat: <think>...</think> goes to reasoning
  bool starts_in_reasoning = false;  // the prompt opened <think> (R1's template)
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // the most likely tokens, best first
};

// What one step adds to the reply.
struct Delta {
  std::string reasoning, content;
  std::vector<TokenLogprob> logprobs;
  void append(Delta&& d);
  bool empty() const { return reasoning.empty() && content.empty() && logprobs.empty(); }
};

class Generation {
 public:
  Generation(const Tokenizer& tok, GenerationSpec spec);

  // Samples the next token from the logits of the last evaluated token and returns the text it completes. When
  // finished() is still false afterwards, next_token() must be evaluated next.
  Delta step(const float* logits, int64_t n_vocab);
  // Ends the reply early ("length" when the context is full, "cancelled"...), releasing the text still held.
  Delta finish(const std::string& reason);

  bool finished() const { return !finish_reason_.empty(); }
  const std::string& finish_reason() const { return finish_reason_; }
  int32_t next_token() const { return next_; }
  int64_t n_generated() const { return n_generated_; }
  int64_t n_reasoning() const { return n_reasoning_; }
  bool had_reasoning() const { return splitter_.had_reasoning(); }

 private:
  int32_t sample(const float* logits, int64_t n_vocab, TokenLogprob* lp);
  void emit(std::string text, bool reasoning_token, Delta& out);
  void flush_into(Delta& out);

  const Tokenizer& tok_;
  GenerationSpec spec_;
  Sampler sampler_;
  StreamDecoder decoder_;
  ReasoningSplitter splitter_;
  StopMatcher stop_reasoning_, stop_content_;
  std::optional<JsonPrefix> json_;
  std::unordered_map<int32_t, int> counts_;  // for the presence/frequency penalties
  std::vector<float> work_;
  std::string finish_reason_;
  int32_t next_ = -1;
  int64_t n_generated_ = 0, n_reasoning_ = 0;
};

// Log-softmax of the sampled token and the top_n most likely ones (top_n may be 0).
TokenLogprob token_logprob(const float* logits, int64_t n_vocab, int32_t id, int top_n);

}  // namespace seek::server
