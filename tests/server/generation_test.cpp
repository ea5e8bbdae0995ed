// Generation on synthetic logits: the JSON mask keeps every reply a JSON-object prefix (and a complete object when
// it stops), log-probabilities are normalised and sorted, penalties and ignore_eos act on the right tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "synthetic_tokenizer.h"
#include "server/generation.h"

namespace seek::server {
namespace {

Tokenizer tokenizer() { return testing::synthetic_tokenizer(/*add_bos=*/false, /*fim=*/false); }

TEST(Generation, JsonObjectMaskKeepsAValidPrefix) {
  const Tokenizer tok = tokenizer();
  const int64_t V = tok.n_vocab();
  int completed = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    GenerationSpec spec;
    spec.opts.json_object = true;
    spec.opts.sampling.temperature = 1.0f;
    spec.opts.sampling.top_k = 0;
    spec.opts.sampling.seed = seed;
    spec.max_tokens = 300;
    Generation g(tok, spec);
    std::mt19937 rng{unsigned(seed)};
    std::normal_distribution<float> noise(0.0f, 2.0f);
    std::vector<float> logits(static_cast<size_t>(V));
    std::string text;
    while (!g.finished()) {
      for (auto& l : logits) l = noise(rng);
      // Nudge towards closing brackets and quotes now and then, so that objects do complete.
      for (char c : std::string("}\"]:,0")) logits[size_t(2 + static_cast<unsigned char>(c))] += 3.0f;
      text += g.step(logits.data(), V).content;
    }
    JsonPrefix p;
    ASSERT_TRUE(p.feed(text)) << "seed " << seed << ": not a JSON prefix: " << text;
    if (g.finish_reason() == "stop") {
      ++completed;
      ASSERT_TRUE(p.complete()) << text;
      auto j = nlohmann::json::parse(text, nullptr, false);
      ASSERT_TRUE(j.is_object()) << text;
    }
  }
  EXPECT_GT(completed, 5) << "too few replies completed their object to test that path";
}

// Greedy in JSON mode takes the best token when the mask allows it and walks the vocabulary only otherwise: every
// step must still pick what argmax over the fully masked logits picks (the mask's definition written out here).
TEST(Generation, JsonObjectGreedyPicksTheMaskedArgmax) {
  const Tokenizer tok = tokenizer();
  const int64_t V = tok.n_vocab();
  const float ninf = -std::numeric_limits<float>::infinity();
  int fast = 0, walked = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    GenerationSpec spec;
    spec.opts.json_object = true;
    spec.opts.sampling.temperature = 0.0f;
    spec.max_tokens = 200;
    Generation g(tok, spec);
    JsonPrefix ref;
    std::mt19937 rng{unsigned(seed)};
    std::normal_distribution<float> noise(0.0f, 2.0f);
    std::vector<float> logits(static_cast<size_t>(V)), masked(static_cast<size_t>(V));
    while (!g.finished()) {
      for (auto& l : logits) l = noise(rng);
      for (char c : std::string("}\"]:,0")) logits[size_t(2 + static_cast<unsigned char>(c))] += 3.0f;
      for (int32_t i = 0; i < int32_t(V); ++i) {
        bool ok;
        if (i == tok.eos()) ok = ref.complete();
        else if (ref.complete() || tok.is_control(i)) ok = false;
        else {
          JsonPrefix trial = ref;
          const std::string_view piece = tok.piece(i);
          ok = !piece.empty() && trial.feed(piece);
        }
        masked[size_t(i)] = ok ? logits[size_t(i)] : ninf;
      }
      const int32_t expect = int32_t(std::max_element(masked.begin(), masked.end()) - masked.begin());
      ++(expect == int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin()) ? fast : walked);
      g.step(logits.data(), V);
      if (expect == tok.eos()) {
        ASSERT_TRUE(g.finished()) << "seed " << seed;
        break;
      }
      ASSERT_TRUE(ref.feed(tok.piece(expect)));
      if (g.finished()) {
        ASSERT_TRUE(ref.complete() || g.finish_reason() == "length") << "seed " << seed << ": " << g.finish_reason();
        break;
      }
      ASSERT_EQ(g.next_token(), expect) << "seed " << seed;
    }
  }
  EXPECT_GT(fast, 20) << "the allowed-best path was hardly taken";
  EXPECT_GT(walked, 20) << "the masked path was hardly taken";
}

TEST(Generation, LogprobsAreNormalisedAndSorted) {
  std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  const TokenLogprob lp = token_logprob(logits.data(), 5, 4, 3);
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l));
  EXPECT_NEAR(lp.logprob, 0.5 - std::log(sum), 1e-5);
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].first, 1);  // ties: the lower id first
  EXPECT_EQ(lp.top[1].first, 3);
  EXPECT_EQ(lp.top[2].first, 0);
  EXPECT_NEAR(lp.top[0].second, 3.0 - std::log(sum), 1e-5);
}

TEST(Generation, PenaltiesIgnoreEosAndLength) {
  const Tokenizer tok = tokenizer();
  const int64_t V = tok.n_vocab();
  std::vector<float> logits(static_cast<size_t>(V), 0.0f);
  logits[100] = 5.0f;
  logits[101] = 4.5f;
  logits[size_t(tok.eos())] = 10.0f;
  GenerationSpec spec;
  spec.opts.sampling.temperature = 0;
  spec.opts.ignore_eos = true;
  spec.opts.sampling.frequency_penalty = 1.0f;
  spec.opts.logprobs = true;
  spec.max_tokens = 3;
  Generation g(tok, spec);
  std::vector<int32_t> ids;
  while (!g.finished()) ids.push_back(g.step(logits.data(), V).logprobs.at(0).id);
  // 100 first; then its penalty (1.0) puts 101 ahead; then both have one use and 100 leads again. EOS never.
  EXPECT_EQ(ids, (std::vector<int32_t>{100, 101, 100}));
  EXPECT_EQ(g.finish_reason(), "length");
  EXPECT_EQ(g.n_generated(), 3);

  GenerationSpec stop_at_eos;
  stop_at_eos.opts.sampling.temperature = 0;
  stop_at_eos.max_tokens = 5;
  Generation e(tok, stop_at_eos);
  e.step(logits.data(), V);
  EXPECT_EQ(e.finish_reason(), "stop");
}

TEST(Generation, ReasoningTokensAreCounted) {
  const Tokenizer tok = tokenizer();
  const int64_t V = tok.n_vocab();
  GenerationSpec spec;
  spec.opts.sampling.temperature = 0;
  spec.split_reasoning = true;
  spec.starts_in_reasoning = true;
  spec.max_tokens = 10;
  Generation g(tok, spec);
  const int32_t close = *tok.find("</think>");
  const int32_t letter = *tok.find("a");
  std::vector<float> logits(static_cast<size_t>(V), 0.0f);
  Delta all;
  for (int i = 0; i < 6; ++i) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    logits[size_t(i == 3 ? close : letter)] = 9.0f;
    all.append(g.step(logits.data(), V));
  }
  all.append(g.finish("length"));
  EXPECT_EQ(all.reasoning, "aaa");
  EXPECT_EQ(all.content, "aa");
  EXPECT_EQ(g.n_reasoning(), 4) << "three letters and </think>";
  EXPECT_TRUE(g.had_reasoning());
}

}  // namespace
}  // namespace seek::server
