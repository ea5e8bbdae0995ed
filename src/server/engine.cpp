// The engine thread: admission with prefix reuse, the batched step, and the counters behind /metrics.
#include "server/engine.h"

#include <algorithm>
#include <atomic>

namespace seek::server {

namespace {
using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

// One sequence: its cache, the ids in it, and the request (if any) being served from it.
struct Engine::Slot {
  std::unique_ptr<ModelState> state;
  std::vector<int32_t> cached;  // ids whose entries are in `state`, in order
  std::shared_ptr<Job> job;
  std::unique_ptr<Generation> gen;
  size_t pos = 0;               // prompt tokens already in the cache
  int32_t pending = -1;         // the sampled token, evaluated at the next step
  uint64_t last_used = 0;
  int64_t cache_hit = 0;
  Clock::time_point started, prompt_done;
};

struct Engine::Counters {
  std::atomic<int64_t> started{0}, finished{0}, cancelled{0}, rejected{0};
  std::atomic<int64_t> prompt_tokens{0}, cache_hits{0}, generated{0}, steps{0}, busy_us{0};
  std::atomic<int64_t> active{0}, kv_tokens{0};
  std::mutex rate_mu;
  std::deque<std::pair<Clock::time_point, int64_t>> rate;  // tokens generated per step, last 10 s
  uint64_t tick = 0;
};

Engine::Engine(const Model& model, const Tokenizer& tok, EngineOptions options)
    : model_(model), tok_(tok), opt_(options), pool_(std::max(1, options.threads)),
      counters_(std::make_unique<Counters>()) {
  for (int i = 0; i < std::max(1, opt_.parallel); ++i) {
    auto s = std::make_unique<Slot>();
    s->state = model_.new_state(opt_.n_ctx);
    slots_.push_back(std::move(s));
  }
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  shutdown();
  thread_.join();
}

void Engine::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

std::shared_ptr<Job> Engine::submit(JobSpec spec) {
  auto job = std::make_shared<Job>(std::move(spec));
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Free slots take requests at once; past them, at most max_queue wait.
    const int64_t free = int64_t(slots_.size()) - counters_->active.load();
    if (stop_ || int64_t(queue_.size()) >= opt_.max_queue + std::max<int64_t>(0, free)) {
      ++counters_->rejected;
      return nullptr;
    }
    queue_.push_back(job);
  }
  cv_.notify_all();
  return job;
}

void Engine::cancel(const std::shared_ptr<Job>& job) {
  job->cancel();
  cv_.notify_all();
}

void Engine::finish_queued(const std::shared_ptr<Job>& job) {
  Event e;
  e.done = true;
  e.finish_reason = "cancelled";
  e.usage.prompt_tokens = int64_t(job->spec.prompt.size());
  ++counters_->cancelled;
  job->push(std::move(e));
}

void Engine::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> admitted;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty() || counters_->active.load() > 0; });
      if (stop_) break;
      for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->cancelled()) {
          finish_queued(*it);
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      int64_t free = int64_t(slots_.size()) - counters_->active.load();
      while (free-- > 0 && !queue_.empty()) {
        admitted.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (auto& job : admitted) admit(std::move(job));
    if (counters_->active.load() > 0) step();
  }
  // Shutting down: every request still here ends as cancelled.
  for (auto& s : slots_)
    if (s->job) finish(*s, s->gen->finish("cancelled"), "cancelled");
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& job : queue_) finish_queued(job);
  queue_.clear();
}

