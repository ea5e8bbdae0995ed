// A small byte-level BPE vocabulary for generated test models: DeepSeek's special tokens, the 256 byte tokens
// in GPT-2's byte-to-unicode spelling, and merges learned from a built-in English paragraph, so text prompts
// tokenise into multi-byte tokens exactly as they would with a real vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace seek
