// The sampler against plain definitions written here: argmax as the one-pass loop, and top-k / top-p sampling as
// "sort every candidate best first, keep the top k, keep the smallest prefix whose probability reaches top_p, draw
// in proportion", with the probabilities in double. Draws are checked for membership and frequency (fixed seeds).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "engine/sampler.h"

namespace seek {
namespace {

int32_t plain_argmax(const std::vector<float>& x) {
  int64_t best = 0;
  for (int64_t i = 1; i < int64_t(x.size()); ++i)
    if (x[size_t(i)] > x[size_t(best)]) best = i;
  return int32_t(best);
}

TEST(Sampler, ArgmaxIsTheFirstLargestLikeTheOnePassLoop) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> cases = {
      {1.0f}, {2, 1}, {1, 2}, {3, 3, 3}, {0, 5, 1, 5, 5}, {nan, 1, 2}, {1, nan, 2, nan}, {-inf, -inf}, {-inf, -3, -inf},
      {-0.0f, 0.0f}, {0.0f, -0.0f}, {-1, -0.0f, 0.0f}, {nan, nan}, {inf, 1, inf}};
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0, 1);
  for (int64_t n : {7, 8, 9, 15, 16, 17, 63, 129280}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = d(rng);
    cases.push_back(x);
    // The largest value repeated, at indices in different chains and in the same one (8 apart): the lowest wins.
    std::vector<float> tied = x;
    const float top = *std::max_element(x.begin(), x.end()) + 1.0f;
    for (int64_t at : {n - 1, n / 2 + 3, n / 3 + 1, n / 4 + 8, n / 4 + 16, n / 4})
      if (at >= 0 && at < n) tied[size_t(at)] = top;
    cases.push_back(tied);
    std::vector<float> nans = x;
    for (size_t i = 0; i < nans.size(); i += 3) nans[i] = nan;
    cases.push_back(nans);
  }
  for (const auto& x : cases) EXPECT_EQ(argmax(x.data(), int64_t(x.size())), plain_argmax(x)) << "n=" << x.size();
}

// The exact distribution: candidates sorted best first (ties by index), the top k, then the smallest prefix whose
// probability (at temperature t) reaches top_p, renormalised.
std::map<int32_t, double> reference(const std::vector<float>& logits, float t, float top_p, int top_k) {
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  if (top_k > 0 && size_t(top_k) < order.size()) order.resize(size_t(top_k));
  const double mx = double(logits[size_t(order[0])]) / t;
  std::vector<double> w;
  double sum = 0;
  for (int32_t i : order) sum += w.emplace_back(std::exp(double(logits[size_t(i)]) / t - mx));
  std::map<int32_t, double> out;
  double acc = 0, kept = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    out[order[i]] = w[i];
    kept += w[i];
    acc += w[i] / sum;
    if (acc >= top_p) break;
  }
  for (auto& [id, p] : out) p /= kept;
  return out;
}

// Draws `n` tokens; each must be in the reference's set, and each reference token's frequency within 5 standard
// deviations of its probability.
void expect_distribution(const std::vector<float>& logits, SamplerParams sp, int draws) {
  const auto ref = reference(logits, sp.temperature, sp.top_p, sp.top_k);
  Sampler s(sp);
  std::map<int32_t, int> count;
  for (int i = 0; i < draws; ++i) {
    const int32_t id = s.sample(logits.data(), int64_t(logits.size()));
    ASSERT_TRUE(ref.count(id)) << "token " << id << " is outside the top-k/top-p set of " << ref.size()
                               << " (top_p " << sp.top_p << ", top_k " << sp.top_k << ")";
    ++count[id];
  }
  for (const auto& [id, p] : ref) {
    const double expect = p * draws, sd = std::sqrt(draws * p * (1 - p));
    EXPECT_NEAR(count[id], expect, 5 * sd + 1) << "token " << id << " p=" << p;
  }
}

TEST(Sampler, TopKAndTopPDrawFromTheSortedDefinition) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.5f, -1.0f, 3.0f, 0.5f, 2.0f, -4.0f, 1.5f, 0.0f, 2.9f, -2.0f};
  for (float top_p : {0.3f, 0.8f, 0.95f, 1.0f})
    for (int top_k : {0, 1, 3, 40})
      for (float t : {0.5f, 1.0f}) expect_distribution(logits, SamplerParams{t, top_p, top_k, 11}, 40000);
}

