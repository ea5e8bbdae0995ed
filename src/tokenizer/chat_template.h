// Chat templates of DeepSeek-V3, DeepSeek-R1 and the R1 distills, rendered in C++. A model file's Jinja template is
// only read to recognise which behaviour it has (never executed); the output equals what Jinja would produce.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/vocab.h"

namespace seek {

struct ChatToolCall {
  std::string type = "function";
  std::string name;
  std::string arguments;  // JSON text, inserted as is
};

struct ChatMessage {
  std::string role;               // "system", "user", "assistant", "tool"
  std::string content;            // for an assistant turn with tool_calls, empty content means JSON null
  std::string reasoning_content;  // never rendered: both families drop reasoning from the history
  std::vector<ChatToolCall> tool_calls;
};

// The behaviours that distinguish the DeepSeek templates (all use <｜User｜>/<｜Assistant｜> turns).
struct ChatTemplateFlags {
  bool join_system = true;              // V3: system messages joined by "\n\n"; R1: only the last one is used
  bool tools_if_content_null = true;    // V3: tool calls rendered when content is null; R1: when tool_calls exist
  bool calls_end_after_message = false; // R1: <｜tool▁calls▁end｜> after a message's calls; V3: after each later call
  bool strip_think = false;             // R1: earlier assistant turns keep only what follows the last </think>
  bool think_prompt = false;            // R1: the generation prompt opens the reasoning with "<think>\n"
};

class ChatTemplate {
 public:
  // "deepseek-v3" or "deepseek-r1" (also used by the R1 distills).
  static Result<ChatTemplate> from_name(std::string_view name);
  // Recognises a template text (GGUF tokenizer.chat_template or tokenizer_config.json chat_template).
  static Result<ChatTemplate> from_template_text(std::string_view jinja);
  // The template of a model: `name` when given (a --chat-template flag), else recognised from the vocab's template.
  static Result<ChatTemplate> for_vocab(const Vocab& vocab, std::string_view name = {});

  // The prompt for messages; bos_text is the tokenizer's BOS token text (<｜begin▁of▁sentence｜>). The prompt holds
  // BOS and the role tokens as text: encode it with add_bos = false and parse_special = true.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                     std::string_view bos_text = "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>") const;

  const std::string& name() const { return name_; }
  const ChatTemplateFlags& flags() const { return flags_; }

 private:
  std::string name_;
  ChatTemplateFlags flags_;
};

}  // namespace seek
