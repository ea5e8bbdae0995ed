// Byte-level BPE over token ids: a piece's bytes start as single-byte tokens and the adjacent pair with the lowest
// merge rank is merged (leftmost first on ties) until no pair has a merge; as Hugging Face `tokenizers` does.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace seek {

// Open-addressing map from 64-bit keys to 64-bit values; keys must not be kEmpty.
class FlatMap64 {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  void reserve(size_t n);
  void insert_or_assign(uint64_t key, uint64_t value);
  // The value, or kEmpty when absent.
  uint64_t find(uint64_t key) const {
    if (keys_.empty()) return kEmpty;
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == kEmpty) return kEmpty;
    }
  }
  size_t size() const { return size_; }

 private:
  size_t slot(uint64_t key) const { return size_t((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_; }
  std::vector<uint64_t> keys_, values_;
  size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

// Hash and equality that let unordered_map<std::string, V> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeMerge {
  int32_t left, right, result;  // token ids; rank = position in the list
};

class Bpe {
 public:
  Bpe() = default;
  // byte_ids[b] = the token of byte b; whole_pieces (raw bytes -> id) is consulted when ignore_merges is set.
  Bpe(const std::array<int32_t, 256>& byte_ids, const std::vector<BpeMerge>& merges, bool ignore_merges,
      const StringIdMap* whole_pieces);

  // Appends the tokens of one pre-tokenised piece (raw bytes) to out.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

  // The two merge loops, exposed so tests can check that they agree on long inputs.
  void encode_scan(std::string_view piece, std::vector<int32_t>& out) const;
  void encode_heap(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  // (rank << 32 | result) of merging (left, right), or FlatMap64::kEmpty.
  uint64_t lookup(int32_t left, int32_t right) const {
    return merges_.find((uint64_t(uint32_t(left)) << 32) | uint32_t(right));
  }
  std::array<int32_t, 256> byte_ids_{};
  FlatMap64 merges_;
  bool ignore_merges_ = false;
  const StringIdMap* whole_pieces_ = nullptr;
};

}  // namespace seek
