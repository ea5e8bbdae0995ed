// Tokenizer: vocab validation, and encode (added tokens -> NFC -> pre-tokeniser -> BPE) / decode.
#include "tokenizer/tokenizer.h"

#include <array>
#include <climits>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/nfc.h"

namespace seek {

struct Tokenizer::Impl {
  Vocab vocab;
  PreTokenizer pre;
  bool nfc = false;
  std::vector<std::string> pieces;  // raw bytes per id
  StringIdMap by_text;              // vocab text -> id
  StringIdMap by_piece;             // raw bytes of normal tokens -> id (ignore_merges)
  Bpe bpe;
  AddedTokenMatcher added_all;   // control + user-defined
  AddedTokenMatcher added_user;  // user-defined only

  void encode_section(std::string_view text, std::vector<int32_t>& out) const;
};

namespace {

// Short, printable form of a token for error messages.
std::string shown(std::string_view s) {
  std::string out = s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s);
  return out;
}

Result<void> index_tokens(Tokenizer::Impl& t) {
  const Vocab& v = t.vocab;
  const size_t n = v.tokens.size();
  t.pieces.resize(n);
  t.by_text.reserve(n);
  t.by_piece.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = int32_t(i);
    const std::string& text = v.tokens[i];
    const int32_t type = v.token_types[i];
    if (type < kTokenNormal || type > kTokenByte) {
      return err("token_type[%d] = %d: expected 1 (normal) .. 6 (byte)", id, type);
    }
    auto [it, inserted] = t.by_text.emplace(text, id);
    if (!inserted) return err("duplicate token '%s' at ids %d and %d", shown(text).c_str(), it->second, id);
    if (type == kTokenControl || type == kTokenUserDefined) {
      t.pieces[i] = text;  // added tokens are stored as plain text
      t.added_all.add(text, id);
      if (type == kTokenUserDefined) t.added_user.add(text, id);
      continue;
    }
    std::optional<std::string> raw = byte_level_decode(text);
    if (!raw) {
      if (type == kTokenNormal || type == kTokenByte) {
        return err("token %d '%s' is not in byte-level BPE form (a character outside the 256 byte characters)", id,
                   shown(text).c_str());
      }
      raw = text;  // unknown/unused placeholders
    }
    t.pieces[i] = *raw;
    if (type == kTokenNormal || type == kTokenByte) t.by_piece.emplace(*raw, id);
  }
  return {};
}

Result<std::vector<BpeMerge>> parse_merges(const Tokenizer::Impl& t) {
  std::vector<BpeMerge> merges;
  merges.reserve(t.vocab.merges.size());
  std::string joined;
  for (size_t r = 0; r < t.vocab.merges.size(); ++r) {
    const std::string& m = t.vocab.merges[r];
    const size_t sp = m.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= m.size() || m.find(' ', sp + 1) != std::string::npos) {
      return err("merges[%zu] '%s': expected 'left right'", r, shown(m).c_str());
    }
    const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
    const auto l = t.by_text.find(left), rt = t.by_text.find(right);
    if (l == t.by_text.end() || rt == t.by_text.end()) {
      return err("merges[%zu] '%s': '%s' is not a token", r, shown(m).c_str(),
                 std::string(l == t.by_text.end() ? left : right).c_str());
    }
    joined.assign(left).append(right);
    const auto res = t.by_text.find(joined);
    if (res == t.by_text.end()) return err("merges[%zu] '%s': the merged token '%s' is not in the vocab", r, shown(m).c_str(), shown(joined).c_str());
    merges.push_back({l->second, rt->second, res->second});
  }
  return merges;
}

}  // namespace

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
  auto impl = std::make_shared<Impl>();
  Impl& t = *impl;
  t.vocab = std::move(vocab);
  Vocab& v = t.vocab;
  if (v.model != "gpt2") {
    return err("tokenizer model '%s' is not supported: only byte-level BPE ('gpt2') is", v.model.c_str());
  }
  if (v.tokens.empty()) return err("vocab has no tokens");
  if (v.tokens.size() > size_t(INT32_MAX)) return err("vocab has too many tokens (%zu)", v.tokens.size());
  if (v.token_types.empty()) v.token_types.assign(v.tokens.size(), kTokenNormal);
  if (v.token_types.size() != v.tokens.size()) {
    return err("vocab has %zu tokens but %zu token types", v.tokens.size(), v.token_types.size());
  }
  auto kind = pre_tokenizer_from_name(v.pre);
  if (!kind) return kind.error();
  auto pre = PreTokenizer::create(*kind);
  if (!pre) return pre.error();
  t.pre = std::move(pre.value());
  const int32_t n = int32_t(v.tokens.size());
  for (auto [name, id] : {std::pair{"bos", v.bos_id}, {"eos", v.eos_id}, {"pad", v.pad_id}}) {
    if (id < -1 || id >= n) return err("%s token id %d is out of range [0, %d)", name, id, n);
  }
  if (v.add_bos && v.bos_id < 0) return err("add_bos is set but the vocab has no BOS token");
  SEEK_TRY(index_tokens(t));
  std::array<int32_t, 256> byte_ids{};
  for (int b = 0; b < 256; ++b) {
    const auto it = t.by_text.find(byte_level_encode(std::string(1, char(b))));
    if (it == t.by_text.end()) return err("vocab lacks the token of byte 0x%02X required by byte-level BPE", b);
    byte_ids[size_t(b)] = it->second;
  }
  auto merges = parse_merges(t);
  if (!merges) return merges.error();
  const bool llama3 = *kind == PreTokenizerKind::kLlama3;
  const bool qwen2 = *kind == PreTokenizerKind::kQwen2;
  t.nfc = v.nfc.value_or(qwen2);
  t.bpe = Bpe(byte_ids, *merges, v.ignore_merges.value_or(llama3), &t.by_piece);
  Tokenizer tok;
  tok.impl_ = std::move(impl);
  return tok;
}

