// Response and chunk JSON for chat and completions.
#include "server/responses.h"

#include <random>

namespace seek::server {

using json = nlohmann::json;

namespace {

json bytes_json(std::string_view s) {
  json b = json::array();
  for (char c : s) b.push_back(int(static_cast<unsigned char>(c)));
  return b;
}

json null_or(const std::string& s) { return s.empty() ? json() : json(s); }

}  // namespace

std::string new_reply_id(const char* prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", (unsigned long long)rng(), (unsigned long long)(rng() & 0xffffffffu));
  return std::string(prefix) + buf;
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_cache_hit_tokens", u.cache_hit_tokens},
          {"prompt_cache_miss_tokens", u.prompt_tokens - u.cache_hit_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cache_hit_tokens}}},
          {"completion_tokens_details", {{"reasoning_tokens", u.reasoning_tokens}}}};
}

json chat_logprobs_json(const std::vector<TokenLogprob>& lps, const Tokenizer& tok) {
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    json top = json::array();
    for (const auto& [id, l] : lp.top) {
      const std::string_view p = tok.piece(id);
      top.push_back({{"token", std::string(p)}, {"logprob", l}, {"bytes", bytes_json(p)}});
    }
    const std::string_view p = tok.piece(lp.id);
    content.push_back({{"token", std::string(p)}, {"logprob", lp.logprob}, {"bytes", bytes_json(p)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json completion_logprobs_json(const std::vector<TokenLogprob>& lps, const Tokenizer& tok, size_t text_offset) {
  json tokens = json::array(), logprobs = json::array(), top = json::array(), offsets = json::array();
  for (const TokenLogprob& lp : lps) {
    const std::string_view p = tok.piece(lp.id);
    tokens.push_back(std::string(p));
    logprobs.push_back(lp.logprob);
    json t = json::object();
    for (const auto& [id, l] : lp.top) t[std::string(tok.piece(id))] = l;
    top.push_back(t);
    offsets.push_back(text_offset);
    text_offset += p.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
}

json chat_completion_json(const ReplyInfo& r, const Delta& all, const std::string& finish_reason, const Usage& usage,
                          bool logprobs, const Tokenizer& tok) {
  json message = {{"role", "assistant"}, {"content", all.content}};
  if (r.reasoning) message["reasoning_content"] = all.reasoning;
  json choice = {{"index", 0}, {"message", message},
                 {"logprobs", logprobs ? chat_logprobs_json(all.logprobs, tok) : json()},
                 {"finish_reason", null_or(finish_reason)}};
  return {{"id", r.id}, {"object", "chat.completion"}, {"created", r.created}, {"model", r.model},
          {"system_fingerprint", "seek"}, {"choices", json::array({choice})}, {"usage", usage_json(usage)}};
}

json completion_json(const ReplyInfo& r, const std::string& text, const std::vector<TokenLogprob>& lps,
                     const std::string& finish_reason, const Usage& usage, bool logprobs, const Tokenizer& tok,
                     size_t text_offset) {
  json choice = {{"index", 0}, {"text", text},
                 {"logprobs", logprobs ? completion_logprobs_json(lps, tok, text_offset) : json()},
                 {"finish_reason", null_or(finish_reason)}};
  return {{"id", r.id}, {"object", "text_completion"}, {"created", r.created}, {"model", r.model},
          {"system_fingerprint", "seek"}, {"choices", json::array({choice})}, {"usage", usage_json(usage)}};
}

json chat_delta_json(const ReplyInfo& r, const Delta& d) {
  // As DeepSeek's API streams a reasoner: the channel without text is null.
  json delta = json::object();
  if (r.reasoning || !d.reasoning.empty()) {
    delta["reasoning_content"] = d.reasoning.empty() ? json() : json(d.reasoning);
    delta["content"] = d.content.empty() && !d.reasoning.empty() ? json() : json(d.content);
  } else {
    delta["content"] = d.content;
  }
  return delta;
}

json chat_chunk_json(const ReplyInfo& r, const json& delta, const std::string& finish_reason, const json& logprobs,
                     bool usage_null) {
  json choice = {{"index", 0}, {"delta", delta}, {"logprobs", logprobs}, {"finish_reason", null_or(finish_reason)}};
  json chunk = {{"id", r.id}, {"object", "chat.completion.chunk"}, {"created", r.created}, {"model", r.model},
                {"system_fingerprint", "seek"}, {"choices", json::array({choice})}};
  if (usage_null) chunk["usage"] = nullptr;
  return chunk;
}

json completion_chunk_json(const ReplyInfo& r, const std::string& text, const std::string& finish_reason,
                           const json& logprobs, bool usage_null) {
  json choice = {{"index", 0}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", null_or(finish_reason)}};
  json chunk = {{"id", r.id}, {"object", "text_completion"}, {"created", r.created}, {"model", r.model},
                {"system_fingerprint", "seek"}, {"choices", json::array({choice})}};
  if (usage_null) chunk["usage"] = nullptr;
  return chunk;
}

json usage_chunk_json(const ReplyInfo& r, const char* object, const Usage& usage) {
  return {{"id", r.id}, {"object", object}, {"created", r.created}, {"model", r.model},
          {"system_fingerprint", "seek"}, {"choices", json::array()}, {"usage", usage_json(usage)}};
}

}  // namespace seek::server
