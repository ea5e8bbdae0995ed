// The API's requests as typed values: parsing and validation of /v1/chat/completions, /v1/completions, /tokenize
// and /detokenize bodies. Pure functions of the body text (no model needed), unit-tested and fuzzed in tests/server.
// Every error message names the field and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "server/json_body.h"
#include "tokenizer/chat_template.h"

namespace seek::server {

struct SamplingOptions {
  float temperature = 1.0f;  // OpenAI's and DeepSeek's default
  float top_p = 1.0f;
  int top_k = 40;            // an extension (not in OpenAI's API); 0 = no limit
  std::optional<uint64_t> seed;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
};

// What every generating request shares.
struct GenerationOptions {
  SamplingOptions sampling;
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  int top_logprobs = 0;        // 0..20
  bool json_object = false;    // response_format {"type": "json_object"}
  bool ignore_eos = false;     // an extension for benchmarks: generate max_tokens tokens
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  bool prefix = false;  // DeepSeek's prefix completion: the last (assistant) message is continued
  GenerationOptions gen;
};

struct CompletionRequest {
  std::string model;
  std::variant<std::string, std::vector<int32_t>> prompt;  // text, or token ids used as given
  std::optional<std::string> suffix;                        // fill-in-the-middle
  bool echo = false;
  GenerationOptions gen;
};

struct TokenizeRequest {
  std::string content;
  bool add_special = false;  // BOS as the tokenizer says; control tokens in the text are matched
  bool with_pieces = false;
};

struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};

constexpr size_t kMaxStops = 16;        // DeepSeek accepts up to 16 stop strings
constexpr int64_t kMaxTokensLimit = 1 << 20;

Result<ChatRequest> parse_chat_request(const nlohmann::json& body);
Result<CompletionRequest> parse_completion_request(const nlohmann::json& body);
Result<TokenizeRequest> parse_tokenize_request(const nlohmann::json& body);
Result<DetokenizeRequest> parse_detokenize_request(const nlohmann::json& body);

// Messages as JSON (OpenAI's shape) to ChatMessages; shared with seek chat's /load.
Result<std::vector<ChatMessage>> parse_messages(const nlohmann::json& messages, bool* prefix);

// The same from body text (depth check + parse + validation): what the fuzz test drives.
Result<ChatRequest> parse_chat_request_text(std::string_view body, const JsonLimits& limits);
Result<CompletionRequest> parse_completion_request_text(std::string_view body, const JsonLimits& limits);

}  // namespace seek::server
