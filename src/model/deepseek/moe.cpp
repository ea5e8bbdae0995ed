// DeepSeekMoE: the gate (scores, selection bias, group-limited top-k) and the expert computation, with the
// tokens of a batch grouped per expert so each expert's weights are read once per batch.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "model/deepseek/deepseek.h"
#include "model/ops.h"

namespace seek {

void route(const DeepseekConfig& c, const float* logits, const std::vector<float>& bias, Routing& out) {
  const int64_t E = c.n_routed_experts, K = c.n_activated_experts;
  std::vector<float> scores(static_cast<size_t>(E));
  if (c.score_func == ScoreFunc::Sigmoid) {
    for (int64_t e = 0; e < E; ++e) scores[size_t(e)] = 1.0f / (1.0f + std::exp(-logits[e]));
  } else {
    std::copy(logits, logits + E, scores.begin());
    softmax(scores.data(), E);
  }
  // Selection uses the biased scores; the weights use the unbiased ones.
  std::vector<float> sel = scores;
  if (!bias.empty())
    for (int64_t e = 0; e < E; ++e) sel[size_t(e)] += bias[size_t(e)];

  if (c.n_expert_groups > 1) {
    const int64_t G = c.n_expert_groups, per = E / G;
    std::vector<float> group_score(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) {
      float* s = sel.data() + g * per;
      if (bias.empty()) {
        group_score[size_t(g)] = *std::max_element(s, s + per);
      } else {  // V3: sum of the two best biased scores in the group
        float a = -INFINITY, b = -INFINITY;
        for (int64_t j = 0; j < per; ++j) {
          if (s[j] > a) { b = a; a = s[j]; } else if (s[j] > b) { b = s[j]; }
        }
        group_score[size_t(g)] = a + b;
      }
    }
    std::vector<int64_t> order(static_cast<size_t>(G));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return group_score[size_t(x)] > group_score[size_t(y)]; });
    for (int64_t k = c.n_limited_groups; k < G; ++k)
      std::fill(sel.begin() + order[size_t(k)] * per, sel.begin() + (order[size_t(k)] + 1) * per, -INFINITY);
  }

  std::vector<int32_t> idx(static_cast<size_t>(E));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + K, idx.end(), [&](int32_t x, int32_t y) {
    return sel[size_t(x)] > sel[size_t(y)] || (sel[size_t(x)] == sel[size_t(y)] && x < y);
  });
  out.experts.assign(idx.begin(), idx.begin() + K);
  out.weights.resize(size_t(K));
  float sum = 0.0f;
  for (int64_t k = 0; k < K; ++k) sum += out.weights[size_t(k)] = scores[size_t(out.experts[size_t(k)])];
  for (int64_t k = 0; k < K; ++k) {
    if (c.norm_topk_prob) out.weights[size_t(k)] /= sum;
    out.weights[size_t(k)] *= c.route_scale;
  }
}

namespace {

// out[t] = w2 (silu(w1 x[t]) * w3 x[t]) for n tokens.
void mlp(const MlpWeights& m, ThreadPool& pool, const float* x, int64_t n, float* out) {
  const int64_t inter = m.w1.rows;
  std::vector<float> g(static_cast<size_t>(n * inter)), u(static_cast<size_t>(n * inter));
  matmul(pool, m.w1, x, n, g.data());
  matmul(pool, m.w3, x, n, u.data());
  swiglu(g.data(), u.data(), n * inter);
  matmul(pool, m.w2, g.data(), n, out);
}

}  // namespace

void DeepseekModel::moe(const MoeWeights& m, ThreadPool& pool, const float* h, int64_t n, float* out) const {
  const DeepseekConfig& c = config;
  const int64_t E = c.n_routed_experts, dim = c.dim;
  std::vector<float> logits(static_cast<size_t>(n * E));
  matmul(pool, m.gate, h, n, logits.data());

  // Group the batch by expert: for each expert, the tokens routed to it and their weights.
  std::vector<std::vector<std::pair<int64_t, float>>> by_expert(static_cast<size_t>(E));
  Routing r;
  for (int64_t t = 0; t < n; ++t) {
    route(c, logits.data() + t * E, m.bias, r);
    for (size_t k = 0; k < r.experts.size(); ++k) by_expert[size_t(r.experts[k])].push_back({t, r.weights[k]});
  }

  if (!m.shared.w1.empty()) {
    mlp(m.shared, pool, h, n, out);
  } else {
    std::fill(out, out + n * dim, 0.0f);
  }
  std::vector<float> xs, ys;
  for (int64_t e = 0; e < E; ++e) {
    const auto& list = by_expert[size_t(e)];
    if (list.empty()) continue;  // an unchosen expert's weights are never touched
    const int64_t ne = int64_t(list.size());
    xs.resize(size_t(ne * dim));
    ys.resize(size_t(ne * dim));
    for (int64_t j = 0; j < ne; ++j) std::copy(h + list[size_t(j)].first * dim, h + (list[size_t(j)].first + 1) * dim, xs.begin() + j * dim);
    mlp(m.expert(e), pool, xs.data(), ne, ys.data());
    for (int64_t j = 0; j < ne; ++j) {
      float* o = out + list[size_t(j)].first * dim;
      const float w = list[size_t(j)].second;
      for (int64_t i = 0; i < dim; ++i) o[i] += w * ys[size_t(j * dim + i)];
    }
  }
}

}  // namespace seek
