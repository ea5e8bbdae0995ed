// DeepSeekMoE: the gate (scores, selection bias, group-limited top-k) and the expert computation, with the
// tokens of a batch grouped per expert so each expert's weights are read once per batch.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "model/deepseek/deepseek.h"
#include "model/ops.h"

namespace seek {

void route(const DeepseekConfig& c, const float* logits, const std::vector<float>& bias, Routing& out) {
  const int64_t E = c.n_routed_experts, K = c.n_activated_experts;
  // This thread's scratch, reused from token to token (five allocations a token and layer before).
  thread_local std::vector<float> scores, sel, group_score;
  thread_local std::vector<int64_t> order;
  thread_local std::vector<int32_t> idx;
  scores.resize(size_t(E));
  if (c.score_func == ScoreFunc::Sigmoid) {
    for (int64_t e = 0; e < E; ++e) scores[size_t(e)] = 1.0f / (1.0f + std::exp(-logits[e]));
  } else {
    std::copy(logits, logits + E, scores.begin());
    softmax(scores.data(), E);
  }
  // Selection uses the biased scores; the weights use the unbiased ones.
  sel.assign(scores.begin(), scores.end());
  if (!bias.empty())
    for (int64_t e = 0; e < E; ++e) sel[size_t(e)] += bias[size_t(e)];

  if (c.n_expert_groups > 1) {
    const int64_t G = c.n_expert_groups, per = E / G;
    group_score.resize(size_t(G));
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
    order.resize(size_t(G));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return group_score[size_t(x)] > group_score[size_t(y)]; });
    for (int64_t k = c.n_limited_groups; k < G; ++k)
      std::fill(sel.begin() + order[size_t(k)] * per, sel.begin() + (order[size_t(k)] + 1) * per, -INFINITY);
  }

  idx.resize(size_t(E));
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

void swiglu_mlp(const MlpWeights& m, ThreadPool* pool, const float* x, int64_t n, float* out, const Q8Batch* xq) {
  const int64_t inter = m.w1.rows, dim = m.w1.cols;
  thread_local std::vector<float> g, u;  // this thread's scratch, reused across calls
  thread_local Q8Batch mine;
  g.resize(size_t(n * inter));
  u.resize(size_t(n * inter));
  if (takes_q8_batch(m.w1) && takes_q8_batch(m.w3)) {
    if (xq == nullptr) {
      quantize_batch(pool, x, dim, n, dim, mine);
      xq = &mine;
    }
    if (pool) {
      matmul(*pool, m.w1, *xq, g.data(), inter);
      matmul(*pool, m.w3, *xq, u.data(), inter);
    } else {
      matmul_serial(m.w1, *xq, g.data(), inter);
      matmul_serial(m.w3, *xq, u.data(), inter);
    }
  } else if (pool) {
    matmul(*pool, m.w1, x, n, g.data());
    matmul(*pool, m.w3, x, n, u.data());
  } else {
    matmul_serial(m.w1, x, dim, n, g.data(), inter);
    matmul_serial(m.w3, x, dim, n, u.data(), inter);
  }
  swiglu(g.data(), u.data(), n * inter);
  if (pool) matmul(*pool, m.w2, g.data(), n, out);
  else matmul_serial(m.w2, g.data(), inter, n, out, m.w2.rows);
}

namespace {

// Experts chosen by at most this many tokens of a batch run whole on one thread (matmul's row pass serves up to
// 8 tokens per read of a row).
constexpr int64_t kFewTokens = 8;
// Whole experts per thread when at least this many per thread are chosen.
constexpr int64_t kWholeExpertsPerThread = 4;
// Batches of at most this many tokens run the shared expert whole on one thread, as a job among the routed ones.
constexpr int64_t kSharedQueuedTokens = 32;

}  // namespace

