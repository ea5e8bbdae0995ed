// Absorbed MLA over a batch of tokens (prefill) as matrix products. Absorbed MLA is multi-query attention over the
// latent cache: every head's query [q_abs | q_rope] (kv_lora_rank + qk_rope_head_dim wide) meets the same cached
// rows [c_kv | k_rope]. So per head, S = X C^T (scores) and ctx = softmax(S) C[:, :kv_lora_rank] are two GEMMs
// whose "weights" (the cache) are packed once per layer and serve every head. Causality is exploited by 32-token
// chunks: chunk [t0, t1) only reads positions < n_past + t1.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/kernels.h"
#include "model/deepseek/deepseek.h"
#include "model/ops.h"

namespace seek {

namespace {

constexpr int64_t P = kGemmPanelRows;  // 32

int64_t blocks(int64_t n) { return (n + P - 1) / P; }

}  // namespace

namespace {

// Sizes `out` for n_kv positions of keys W wide and values R wide.
void size_panels(int64_t n_kv, int64_t W, int64_t R, LatentPanels& out) {
  out.n_kv = n_kv;
  out.W = W;
  out.R = R;
  out.scores.resize(size_t(blocks(n_kv) * W * P));
  out.values.resize(size_t(blocks(R) * n_kv * P));
}

// Panels first, first + step, ... of both kinds (a thread's share): score panels hold 32 positions as the panel's
// rows (k = the key's W values); value panels 32 value columns as rows, k = the positions (k-major: position s holds
// the 32 values vals(s)[32r .. 32r + 31]).
void pack_panels(const float* keys, int64_t ldk, const float* vals, int64_t ldv, int64_t first, int64_t step,
                 LatentPanels& out) {
  const KernelTable& k = kernels();
  const int64_t n_kv = out.n_kv, W = out.W, R = out.R;
  thread_local std::vector<float> rows;
  rows.resize(size_t(P * W));
  for (int64_t b = first; b < blocks(n_kv); b += step) {
    const int64_t s0 = b * P, nr = std::min(P, n_kv - s0);
    for (int64_t i = 0; i < P; ++i) {
      float* dst = rows.data() + i * W;
      if (i < nr) std::copy(keys + (s0 + i) * ldk, keys + (s0 + i) * ldk + W, dst);
      else std::fill(dst, dst + W, 0.0f);
    }
    k.pack_panel(rows.data(), W, out.scores.data() + b * W * P);
  }
  for (int64_t r = first; r < blocks(R); r += step) {
    float* panel = out.values.data() + r * n_kv * P;
    const int64_t c0 = r * P, nc = std::min(P, R - c0);
    for (int64_t s = 0; s < n_kv; ++s) {
      std::copy(vals + s * ldv + c0, vals + s * ldv + c0 + nc, panel + s * P);
      std::fill(panel + s * P + nc, panel + (s + 1) * P, 0.0f);
    }
  }
}

}  // namespace

void build_latent_panels(MlaCache& cache, int64_t layer, int64_t n_kv, int64_t R, ThreadPool& pool,
                         LatentPanels& out) {
  const int64_t W = cache.width;
  size_panels(n_kv, W, R, out);
  const float* rows = cache.at(layer, 0);  // a layer's positions are consecutive rows of W floats
  pool.run([&](int ti, int nt) { pack_panels(rows, W, rows, W, ti, nt, out); });
}

void build_head_panels(const float* keys, int64_t ldk, const float* vals, int64_t ldv, int64_t n_kv, int64_t W,
                       int64_t R, LatentPanels& out) {
  size_panels(n_kv, W, R, out);
  pack_panels(keys, ldk, vals, ldv, 0, 1, out);
}

void attend_batched(const LatentPanels& lp, const float* x, int64_t ldx, int64_t n, int64_t n_past, float scale,
                    float* out, int64_t ldo) {
  const KernelTable& k = kernels();
  const int64_t W = lp.W, R = lp.R, n_kv_all = n_past + n;
  thread_local std::vector<float> s;
  for (int64_t t0 = 0; t0 < n; t0 += P) {
    const int64_t t1 = std::min(n, t0 + P), m = t1 - t0, n_kv = n_past + t1, ld = blocks(n_kv) * P;
    const float* xc = x + t0 * ldx;
    // S = X K^T over the position blocks this chunk can see.
    s.resize(size_t(m * ld));
    for (int64_t b = 0; b < blocks(n_kv); ++b) {
      const int64_t nr = std::min(P, n_kv_all - b * P);
      // Tokens before the first that sees position 32b need nothing from this block.
      const int64_t first = std::clamp(b * P - n_past - t0, int64_t(0), m);
      if (first < m)
        k.gemm_panel(lp.scores.data() + b * W * P, W, xc + first * ldx, ldx, m - first, s.data() + first * ld + b * P,
                     ld, int(nr));
    }
    for (int64_t t = 0; t < m; ++t) {
      float* row = s.data() + t * ld;
      const int64_t len = n_past + t0 + t + 1;  // causal: positions 0 .. n_past + t
      for (int64_t j = 0; j < len; ++j) row[j] *= scale;
      softmax(row, len);
      std::fill(row + len, row + n_kv, 0.0f);
    }
    // out = P V: the value panels' first n_kv positions.
    for (int64_t r = 0; r < blocks(R); ++r)
      k.gemm_panel(lp.values.data() + r * lp.n_kv * P, n_kv, s.data(), ld, m, out + t0 * ldo + r * P, ldo,
                   int(std::min(P, R - r * P)));
  }
}

void attend_head_batched(const LatentPanels& lp, const float* q_abs, const float* q_rope, int64_t ld_rope, int64_t n,
                         int64_t n_past, int64_t rope_dim, float scale, float* ctx) {
  const int64_t W = lp.W, R = lp.R;
  thread_local std::vector<float> x;
  // X rows: [q_abs | q_rope] of the tokens.
  x.resize(size_t(n * W));
  for (int64_t t = 0; t < n; ++t) {
    std::copy(q_abs + t * R, q_abs + (t + 1) * R, x.begin() + t * W);
    std::copy(q_rope + t * ld_rope, q_rope + t * ld_rope + rope_dim, x.begin() + t * W + R);
  }
  attend_batched(lp, x.data(), W, n, n_past, scale, ctx, R);
}

}  // namespace seek
