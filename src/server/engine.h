// The engine: one thread that owns the model and decodes up to `parallel` sequences together (continuous
// batching). Each step runs one Model::forward_multi over every active sequence: a decoding sequence contributes
// its last token, a new one a chunk of its prompt; a request joins at the next step and leaves when it finishes.
// Each slot keeps the tokens of its cache after its request ends, so a follow-up request that starts with them
// (the next turn of a conversation) reuses that prefix instead of recomputing it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"
#include "server/job.h"
#include "tokenizer/tokenizer.h"

namespace seek::server {

struct EngineOptions {
  int parallel = 1;             // sequences decoded together
  int64_t n_ctx = 4096;         // context of each sequence
  int max_queue = 16;           // requests waiting for a slot; more are refused (429)
  int64_t prefill_batch = 512;  // prompt tokens evaluated per step, over all sequences
  int threads = 1;
  int step_delay_ms = 0;        // a pause after each step: lets tests hold requests in flight on a tiny model
};

// Counters for /metrics (monotonic unless noted).
struct EngineStats {
  int64_t requests_started = 0, requests_finished = 0, requests_cancelled = 0, requests_rejected = 0;
  int64_t prompt_tokens = 0, cache_hit_tokens = 0, generated_tokens = 0, steps = 0;
  int64_t queue_depth = 0, active = 0;        // gauges
  int64_t kv_tokens = 0, kv_capacity = 0;     // gauges: tokens held in the caches, and their capacity
  int64_t kv_bytes_per_token = 0;
  double generation_tokens_per_s = 0;         // gauge: over the last 10 s
  double busy_s = 0;                          // time spent in forward steps
};

class Engine {
 public:
  Engine(const Model& model, const Tokenizer& tok, EngineOptions options);
  ~Engine();  // shutdown(), then joins the thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; nullptr when the queue is full. Token ids must be in the vocabulary, and
  // prompt + max_tokens must fit the context (the caller checks both: they are the client's errors).
  std::shared_ptr<Job> submit(JobSpec spec);
  // Stops a request: removed from the queue, or its sequence freed at the next step. Its channel gets a final
  // "cancelled" event.
  void cancel(const std::shared_ptr<Job>& job);

  // Ends every running and queued request ("cancelled") and refuses new ones. Idempotent.
  void shutdown();

  EngineStats stats() const;
  const EngineOptions& options() const { return opt_; }
  const Model& model() const { return model_; }
  const Tokenizer& tokenizer() const { return tok_; }

 private:
  struct Slot;
  using Clock = std::chrono::steady_clock;
  void loop();
  void admit(std::shared_ptr<Job> job);
  void step();
  void plan_step(std::vector<SeqChunk>& chunks, std::vector<Slot*>& owners);
  void advance(Slot& s, const SeqChunk& c, Clock::time_point now);
  void deliver(Slot& s, Delta d);
  void finish(Slot& s, Delta delta, const std::string& reason);
  void finish_queued(const std::shared_ptr<Job>& job);

  const Model& model_;
  const Tokenizer& tok_;
  const EngineOptions opt_;
  ThreadPool pool_;
  std::vector<std::unique_ptr<Slot>> slots_;  // touched by the engine thread only
  size_t rotate_ = 0;                         // which slot gets the prefill budget first (fairness)
  std::vector<float> logits_;                 // the last step's logits, a row per sequence that samples

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;

  struct Counters;
  std::unique_ptr<Counters> counters_;
  std::thread thread_;
};

}  // namespace seek::server
