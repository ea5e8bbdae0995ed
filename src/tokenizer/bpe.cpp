// The BPE merge loop: a linear scan for short pieces, a priority queue for long ones (same order: rank, then
// position of the left symbol, which is how `tokenizers` and transformers.js break ties).
#include "tokenizer/bpe.h"

#include <queue>

namespace seek {

void FlatMap64::reserve(size_t n) {
  size_t cap = 16;
  int bits = 4;
  while (cap < n * 2) {
    cap <<= 1;
    ++bits;
  }
  keys_.assign(cap, kEmpty);
  values_.assign(cap, 0);
  mask_ = cap - 1;
  shift_ = 64 - bits;
  size_ = 0;
}

void FlatMap64::insert_or_assign(uint64_t key, uint64_t value) {
  if (keys_.empty() || (size_ + 1) * 2 > keys_.size()) {
    std::vector<uint64_t> old_keys = std::move(keys_), old_values = std::move(values_);
    reserve(std::max<size_t>(16, (size_ + 1) * 2));
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] != kEmpty) insert_or_assign(old_keys[i], old_values[i]);
    }
  }
  for (size_t i = slot(key);; i = (i + 1) & mask_) {
    if (keys_[i] == key) {
      values_[i] = value;
      return;
    }
    if (keys_[i] == kEmpty) {
      keys_[i] = key;
      values_[i] = value;
      ++size_;
      return;
    }
  }
}

Bpe::Bpe(const std::array<int32_t, 256>& byte_ids, const std::vector<BpeMerge>& merges, bool ignore_merges,
         const StringIdMap* whole_pieces)
    : byte_ids_(byte_ids), ignore_merges_(ignore_merges), whole_pieces_(whole_pieces) {
  merges_.reserve(merges.size());
  // A pair listed twice keeps its last rank, as both `tokenizers` (HashMap collect) and transformers.js (Map) do.
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const BpeMerge& m = merges[rank];
    merges_.insert_or_assign((uint64_t(uint32_t(m.left)) << 32) | uint32_t(m.right),
                             (uint64_t(rank) << 32) | uint32_t(m.result));
  }
}

void Bpe::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    out.push_back(byte_ids_[uint8_t(piece[0])]);
    return;
  }
  if (ignore_merges_ && whole_pieces_) {
    if (auto it = whole_pieces_->find(piece); it != whole_pieces_->end()) {
      out.push_back(it->second);
      return;
    }
  }
  // The scan costs O(n^2) lookups; past a few dozen bytes the queue's O(n log n) wins.
  if (piece.size() <= 48) encode_scan(piece, out);
  else encode_heap(piece, out);
}

void Bpe::encode_scan(std::string_view piece, std::vector<int32_t>& out) const {
  int32_t sym[64];
  std::vector<int32_t> big;
  int32_t* s = sym;
  if (piece.size() > 64) {
    big.resize(piece.size());
    s = big.data();
  }
  size_t n = piece.size();
  for (size_t i = 0; i < n; ++i) s[i] = byte_ids_[uint8_t(piece[i])];
  // Cached (rank << 32 | result) of each adjacent pair; recomputed only next to a merge.
  uint64_t pr[64];
  std::vector<uint64_t> big_pr;
  uint64_t* p = pr;
  if (n > 64) {
    big_pr.resize(n);
    p = big_pr.data();
  }
  for (size_t i = 0; i + 1 < n; ++i) p[i] = lookup(s[i], s[i + 1]);
  while (n > 1) {
    size_t best = SIZE_MAX;
    uint64_t best_v = FlatMap64::kEmpty;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (p[i] < best_v) {  // rank is in the high half, so comparing the packed values orders by rank
        best_v = p[i];
        best = i;
      }
    }
    if (best == SIZE_MAX) break;
    s[best] = int32_t(uint32_t(best_v));
    for (size_t i = best + 1; i + 1 < n; ++i) s[i] = s[i + 1];
    for (size_t i = best + 1; i + 2 < n; ++i) p[i] = p[i + 1];
    --n;
    if (best > 0) p[best - 1] = lookup(s[best - 1], s[best]);
    if (best + 1 < n) p[best] = lookup(s[best], s[best + 1]);
  }
  out.insert(out.end(), s, s + n);
}

void Bpe::encode_heap(std::string_view piece, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t id;
    int32_t prev, next;  // -1 = none
    bool alive;
  };
  struct Entry {
    uint32_t rank;
    int32_t pos;  // index of the left symbol (its original position)
    int32_t result;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const int32_t n = int32_t(piece.size());
  std::vector<Sym> sym(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) sym[size_t(i)] = {byte_ids_[uint8_t(piece[size_t(i)])], i - 1, i + 1 < n ? i + 1 : -1, true};
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  const auto push = [&](int32_t pos) {
    const Sym& a = sym[size_t(pos)];
    if (a.next < 0) return;
    const uint64_t v = lookup(a.id, sym[size_t(a.next)].id);
    if (v != FlatMap64::kEmpty) queue.push({uint32_t(v >> 32), pos, int32_t(uint32_t(v))});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!queue.empty()) {
    const Entry e = queue.top();
    queue.pop();
    Sym& a = sym[size_t(e.pos)];
    if (!a.alive || a.next < 0) continue;
    // Stale entry: the pair at this position changed since it was queued.
    const uint64_t v = lookup(a.id, sym[size_t(a.next)].id);
    if (v == FlatMap64::kEmpty || uint32_t(v >> 32) != e.rank) continue;
    Sym& b = sym[size_t(a.next)];
    a.id = e.result;
    b.alive = false;
    a.next = b.next;
    if (b.next >= 0) sym[size_t(b.next)].prev = e.pos;
    if (a.prev >= 0) push(a.prev);
    push(e.pos);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = sym[size_t(i)].next) out.push_back(sym[size_t(i)].id);
}

}  // namespace seek
