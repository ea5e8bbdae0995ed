// Rendering of the DeepSeek chat templates, statement by statement as their Jinja does it (including the quirks of
// V3's tool-call markup, which the model was trained on), and recognition of a template text's behaviour.
#include "tokenizer/chat_template.h"

namespace seek {
namespace {

constexpr std::string_view kUser = "<｜User｜>";
constexpr std::string_view kAssistant = "<｜Assistant｜>";
constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kOutputsBegin = "<｜tool▁outputs▁begin｜>";
constexpr std::string_view kOutputsEnd = "<｜tool▁outputs▁end｜>";
constexpr std::string_view kOutputBegin = "<｜tool▁output▁begin｜>";
constexpr std::string_view kOutputEnd = "<｜tool▁output▁end｜>";

// One call: type<｜tool▁sep｜>name\n```json\narguments\n```<｜tool▁call▁end｜>
void append_call(std::string& out, const ChatToolCall& c) {
  out.append(kCallBegin).append(c.type).append(kSep).append(c.name);
  out.append("\n```json\n").append(c.arguments).append("\n```").append(kCallEnd);
}

// The keyword of the Jinja statement tag that precedes position pos ("endfor", "if", ...).
std::string_view tag_before(std::string_view t, size_t pos) {
  const size_t open = t.rfind("{%", pos);
  if (open == std::string_view::npos) return {};
  size_t i = open + 2;
  while (i < t.size() && (t[i] == '-' || t[i] == ' ' || t[i] == '+')) ++i;
  size_t j = i;
  while (j < t.size() && t[j] >= 'a' && t[j] <= 'z') ++j;
  return t.substr(i, j - i);
}

}  // namespace

Result<ChatTemplate> ChatTemplate::from_name(std::string_view name) {
  ChatTemplate t;
  t.name_ = std::string(name);
  if (name == "deepseek-v3") {
    t.flags_ = {};
  } else if (name == "deepseek-r1") {
    t.flags_ = {false, false, true, true, true};
  } else {
    return err("unknown chat template '%.*s' (expected deepseek-v3 or deepseek-r1)", int(name.size()), name.data());
  }
  return t;
}

Result<ChatTemplate> ChatTemplate::from_template_text(std::string_view jinja) {
  const auto has = [&](std::string_view s) { return jinja.find(s) != std::string_view::npos; };
  if (!has(kUser) || !has(kAssistant)) {
    return err("chat template not recognised: no <｜User｜>/<｜Assistant｜> turns (only DeepSeek-V3/R1 templates are "
               "built in; choose one by name)");
  }
  // Later revisions of DeepSeek's templates restructure the tool-call and turn logic; rendering them with these
  // flags would be silently wrong, so they are refused until they are built in.
  for (std::string_view later : {"is_last_user", "'tool_calls' in message", "tools is defined", "<｜tool▁call▁begin｜>' + tool['function']['name']"}) {
    if (has(later)) {
      return err("chat template: a DeepSeek template revision that is not built in (it uses %.*s); choose "
                 "deepseek-v3 or deepseek-r1 by name",
                 int(later.size()), later.data());
    }
  }
  ChatTemplate t;
  ChatTemplateFlags& f = t.flags_;
  f.join_system = has("is_first_sp");
  f.tools_if_content_null = has("message['content'] is none %}") || has("message['content'] is none -%}");
  const size_t calls_end = jinja.find("'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'");
  f.calls_end_after_message = calls_end != std::string_view::npos && tag_before(jinja, calls_end) == "endfor";
  f.strip_think = has("split('</think>')");
  f.think_prompt = has("'<｜Assistant｜><think>\\n'") || has("'<｜Assistant｜><think>\n'");
  t.name_ = f.think_prompt || f.strip_think ? "deepseek-r1" : "deepseek-v3";
  const ChatTemplateFlags v3{}, r1{false, false, true, true, true};
  const auto same = [](const ChatTemplateFlags& a, const ChatTemplateFlags& b) {
    return a.join_system == b.join_system && a.tools_if_content_null == b.tools_if_content_null &&
           a.calls_end_after_message == b.calls_end_after_message && a.strip_think == b.strip_think &&
           a.think_prompt == b.think_prompt;
  };
  if (!same(f, v3) && !same(f, r1)) t.name_ += " (variant)";
  return t;
}

Result<ChatTemplate> ChatTemplate::for_vocab(const Vocab& vocab, std::string_view name) {
  if (!name.empty()) return from_name(name);
  if (vocab.chat_template.empty()) {
    return err("the model has no chat template (tokenizer.chat_template / chat_template); choose deepseek-v3 or "
               "deepseek-r1 by name");
  }
  return from_template_text(vocab.chat_template);
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                 std::string_view bos_text) const {
  const ChatTemplateFlags& f = flags_;
  // The template's namespace: is_first (a tool call was rendered), is_tool (inside tool outputs),
  // is_output_first (no tool output yet); these persist across messages.
  bool is_first = false, is_tool = false, is_output_first = true;
  std::string system;
  bool first_system = true;
  for (const ChatMessage& m : messages) {
    if (m.role != "system") continue;
    if (!f.join_system) system = m.content;
    else system += (first_system ? "" : "\n\n") + m.content;
    first_system = false;
  }
  std::string out;
  out.append(bos_text).append(system);
  for (const ChatMessage& m : messages) {
    const bool assistant = m.role == "assistant";
    const bool content_null = assistant && m.content.empty() && !m.tool_calls.empty();
    if (m.role == "user") {
      is_tool = false;
      out.append(kUser).append(m.content);
    }
    if (assistant && (f.tools_if_content_null ? content_null : !m.tool_calls.empty())) {
      is_tool = false;
      for (const ChatToolCall& c : m.tool_calls) {
        if (!is_first) {
          out.append(kAssistant).append(kCallsBegin);
          append_call(out, c);
          is_first = true;
        } else {
          out += '\n';
          append_call(out, c);
          if (!f.calls_end_after_message) out.append(kCallsEnd).append(kEos);  // V3's template does this
        }
      }
      if (f.calls_end_after_message) out.append(kCallsEnd).append(kEos);
    }
    if (assistant && !content_null) {
      if (is_tool) {
        out.append(kOutputsEnd).append(m.content).append(kEos);
        is_tool = false;
      } else {
        std::string_view content = m.content;
        if (f.strip_think) {
          const size_t end = content.rfind("</think>");
          if (end != std::string_view::npos) content = content.substr(end + 8);
        }
        out.append(kAssistant).append(content).append(kEos);
      }
    }
    if (m.role == "tool") {
      is_tool = true;
      if (is_output_first) {
        out.append(kOutputsBegin).append(kOutputBegin).append(m.content).append(kOutputEnd);
        is_output_first = false;
      } else {
        out.append("\n").append(kOutputBegin).append(m.content).append(kOutputEnd);
      }
    }
  }
  if (is_tool) out.append(kOutputsEnd);
  if (add_generation_prompt && !is_tool) {
    out.append(kAssistant);
    if (f.think_prompt) out.append("<think>\n");
  }
  return out;
}

}  // namespace seek
