// The engine: a request decoded in a batch with others gives exactly the tokens it gives alone; a follow-up
// request reuses its cached prefix (and still gives the same tokens); cancelled and excess requests are handled.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/sampler.h"
#include "engine/session.h"
#include "kernels/kernels.h"
#include "server/engine.h"
#include "tiny_model.h"

namespace seek::server {
namespace {

using testing::tiny_model;
using namespace std::chrono_literals;

// Token-for-token equality with a solo run needs logits that do not depend on how a prompt is cut into chunks or
// which sequences share a step. The scalar reference kernels give that bit for bit; the SIMD kernels' multi-row
// paths round differently (about 1e-7 relative), which can flip a greedy choice between near-equal logits.
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { select_kernels(KernelChoice::Ref); }
  void TearDown() override { select_kernels(KernelChoice::Auto); }
};

std::vector<int32_t> prompt_of(int seed, int n, int vocab) {
  std::vector<int32_t> t{0};
  uint32_t x = uint32_t(seed) * 2654435761u;
  for (int i = 1; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    t.push_back(int32_t(2 + (x >> 8) % uint32_t(vocab - 10)));
  }
  return t;
}

JobSpec greedy(std::vector<int32_t> prompt, int64_t n) {
  JobSpec s;
  s.prompt = std::move(prompt);
  s.gen.opts.sampling.temperature = 0;
  s.gen.opts.logprobs = true;  // the ids come back in the log-probabilities
  s.gen.opts.ignore_eos = true;
  s.gen.max_tokens = n;
  return s;
}

struct Outcome {
  std::vector<int32_t> ids;
  Event final;
};

Outcome drain(const std::shared_ptr<Job>& job) {
  Outcome o;
  for (;;) {
    Event e;
    if (!job->wait(e, 10s)) {
      ADD_FAILURE() << "no event for 10 s";
      return o;
    }
    for (const auto& lp : e.delta.logprobs) o.ids.push_back(lp.id);
    if (e.done) {
      o.final = std::move(e);
      return o;
    }
  }
}

// The reference: one Session, whole prompt then token by token, argmax (EOS excluded, as ignore_eos does).
std::vector<int32_t> alone(const std::vector<int32_t>& prompt, int n) {
  const auto& m = tiny_model();
  ThreadPool pool(1);
  Session s(*m.model, pool, 512);
  std::vector<float> logits;
  EXPECT_TRUE(s.eval(prompt, false, logits).ok());
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    logits[size_t(m.tok->eos())] = -INFINITY;
    const int32_t id = argmax(logits.data(), m.model->n_vocab());
    out.push_back(id);
    if (i + 1 < n) {
      EXPECT_TRUE(s.eval({id}, false, logits).ok());
    }
  }
  return out;
}

TEST_F(EngineTest, BatchedRequestsGiveTheirSoloTokens) {
  const auto& m = tiny_model();
  EngineOptions o;
  o.parallel = 4;
  o.n_ctx = 512;
  o.max_queue = 8;
  o.prefill_batch = 16;  // prompts are split over steps and interleaved with decoding
  Engine eng(*m.model, *m.tok, o);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < 10; ++i) {
    prompts.push_back(prompt_of(i + 1, 5 + 9 * i, int(m.tok->n_vocab())));
    jobs.push_back(eng.submit(greedy(prompts.back(), 12 + i)));
    ASSERT_TRUE(jobs.back()) << "request " << i << " refused";
  }
  for (int i = 0; i < 10; ++i) {
    Outcome out = drain(jobs[size_t(i)]);
    EXPECT_EQ(out.final.finish_reason, "length");
    EXPECT_EQ(out.final.usage.completion_tokens, 12 + i);
    EXPECT_EQ(out.final.usage.prompt_tokens, int64_t(prompts[size_t(i)].size()));
    EXPECT_EQ(out.ids, alone(prompts[size_t(i)], 12 + i)) << "request " << i;
  }
  const EngineStats st = eng.stats();
  EXPECT_EQ(st.requests_finished, 10);
  EXPECT_EQ(st.active, 0);
  EXPECT_EQ(st.queue_depth, 0);
}

