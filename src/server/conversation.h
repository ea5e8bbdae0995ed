// A chat conversation for seek chat: saving and loading it (JSON, written to a temporary name and renamed), and
// fitting it into the context by dropping the oldest turns when it has grown too long.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "server/prompt.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace seek::server {

struct Conversation {
  std::vector<ChatMessage> messages;  // system messages first, then the turns
};

// {"messages": [...]} in the API's message shape (reasoning_content kept).
std::string conversation_json(const Conversation& c);
Result<Conversation> parse_conversation(std::string_view text);  // the same, or a bare array of messages

Result<void> save_conversation(const std::string& path, const Conversation& c);  // path.tmp, then rename
Result<Conversation> load_conversation(const std::string& path);

struct FittedPrompt {
  Prompt prompt;
  size_t dropped = 0;  // messages removed from the front of the conversation (after system messages)
};

// The prompt of the conversation with room for `reserve` generated tokens within n_ctx, dropping the oldest
// non-system messages (whole user/assistant turns) as needed. Fails when even the last user message alone does
// not fit; the conversation is then left as it was.
Result<FittedPrompt> fit_conversation(Conversation& c, const ChatTemplate& tmpl, const Tokenizer& tok, int64_t n_ctx,
                                      int64_t reserve);

}  // namespace seek::server
