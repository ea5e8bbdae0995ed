// A progress line on stderr for long work (writing, converting, perplexity, repacking): redrawn in place on a
// terminal, printed at 10% steps otherwise once the work has run a second, silent when SEEK_QUIET is set.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace seek::cli {

class Progress {
 public:
  explicit Progress(std::string label);
  void update(uint64_t done, uint64_t total);
  void done();

 private:
  std::string label_;
  bool tty_, quiet_;
  int last_step_ = -1;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace seek::cli
