// A byte trie of the added tokens' texts, searched at each position that can start one.
#include "tokenizer/added_tokens.h"

namespace seek {

void AddedTokenMatcher::add(std::string_view text, int32_t id) {
  if (text.empty()) return;
  first_byte_[uint8_t(text[0])] = true;
  int32_t node = 0;
  for (char c : text) {
    int32_t next = child(node, uint8_t(c));
    if (next < 0) {
      next = int32_t(terminal_.size());
      terminal_.push_back(-1);
      edges_.insert_or_assign((uint64_t(uint32_t(node)) << 8) | uint8_t(c), uint64_t(next));
    }
    node = next;
  }
  terminal_[size_t(node)] = id;
}

AddedTokenMatcher::Match AddedTokenMatcher::find(std::string_view text, size_t from) const {
  if (empty()) return {};
  for (size_t i = from; i < text.size(); ++i) {
    if (!first_byte_[uint8_t(text[i])]) continue;
    Match best;
    int32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      node = child(node, uint8_t(text[j]));
      if (node < 0) break;
      if (terminal_[size_t(node)] >= 0) best = {i, j + 1, terminal_[size_t(node)]};
    }
    if (best.id >= 0) return best;
  }
  return {};
}

}  // namespace seek
