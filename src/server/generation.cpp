// Sampling and the text pipeline of one reply: token -> StreamDecoder -> reasoning split -> stop strings.
#include "server/generation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace seek::server {

namespace {

constexpr float kMinLogprob = -9999.0f;  // what OpenAI reports for impossible tokens (JSON has no -inf)

bool is_think_tag(std::string_view piece) { return piece == "<think>" || piece == "</think>"; }

}  // namespace

void Delta::append(Delta&& d) {
  reasoning += d.reasoning;
  content += d.content;
  for (auto& lp : d.logprobs) logprobs.push_back(std::move(lp));
}

TokenLogprob token_logprob(const float* logits, int64_t n, int32_t id, int top_n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  const auto lp = [&](int64_t i) { return std::max(kMinLogprob, float(double(logits[i]) - lse)); };
  TokenLogprob out;
  out.id = id;
  out.logprob = lp(id);
  if (top_n > 0) {
    // Keep the top_n best in a small sorted list (ties: the lower id first).
    auto& top = out.top;
    for (int64_t i = 0; i < n; ++i) {
      if (int(top.size()) == top_n && logits[i] <= logits[top.back().first]) continue;
      auto at = std::find_if(top.begin(), top.end(), [&](const auto& t) { return logits[i] > logits[t.first]; });
      top.insert(at, {int32_t(i), 0.0f});
      if (int(top.size()) > top_n) top.pop_back();
    }
    for (auto& t : top) t.second = lp(t.first);
  }
  return out;
}

Generation::Generation(const Tokenizer& tok, GenerationSpec spec)
    : tok_(tok),
      spec_(std::move(spec)),
      sampler_(SamplerParams{spec_.opts.sampling.temperature, spec_.opts.sampling.top_p, spec_.opts.sampling.top_k,
                             spec_.opts.sampling.seed.value_or(spec_.seed)}),
      decoder_(tok, false),
      splitter_(spec_.split_reasoning && spec_.starts_in_reasoning),
      stop_reasoning_(spec_.opts.stop),
      stop_content_(spec_.opts.stop) {
  if (spec_.opts.json_object) json_.emplace();
}

int32_t Generation::sample(const float* logits, int64_t n, TokenLogprob* lp) {
  const SamplingOptions& s = spec_.opts.sampling;
  const bool penalties = (s.presence_penalty != 0 || s.frequency_penalty != 0) && !counts_.empty();
  const bool padded = n > tok_.n_vocab();  // rows past the tokenizer's vocabulary are never sampled
  const float* l = logits;
  if (penalties || json_ || spec_.opts.ignore_eos || padded) {
    constexpr float kNo = -std::numeric_limits<float>::infinity();
    work_.assign(logits, logits + n);
    for (const auto& [id, count] : counts_)
      work_[size_t(id)] -= s.frequency_penalty * float(count) + s.presence_penalty;
    for (int64_t i = tok_.n_vocab(); i < n; ++i) work_[size_t(i)] = kNo;
    if (spec_.opts.ignore_eos && tok_.eos() >= 0 && tok_.eos() < n) work_[size_t(tok_.eos())] = kNo;
    if (json_) {
      const bool done = json_->complete();
      // Whether token i keeps the reply a JSON-object prefix.
      const auto allowed = [&](int32_t i) {
        if (i == tok_.eos()) return done;
        if (done || tok_.is_control(i)) return false;
        const std::string_view piece = tok_.piece(i);
        JsonPrefix trial = *json_;
        return !piece.empty() && trial.feed(piece);
      };
      // Greedy without log-probabilities: the best token, when the mask allows it, is also the best once masked (the
      // first of the largest values; masking only lowers others), so the vocabulary is walked only when it is
      // refused (~3 ms a token for a 129K vocabulary).
      if (s.temperature <= 0.0f && lp == nullptr) {
        const int32_t best = argmax(work_.data(), n);
        if (best < tok_.n_vocab() && allowed(best)) return best;
      }
      for (int32_t i = 0; i < int32_t(std::min<int64_t>(n, tok_.n_vocab())); ++i)
        if (!allowed(i)) work_[size_t(i)] = kNo;
    }
    l = work_.data();
  }
  const int32_t id = sampler_.sample(l, n);
  if (lp) *lp = token_logprob(l, n, id, spec_.opts.top_logprobs);
  return id;
}

void Generation::emit(std::string text, bool /*reasoning_token*/, Delta& out) {
  if (text.empty()) return;
  std::string reasoning, content;
  if (spec_.split_reasoning) {
    auto parts = splitter_.push(text);
    reasoning = std::move(parts.reasoning);
    content = std::move(parts.content);
  } else {
    content = std::move(text);
  }
  if (!reasoning.empty()) out.reasoning += stop_reasoning_.push(reasoning);
  if (!stop_reasoning_.stopped() && !content.empty()) out.content += stop_content_.push(content);
  if (stop_reasoning_.stopped() || stop_content_.stopped()) finish_reason_ = "stop";
}

void Generation::flush_into(Delta& out) {
  std::string tail = decoder_.flush();
  if (stop_reasoning_.stopped() || stop_content_.stopped()) return;
  std::string reasoning, content;
  if (spec_.split_reasoning) {
    auto a = splitter_.push(tail);
    auto b = splitter_.flush();
    reasoning = a.reasoning + b.reasoning;
    content = a.content + b.content;
  } else {
    content = std::move(tail);
  }
  out.reasoning += stop_reasoning_.push(reasoning);
  out.reasoning += stop_reasoning_.flush();
  if (stop_reasoning_.stopped()) return;
  out.content += stop_content_.push(content);
  out.content += stop_content_.flush();
}

Delta Generation::step(const float* logits, int64_t n_vocab) {
  Delta out;
  if (finished()) return out;
  TokenLogprob lp;
  const int32_t id = sample(logits, n_vocab, spec_.opts.logprobs ? &lp : nullptr);
  if (spec_.opts.logprobs) out.logprobs.push_back(std::move(lp));
  ++n_generated_;
  const bool reasoning_token = spec_.split_reasoning && splitter_.in_reasoning();
  if (reasoning_token) ++n_reasoning_;
  if (id == tok_.eos() && !spec_.opts.ignore_eos) {
    finish_reason_ = "stop";
    flush_into(out);
    return out;
  }
  ++counts_[id];
  const std::string_view piece = tok_.piece(id);
  if (json_) json_->feed(piece);  // the mask allowed only tokens that keep the prefix valid
  // Control tokens (role markers and the like) are not text; R1's <think> tags are, for the splitter.
  if (!tok_.is_control(id) || is_think_tag(piece)) emit(decoder_.push(id), reasoning_token, out);
  if (finished()) return out;  // a stop string
  if (json_ && json_->complete()) {
    finish_reason_ = "stop";
    flush_into(out);
  } else if (n_generated_ >= spec_.max_tokens) {
    finish_reason_ = "length";
    flush_into(out);
  } else {
    next_ = id;
  }
  return out;
}

Delta Generation::finish(const std::string& reason) {
  Delta out;
  if (finished()) return out;
  finish_reason_ = reason;
  flush_into(out);
  return out;
}

}  // namespace seek::server
