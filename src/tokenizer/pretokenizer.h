// Pre-tokenisers: split text (one section between added tokens) into the pieces that BPE encodes separately.
// Each supported kind is named as in GGUF's tokenizer.ggml.pre and reproduces the Split(Regex, Isolated) sequence of
// the model's tokenizer.json with JavaScript regex semantics (the npm oracle's).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace seek {

enum class PreTokenizerKind {
  kDeepSeekV3,     // "deepseek-v3": digits in runs of <= 3, CJK/kana runs, then V3's word/punctuation regex
  kQwen2,          // "qwen2", "deepseek-r1-qwen": GPT-4-style regex with single digits
  kLlama3,         // "llama-bpe": GPT-4-style regex with digits in runs of <= 3
  kDeepSeekLlm,    // "deepseek-llm": DeepSeek LLM 7B/67B (PCRE2)
  kDeepSeekCoder,  // "deepseek-coder": DeepSeek Coder 1.x (PCRE2)
};

// The kind for a tokenizer.ggml.pre name; an unknown name is an error listing the supported ones.
Result<PreTokenizerKind> pre_tokenizer_from_name(std::string_view name);
const char* pre_tokenizer_name(PreTokenizerKind kind);

// The Split regexes of a kind, in order, as tokenizer.json writes them.
const std::vector<std::string>& pre_tokenizer_regexes(PreTokenizerKind kind);

// A piece of the input: bytes [begin, end).
struct Span {
  size_t begin, end;
};

class RegexSplitter;

class PreTokenizer {
 public:
  static Result<PreTokenizer> create(PreTokenizerKind kind);
  // Appends the pieces of text, in order and covering it exactly, to out.
  void split(std::string_view text, std::vector<Span>& out) const;
  PreTokenizerKind kind() const { return kind_; }

 private:
  PreTokenizerKind kind_ = PreTokenizerKind::kQwen2;
  std::shared_ptr<const RegexSplitter> regex_;  // for the kinds without a hand-written scanner
};

// Hand-written scanners, exposed for tests that compare them with the PCRE2 reference (pretok_scan.cpp).
void split_deepseek_v3(std::string_view text, std::vector<Span>& out);
void split_gpt4_style(std::string_view text, int max_digits, std::vector<Span>& out);

}  // namespace seek
