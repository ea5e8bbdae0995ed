// seek chat's conversation loop. Interactive on a terminal: streamed replies, R1's reasoning dimmed (hideable),
// multi-line input, commands (/reset /save /load /system /think /help /exit), context use after each reply, Ctrl-C
// stopping the reply rather than the program. Without a terminal it reads the conversation from the input (one
// user message per line, or a JSON conversation) and writes the replies as plain text.
#pragma once

#include <cstdio>
#include <string>

#include "server/engine.h"
#include "server/request.h"
#include "tokenizer/chat_template.h"

namespace seek::server {

struct ChatOptions {
  SamplingOptions sampling;
  int64_t max_reply_tokens = 0;  // 0: as many as the context allows
  bool interactive = false;      // prompts, colours, commands' feedback
  bool color = false;            // ANSI dim for reasoning and notes
  bool show_reasoning = true;
  std::string system;            // initial system prompt
  std::string load;              // a conversation file to start from
};

// Runs until end of input or /exit; returns the exit code.
int run_chat(Engine& engine, const ChatTemplate& tmpl, const ChatOptions& opt, int in_fd, std::FILE* out);

}  // namespace seek::server