TEST(Sampler, TopPOverALargeVocabularyKeepsExactlyTheNucleus) {
  // A 129K vocabulary (V3's) without top-k: only the best candidates are sorted, so the set drawn from must still be
  // exactly the sorted definition's. Two shapes: a peaked distribution, and a flat one whose nucleus is most of it.
  std::mt19937 rng(7);
  for (float spread : {4.0f, 0.05f}) {
    std::normal_distribution<float> d(0, spread);
    std::vector<float> logits(129280);
    for (auto& v : logits) v = d(rng);
    logits[100] = std::numeric_limits<float>::quiet_NaN();  // never drawn
    for (float top_p : {0.5f, 0.9f}) {
      SamplerParams sp{0.8f, top_p, 0, 3};
      std::vector<float> clean = logits;
      clean[100] = -std::numeric_limits<float>::infinity();
      const auto ref = reference(clean, sp.temperature, sp.top_p, 0);
      Sampler s(sp);
      for (int i = 0; i < 40; ++i) {
        const int32_t id = s.sample(logits.data(), int64_t(logits.size()));
        ASSERT_TRUE(ref.count(id)) << "token " << id << " outside the nucleus of " << ref.size() << " (spread "
                                   << spread << ", top_p " << top_p << ")";
      }
    }
  }
}

TEST(Sampler, TopKOverALargeVocabularyKeepsTheBestK) {
  // One pass keeps a buffer of the logits that still beat the k-th best so far, cut back now and then: the set drawn
  // from must be the sorted definition's, ties going to the lower id.
  std::mt19937 rng(8);
  std::normal_distribution<float> d(0, 2.0f);
  std::vector<float> logits(129280);
  for (auto& v : logits) v = std::round(d(rng) * 2.0f) / 2.0f;  // many ties
  logits[7] = std::numeric_limits<float>::quiet_NaN();
  for (int top_k : {1, 40, 1000})
    for (float top_p : {0.9f, 1.0f}) {
      SamplerParams sp{0.8f, top_p, top_k, 5};
      std::vector<float> clean = logits;
      clean[7] = -std::numeric_limits<float>::infinity();
      const auto ref = reference(clean, sp.temperature, sp.top_p, top_k);
      Sampler s(sp);
      for (int i = 0; i < 200; ++i) {
        const int32_t id = s.sample(logits.data(), int64_t(logits.size()));
        ASSERT_TRUE(ref.count(id)) << "token " << id << " outside the best " << top_k << " (top_p " << top_p << ")";
      }
    }
  // Nearly flat over the best 40 (temperature 100): 3000 draws see every one of them, so none was left out. Also
  // with the best arriving in two interleaved runs (the second after the buffer was first cut back, each of its
  // values between two of the first run's), so a cut-off set too high would lose some.
  std::vector<float> runs(129280, -50.0f);
  for (int i = 0; i < 320; ++i) runs[size_t(i)] = 100.0f - float(i);
  for (int i = 0; i < 60; ++i) runs[size_t(500 + i)] = 99.5f - float(i);
  for (const std::vector<float>* x : {&logits, &runs}) {
    std::vector<float> clean = *x;
    for (auto& v : clean) v = v == v ? v : -std::numeric_limits<float>::infinity();
    const auto ref = reference(clean, 100.0f, 1.0f, 40);
    Sampler s(SamplerParams{100.0f, 1.0f, 40, 6});
    std::set<int32_t> seen;
    for (int i = 0; i < 3000; ++i) seen.insert(s.sample(x->data(), int64_t(x->size())));
    std::set<int32_t> want;
    for (const auto& [id, p] : ref) want.insert(id);
    EXPECT_EQ(seen, want);
  }
  // All equal: the best k are the first k ids.
  std::vector<float> flat(129280, 1.0f);
  Sampler s(SamplerParams{1.0f, 1.0f, 40, 9});
  std::set<int32_t> seen;
  for (int i = 0; i < 400; ++i) seen.insert(s.sample(flat.data(), int64_t(flat.size())));
  EXPECT_LT(*seen.rbegin(), 40);
  EXPECT_GT(seen.size(), 30u);
}

TEST(Sampler, EveryLogitRuledOutStillGivesAToken) {
  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> logits(50, ninf);
  for (int top_k : {0, 5}) {
    Sampler s(SamplerParams{0.7f, 0.9f, top_k, 1});
    const int32_t id = s.sample(logits.data(), int64_t(logits.size()));
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 50);
  }
}

}  // namespace
}  // namespace seek
