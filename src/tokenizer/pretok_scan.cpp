// Hand-written scanners equal to the pre-tokeniser regexes of DeepSeek-V3, Qwen2 and Llama 3 under JavaScript's
// leftmost-first, backtracking semantics. Each `match_*` returns the end of the match at position i, or i when the
// regex has no match starting there; `isolated_split` turns that into Split(behavior=Isolated).
#include <array>
#include <cstdint>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace seek {
namespace {

using namespace unicode;

uint8_t ascii_flags(uint32_t c) {
  static const auto table = [] {
    std::array<uint8_t, 128> t{};
    for (uint32_t i = 0; i < 128; ++i) t[i] = flags(i);
    return t;
  }();
  return table[c];
}

// The text decoded once: code point, flags and byte offset of each character (off has n + 1 entries).
struct Chars {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> fl;
  std::vector<size_t> off;
  size_t n = 0;

  void decode(std::string_view text) {
    cp.clear();
    fl.clear();
    off.clear();
    const auto* base = reinterpret_cast<const unsigned char*>(text.data());
    const auto* p = base;
    const auto* end = base + text.size();
    while (p < end) {
      const Decoded d = *p < 0x80 ? Decoded{*p, 1} : decode_utf8(p, end);
      cp.push_back(d.cp);
      fl.push_back(d.cp < 0x80 ? ascii_flags(d.cp) : flags(d.cp));
      off.push_back(size_t(p - base));
      p += d.len;
    }
    off.push_back(text.size());
    n = cp.size();
  }
};

bool is_nl(uint32_t c) { return c == '\r' || c == '\n'; }
bool is_ascii_alpha(uint32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_ascii_punct(uint32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}
bool is_v3_cjk(uint32_t c) { return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF); }

// End of the run of characters from i whose flags intersect mask.
size_t run(const Chars& c, size_t i, size_t n, uint8_t mask) {
  while (i < n && (c.fl[i] & mask)) ++i;
  return i;
}
// End of the run of characters from i with none of the flags in mask.
size_t run_not(const Chars& c, size_t i, size_t n, uint8_t mask) {
  while (i < n && !(c.fl[i] & mask)) ++i;
  return i;
}
size_t run_nl(const Chars& c, size_t i, size_t n) {
  while (i < n && is_nl(c.cp[i])) ++i;
  return i;
}

// `\s*[\r\n]+|\s+(?!\S)|\s+` at a whitespace character i.
size_t match_space(const Chars& c, size_t i, size_t n) {
  size_t j = i;
  size_t last_nl = SIZE_MAX;
  while (j < n && (c.fl[j] & kSpace)) {
    if (is_nl(c.cp[j])) last_nl = j;
    ++j;
  }
  if (last_nl != SIZE_MAX) return last_nl + 1;  // \s* backtracks to the last newline of the run
  if (j == n || j - i == 1) return j;           // (?!\S) holds at the end; a single space falls to \s+
  return j - 1;                                 // leave the last space to the word that follows
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// ("(?i:" as transformers.js rewrites it: ASCII case pairs only.)
size_t match_gpt4_style(const Chars& c, size_t i, size_t n, int max_digits) {
  const uint32_t ch = c.cp[i];
  const uint8_t f = c.fl[i];
  if (ch == '\'' && i + 1 < n && c.cp[i + 1] < 0x80) {
    const uint32_t a = c.cp[i + 1] | 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < n && c.cp[i + 2] < 0x80) {
      const uint32_t b = c.cp[i + 2] | 0x20;
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
  }
  if (f & kLetter) return run(c, i, n, kLetter);
  if (!(f & kNumber) && !is_nl(ch) && i + 1 < n && (c.fl[i + 1] & kLetter)) return run(c, i + 1, n, kLetter);
  if (f & kNumber) {
    size_t j = i;
    while (j < n && j - i < size_t(max_digits) && (c.fl[j] & kNumber)) ++j;
    return j;
  }
  constexpr uint8_t kNotOther = kSpace | kLetter | kNumber;
  if (!(f & kNotOther)) return run_nl(c, run_not(c, i, n, kNotOther), n);
  if (ch == ' ' && i + 1 < n && !(c.fl[i + 1] & kNotOther)) return run_nl(c, run_not(c, i + 1, n, kNotOther), n);
  if (f & kSpace) return match_space(c, i, n);
  return i;
}

// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
size_t match_deepseek_v3(const Chars& c, size_t i, size_t n) {
  const uint32_t ch = c.cp[i];
  const uint8_t f = c.fl[i];
  if (is_ascii_punct(ch) && i + 1 < n && is_ascii_alpha(c.cp[i + 1])) {
    size_t j = i + 1;
    while (j < n && is_ascii_alpha(c.cp[j])) ++j;
    return j;
  }
  if (f & (kLetter | kMark)) return run(c, i, n, kLetter | kMark);
  if (!(f & (kLetter | kPunct | kSymbol)) && !is_nl(ch) && i + 1 < n && (c.fl[i + 1] & (kLetter | kMark))) {
    return run(c, i + 1, n, kLetter | kMark);
  }
  if (f & (kPunct | kSymbol)) return run_nl(c, run(c, i, n, kPunct | kSymbol), n);
  if (ch == ' ' && i + 1 < n && (c.fl[i + 1] & (kPunct | kSymbol))) {
    return run_nl(c, run(c, i + 1, n, kPunct | kSymbol), n);
  }
  if (f & kSpace) return match_space(c, i, n);
  return i;  // digits, format characters and the like: left to the gap between matches
}

// Split(behavior=Isolated) of characters [b, e): every match and every non-empty gap between matches is a piece.
template <class Match, class Emit>
void isolated_split(size_t b, size_t e, Match&& match, Emit&& emit) {
  size_t gap = b;
  for (size_t i = b; i < e;) {
    const size_t m = match(i, e);
    if (m > i) {
      if (gap < i) emit(gap, i);
      emit(i, m);
      i = gap = m;
    } else {
      ++i;
    }
  }
  if (gap < e) emit(gap, e);
}

Chars& scratch() {
  thread_local Chars chars;
  return chars;
}

}  // namespace

void split_gpt4_style(std::string_view text, int max_digits, std::vector<Span>& out) {
  Chars& c = scratch();
  c.decode(text);
  isolated_split(
      0, c.n, [&](size_t i, size_t e) { return match_gpt4_style(c, i, e, max_digits); },
      [&](size_t b, size_t e) { out.push_back({c.off[b], c.off[e]}); });
}

void split_deepseek_v3(std::string_view text, std::vector<Span>& out) {
  Chars& c = scratch();
  c.decode(text);
  // Character indices are relative to the fragment: each Split stage sees its piece as a whole string, so the
  // lookahead (?!\S) stops at the end of the piece.
  const auto stage3 = [&](size_t b, size_t e) {
    isolated_split(
        b, e, [&](size_t i, size_t end) { return match_deepseek_v3(c, i, end); },
        [&](size_t pb, size_t pe) { out.push_back({c.off[pb], c.off[pe]}); });
  };
  const auto stage2 = [&](size_t b, size_t e) {
    isolated_split(
        b, e,
        [&](size_t i, size_t end) {
          size_t j = i;
          while (j < end && is_v3_cjk(c.cp[j])) ++j;
          return j;
        },
        stage3);
  };
  isolated_split(
      0, c.n,
      [&](size_t i, size_t end) {
        size_t j = i;
        while (j < end && j - i < 3 && (c.fl[j] & kNumber)) ++j;
        return j;
      },
      stage2);
}

}  // namespace seek