void Tokenizer::Impl::encode_section(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string normalized;
  if (nfc && nfc_may_change(text)) {
    normalized = seek::nfc(text);
    text = normalized;
  }
  thread_local std::vector<Span> spans;
  // Long sections go to the pre-tokeniser in ~64 KiB chunks so its per-character arrays stay small. A chunk ends
  // after a '\n' that an ASCII letter follows: no supported pre-tokeniser has a piece spanning that point (a newline
  // ends whitespace and punctuation pieces and is never the optional prefix of a word).
  constexpr size_t kChunk = 64 * 1024;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.size();
    for (size_t i = at + kChunk; i + 1 < text.size(); ++i) {
      const char c = text[i + 1];
      if (text[i] == '\n' && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        end = i + 1;
        break;
      }
    }
    const std::string_view chunk = text.substr(at, end - at);
    spans.clear();
    pre.split(chunk, spans);
    for (const Span& s : spans) bpe.encode(chunk.substr(s.begin, s.end - s.begin), out);
    at = end;
  }
}

void Tokenizer::encode_into(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  const Impl& t = *impl_;
  const AddedTokenMatcher& added = parse_special ? t.added_all : t.added_user;
  for (size_t pos = 0;;) {
    const AddedTokenMatcher::Match m = added.find(text, pos);
    const size_t end = m.id >= 0 ? m.begin : text.size();
    t.encode_section(text.substr(pos, end - pos), out);
    if (m.id < 0) break;
    out.push_back(m.id);
    pos = m.end;
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_bos && impl_->vocab.bos_id >= 0) out.push_back(impl_->vocab.bos_id);
  encode_into(text, parse_special, out);
  if (add_bos && impl_->vocab.add_eos && impl_->vocab.eos_id >= 0) out.push_back(impl_->vocab.eos_id);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab()) continue;
    if (skip_special && is_control(id)) continue;
    out += impl_->pieces[size_t(id)];
  }
  return out;
}

std::string_view Tokenizer::piece(int32_t id) const {
  return id >= 0 && id < n_vocab() ? std::string_view(impl_->pieces[size_t(id)]) : std::string_view();
}

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string empty;
  return id >= 0 && id < n_vocab() ? impl_->vocab.tokens[size_t(id)] : empty;
}

int32_t Tokenizer::n_vocab() const { return int32_t(impl_->vocab.tokens.size()); }
int32_t Tokenizer::bos() const { return impl_->vocab.bos_id; }
int32_t Tokenizer::eos() const { return impl_->vocab.eos_id; }
int32_t Tokenizer::pad() const { return impl_->vocab.pad_id; }
bool Tokenizer::add_bos() const { return impl_->vocab.add_bos; }
bool Tokenizer::add_eos() const { return impl_->vocab.add_eos; }
int32_t Tokenizer::token_type(int32_t id) const {
  return id >= 0 && id < n_vocab() ? impl_->vocab.token_types[size_t(id)] : 0;
}
bool Tokenizer::is_control(int32_t id) const { return token_type(id) == kTokenControl; }
std::optional<int32_t> Tokenizer::find(std::string_view token_text) const {
  const auto it = impl_->by_text.find(token_text);
  return it == impl_->by_text.end() ? std::nullopt : std::optional<int32_t>(it->second);
}
PreTokenizerKind Tokenizer::pre_tokenizer() const { return impl_->pre.kind(); }
bool Tokenizer::nfc() const { return impl_->nfc; }
const Vocab& Tokenizer::vocab() const { return impl_->vocab; }

}  // namespace seek
