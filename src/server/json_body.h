// Request bodies as JSON: the nesting depth is checked by a scan before anything is built, then the text is parsed
// (nlohmann's parser also rejects ill-formed UTF-8 in strings). Pure functions, fuzzed in tests/server.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace seek::server {

struct JsonLimits {
  size_t max_depth = 64;  // arrays and objects nested deeper than this are refused
};

// Fails with the byte offset where the nesting first exceeds max_depth. Strings (and escapes in them) are skipped.
Result<void> check_json_depth(std::string_view text, size_t max_depth);

// Depth check, then parse. The error names the byte offset of the syntax error.
Result<nlohmann::json> parse_json_body(std::string_view text, const JsonLimits& limits);

}  // namespace seek::server
