// JSON from untrusted files (safetensors headers, Hugging Face index and config files): nesting depth bounded
// before the parser sees the text, duplicate object keys rejected, errors naming the file and byte offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace seek {

// Deeper nesting is refused before parsing. Real headers nest 3 deep (top object, tensor entry, shape array).
constexpr int kMaxJsonDepth = 64;

// Parses `text`, which starts at byte `base_offset` of the file `path`; error offsets are file offsets.
// Rejects: nesting deeper than kMaxJsonDepth, a key that appears twice in one object, numbers outside double's
// range, invalid UTF-8 and any syntax error. `what` names the part of the file ("header", "index").
Result<nlohmann::json> parse_json_checked(std::string_view text, const std::string& path, const char* what,
                                          uint64_t base_offset = 0);

// Text from a file, made safe to print inside an error message: control characters and every byte above 0x7e
// (so also invalid UTF-8) become \xNN, and text longer than 200 bytes is cut with "...".
std::string printable(std::string_view name);

}  // namespace seek
