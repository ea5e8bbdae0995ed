// Progress line implementation.
#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace seek::cli {

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(isatty(2)), quiet_(std::getenv("SEEK_QUIET") != nullptr),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(uint64_t done, uint64_t total) {
  if (quiet_ || total == 0) return;
  const int pct = int(done * 100 / total);
  const int step = tty_ ? pct : pct / 10;
  if (step == last_step_) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // A log (not a terminal) gets no lines for work that is over within a second (repacking a small model).
  if (!tty_ && s < 1.0) return;
  last_step_ = step;
  shown_ = true;
  if (tty_) {
    const int width = 30, fill = pct * width / 100;
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %.1fs", label_.c_str(), fill, "##############################",
                 width - fill, "", pct, s);
  } else {
    std::fprintf(stderr, "%s: %d%% (%.1fs)\n", label_.c_str(), pct, s);
  }
}

void Progress::done() {
  if (quiet_ || !shown_) return;
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace seek::cli
