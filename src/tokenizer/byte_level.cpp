// The byte <-> unicode tables of byte-level BPE, built once.
#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/unicode.h"

namespace seek {
namespace {

struct ByteTables {
  std::array<uint32_t, 256> to_unicode{};
  std::array<int16_t, 0x144> to_byte{};  // indexed by code point; -1 = not a byte character

  ByteTables() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_unicode[b] = printable ? uint32_t(b) : next++;
      to_byte[to_unicode[b]] = int16_t(b);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

uint32_t byte_to_unicode(uint8_t b) { return tables().to_unicode[b]; }

std::string byte_level_encode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char b : raw) unicode::append_utf8(out, tables().to_unicode[b]);
  return out;
}

std::optional<std::string> byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unicode::Decoded d = unicode::decode_utf8(p, end);
    if (d.cp >= tables().to_byte.size() || tables().to_byte[d.cp] < 0) return std::nullopt;
    out += char(tables().to_byte[d.cp]);
    p += d.len;
  }
  return out;
}

}  // namespace seek
