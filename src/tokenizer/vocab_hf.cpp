// Vocab from a Hugging Face tokenizer.json (+ tokenizer_config.json): byte-level BPE model, added tokens, the
// normalizer and pre-tokenizer recognised as one of the supported kinds, BOS/EOS and the chat template.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab.h"

namespace seek {
namespace {

using nlohmann::json;

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return err("%s: cannot open", path.c_str());
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return err("%s: read error", path.c_str());
  return ss.str();
}

// GGUF converters make added tokens that look like <|...|> or <｜...｜> control tokens even when tokenizer.json
// says special=false (llama.cpp convert_hf_to_gguf.py, does_token_look_special); doing the same here keeps a model's
// GGUF and tokenizer.json tokenizers identical, including which tokens parse_special=false leaves as plain text.
bool looks_special(const std::string& s) {
  const auto wrapped = [&](std::string_view open, std::string_view close) {
    return s.size() >= open.size() + close.size() && s.compare(0, open.size(), open) == 0 &&
           s.compare(s.size() - close.size(), close.size(), close) == 0;
  };
  return wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>");
}

// The content of a token given as "text", {"content": "text", ...} or null.
std::string token_content(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return {};
}

Result<std::string> recognise_pre_tokenizer(const json& pre, const std::string& src) {
  if (pre.is_null()) return err("%s: pre_tokenizer is null; byte-level BPE needs a ByteLevel pre-tokenizer", src.c_str());
  std::vector<json> steps;
  if (pre.value("type", "") == "Sequence") {
    for (const json& p : pre.value("pretokenizers", json::array())) steps.push_back(p);
  } else {
    steps.push_back(pre);
  }
  std::vector<std::string> regexes;
  bool byte_level = false;
  for (const json& p : steps) {
    const std::string type = p.value("type", "");
    if (byte_level) return err("%s: pre_tokenizer: '%s' after ByteLevel is not supported", src.c_str(), type.c_str());
    if (type == "Split") {
      const json& pat = p.value("pattern", json::object());
      if (!pat.contains("Regex") || !pat["Regex"].is_string()) {
        return err("%s: pre_tokenizer Split: expected a Regex pattern", src.c_str());
      }
      if (p.value("behavior", "") != "Isolated" || p.value("invert", false)) {
        return err("%s: pre_tokenizer Split: only behavior Isolated without invert is supported", src.c_str());
      }
      regexes.push_back(pat["Regex"].get<std::string>());
    } else if (type == "Digits") {
      regexes.push_back(p.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
    } else if (type == "ByteLevel") {
      if (p.value("use_regex", true)) {
        return err("%s: pre_tokenizer ByteLevel with use_regex (the GPT-2 regex) is not supported", src.c_str());
      }
      byte_level = true;
    } else {
      return err("%s: pre_tokenizer type '%s' is not supported", src.c_str(), type.c_str());
    }
  }
  if (!byte_level) return err("%s: pre_tokenizer has no ByteLevel step: not a byte-level BPE tokenizer", src.c_str());
  for (PreTokenizerKind k : {PreTokenizerKind::kDeepSeekV3, PreTokenizerKind::kQwen2, PreTokenizerKind::kLlama3,
                             PreTokenizerKind::kDeepSeekLlm, PreTokenizerKind::kDeepSeekCoder}) {
    if (regexes == pre_tokenizer_regexes(k)) return std::string(pre_tokenizer_name(k));
  }
  std::string list;
  for (const std::string& r : regexes) list += (list.empty() ? "" : ", ") + r.substr(0, 60);
  return err("%s: pre_tokenizer regexes [%s] match none of the supported pre-tokenizers (deepseek-v3, qwen2, "
             "llama-bpe, deepseek-llm, deepseek-coder)",
             src.c_str(), list.c_str());
}

Result<bool> recognise_nfc(const json& norm, const std::string& src) {
  if (norm.is_null()) return false;
  std::vector<json> steps;
  if (norm.value("type", "") == "Sequence") {
    for (const json& n : norm.value("normalizers", json::array())) steps.push_back(n);
  } else {
    steps.push_back(norm);
  }
  if (steps.empty()) return false;
  if (steps.size() == 1 && steps[0].value("type", "") == "NFC") return true;
  return err("%s: normalizer %s is not supported (only none or NFC)", src.c_str(), norm.dump().substr(0, 80).c_str());
}

// The BOS token a TemplateProcessing post-processor puts first, or "" (looks inside a Sequence too).
std::string template_bos(const json& post) {
  if (!post.is_object()) return {};
  if (post.value("type", "") == "Sequence") {
    for (const json& p : post.value("processors", json::array())) {
      if (std::string b = template_bos(p); !b.empty()) return b;
    }
    return {};
  }
  if (post.value("type", "") != "TemplateProcessing") return {};
  const json single = post.value("single", json::array());
  if (single.empty() || !single[0].contains("SpecialToken")) return {};
  return single[0]["SpecialToken"].value("id", "");
}

Result<void> read_model(const json& model, const std::string& src, Vocab& v) {
  if (!model.is_object() || model.value("type", "BPE") != "BPE") {
    return err("%s: model.type must be BPE (got %s)", src.c_str(), model.is_object() ? model.value("type", "?").c_str() : "none");
  }
  if (model.value("byte_fallback", false)) return err("%s: model.byte_fallback BPE is not byte-level BPE", src.c_str());
  const json& vocab = model.value("vocab", json());
  if (!vocab.is_object() || vocab.empty()) return err("%s: model.vocab: expected a non-empty object", src.c_str());
  for (const auto& [text, idj] : vocab.items()) {
    if (!idj.is_number_integer() || idj.get<int64_t>() < 0 || idj.get<int64_t>() >= INT32_MAX) {
      return err("%s: model.vocab['%s']: expected an id in [0, 2^31)", src.c_str(), text.c_str());
    }
    const size_t id = size_t(idj.get<int64_t>());
    if (id >= v.tokens.size()) {
      v.tokens.resize(id + 1);
      v.token_types.resize(id + 1, 0);
    }
    if (v.token_types[id] != 0) {
      return err("%s: model.vocab: id %zu is given to both '%s' and '%s'", src.c_str(), id, v.tokens[id].c_str(), text.c_str());
    }
    v.tokens[id] = text;
    v.token_types[id] = kTokenNormal;
  }
  const json& merges = model.value("merges", json());
  if (!merges.is_array()) return err("%s: model.merges: missing (expected an array)", src.c_str());
  v.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return err("%s: model.merges[%zu]: expected \"left right\" or [left, right]", src.c_str(), i);
    }
  }
  if (model.contains("ignore_merges") && model["ignore_merges"].is_boolean()) v.ignore_merges = model["ignore_merges"].get<bool>();
  return {};
}

