// The per-request event channel between the engine thread and an HTTP thread.
#include "server/job.h"

namespace seek::server {

void Job::push(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

bool Job::wait(Event& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  out = std::move(events_.front());
  events_.pop_front();
  // A reader that fell behind gets one merged event instead of many small ones.
  while (!out.done && !events_.empty()) {
    Event& next = events_.front();
    out.delta.append(std::move(next.delta));
    if (next.done) {
      Delta merged = std::move(out.delta);
      out = std::move(next);
      out.delta = std::move(merged);
    }
    events_.pop_front();
  }
  return true;
}

}  // namespace seek::server
