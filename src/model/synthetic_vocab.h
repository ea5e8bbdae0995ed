// A small byte-level BPE vocabulary for generated test models: DeepSeek's special tokens, the 256 byte tokens
// in GPT-2's byte-to-unicode spelling, and merges learned from a built-in English paragraph, so text prompts
// tokenise into multi-byte tokens exactly as they would with a real vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/vocab.h"

namespace seek {

struct SyntheticVocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // GGUF token_type: 1 normal, 3 control
  std::vector<std::string> merges;   // "left right"
  int32_t bos_id = 0, eos_id = 1;
};

// The GPT-2 byte-to-unicode mapping: the UTF-8 spelling of byte b's stand-in character.
std::string byte_to_unicode(uint8_t b);

// n_merges merges learned greedily (most frequent pair first, ties broken by the pair's text).
SyntheticVocab make_synthetic_vocab(int n_merges);

// The tokenizer a generated model carries: `real` when given (seek gen-model --vocab: a model's own tokenizer, so
// that prompts are as many tokens as on that model), else the synthetic one (n_merges, pre-tokeniser `pre`); padded
// with unused tokens up to pad_to ids, the size of the real model's embedding and head.
Vocab generated_model_vocab(const Vocab* real, int n_merges, const std::string& pre, int64_t pad_to);

}  // namespace seek
