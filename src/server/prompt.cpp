// Prompt construction for chat, completions and FIM.
#include "server/prompt.h"

namespace seek::server {

Result<Prompt> chat_prompt(const std::vector<ChatMessage>& messages, bool prefix, const ChatTemplate& tmpl,
                           const Tokenizer& tok) {
  Prompt p;
  const std::string bos = tok.bos() >= 0 ? tok.token_text(tok.bos()) : std::string();
  std::string text;
  if (prefix && !messages.empty()) {
    // DeepSeek's prefix completion: the reply continues the last assistant message.
    std::vector<ChatMessage> head(messages.begin(), messages.end() - 1);
    text = tmpl.render(head, true, bos);
    if (tmpl.flags().think_prompt) {
      // R1 opens <think> in the generation prompt; a prefix continues the answer, so drop it.
      const std::string think = "<think>\n";
      if (text.size() >= think.size() && text.compare(text.size() - think.size(), think.size(), think) == 0)
        text.resize(text.size() - think.size());
    }
    text += messages.back().content;
  } else {
    text = tmpl.render(messages, true, bos);
    p.starts_in_reasoning = tmpl.flags().think_prompt;
  }
  // The rendered text holds the template's special tokens (BOS, roles), so they are matched as such.
  p.tokens = tok.encode(text, false, true);
  if (p.tokens.empty()) return err("the conversation renders to an empty prompt");
  return p;
}

std::optional<FimTokens> fim_tokens(const Tokenizer& tok) {
  auto b = tok.find("<｜fim▁begin｜>");
  auto h = tok.find("<｜fim▁hole｜>");
  auto e = tok.find("<｜fim▁end｜>");
  if (!b || !h || !e) return std::nullopt;
  return FimTokens{*b, *h, *e};
}

Result<Prompt> completion_prompt(const CompletionRequest& r, const Tokenizer& tok, int64_t n_vocab) {
  Prompt p;
  if (const auto* ids = std::get_if<std::vector<int32_t>>(&r.prompt)) {
    if (r.suffix) return err("'suffix' needs a text 'prompt', not token ids");
    for (size_t i = 0; i < ids->size(); ++i)
      if ((*ids)[i] >= n_vocab)
        return err("'prompt': token id %d at position %zu is outside the vocabulary (0..%lld)", (*ids)[i], i,
                   (long long)(n_vocab - 1));
    p.tokens = *ids;
    return p;
  }
  const std::string& text = std::get<std::string>(r.prompt);
  if (!r.suffix) {
    p.tokens = tok.encode(text, tok.add_bos(), false);
    if (p.tokens.empty()) return err("'prompt' is empty (and the model adds no BOS token)");
    return p;
  }
  const auto fim = fim_tokens(tok);
  if (!fim) return err("'suffix': this model's vocabulary has no fill-in-the-middle tokens (<｜fim▁begin｜>...)");
  if (tok.add_bos() && tok.bos() >= 0) p.tokens.push_back(tok.bos());
  p.tokens.push_back(fim->begin);
  tok.encode_into(text, false, p.tokens);
  p.tokens.push_back(fim->hole);
  tok.encode_into(*r.suffix, false, p.tokens);
  p.tokens.push_back(fim->end);
  return p;
}

Result<ChatTemplate> choose_chat_template(const std::string& name, const Tokenizer& tok) {
  if (!name.empty()) return ChatTemplate::from_name(name);
  const std::string& text = tok.vocab().chat_template;
  if (!text.empty()) {
    auto t = ChatTemplate::from_template_text(text);
    if (t) return t;
    return err("%s (use --chat-template deepseek-v3 or deepseek-r1)", t.error().message.c_str());
  }
  return ChatTemplate::from_name("deepseek-v3");
}

}  // namespace seek::server
