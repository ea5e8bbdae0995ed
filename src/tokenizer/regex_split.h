// A sequence of Split(Regex, behavior=Isolated) pre-tokenisers run with PCRE2, with the regexes first rewritten to
// JavaScript semantics (\s as JS defines it; transformers.js' rewrite of "(?i:'s|...)"). It serves the rarer
// pre-tokenisers and is the reference that the hand-written scanners are tested against.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/pretokenizer.h"

namespace seek {

class RegexSplitter {
 public:
  static Result<std::shared_ptr<const RegexSplitter>> create(const std::vector<std::string>& patterns);
  ~RegexSplitter();
  // Each stage splits every piece of the previous stage: matches and the gaps between them both become pieces.
  void split(std::string_view text, std::vector<Span>& out) const;

  struct Stage;

 private:
  RegexSplitter() = default;
  std::vector<std::unique_ptr<Stage>> stages_;
};

// The PCRE2 form of a tokenizer.json regex (exposed for tests).
Result<std::string> regex_to_pcre2(std::string_view pattern);

}  // namespace seek