void Engine::admit(std::shared_ptr<Job> job) {
  const auto& prompt = job->spec.prompt;
  // The free slot whose cache shares the longest prefix with the prompt; among equals, the least recently used.
  Slot* best = nullptr;
  size_t best_lcp = 0;
  for (auto& s : slots_) {
    if (s->job) continue;
    const size_t n = std::min(s->cached.size(), prompt.size());
    size_t lcp = 0;
    while (lcp < n && s->cached[lcp] == prompt[lcp]) ++lcp;
    if (!best || lcp > best_lcp || (lcp == best_lcp && s->last_used < best->last_used)) {
      best = s.get();
      best_lcp = lcp;
    }
  }
  Slot& s = *best;
  bool ids_ok = !prompt.empty();
  for (int32_t id : prompt) ids_ok = ids_ok && id >= 0 && id < model_.n_vocab();
  if (!ids_ok || int64_t(prompt.size()) + job->spec.gen.max_tokens > opt_.n_ctx) {
    Event e;  // the HTTP layer checks both; this guards the model against a caller that did not
    e.done = true;
    e.finish_reason = "error";
    e.error = "the prompt is empty, holds an id outside the vocabulary, or does not fit the context";
    job->push(std::move(e));
    return;
  }
  // At least the last prompt token is evaluated again: its logits start the reply.
  const size_t reuse = std::min(best_lcp, prompt.size() - 1);
  s.cached.resize(reuse);
  s.pos = reuse;
  s.cache_hit = int64_t(reuse);
  s.gen = std::make_unique<Generation>(tok_, job->spec.gen);
  s.job = std::move(job);
  s.started = Clock::now();
  ++counters_->active;
  ++counters_->started;
  counters_->prompt_tokens += int64_t(prompt.size());
  counters_->cache_hits += int64_t(reuse);
}

void Engine::finish(Slot& s, Delta delta, const std::string& reason) {
  const auto now = Clock::now();
  Event e;
  e.delta = std::move(delta);
  e.done = true;
  e.finish_reason = reason;
  e.had_reasoning = s.gen->had_reasoning();
  e.usage.prompt_tokens = int64_t(s.job->spec.prompt.size());
  e.usage.completion_tokens = s.gen->n_generated();
  e.usage.reasoning_tokens = s.gen->n_reasoning();
  e.usage.cache_hit_tokens = s.cache_hit;
  e.queue_ms = ms_between(s.job->submitted, s.started);
  const bool prompted = s.pos >= s.job->spec.prompt.size();
  e.prompt_ms = ms_between(s.started, prompted ? s.prompt_done : now);
  e.generation_ms = prompted ? ms_between(s.prompt_done, now) : 0.0;
  // Counters first: a client that reads /metrics right after its reply must see it counted.
  ++(reason == "cancelled" ? counters_->cancelled : counters_->finished);
  --counters_->active;
  s.job->push(std::move(e));
  s.job.reset();
  s.gen.reset();
  s.last_used = ++counters_->tick;
}

// This step's share of each active sequence: a decoding one gives its pending token, a new one the next chunk of
// its prompt while the step's prompt budget lasts. Cancelled requests end here.
void Engine::plan_step(std::vector<SeqChunk>& chunks, std::vector<Slot*>& owners) {
  int64_t budget = opt_.prefill_batch;
  const size_t n_slots = slots_.size();
  for (size_t k = 0; k < n_slots; ++k) {
    Slot& s = *slots_[(rotate_ + k) % n_slots];
    if (!s.job) continue;
    if (s.job->cancelled()) {
      finish(s, s.gen->finish("cancelled"), "cancelled");
      continue;
    }
    const auto& prompt = s.job->spec.prompt;
    SeqChunk c;
    c.state = s.state.get();
    c.n_past = int64_t(s.cached.size());
    if (s.pos < prompt.size()) {
      if (budget <= 0) continue;
      c.tokens = prompt.data() + s.pos;
      c.n = std::min<int64_t>(int64_t(prompt.size() - s.pos), budget);
      budget -= c.n;
    } else {
      if (c.n_past + 1 > opt_.n_ctx) {
        finish(s, s.gen->finish("length"), "length");
        continue;
      }
      c.tokens = &s.pending;
      c.n = 1;
    }
    chunks.push_back(c);
    owners.push_back(&s);
  }
  rotate_ = (rotate_ + 1) % n_slots;
}

// After the forward pass: the chunk's ids are in the cache, and the prompt's progress is noted.
void Engine::advance(Slot& s, const SeqChunk& c, Clock::time_point now) {
  s.cached.insert(s.cached.end(), c.tokens, c.tokens + c.n);
  const size_t n_prompt = s.job->spec.prompt.size();
  if (s.pos < n_prompt) {
    s.pos += size_t(c.n);
    if (s.pos >= n_prompt) s.prompt_done = now;
  }
}

