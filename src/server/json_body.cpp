// Depth-limited JSON parsing of request bodies.
#include "server/json_body.h"

namespace seek::server {

Result<void> check_json_depth(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false, escape = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return err("the JSON body nests deeper than %zu levels (at byte %zu)", max_depth, i);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

Result<nlohmann::json> parse_json_body(std::string_view text, const JsonLimits& limits) {
  if (text.empty()) return err("the request body is empty: expected a JSON object");
  SEEK_TRY(check_json_depth(text, limits.max_depth));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return err("the request body is not valid JSON (byte %zu)", size_t(e.byte));
  } catch (const std::exception&) {
    return err("the request body is not valid JSON");
  }
}

}  // namespace seek::server
