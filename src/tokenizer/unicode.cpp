// Code-point lookups over the generated Unicode tables, and UTF-8 validation/sanitising helpers.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace seek::unicode {
namespace {

namespace ut = seek::unicode_tables;

// Two-stage lookup table built once from the run list: stage1[cp >> 8] selects a 256-entry block of flags.
struct FlagTable {
  std::vector<uint16_t> stage1;
  std::vector<uint8_t> stage2;

  FlagTable() {
    constexpr uint32_t kMax = 0x110000;
    std::vector<uint8_t> all(kMax, 0);
    for (int i = 0; i < ut::kFlagRunCount; ++i) {
      const uint32_t end = i + 1 < ut::kFlagRunCount ? ut::kFlagRuns[i + 1].first : kMax;
      std::fill(all.begin() + ut::kFlagRuns[i].first, all.begin() + end, ut::kFlagRuns[i].value);
    }
    std::unordered_map<std::string, uint16_t> blocks;
    stage1.resize(kMax >> 8);
    for (uint32_t b = 0; b < (kMax >> 8); ++b) {
      std::string block(all.begin() + (b << 8), all.begin() + ((b + 1) << 8));
      auto [it, inserted] = blocks.emplace(std::move(block), uint16_t(blocks.size()));
      if (inserted) stage2.insert(stage2.end(), it->first.begin(), it->first.end());
      stage1[b] = it->second;
    }
  }
};

const FlagTable& flag_table() {
  static const FlagTable table;
  return table;
}

// Decodes at i in s; returns the length of the maximal subpart when ill-formed (at least 1), with ok = false.
struct Step {
  size_t len;
  bool ok;
  bool truncated;  // ill-formed only because the string ends
};
Step step_utf8(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const size_t left = s.size() - i;
  const unsigned b0 = p[0];
  if (b0 < 0x80) return {1, true, false};
  size_t need;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
  else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {1, false, false};
  }
  for (size_t k = 1; k <= need; ++k) {
    if (k >= left) return {k, false, true};
    const unsigned b = p[k];
    const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return {k, false, false};
  }
  return {need + 1, true, false};
}

}  // namespace

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < kInvalidBase) {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(cp - kInvalidBase);
  }
}

uint8_t flags(uint32_t cp) {
  if (cp >= 0x110000) return 0;
  const FlagTable& t = flag_table();
  return t.stage2[(size_t(t.stage1[cp >> 8]) << 8) | (cp & 0xFF)];
}

uint8_t ccc_rank(uint32_t cp) {
  const auto* begin = ut::kCccRuns;
  const auto* end = ut::kCccRuns + ut::kCccRunCount;
  const auto* it = std::upper_bound(begin, end, cp, [](uint32_t v, const ut::FlagRun& r) { return v < r.first; });
  return it == begin ? 0 : (it - 1)->value;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Step st = step_utf8(s, i);
    if (!st.ok) return false;
    i += st.len;
  }
  return true;
}

size_t append_sanitized_utf8(std::string_view s, bool final, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    const Step st = step_utf8(s, i);
    if (st.ok) {
      out.append(s.substr(i, st.len));
    } else if (st.truncated && !final) {
      return i;
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += st.len;
  }
  return i;
}

}  // namespace seek::unicode
