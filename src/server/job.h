// A request as the engine sees it (prompt ids + generation spec) and the channel its results come back on: the
// engine thread pushes events, the HTTP thread that owns the request waits for them. Either side may end it: the
// engine when the reply finishes, the HTTP side by cancelling (client gone, queue purge).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "server/generation.h"

namespace seek::server {

struct JobSpec {
  std::vector<int32_t> prompt;  // ids, each checked against the vocabulary before submission
  GenerationSpec gen;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t cache_hit_tokens = 0;  // prompt tokens whose cache entries were reused (prefix reuse)
};

struct Event {
  Delta delta;
  bool done = false;
  std::string finish_reason;  // with done: "stop", "length", "cancelled" or "error"
  std::string error;          // with finish_reason "error"
  bool had_reasoning = false; // with done: the reply opened a reasoning section
  Usage usage;                // with done
  double queue_ms = 0, prompt_ms = 0, generation_ms = 0;  // with done
};

class Job {
 public:
  explicit Job(JobSpec spec) : spec(std::move(spec)), submitted(std::chrono::steady_clock::now()) {}

  // HTTP side: waits up to `timeout` for events; everything pending is merged into `out`. False on timeout.
  bool wait(Event& out, std::chrono::milliseconds timeout);
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Engine side.
  void push(Event e);

  const JobSpec spec;
  const std::chrono::steady_clock::time_point submitted;

 private:
  friend class Engine;
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace seek::server
