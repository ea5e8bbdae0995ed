// Tokenizer: byte-level BPE encode/decode for DeepSeek-V3/R1 and the R1 distills (Qwen2, Llama 3), built from a
// validated Vocab; and StreamDecoder, which turns ids into text as they are generated.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab.h"

namespace seek {

class Tokenizer {
 public:
  // Validates the vocab (token types, ids in range, no duplicate token texts, merges that name existing tokens and
  // produce one, all 256 byte tokens present, a known pre-tokeniser) and builds the lookup structures.
  static Result<Tokenizer> create(Vocab vocab);

  // Text -> ids. Added tokens are matched in the text first: user-defined ones always, control ones (BOS, role and
  // tool markers...) only when parse_special. add_bos prepends BOS (and appends EOS when the vocab says add_eos).
  // Any bytes are accepted; ill-formed UTF-8 is encoded byte by byte, so decode(encode(s)) == s for every s.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;
  // Appends the ids of text (no BOS/EOS) to out.
  void encode_into(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;

  // Ids -> bytes: the concatenated pieces (may end inside a UTF-8 character; see StreamDecoder). Ids out of range
  // are skipped; skip_special also skips control tokens.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;

  std::string_view piece(int32_t id) const;       // the token's bytes after byte-level decoding ("" if out of range)
  const std::string& token_text(int32_t id) const;  // the token as the vocab stores it (byte-level form)
  int32_t n_vocab() const;
  int32_t bos() const;
  int32_t eos() const;
  int32_t pad() const;
  bool add_bos() const;
  bool add_eos() const;
  int32_t token_type(int32_t id) const;  // TokenType; 0 if out of range
  bool is_control(int32_t id) const;
  std::optional<int32_t> find(std::string_view token_text) const;  // by vocab text
  PreTokenizerKind pre_tokenizer() const;
  bool nfc() const;
  const Vocab& vocab() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;  // immutable once built: copies are cheap and encode is thread-safe
};

// Decodes a stream of ids into text that is always well-formed UTF-8: bytes of a character split across tokens are
// held until it completes; ill-formed bytes become U+FFFD.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false);
  std::string push(int32_t id);  // the text that became complete with this token (possibly empty)
  std::string flush();           // whatever is held, with an incomplete tail as U+FFFD; resets the decoder

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace seek
