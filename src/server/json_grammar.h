// response_format json_object: a byte-level recogniser of JSON prefixes (a pushdown automaton), used to mask the
// tokens that would make the reply stop being the beginning of a JSON object. Copyable and small, so a candidate
// token is tried on a copy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace seek::server {

class JsonPrefix {
 public:
  // Feeds one byte; false if the byte cannot continue a JSON object (the recogniser is then spent: feed a copy).
  bool feed(unsigned char c);
  bool feed(std::string_view s) {
    for (char c : s)
      if (!feed(static_cast<unsigned char>(c))) return false;
    return true;
  }
  bool complete() const { return state_ == State::Done; }  // the root object is closed

  static constexpr size_t kMaxDepth = 32;
  static constexpr int kMaxSpaces = 16;  // consecutive whitespace bytes allowed (keeps a model from idling in it)

 private:
  enum class State : uint8_t {
    Value, ObjectFirst, ObjectKey, Colon, AfterValue, ArrayFirst, String, Escape, Unicode,
    NumMinus, NumZero, NumInt, NumDot, NumFrac, NumExp, NumExpSign, NumExpDigits, Literal, Done,
  };
  bool value_start(unsigned char c);
  bool after_value(unsigned char c);
  bool space(unsigned char c);

  State state_ = State::Value;
  bool in_key_ = false;
  uint8_t unicode_left_ = 0;
  int spaces_ = 0;
  const char* literal_ = nullptr;  // the rest of true/false/null still to come
  std::string stack_;              // '{' or '[' per open container
};

}  // namespace seek::server