// The sampled token's text goes to the client; a finished reply ends here.
void Engine::deliver(Slot& s, Delta d) {
  if (s.gen->finished()) {
    finish(s, std::move(d), s.gen->finish_reason());
    return;
  }
  s.pending = s.gen->next_token();
  if (!d.empty()) {
    Event e;
    e.delta = std::move(d);
    s.job->push(std::move(e));
  }
}

void Engine::step() {
  std::vector<SeqChunk> chunks;
  std::vector<Slot*> owners;
  plan_step(chunks, owners);
  if (chunks.empty()) return;
  // The step's logits, one row per sequence that samples after it (decoding, or ending its prompt), in order: the
  // model writes them in place (no copy per sequence) and computes none for a prompt's earlier pieces. A chunk with
  // logits is a sequence that samples now.
  const int64_t V = model_.n_vocab();
  logits_.resize(chunks.size() * size_t(V));
  for (size_t i = 0, row = 0; i < chunks.size(); ++i) {
    const bool samples = owners[i]->pos + size_t(chunks[i].n) >= owners[i]->job->spec.prompt.size();
    chunks[i].logits = samples ? logits_.data() + row++ * size_t(V) : nullptr;
  }

  const auto t0 = Clock::now();
  model_.forward_multi(pool_, chunks.data(), chunks.size());
  const auto t1 = Clock::now();
  counters_->busy_us += std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
  ++counters_->steps;

  std::vector<Slot*> sampling;
  std::vector<const float*> logits;
  for (size_t i = 0; i < chunks.size(); ++i) {
    advance(*owners[i], chunks[i], t1);
    if (chunks[i].logits) {
      sampling.push_back(owners[i]);
      logits.push_back(chunks[i].logits);
    }
  }
  // Each sequence's sampling (a pass over the vocabulary's logits, more with top-p, log-probabilities or the JSON
  // mask) depends on its own state only, so the sequences are shared out between the threads; what they produce is
  // delivered afterwards, in order, from this thread.
  std::vector<Delta> deltas(sampling.size());
  auto sample = [&](size_t i) { deltas[i] = sampling[i]->gen->step(logits[i], V); };
  if (sampling.size() > 1) {
    std::atomic<size_t> next{0};
    pool_.run([&](int, int) {
      for (size_t i = next.fetch_add(1); i < sampling.size(); i = next.fetch_add(1)) sample(i);
    });
  } else if (!sampling.empty()) {
    sample(0);
  }
  for (size_t i = 0; i < sampling.size(); ++i) deliver(*sampling[i], std::move(deltas[i]));
  const int64_t generated = int64_t(sampling.size());
  counters_->generated += generated;
  if (opt_.step_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt_.step_delay_ms));
  int64_t kv = 0;
  for (auto& s : slots_) kv += int64_t(s->cached.size());
  counters_->kv_tokens = kv;
  std::lock_guard<std::mutex> lock(counters_->rate_mu);
  counters_->rate.emplace_back(t1, generated);
  while (!counters_->rate.empty() && t1 - counters_->rate.front().first > std::chrono::seconds(10))
    counters_->rate.pop_front();
}

EngineStats Engine::stats() const {
  EngineStats st;
  const Counters& c = *counters_;
  st.requests_started = c.started;
  st.requests_finished = c.finished;
  st.requests_cancelled = c.cancelled;
  st.requests_rejected = c.rejected;
  st.prompt_tokens = c.prompt_tokens;
  st.cache_hit_tokens = c.cache_hits;
  st.generated_tokens = c.generated;
  st.steps = c.steps;
  st.active = c.active;
  st.kv_tokens = c.kv_tokens;
  st.kv_capacity = int64_t(slots_.size()) * opt_.n_ctx;
  st.kv_bytes_per_token = model_.kv_bytes_per_token();
  st.busy_s = double(c.busy_us.load()) / 1e6;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.queue_depth = int64_t(queue_.size());
  }
  std::lock_guard<std::mutex> lock(counters_->rate_mu);
  const auto now = Clock::now();
  int64_t tokens = 0;
  for (const auto& [t, n] : c.rate)
    if (now - t <= std::chrono::seconds(10)) tokens += n;
  st.generation_tokens_per_s = double(tokens) / 10.0;
  return st;
}

}  // namespace seek::server
