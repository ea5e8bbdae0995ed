// NFC: canonical decomposition, canonical ordering by combining class, then canonical composition (UAX #15), with
// Hangul syllables handled algorithmically and the rest from the generated tables.
#include "tokenizer/nfc.h"

#include <algorithm>
#include <vector>

#include "tokenizer/unicode.h"
#include "tokenizer/unicode_tables.h"

namespace seek {
namespace {

namespace ut = seek::unicode_tables;

// Hangul syllable arithmetic (Unicode §3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const auto* begin = ut::kDecompositions;
  const auto* end = begin + ut::kDecompositionCount;
  const auto* it = std::lower_bound(begin, end, cp, [](const ut::Decomposition& d, uint32_t v) { return d.cp < v; });
  if (it != end && it->cp == cp) {
    out.insert(out.end(), ut::kDecompPool + it->offset, ut::kDecompPool + it->offset + it->length);
  } else {
    out.push_back(cp);
  }
}

// The primary composite of (a, b), or 0 when there is none.
uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const auto* begin = ut::kCompositions;
  const auto* end = begin + ut::kCompositionCount;
  const auto* it = std::lower_bound(begin, end, std::pair{a, b}, [](const ut::Composition& c, std::pair<uint32_t, uint32_t> v) {
    return c.first != v.first ? c.first < v.first : c.second < v.second;
  });
  return it != end && it->first == a && it->second == b ? it->composite : 0;
}

}  // namespace

bool nfc_may_change(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const unicode::Decoded d = unicode::decode_utf8(p, end);
    if (unicode::flags(d.cp) & unicode::kNfcCheck) return true;
    p += d.len;
  }
  return false;
}

std::string nfc(std::string_view s) {
  if (!nfc_may_change(s)) return std::string(s);
  // 1. Full canonical decomposition.
  std::vector<uint32_t> d;
  d.reserve(s.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unicode::Decoded c = unicode::decode_utf8(p, end);
    decompose(c.cp, d);
    p += c.len;
  }
  // 2. Canonical ordering: stable sort of each run of non-starters by combining class.
  std::vector<uint8_t> cc(d.size());
  for (size_t i = 0; i < d.size(); ++i) cc[i] = unicode::ccc_rank(d[i]);
  for (size_t i = 1; i < d.size(); ++i) {
    for (size_t j = i; j > 0 && cc[j] != 0 && cc[j - 1] > cc[j]; --j) {
      std::swap(d[j], d[j - 1]);
      std::swap(cc[j], cc[j - 1]);
    }
  }
  // 3. Canonical composition: a character composes with the last starter unless something between blocks it.
  std::vector<uint32_t> out;
  out.reserve(d.size());
  long starter = -1;
  uint8_t last_cc = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    if (starter >= 0) {
      const bool adjacent = long(out.size()) - 1 == starter;
      if (adjacent || (last_cc != 0 && last_cc < cc[i])) {
        if (const uint32_t comp = compose_pair(out[size_t(starter)], d[i])) {
          out[size_t(starter)] = comp;
          continue;
        }
      }
    }
    if (cc[i] == 0) starter = long(out.size());
    last_cc = cc[i];
    out.push_back(d[i]);
  }
  std::string result;
  result.reserve(s.size());
  for (uint32_t cp : out) unicode::append_utf8(result, cp);
  return result;
}

}  // namespace seek
