// StreamDecoder: emits only well-formed UTF-8, holding the bytes of a character that later tokens will complete.
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace seek {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  if (skip_special_ && tokenizer_->is_control(id)) return {};
  pending_ += tokenizer_->piece(id);
  std::string out;
  const size_t used = unicode::append_sanitized_utf8(pending_, false, out);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  unicode::append_sanitized_utf8(pending_, true, out);
  pending_.clear();
  return out;
}

}  // namespace seek
