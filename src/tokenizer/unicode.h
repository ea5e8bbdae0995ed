// UTF-8 decoding/encoding and the per-code-point facts the pre-tokenisers test (\p{L}, \p{N}, \p{M}, \p{P}, \p{S},
// \s as JavaScript defines them), from the generated tables in unicode_tables.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace seek::unicode {

// Category flags of a code point (several may be set only for kSpace | kNfcCheck and the like).
enum Flag : uint8_t {
  kLetter = 1,     // \p{L}
  kNumber = 2,     // \p{N}
  kMark = 4,       // \p{M}
  kPunct = 8,      // \p{P}
  kSymbol = 16,    // \p{S}
  kSpace = 32,     // JavaScript \s (Zs, \t\n\v\f\r, U+2028/2029, U+FEFF; not U+0085)
  kNfcCheck = 64,  // may change under NFC (non-starter, not NFC-stable, or composes with what precedes it)
};

// A byte that does not start a well-formed UTF-8 sequence decodes, alone, to kInvalidBase + byte: a value outside
// Unicode with no flags, so arbitrary bytes flow through the tokenizer as "other" characters and round-trip.
constexpr uint32_t kInvalidBase = 0x110000;

struct Decoded {
  uint32_t cp;   // code point, or kInvalidBase + byte
  uint32_t len;  // bytes consumed, 1..4
};

// Decodes one character at p (p < end). Strict: rejects overlong forms, surrogates and values above U+10FFFF.
inline Decoded decode_utf8(const unsigned char* p, const unsigned char* end) {
  const uint32_t b0 = p[0];
  if (b0 < 0x80) return {b0, 1};
  const auto cont = [&](int i) { return p + i < end && (p[i] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) return {((b0 & 0x1F) << 6) | (p[1] & 0x3F), 2};
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    const uint32_t cp = ((b0 & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};
  } else if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t cp = ((b0 & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
  }
  return {kInvalidBase + b0, 1};
}

// Appends cp as UTF-8; kInvalidBase + byte appends that raw byte back.
void append_utf8(std::string& out, uint32_t cp);

// Flags of a code point; 0 for unassigned-as-anything and for invalid bytes.
uint8_t flags(uint32_t cp);

// Canonical combining class of cp as an order-preserving rank (0 = starter).
uint8_t ccc_rank(uint32_t cp);

// True when s is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// Appends s to out with every ill-formed subsequence replaced by U+FFFD (one per maximal subpart, as WHATWG and
// ICU do). Unless `final`, an incomplete sequence at the end that more bytes could complete is held back: the
// return value is the number of bytes of s consumed.
size_t append_sanitized_utf8(std::string_view s, bool final, std::string& out);

inline std::string sanitize_utf8(std::string_view s) {
  std::string out;
  append_sanitized_utf8(s, true, out);
  return out;
}

}  // namespace seek::unicode