TEST_F(EngineTest, FollowUpReusesTheCachedPrefix) {
  const auto& m = tiny_model();
  EngineOptions o;
  o.parallel = 2;
  o.n_ctx = 512;
  Engine eng(*m.model, *m.tok, o);
  const auto p1 = prompt_of(3, 40, int(m.tok->n_vocab()));
  Outcome first = drain(eng.submit(greedy(p1, 8)));
  EXPECT_EQ(first.final.usage.cache_hit_tokens, 0);
  // The next turn: the first prompt, the reply, and more.
  std::vector<int32_t> p2 = p1;
  p2.insert(p2.end(), first.ids.begin(), first.ids.end() - 1);  // the last sampled token never entered the cache
  for (int32_t t : prompt_of(9, 10, int(m.tok->n_vocab()))) p2.push_back(t);
  Outcome second = drain(eng.submit(greedy(p2, 8)));
  EXPECT_EQ(second.final.usage.cache_hit_tokens, int64_t(p1.size() + first.ids.size() - 1));
  EXPECT_EQ(second.ids, alone(p2, 8));
  // The same prompt again: all but its last token are reused.
  Outcome third = drain(eng.submit(greedy(p2, 8)));
  EXPECT_EQ(third.final.usage.cache_hit_tokens, int64_t(p2.size() - 1));
  EXPECT_EQ(third.ids, second.ids);
}

TEST_F(EngineTest, QueueLimitAndCancellation) {
  const auto& m = tiny_model();
  EngineOptions o;
  o.parallel = 1;
  o.n_ctx = 1024;
  o.max_queue = 2;
  Engine eng(*m.model, *m.tok, o);
  const auto p = prompt_of(1, 8, int(m.tok->n_vocab()));
  // A long request holds the only sequence; then at most the slot's request plus two wait.
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < 6; ++i) jobs.push_back(eng.submit(greedy(p, 1000)));
  int accepted = 0;
  for (auto& j : jobs) accepted += j != nullptr;
  EXPECT_GE(accepted, 2);
  EXPECT_LE(accepted, 4);
  EXPECT_GE(eng.stats().requests_rejected, 2);
  for (auto& j : jobs)
    if (j) eng.cancel(j);
  for (auto& j : jobs) {
    if (!j) continue;
    Outcome out = drain(j);
    EXPECT_EQ(out.final.finish_reason, "cancelled");
  }
  EXPECT_EQ(eng.stats().queue_depth, 0);
  EXPECT_EQ(eng.stats().active, 0);
}

TEST_F(EngineTest, StopsAtStopStringsAndShutsDownCleanly) {
  const auto& m = tiny_model();
  EngineOptions o;
  o.n_ctx = 256;
  auto eng = std::make_unique<Engine>(*m.model, *m.tok, o);
  const auto p = prompt_of(4, 6, int(m.tok->n_vocab()));
  // Find the greedy text, then stop at a piece of it.
  JobSpec spec = greedy(p, 30);
  std::string text;
  {
    auto job = eng->submit(spec);
    for (;;) {
      Event e;
      ASSERT_TRUE(job->wait(e, 10s));
      text += e.delta.content;
      if (e.done) break;
    }
  }
  ASSERT_GT(text.size(), 6u);
  spec.gen.opts.stop = {text.substr(3, 2)};
  auto job = eng->submit(spec);
  std::string cut;
  for (;;) {
    Event e;
    ASSERT_TRUE(job->wait(e, 10s));
    cut += e.delta.content;
    if (e.done) {
      EXPECT_EQ(e.finish_reason, "stop");
      break;
    }
  }
  EXPECT_EQ(cut, text.substr(0, text.find(spec.gen.opts.stop[0])));
  // A long request in flight when the engine goes away ends as cancelled.
  auto pending = eng->submit(greedy(p, 200));
  eng->shutdown();
  Outcome last = drain(pending);
  EXPECT_TRUE(last.final.finish_reason == "cancelled" || last.final.finish_reason == "length");
  eng.reset();
}

}  // namespace
}  // namespace seek::server
