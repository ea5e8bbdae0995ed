// Vocab: everything a GGUF's tokenizer metadata or a Hugging Face tokenizer.json holds about a tokenizer, before
// validation. Tokenizer::create checks it and builds the lookup structures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace seek {

struct GgufFile;    // src/formats/gguf.h
class GgufWriter;   // src/formats/gguf.h

// GGUF tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum TokenType : int32_t {
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,      // special added token (BOS, EOS, <｜tool▁calls▁begin｜> ...): matched only with parse_special
  kTokenUserDefined = 4,  // non-special added token (<｜User｜>, <think> ...): always matched in text
  kTokenUnused = 5,
  kTokenByte = 6,
};

struct Vocab {
  std::string model;                 // "gpt2" = byte-level BPE (the only one supported)
  std::string pre;                   // tokenizer.ggml.pre: deepseek-v3, deepseek-r1-qwen, qwen2, llama-bpe, ...
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens: normal tokens in byte-level form, added ones as text
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type (TokenType); empty = all normal
  std::vector<std::string> merges;   // "left right", in rank order
  int32_t bos_id = -1, eos_id = -1, pad_id = -1;
  bool add_bos = false, add_eos = false;
  std::string chat_template;         // raw template text, never executed

  // Options a GGUF does not record; unset = what the model family's tokenizer.json does for this `pre`
  // (NFC for qwen2/deepseek-r1-qwen, ignore_merges for llama-bpe).
  std::optional<bool> nfc;            // normalizer NFC before pre-tokenisation
  std::optional<bool> ignore_merges;  // a piece that is itself a token is not split by BPE
};

// Reads a Hugging Face tokenizer.json (+ tokenizer_config.json for BOS/EOS/add_bos/chat template; may be empty).
Result<Vocab> vocab_from_hf_json(const std::string& tokenizer_json_path, const std::string& tokenizer_config_path);

// Same, from JSON text already in memory; `source` names it in error messages.
Result<Vocab> vocab_from_hf_json_text(const std::string& tokenizer_json, const std::string& tokenizer_config,
                                      const std::string& source);

// Reads the tokenizer.ggml.* metadata of a GGUF file (src/tokenizer/vocab_gguf.cpp).
Result<Vocab> vocab_from_gguf(const GgufFile& f);

// Writes the vocab as tokenizer.ggml.* metadata (and tokenizer.chat_template), as llama.cpp's converter does.
void vocab_to_gguf(const Vocab& v, GgufWriter& w);

// The vocab of a model path: a .gguf file, a tokenizer.json, or a folder holding tokenizer.json (and, if present,
// tokenizer_config.json).
Result<Vocab> vocab_from_path(const std::string& path);

}  // namespace seek
