// Greedy and nucleus sampling.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace seek {

int32_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return int32_t(best);
}

int32_t Sampler::sample(const float* logits, int64_t n) {
  if (p_.temperature <= 0.0f) return argmax(logits, n);
  cand_.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) cand_[size_t(i)] = {logits[i] / p_.temperature, int32_t(i)};
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t keep = cand_.size();
  if (p_.top_k > 0 && size_t(p_.top_k) < keep) {
    keep = size_t(p_.top_k);
    std::partial_sort(cand_.begin(), cand_.begin() + keep, cand_.end(), by_logit);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  const float mx = cand_[0].first;
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) sum += cand_[i].first = std::exp(cand_[i].first - mx);
  // Smallest prefix whose probability reaches top_p.
  double acc = 0.0;
  size_t cut = keep;
  for (size_t i = 0; i < keep; ++i) {
    acc += cand_[i].first / sum;
    if (acc >= p_.top_p) {
      cut = i + 1;
      break;
    }
  }
  double total = 0.0;
  for (size_t i = 0; i < cut; ++i) total += cand_[i].first;
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (size_t i = 0; i < cut; ++i) {
    r -= cand_[i].first;
    if (r <= 0.0) return cand_[i].second;
  }
  return cand_[cut - 1].second;
}

}  // namespace seek
