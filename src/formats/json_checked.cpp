// parse_json_checked: a linear pre-scan bounds the nesting depth, then nlohmann's (iterative) parser runs with a
// callback that tracks the keys of each open object to catch duplicates, which it would otherwise merge silently.
#include "formats/json_checked.h"

#include <cstdio>
#include <unordered_set>
#include <vector>

namespace seek {

namespace {

using nlohmann::json;

// Offset of the first bracket that opens level kMaxJsonDepth + 1, or npos. Brackets inside strings do not
// count. On malformed text the count may differ from the parser's, but only past the point where the parser
// stops with a syntax error, so the parser never goes deeper than this scan allowed.
size_t first_too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<json> parse_json_checked(std::string_view text, const std::string& path, const char* what,
                                uint64_t base_offset) {
  if (size_t at = first_too_deep(text); at != std::string_view::npos)
    return err("%s: offset %llu: %s: JSON nested deeper than %d levels", path.c_str(),
               (unsigned long long)(base_offset + at), what, kMaxJsonDepth);

  // One key set per open object, innermost last; arrays need none (an object inside one gets its own set).
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string duplicate;
  auto on_event = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), on_event);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based: the position of the character the parser stopped at.
    const uint64_t at = base_offset + (e.byte > 0 ? e.byte - 1 : 0);
    return err("%s: offset %llu: %s: invalid JSON: %s", path.c_str(), (unsigned long long)at, what,
               printable(e.what()).c_str());
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    return err("%s: offset %llu: %s: invalid JSON: %s", path.c_str(), (unsigned long long)base_offset, what,
               printable(e.what()).c_str());
  }
  if (!duplicate.empty())
    return err("%s: offset %llu: %s: key \"%s\" appears twice in one object", path.c_str(),
               (unsigned long long)base_offset, what, printable(duplicate).c_str());
  return j;
}

std::string printable(std::string_view name) {
  constexpr size_t kMaxShown = 200;
  std::string out;
  for (size_t i = 0; i < name.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (name.size() > kMaxShown) out += "...";
  return out;
}

}  // namespace seek
