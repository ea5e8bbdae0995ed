// Requests to prompt token ids: the chat template for messages (with DeepSeek's prefix completion), the text or
// ids of a completion, and DeepSeek's fill-in-the-middle layout when a suffix is given.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "server/request.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace seek::server {

struct Prompt {
  std::vector<int32_t> tokens;
  bool starts_in_reasoning = false;  // the template opened <think> (R1): the reply begins as reasoning
};

// Renders the messages (the generation prompt added, or the last assistant message continued when `prefix`).
Result<Prompt> chat_prompt(const std::vector<ChatMessage>& messages, bool prefix, const ChatTemplate& tmpl,
                           const Tokenizer& tok);

// The completion prompt: text (BOS as the tokenizer says), ids as given (checked against n_vocab), or with a
// suffix <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜> when the vocabulary has those tokens.
Result<Prompt> completion_prompt(const CompletionRequest& r, const Tokenizer& tok, int64_t n_vocab);

// The model's FIM tokens, if its vocabulary has all three.
struct FimTokens {
  int32_t begin = -1, hole = -1, end = -1;
};
std::optional<FimTokens> fim_tokens(const Tokenizer& tok);

// Picks the chat template: a name given by the user, else the model file's template text, else DeepSeek-V3's.
Result<ChatTemplate> choose_chat_template(const std::string& name, const Tokenizer& tok);

}  // namespace seek::server