void DeepseekModel::moe(const MoeWeights& m, ThreadPool& pool, const float* h, int64_t n, float* out) const {
  const DeepseekConfig& c = config;
  const int64_t E = c.n_routed_experts, dim = c.dim;
  // Held as panels, the router, the shared expert and every routed expert take one quantisation of h: each expert
  // gathers its tokens' quantised rows, where each of its gate and up projections quantised them again before (for
  // V3, 2 x 8 routed + 2 shared + 1 router quantisations of every token become one).
  bool shared_q8 = true;
  for (int64_t e = 0; e < E && shared_q8; ++e) shared_q8 = takes_q8_batch(m.expert(e).w1) && takes_q8_batch(m.expert(e).w3);
  // Scratch kept between calls (allocated per layer, a prefill's was ~1 MB zeroed and a vector per token); the
  // lambdas below reach it through these references, never the thread_local names (a pool thread has its own).
  thread_local Q8Batch hq_buf;
  thread_local std::vector<float> logits_buf;
  thread_local std::vector<Routing> routes_buf;
  thread_local std::vector<std::vector<std::pair<int64_t, float>>> by_expert_buf;
  Q8Batch& hq = hq_buf;
  if (shared_q8) quantize_batch(&pool, h, dim, n, dim, hq);
  logits_buf.resize(size_t(n * E));
  float* const logits = logits_buf.data();
  if (shared_q8 && takes_q8_batch(m.gate)) matmul(pool, m.gate, hq, logits, E);
  else matmul(pool, m.gate, h, n, logits);

  // Each token's choice (on the pool's threads), then the batch grouped by expert: for each expert, the tokens
  // routed to it and their weights.
  routes_buf.resize(size_t(n));
  auto& routes = routes_buf;
  parallel_rows(&pool, n, 16 * E, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) route(c, logits + t * E, m.bias, routes[size_t(t)]);
  });
  by_expert_buf.resize(size_t(E));
  auto& by_expert = by_expert_buf;
  for (auto& list : by_expert) list.clear();
  for (int64_t t = 0; t < n; ++t) {
    const Routing& r = routes[size_t(t)];
    for (size_t k = 0; k < r.experts.size(); ++k) by_expert[size_t(r.experts[k])].push_back({t, r.weights[k]});
  }

  // Experts with a few tokens (decode, several sequences decoding together) are shared out whole between the
  // threads: one pass over each expert's weights by one thread, no synchronisation per product. So are all of them
  // when enough are chosen to keep every thread busy (prefill): six parallel regions per expert cost more than the
  // imbalance of the last one.
  int64_t chosen = 0;
  for (int64_t e = 0; e < E; ++e) chosen += by_expert[size_t(e)].empty() ? 0 : 1;
  const bool all_whole = chosen >= kWholeExpertsPerThread * pool.size();
  // The shared expert writes `out` (the routed ones add to it at the end). When the routed experts are many whole
  // jobs and the tokens few (several sequences decoding) it is one more job of their queue, so it costs no parallel
  // regions of its own; else (one sequence: 6 routed jobs and it would make the threads' shares 4 and 3; prefill)
  // it is split across the threads as any product. Same bits either way (a row's sum does not depend on the thread
  // that computes it).
  const Q8Batch* shared_xq = shared_q8 && takes_q8_batch(m.shared.w1) ? &hq : nullptr;
  const bool shared_queued = !m.shared.w1.empty() && all_whole && n <= kSharedQueuedTokens;
  auto run_shared = [&](ThreadPool* p) { swiglu_mlp(m.shared, p, shared_xq ? nullptr : h, n, out, shared_xq); };
  if (m.shared.w1.empty()) std::fill(out, out + n * dim, 0.0f);
  else if (!shared_queued) run_shared(&pool);
  // Each chosen expert's outputs go to its own slice of ys (offset[e] rows), and are added to the tokens in
  // expert order at the end, so the sum does not depend on which thread computed what.
  std::vector<int64_t> offset(static_cast<size_t>(E + 1), 0);
  for (int64_t e = 0; e < E; ++e) offset[size_t(e + 1)] = offset[size_t(e)] + int64_t(by_expert[size_t(e)].size());
  // Scratch kept between calls (a prefill's is ~25 MB: allocating it zeroed it anew every layer); pool threads use
  // the pointer, never the thread_local name (theirs would be another object).
  thread_local std::vector<float> ys_buf;
  ys_buf.resize(size_t(offset[size_t(E)] * dim));
  float* const ys = ys_buf.data();
  // Expert e's tokens as rows: quantised (xq) when the experts take them so, else as f32 (xs).
  auto gather = [&](int64_t e, std::vector<float>& xs, Q8Batch& xq, std::vector<int64_t>& idx) {
    const auto& list = by_expert[size_t(e)];
    if (shared_q8) {
      idx.resize(list.size());
      for (size_t j = 0; j < list.size(); ++j) idx[j] = list[j].first;
      gather_batch(hq, idx.data(), int64_t(idx.size()), xq);
      return;
    }
    xs.resize(list.size() * size_t(dim));
    for (size_t j = 0; j < list.size(); ++j) std::copy(h + list[j].first * dim, h + (list[j].first + 1) * dim, xs.data() + j * dim);
  };
  auto run_expert = [&](int64_t e, ThreadPool* p, std::vector<float>& xs, Q8Batch& xq, std::vector<int64_t>& idx) {
    gather(e, xs, xq, idx);
    const int64_t ne = int64_t(by_expert[size_t(e)].size());
    // With the quantised rows given, swiglu_mlp reads no f32 input.
    swiglu_mlp(m.expert(e), p, shared_q8 ? nullptr : xs.data(), ne, ys + offset[size_t(e)] * dim,
               shared_q8 ? &xq : nullptr);
  };
  std::vector<int64_t> few, many;
  for (int64_t e = 0; e < E; ++e) {
    const size_t ne = by_expert[size_t(e)].size();
    if (ne == 0) continue;  // an unchosen expert's weights are never touched
    (all_whole || int64_t(ne) <= kFewTokens ? few : many).push_back(e);
  }
  if (!few.empty()) {  // holds the shared expert too when it is queued (all_whole)
    // Threads take the next expert as they finish one (busiest first), so one that drew several multi-token
    // experts does not leave the other waiting; outputs have fixed slots, so the result is the same either way.
    // The shared expert (-1), with every token, goes first.
    std::stable_sort(few.begin(), few.end(), [&](int64_t a, int64_t b) {
      return by_expert[size_t(a)].size() > by_expert[size_t(b)].size();
    });
    if (shared_queued) few.insert(few.begin(), -1);
    std::atomic<size_t> next{0};
    pool.run([&](int, int) {
      // The running thread's own scratch (named here, a thread_local is the pool thread's), kept between calls.
      thread_local std::vector<float> xs;
      thread_local Q8Batch xq;
      thread_local std::vector<int64_t> idx;
      for (size_t i = next.fetch_add(1); i < few.size(); i = next.fetch_add(1)) {
        if (few[i] < 0) run_shared(nullptr);
        else run_expert(few[i], nullptr, xs, xq, idx);
      }
    });
  }
  std::vector<float> xs;
  Q8Batch xq;
  std::vector<int64_t> idx;
  for (int64_t e : many) run_expert(e, &pool, xs, xq, idx);
  // Each token adds its experts' outputs in expert order (its rows of ys, listed per token), the tokens split
  // across the threads.
  std::vector<int64_t> first(static_cast<size_t>(n + 1), 0), slot(static_cast<size_t>(offset[size_t(E)]));
  std::vector<float> weight(slot.size());
  for (int64_t e = 0; e < E; ++e)
    for (const auto& [t, w] : by_expert[size_t(e)]) ++first[size_t(t + 1)];
  for (int64_t t = 0; t < n; ++t) first[size_t(t + 1)] += first[size_t(t)];
  {
    std::vector<int64_t> fill(first.begin(), first.end() - 1);
    for (int64_t e = 0; e < E; ++e) {
      const auto& list = by_expert[size_t(e)];
      for (size_t j = 0; j < list.size(); ++j) {
        const size_t at = size_t(fill[size_t(list[j].first)]++);
        slot[at] = offset[size_t(e)] + int64_t(j);
        weight[at] = list[j].second;
      }
    }
  }
  parallel_rows(&pool, n, 8 * dim, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* o = out + t * dim;
      // The selected kernels' axpy (this file is built for any x86-64: its own loop ran 4 floats at a time).
      for (int64_t k = first[size_t(t)]; k < first[size_t(t + 1)]; ++k)
        vec_axpy(weight[size_t(k)], ys + slot[size_t(k)] * dim, o, dim);
    }
  });
}

}  // namespace seek
