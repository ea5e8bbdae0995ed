// Pre-tokeniser kinds: names, their tokenizer.json regexes, and dispatch to the scanners or the PCRE2 splitter.
#include "tokenizer/pretokenizer.h"

#include "tokenizer/regex_split.h"

namespace seek {
namespace {

struct KindInfo {
  PreTokenizerKind kind;
  const char* name;
};
// GGUF names; the first of each kind is the canonical one.
constexpr KindInfo kNames[] = {
    {PreTokenizerKind::kDeepSeekV3, "deepseek-v3"},       {PreTokenizerKind::kQwen2, "qwen2"},
    {PreTokenizerKind::kQwen2, "deepseek-r1-qwen"},       {PreTokenizerKind::kLlama3, "llama-bpe"},
    {PreTokenizerKind::kLlama3, "llama3"},                {PreTokenizerKind::kLlama3, "llama-v3"},
    {PreTokenizerKind::kDeepSeekLlm, "deepseek-llm"},     {PreTokenizerKind::kDeepSeekCoder, "deepseek-coder"},
};

}  // namespace

Result<PreTokenizerKind> pre_tokenizer_from_name(std::string_view name) {
  for (const KindInfo& k : kNames) {
    if (name == k.name) return k.kind;
  }
  return err("unknown pre-tokenizer '%.*s' (tokenizer.ggml.pre); supported: deepseek-v3, deepseek-r1-qwen, qwen2, "
             "llama-bpe, deepseek-llm, deepseek-coder",
             int(name.size()), name.data());
}

const char* pre_tokenizer_name(PreTokenizerKind kind) {
  for (const KindInfo& k : kNames) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

const std::vector<std::string>& pre_tokenizer_regexes(PreTokenizerKind kind) {
  // Written as in the models' tokenizer.json files (and llama.cpp's llama-vocab.cpp for the two older DeepSeeks).
  static const std::vector<std::string> v3 = {
      R"(\p{N}{1,3})",
      "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
      R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^)" "\r\n" R"(\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[)"
      "\r\n" R"(]*|\s*[)" "\r\n" R"(]+|\s+(?!\S)|\s+)",
  };
  static const std::vector<std::string> qwen2 = {
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
  };
  static const std::vector<std::string> llama3 = {
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
  };
  static const std::vector<std::string> deepseek_llm = {
      "[\r\n]",
      "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
      "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
      "\\s+$",
      "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
      "\\p{N}+",
  };
  static const std::vector<std::string> deepseek_coder = {
      "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", "\\p{N}",
  };
  switch (kind) {
    case PreTokenizerKind::kDeepSeekV3: return v3;
    case PreTokenizerKind::kQwen2: return qwen2;
    case PreTokenizerKind::kLlama3: return llama3;
    case PreTokenizerKind::kDeepSeekLlm: return deepseek_llm;
    case PreTokenizerKind::kDeepSeekCoder: return deepseek_coder;
  }
  return qwen2;
}

Result<PreTokenizer> PreTokenizer::create(PreTokenizerKind kind) {
  PreTokenizer p;
  p.kind_ = kind;
  if (kind == PreTokenizerKind::kDeepSeekLlm || kind == PreTokenizerKind::kDeepSeekCoder) {
    auto r = RegexSplitter::create(pre_tokenizer_regexes(kind));
    if (!r) return err("pre-tokenizer %s: %s", pre_tokenizer_name(kind), r.error().message.c_str());
    p.regex_ = std::move(r.value());
  }
  return p;
}

void PreTokenizer::split(std::string_view text, std::vector<Span>& out) const {
  switch (kind_) {
    case PreTokenizerKind::kDeepSeekV3: split_deepseek_v3(text, out); return;
    case PreTokenizerKind::kQwen2: split_gpt4_style(text, 1, out); return;
    case PreTokenizerKind::kLlama3: split_gpt4_style(text, 3, out); return;
    case PreTokenizerKind::kDeepSeekLlm:
    case PreTokenizerKind::kDeepSeekCoder: regex_->split(text, out); return;
  }
}

}  // namespace seek
