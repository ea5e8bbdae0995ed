// PCRE2-backed Split(Regex, Isolated) stages with the regexes rewritten to JavaScript semantics.
#include "tokenizer/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace seek {
namespace {

// JavaScript's \s, as the inside of a character class (PCRE2's \s with UCP differs: U+0085 in, U+FEFF out).
constexpr const char* kJsSpace = R"(\t\n\x{0B}\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF})";

// transformers.js rewrites this group because JavaScript has no inline flags; the rewrite only pairs ASCII cases.
constexpr const char* kCaseGroup = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
constexpr const char* kCaseGroupJs = "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))";

}  // namespace

struct RegexSplitter::Stage {
  pcre2_code* code = nullptr;
  ~Stage() { pcre2_code_free(code); }
};

RegexSplitter::~RegexSplitter() = default;

Result<std::string> regex_to_pcre2(std::string_view pattern) {
  std::string p(pattern);
  for (size_t at; (at = p.find(kCaseGroup)) != std::string::npos;) p.replace(at, std::string_view(kCaseGroup).size(), kCaseGroupJs);
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      if (e == 's') {
        out += in_class ? std::string(kJsSpace) : "[" + std::string(kJsSpace) + "]";
      } else if (e == 'S') {
        if (in_class) return err("regex '%s': \\S inside a character class is not supported", p.c_str());
        out += "[^" + std::string(kJsSpace) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) in_class = true;
    else if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Result<std::shared_ptr<const RegexSplitter>> RegexSplitter::create(const std::vector<std::string>& patterns) {
  std::shared_ptr<RegexSplitter> s(new RegexSplitter());
  for (const std::string& pattern : patterns) {
    auto converted = regex_to_pcre2(pattern);
    if (!converted) return converted.error();
    int code = 0;
    PCRE2_SIZE offset = 0;
    auto stage = std::make_unique<Stage>();
    // DOLLAR_ENDONLY: JavaScript's $ (no m flag) matches only at the very end, not before a final newline.
    stage->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(converted->data()), converted->size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF, &code,
                                &offset, nullptr);
    if (!stage->code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(code, msg, sizeof(msg));
      return err("regex '%s' at offset %zu: %s", pattern.c_str(), size_t(offset), reinterpret_cast<char*>(msg));
    }
    pcre2_jit_compile(stage->code, PCRE2_JIT_COMPLETE);  // optional speed-up; matching works without it
    s->stages_.push_back(std::move(stage));
  }
  return std::shared_ptr<const RegexSplitter>(std::move(s));
}

void RegexSplitter::split(std::string_view text, std::vector<Span>& out) const {
  std::vector<Span> pieces{{0, text.size()}};
  if (text.empty()) pieces.clear();
  std::vector<Span> next;
  for (const auto& stage : stages_) {
    next.clear();
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(stage->code, nullptr);
    for (const Span& piece : pieces) {
      // Each piece is matched as a string of its own, as the Split pre-tokenizer does.
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.begin);
      const size_t len = piece.end - piece.begin;
      size_t gap = 0, at = 0;
      while (at < len) {
        const int rc = pcre2_match(stage->code, subject, len, at, 0, md, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t mb = ov[0], me = ov[1];
        if (me == mb) {  // empty match: not produced by the supported regexes; step over one byte
          at = mb + 1;
          continue;
        }
        if (gap < mb) next.push_back({piece.begin + gap, piece.begin + mb});
        next.push_back({piece.begin + mb, piece.begin + me});
        gap = at = me;
      }
      if (gap < len) next.push_back({piece.begin + gap, piece.end});
    }
    pcre2_match_data_free(md);
    pieces.swap(next);
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

}  // namespace seek
