// The JSON the API answers with, in OpenAI's shapes plus DeepSeek's fields (reasoning_content, prompt cache hits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/job.h"
#include "tokenizer/tokenizer.h"

namespace seek::server {

// What every response of one request shares.
struct ReplyInfo {
  std::string id;       // chatcmpl-... / cmpl-...
  int64_t created = 0;  // Unix seconds
  std::string model;
  bool reasoning = false;  // the reply has a reasoning part (R1): reasoning_content is reported
};

std::string new_reply_id(const char* prefix);  // prefix + 24 random hex digits

nlohmann::json usage_json(const Usage& u);
nlohmann::json chat_logprobs_json(const std::vector<TokenLogprob>& lps, const Tokenizer& tok);
nlohmann::json completion_logprobs_json(const std::vector<TokenLogprob>& lps, const Tokenizer& tok,
                                        size_t text_offset);

// Non-streaming responses.
nlohmann::json chat_completion_json(const ReplyInfo& r, const Delta& all, const std::string& finish_reason,
                                    const Usage& usage, bool logprobs, const Tokenizer& tok);
nlohmann::json completion_json(const ReplyInfo& r, const std::string& text, const std::vector<TokenLogprob>& lps,
                               const std::string& finish_reason, const Usage& usage, bool logprobs,
                               const Tokenizer& tok, size_t text_offset);

// Streaming chunks. `finish_reason` empty: JSON null. usage_null: include_usage was asked (OpenAI then sends
// "usage": null in every chunk but the last).
nlohmann::json chat_chunk_json(const ReplyInfo& r, const nlohmann::json& delta, const std::string& finish_reason,
                               const nlohmann::json& logprobs, bool usage_null);
nlohmann::json chat_delta_json(const ReplyInfo& r, const Delta& d);
nlohmann::json completion_chunk_json(const ReplyInfo& r, const std::string& text, const std::string& finish_reason,
                                     const nlohmann::json& logprobs, bool usage_null);
// The last chunk when include_usage: no choices, the usage.
nlohmann::json usage_chunk_json(const ReplyInfo& r, const char* object, const Usage& usage);

}  // namespace seek::server
