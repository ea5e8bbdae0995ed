// Token sampling: greedy at temperature 0, otherwise temperature + top-p (nucleus) with a seeded generator,
// so a run with the same --seed reproduces its output.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace seek {

struct SamplerParams {
  float temperature = 0.8f;
  float top_p = 0.95f;
  int top_k = 40;  // 0 = no limit
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerParams p) : p_(p), rng_(p.seed) {}
  int32_t sample(const float* logits, int64_t n_vocab);

 private:
  size_t nucleus();  // top-p without top-k: sorts the best candidates first, returns how many take part
  SamplerParams p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
  std::vector<double> mass_;  // nucleus()'s buckets
};

// Index of the largest logit (the lowest index among equals).
int32_t argmax(const float* logits, int64_t n);

}  // namespace seek
