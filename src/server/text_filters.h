// Streaming text filters applied to a reply as it is generated: the reasoning/answer split of DeepSeek-R1
// (reasoning_content apart from content, as DeepSeek's API reports it) and stop strings. Both hold back text that
// may turn out to be the start of a tag or a stop string, and only ever cut at UTF-8 character boundaries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seek::server {

// Splits "<think>\n reasoning \n</think>\n\n answer" into reasoning and answer. R1's chat template opens the
// reasoning in the prompt (starts_in_reasoning); otherwise a reply that begins with <think> opens it. Whitespace
// around the tags is dropped, as DeepSeek's API does.
class ReasoningSplitter {
 public:
  explicit ReasoningSplitter(bool starts_in_reasoning);

  struct Out {
    std::string reasoning, content;
  };
  Out push(std::string_view text);
  Out flush();  // end of the reply: whatever is held goes out
  bool in_reasoning() const { return state_ == State::ReasoningStart || state_ == State::Reasoning; }
  bool had_reasoning() const { return had_reasoning_; }

 private:
  enum class State { Start, ReasoningStart, Reasoning, AnswerStart, Answer };
  State state_;
  bool had_reasoning_ = false;
  std::string held_;
};

// Cuts the text at the first occurrence of any stop string (the stop string itself is not emitted).
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  std::string push(std::string_view text);  // the text that is safe to emit now
  std::string flush();                      // the held text, at the end of the reply
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace seek::server
