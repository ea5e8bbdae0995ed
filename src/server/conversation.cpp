// Conversation files and context fitting for seek chat.
#include "server/conversation.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "server/api_error.h"
#include "server/json_body.h"
#include "server/request.h"

namespace seek::server {

constexpr size_t kMaxConversationBytes = 64u << 20;

std::string conversation_json(const Conversation& c) {
  nlohmann::json msgs = nlohmann::json::array();
  for (const ChatMessage& m : c.messages) {
    nlohmann::json j = {{"role", m.role}, {"content", m.content}};
    if (!m.reasoning_content.empty()) j["reasoning_content"] = m.reasoning_content;
    msgs.push_back(std::move(j));
  }
  return nlohmann::json({{"messages", msgs}}).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<Conversation> parse_conversation(std::string_view text) {
  auto j = parse_json_body(text, JsonLimits{});
  if (!j) return j.error();
  const nlohmann::json* msgs = &*j;
  if (j->is_object()) {
    auto it = j->find("messages");
    if (it == j->end()) return err("a conversation is {\"messages\": [...]} or an array of messages");
    msgs = &*it;
  }
  auto parsed = parse_messages(*msgs, nullptr);
  if (!parsed) return parsed.error();
  Conversation c;
  // System messages first: that is where the template reads them from anyway.
  for (auto& m : *parsed)
    if (m.role == "system") c.messages.push_back(m);
  for (auto& m : *parsed)
    if (m.role != "system") c.messages.push_back(std::move(m));
  return c;
}

Result<void> save_conversation(const std::string& path, const Conversation& c) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return err("%s: cannot write", tmp.c_str());
    const std::string text = conversation_json(c);
    out.write(text.data(), std::streamsize(text.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return err("%s: write failed (disk full?)", tmp.c_str());
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return err("%s: cannot rename %s to it", path.c_str(), tmp.c_str());
  }
  return {};
}

Result<Conversation> load_conversation(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return err("%s: cannot open", path.c_str());
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    if (text.size() > kMaxConversationBytes) return err("%s: larger than 64 MiB", path.c_str());
  }
  auto c = parse_conversation(text);
  if (!c) return err("%s: %s", path.c_str(), c.error().message.c_str());
  return c;
}

Result<FittedPrompt> fit_conversation(Conversation& c, const ChatTemplate& tmpl, const Tokenizer& tok, int64_t n_ctx,
                                      int64_t reserve) {
  Conversation trial = c;  // c changes only on success
  size_t first_turn = 0;
  while (first_turn < trial.messages.size() && trial.messages[first_turn].role == "system") ++first_turn;
  FittedPrompt f;
  for (;;) {
    auto p = chat_prompt(trial.messages, false, tmpl, tok);
    if (!p) return p.error();
    if (int64_t(p->tokens.size()) + reserve <= n_ctx) {
      f.prompt = std::move(*p);
      c = std::move(trial);
      return f;
    }
    // Drop the oldest turn: a user message and the replies up to the next user message.
    size_t end = first_turn + 1;
    while (end < trial.messages.size() && trial.messages[end].role != "user") ++end;
    if (end >= trial.messages.size()) {
      return err("the message needs %lld tokens with the system prompt, and the context holds %lld (with %lld kept "
                 "for the reply)",
                 (long long)p->tokens.size(), (long long)n_ctx, (long long)reserve);
    }
    f.dropped += end - first_turn;
    trial.messages.erase(trial.messages.begin() + std::ptrdiff_t(first_turn),
                         trial.messages.begin() + std::ptrdiff_t(end));
  }
}

}  // namespace seek::server
