// The JSON-object prefix recogniser (RFC 8259 grammar, byte by byte).
#include "server/json_grammar.h"

namespace seek::server {

namespace {
bool is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
}  // namespace

bool JsonPrefix::space(unsigned char c) {
  if (!is_ws(c) || spaces_ >= kMaxSpaces) return false;
  ++spaces_;
  return true;
}

bool JsonPrefix::value_start(unsigned char c) {
  if (stack_.empty() && c != '{') return false;  // the root must be an object
  switch (c) {
    case '{':
    case '[':
      if (stack_.size() >= kMaxDepth) return false;
      stack_ += char(c);
      state_ = c == '{' ? State::ObjectFirst : State::ArrayFirst;
      return true;
    case '"': state_ = State::String; in_key_ = false; return true;
    case '-': state_ = State::NumMinus; return true;
    case '0': state_ = State::NumZero; return true;
    case 't': literal_ = "rue"; state_ = State::Literal; return true;
    case 'f': literal_ = "alse"; state_ = State::Literal; return true;
    case 'n': literal_ = "ull"; state_ = State::Literal; return true;
    default:
      if (c >= '1' && c <= '9') {
        state_ = State::NumInt;
        return true;
      }
      return false;
  }
}

bool JsonPrefix::after_value(unsigned char c) {
  if (stack_.empty()) return false;
  const char top = stack_.back();
  if (c == ',') {
    state_ = top == '{' ? State::ObjectKey : State::Value;
    return true;
  }
  if ((c == '}' && top == '{') || (c == ']' && top == '[')) {
    stack_.pop_back();
    state_ = stack_.empty() ? State::Done : State::AfterValue;
    return true;
  }
  return false;
}

bool JsonPrefix::feed(unsigned char c) {
  const State s = state_;
  if (!is_ws(c)) spaces_ = 0;
  switch (s) {
    case State::Done: return false;
    case State::Value: return is_ws(c) ? space(c) : value_start(c);
    case State::ArrayFirst:
      if (is_ws(c)) return space(c);
      if (c == ']') return after_value(c);
      return value_start(c);
    case State::ObjectFirst:
    case State::ObjectKey:
      if (is_ws(c)) return space(c);
      if (c == '"') {
        state_ = State::String;
        in_key_ = true;
        return true;
      }
      if (c == '}' && s == State::ObjectFirst) return after_value(c);
      return false;
    case State::Colon:
      if (is_ws(c)) return space(c);
      if (c != ':') return false;
      state_ = State::Value;
      return true;
    case State::AfterValue: return is_ws(c) ? space(c) : after_value(c);
    case State::String:
      if (c < 0x20) return false;
      if (c == '\\') state_ = State::Escape;
      else if (c == '"') state_ = in_key_ ? State::Colon : State::AfterValue;
      return true;
    case State::Escape:
      if (c == 'u') {
        unicode_left_ = 4;
        state_ = State::Unicode;
        return true;
      }
      if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
        state_ = State::String;
        return true;
      }
      return false;
    case State::Unicode:
      if (!is_hex(c)) return false;
      if (--unicode_left_ == 0) state_ = State::String;
      return true;
    case State::Literal:
      if (c != static_cast<unsigned char>(*literal_)) return false;
      if (*++literal_ == 0) state_ = State::AfterValue;
      return true;
    case State::NumMinus:
      if (c == '0') state_ = State::NumZero;
      else if (is_digit(c)) state_ = State::NumInt;
      else return false;
      return true;
    case State::NumDot:
      if (!is_digit(c)) return false;
      state_ = State::NumFrac;
      return true;
    case State::NumExp:
      if (c == '+' || c == '-') state_ = State::NumExpSign;
      else if (is_digit(c)) state_ = State::NumExpDigits;
      else return false;
      return true;
    case State::NumExpSign:
      if (!is_digit(c)) return false;
      state_ = State::NumExpDigits;
      return true;
    case State::NumInt:
    case State::NumZero:
    case State::NumFrac:
    case State::NumExpDigits:
      if (is_digit(c) && s != State::NumZero) return true;
      if (c == '.' && (s == State::NumInt || s == State::NumZero)) {
        state_ = State::NumDot;
        return true;
      }
      if ((c == 'e' || c == 'E') && s != State::NumExpDigits) {
        state_ = State::NumExp;
        return true;
      }
      // The number ended: the byte belongs to what follows it.
      state_ = State::AfterValue;
      if (is_ws(c)) return space(c);
      if (after_value(c)) return true;
      state_ = s;
      return false;
  }
  return false;
}

}  // namespace seek::server