Result<void> read_added_tokens(const json& added, const std::string& src, Vocab& v) {
  if (added.is_null()) return {};
  if (!added.is_array()) return err("%s: added_tokens: expected an array", src.c_str());
  for (size_t i = 0; i < added.size(); ++i) {
    const json& a = added[i];
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
        !a["content"].is_string() || a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() >= INT32_MAX) {
      return err("%s: added_tokens[%zu]: expected {id, content, ...}", src.c_str(), i);
    }
    const std::string content = a["content"].get<std::string>();
    if (a.value("lstrip", false) || a.value("rstrip", false) || a.value("single_word", false)) {
      return err("%s: added_tokens[%zu] '%s': lstrip/rstrip/single_word are not supported", src.c_str(), i, content.c_str());
    }
    const size_t id = size_t(a["id"].get<int64_t>());
    if (id >= v.tokens.size()) {
      v.tokens.resize(id + 1);
      v.token_types.resize(id + 1, 0);
    }
    // An added token replaces whatever the model vocab had at its id (transformers.js does the same).
    v.tokens[id] = content;
    v.token_types[id] = a.value("special", false) || looks_special(content) ? kTokenControl : kTokenUserDefined;
  }
  return {};
}

}  // namespace

Result<Vocab> vocab_from_hf_json_text(const std::string& tokenizer_json, const std::string& tokenizer_config,
                                      const std::string& source) {
  const json j = json::parse(tokenizer_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return err("%s: not a valid JSON object", source.c_str());
  Vocab v;
  v.model = "gpt2";
  SEEK_TRY(read_model(j.value("model", json()), source, v));
  SEEK_TRY(read_added_tokens(j.value("added_tokens", json()), source, v));
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    if (v.token_types[id] == 0) {  // a hole in the id space
      v.tokens[id] = "[PAD" + std::to_string(id) + "]";
      v.token_types[id] = kTokenUnused;
    }
  }
  auto pre = recognise_pre_tokenizer(j.value("pre_tokenizer", json()), source);
  if (!pre) return pre.error();
  v.pre = *pre;
  auto nfc = recognise_nfc(j.value("normalizer", json()), source);
  if (!nfc) return nfc.error();
  v.nfc = *nfc;
  const json& decoder = j.value("decoder", json());
  if (!decoder.is_object() || decoder.value("type", "") != "ByteLevel") {
    return err("%s: decoder: expected ByteLevel for byte-level BPE", source.c_str());
  }

  std::string bos = template_bos(j.value("post_processor", json()));
  v.add_bos = !bos.empty();
  std::string eos, pad;
  if (!tokenizer_config.empty()) {
    const std::string csrc = source + " (tokenizer_config)";
    const json c = json::parse(tokenizer_config, nullptr, false);
    if (c.is_discarded() || !c.is_object()) return err("%s: not a valid JSON object", csrc.c_str());
    if (c.contains("bos_token")) bos = token_content(c["bos_token"]);
    eos = token_content(c.value("eos_token", json()));
    pad = token_content(c.value("pad_token", json()));
    if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) v.add_bos = c["add_bos_token"].get<bool>();
    if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean()) v.add_eos = c["add_eos_token"].get<bool>();
    const json& tpl = c.value("chat_template", json());
    if (tpl.is_string()) {
      v.chat_template = tpl.get<std::string>();
    } else if (tpl.is_array()) {  // [{name, template}, ...]: the one named "default", else the first
      for (const json& t : tpl) {
        if (t.is_object() && t.value("template", json()).is_string() && (v.chat_template.empty() || t.value("name", "") == "default")) {
          v.chat_template = t["template"].get<std::string>();
        }
      }
    }
  }
  const auto id_of = [&](const std::string& text, const char* what) -> Result<int32_t> {
    if (text.empty()) return -1;
    for (size_t id = 0; id < v.tokens.size(); ++id) {
      if (v.tokens[id] == text) return int32_t(id);
    }
    return err("%s: %s token '%s' is not in the vocab", source.c_str(), what, text.c_str());
  };
  for (auto [text, what, out] : {std::tuple{&bos, "bos", &v.bos_id}, {&eos, "eos", &v.eos_id}, {&pad, "pad", &v.pad_id}}) {
    auto id = id_of(*text, what);
    if (!id) return id.error();
    *out = *id;
  }
  if (v.bos_id < 0) v.add_bos = false;
  return v;
}

Result<Vocab> vocab_from_hf_json(const std::string& tokenizer_json_path, const std::string& tokenizer_config_path) {
  auto json_text = read_file(tokenizer_json_path);
  if (!json_text) return json_text.error();
  std::string config_text;
  if (!tokenizer_config_path.empty()) {
    auto c = read_file(tokenizer_config_path);
    if (!c) return c.error();
    config_text = std::move(c.value());
  }
  return vocab_from_hf_json_text(*json_text, config_text, tokenizer_json_path);
}

}  // namespace seek
