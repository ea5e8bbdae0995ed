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
  // Fill cand_ best first with the candidates that take part, their weights in .first; return how many there are.
  size_t top_k(const float* logits, int64_t n);  // top-k, then top-p within it
  size_t nucleus();  // top-p alone, cand_ holding every logit / temperature
  SamplerParams p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
  std::vector<double> mass_;  // nucleus()'s buckets
};

// Index of the largest logit (the lowest index among equals).
int32_t argmax(const float* logits, int64_t n);

}  // namespace seek
