// Matching added tokens (control and user-defined) in raw text before pre-tokenisation: at each position the
// longest token wins, and the leftmost position first, as `tokenizers`' AddedVocabulary and transformers.js do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe.h"

namespace seek {

class AddedTokenMatcher {
 public:
  void add(std::string_view text, int32_t id);
  bool empty() const { return terminal_.size() <= 1; }

  struct Match {
    size_t begin = 0, end = 0;
    int32_t id = -1;  // -1 = no match
  };
  // The first match at or after `from`.
  Match find(std::string_view text, size_t from) const;

 private:
  int32_t child(int32_t node, uint8_t byte) const {
    const uint64_t v = edges_.find((uint64_t(uint32_t(node)) << 8) | byte);
    return v == FlatMap64::kEmpty ? -1 : int32_t(v);
  }
  FlatMap64 edges_;                      // (node << 8 | byte) -> child node; node 0 = root
  std::vector<int32_t> terminal_ = {-1};  // token id ending at each node, or -1
  bool first_byte_[256] = {};
};

}  // namespace seek
