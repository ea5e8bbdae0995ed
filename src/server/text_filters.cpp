// Reasoning/answer split and stop strings over streamed text.
#include "server/text_filters.h"

#include <algorithm>

namespace seek::server {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Length of the longest suffix of s that is a proper prefix of tag (text that may still become the tag).
size_t partial_suffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool starts_in_reasoning)
    : state_(starts_in_reasoning ? State::ReasoningStart : State::Start), had_reasoning_(starts_in_reasoning) {}

ReasoningSplitter::Out ReasoningSplitter::push(std::string_view text) {
  Out out;
  held_.append(text);
  for (;;) {
    if (state_ == State::Start) {
      // Leading whitespace, then either <think> or the answer.
      const size_t b = held_.find_first_not_of(" \n\r\t");
      if (b == std::string::npos) return out;
      const std::string_view rest = std::string_view(held_).substr(b);
      if (rest.size() < kOpen.size() && kOpen.substr(0, rest.size()) == rest) return out;  // may become <think>
      if (rest.substr(0, kOpen.size()) == kOpen) {
        held_.erase(0, b + kOpen.size());
        state_ = State::ReasoningStart;
        had_reasoning_ = true;
        continue;
      }
      state_ = State::Answer;
      out.content.append(held_);
      held_.clear();
      return out;
    }
    if (state_ == State::ReasoningStart || state_ == State::AnswerStart) {
      // The whitespace that follows <think> or </think> is dropped.
      const size_t b = held_.find_first_not_of(" \n\r\t");
      if (b == std::string::npos) {
        held_.clear();
        return out;
      }
      held_.erase(0, b);
      state_ = state_ == State::ReasoningStart ? State::Reasoning : State::Answer;
      continue;
    }
    if (state_ == State::Reasoning) {
      const size_t close = held_.find(kClose);
      if (close != std::string::npos) {
        size_t end = close;
        while (end > 0 && is_space(held_[end - 1])) --end;
        out.reasoning.append(held_, 0, end);
        held_.erase(0, close + kClose.size());
        state_ = State::AnswerStart;
        continue;
      }
      // Hold a possible partial </think> and the whitespace before it (trailing whitespace is dropped at the tag).
      size_t keep = held_.size() - partial_suffix(held_, kClose);
      while (keep > 0 && is_space(held_[keep - 1])) --keep;
      out.reasoning.append(held_, 0, keep);
      held_.erase(0, keep);
      return out;
    }
    out.content.append(held_);
    held_.clear();
    return out;
  }
}

ReasoningSplitter::Out ReasoningSplitter::flush() {
  Out out;
  if (state_ == State::Reasoning) {
    size_t end = held_.size();
    while (end > 0 && is_space(held_[end - 1])) --end;
    out.reasoning = held_.substr(0, end);
  } else if (state_ == State::Start || state_ == State::Answer) {
    // (In Start: a reply that was only whitespace, or only a partial "<think": it is the answer.)
    out.content = std::move(held_);
  }
  held_.clear();
  return out;
}

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return {};
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  size_t hold = 0;
  for (const std::string& s : stops_) hold = std::max(hold, partial_suffix(held_, s));
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string out = stopped_ ? std::string() : std::move(held_);
  held_.clear();
  return out;
}

}  // namespace seek::server
