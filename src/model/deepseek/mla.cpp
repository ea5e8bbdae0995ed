// Multi-head Latent Attention (DeepSeek-V2 paper section 2.1; model.py MLA.forward). The cache keeps only the
// normalised latent c_kv and the rotated k_rope per token. Absorbed mode (decode and prefill) folds the key part
// of the up-projection into the query and applies the value part after the weighted sum of latents; naive mode
// expands per-head keys and values from the cache and is the reference.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "model/deepseek/deepseek.h"
#include "model/ops.h"

namespace seek {

void key_from_transpose(const Mat& key_t, int64_t nope, int64_t R, float* out) {
  thread_local std::vector<float> rows;
  rows.resize(size_t(R * nope));
  for (int64_t j = 0; j < R; ++j) row_f32(key_t, j, rows.data() + j * nope);
  constexpr int64_t T = 16;  // transposed in tiles that stay in L1
  for (int64_t j0 = 0; j0 < R; j0 += T)
    for (int64_t i0 = 0; i0 < nope; i0 += T)
      for (int64_t i = i0; i < std::min(nope, i0 + T); ++i)
        for (int64_t j = j0; j < std::min(R, j0 + T); ++j) out[size_t(i * R + j)] = rows[size_t(j * nope + i)];
}

namespace {

// The per-head key (W_uk: qk_nope x kv_lora) and value (W_uv: v_head x kv_lora) up-projections as views into
// whichever layout the file has. `key_transposed` means the view stores W_uk^T (kv_lora rows of qk_nope).
struct HeadProj {
  Mat key;
  bool key_transposed;
  Mat value;
};

HeadProj head_proj(const MlaWeights& a, const DeepseekConfig& c, int64_t h) {
  if (!a.wkv_b.empty()) {
    const int64_t per = c.qk_nope_head_dim + c.v_head_dim;
    return {a.wkv_b.slice_rows(h * per, c.qk_nope_head_dim), false,
            a.wkv_b.slice_rows(h * per + c.qk_nope_head_dim, c.v_head_dim)};
  }
  return {a.wk_b.slice_rows(h * c.kv_lora_rank, c.kv_lora_rank), true,
          a.wv_b.slice_rows(h * c.v_head_dim, c.v_head_dim)};
}

// y = W_uk^T x  (x: qk_nope -> y: kv_lora), for n vectors.
void absorb_key(const HeadProj& p, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) {
  if (p.key_transposed) matmul_serial(p.key, x, ldx, n, y, ldy);
  else matmul_t_serial(p.key, x, ldx, n, y, ldy);
}

// y = W_uk x  (x: kv_lora -> y: qk_nope), for n vectors.
void expand_key(const HeadProj& p, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) {
  if (p.key_transposed) matmul_t_serial(p.key, x, ldx, n, y, ldy);
  else matmul_serial(p.key, x, ldx, n, y, ldy);
}

// W_uk (nope rows of R) as f32 in `buf`, and a view of it: read from either layout (a matrix held as panels
// unpacks its rows).
Mat head_key_f32(const HeadProj& p, int64_t nope, int64_t R, std::vector<float>& buf) {
  buf.resize(size_t(nope * R));
  if (p.key_transposed) {
    key_from_transpose(p.key, nope, R, buf.data());
  } else {
    for (int64_t i = 0; i < nope; ++i) row_f32(p.key, i, buf.data() + i * R);
  }
  return f32_rows(buf.data(), nope, R);
}

}  // namespace

void DeepseekModel::attention(const MlaWeights& a, int64_t layer, const std::vector<Segment>& segs, ThreadPool& pool,
                              const float* h, int64_t n, float* out) const {
  const DeepseekConfig& c = config;
  const int64_t H = c.n_heads, nope = c.qk_nope_head_dim, rope_dim = c.qk_rope_head_dim, qk = c.qk_head_dim();
  const int64_t R = c.kv_lora_rank, V = c.v_head_dim, W = c.cache_width();
  const float scale = c.softmax_scale();

  // q: (n, H * qk)
  // q and o: scratch kept between calls, not zeroed anew (every value is written before it is read); pool threads
  // use the pointers, never the thread_local names.
  thread_local std::vector<float> q_buf, o_buf;
  q_buf.resize(size_t(n * H * qk));
  o_buf.resize(size_t(n * H * V));
  float* const q = q_buf.data();
  float* const o = o_buf.data();
  // The products of h held as panels share one quantisation of it.
  const Mat& wq_in = c.q_lora_rank > 0 ? a.wq_a : a.wq;
  const bool shared_q8 = takes_q8_batch(wq_in) && takes_q8_batch(a.wkv_a);
  // Scratch kept between calls, as q and o (allocated per layer, they were zeroed and freed ~2 MB at a time in a
  // prefill).
  thread_local Q8Batch hq_buf;
  thread_local std::vector<float> qa_buf, kva_buf;
  Q8Batch& hq = hq_buf;
  if (shared_q8) quantize_batch(&pool, h, c.dim, n, c.dim, hq);
  if (c.q_lora_rank > 0) {
    qa_buf.resize(size_t(n * c.q_lora_rank));
    float* const qa = qa_buf.data();
    if (shared_q8) matmul(pool, a.wq_a, hq, qa, c.q_lora_rank);
    else matmul(pool, a.wq_a, h, n, qa);
    rmsnorm_rows(&pool, qa, c.q_lora_rank, a.q_norm.data(), n, c.q_lora_rank, c.rms_eps, qa, c.q_lora_rank);
    matmul(pool, a.wq_b, qa, n, q);
  } else if (shared_q8) {
    matmul(pool, a.wq, hq, q, H * qk);
  } else {
    matmul(pool, a.wq, h, n, q);
  }

  // [c_kv, k_rope] = wkv_a h; c_kv normalised, k_rope rotated; both go to the cache.
  kva_buf.resize(size_t(n * W));
  float* const kva = kva_buf.data();
  if (shared_q8) matmul(pool, a.wkv_a, hq, kva, W);
  else matmul(pool, a.wkv_a, h, n, kva);
  std::vector<size_t> seg_of(static_cast<size_t>(n));  // batch row -> its segment
  for (size_t si = 0; si < segs.size(); ++si)
    std::fill_n(seg_of.begin() + segs[si].begin, segs[si].n, si);
  parallel_rows(&pool, n, W + H * rope_dim, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const Segment& sg = segs[seg_of[size_t(t)]];
      const int64_t pos = sg.n_past + (t - sg.begin);
      float* dst = sg.cache->at(layer, pos);
      rmsnorm(kva + t * W, a.kv_norm.data(), R, c.rms_eps, dst);
      std::copy(kva + t * W + R, kva + (t + 1) * W, dst + R);
      rope.apply(dst + R, 1, rope_dim, pos);
      rope.apply(q + t * H * qk + nope, H, qk, pos);
    }
  });

  int64_t max_kv = 0, work = 0;
  for (const Segment& sg : segs) {
    max_kv = std::max(max_kv, sg.n_past + sg.n);
    work += H * sg.n * ((sg.n_past + sg.n) * (R + rope_dim) + R * (nope + V));
  }
  const bool naive = options.mla == MlaMode::Naive;
  // Segments of a batch (prefill) take a GEMM form. Absorbed: the cache packed once, then per head two products
  // over the latents, W + R = 1088 multiply-adds per query, position and head for V3. Expanded (MHA): per head, the
  // cached latents expanded to keys [W_uk c | k_rope] and values W_uv c ((nope + V) x R per position), then
  // qk + V = 320 per query, position and head. Expanding costs per position what absorbing (W_uk^T into the queries,
  // W_uv after the sum) costs per query, so a chunk that is most of its context takes the expanded form.
  constexpr int64_t kBatchedMin = 16;
  auto expanded_form = [&](const Segment& sg) {
    if (naive || sg.n < kBatchedMin || options.expand == ExpandedPrefill::Never) return false;
    if (options.expand == ExpandedPrefill::Always) return true;
    const int64_t n_kv = sg.n_past + sg.n, pairs = sg.n * (sg.n_past + (sg.n + 1) / 2);
    return n_kv * (nope + V) * R + pairs * (qk + V) < sg.n * (nope + V) * R + pairs * (W + R);
  };
  std::vector<char> expanded(segs.size(), 0);
  bool any_expanded = false;
  std::vector<LatentPanels> panels(segs.size());
  std::vector<Q8Batch> latents_q8(segs.size());  // an expanded segment's cached latents, quantised once for W_uv
  const bool uv_q8 = takes_q8_batch(head_proj(a, c, 0).value);
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& sg = segs[i];
    if (expanded_form(sg)) {
      expanded[i] = 1;
      any_expanded = true;
      if (uv_q8) quantize_batch(&pool, sg.cache->at(layer, 0), W, sg.n_past + sg.n, R, latents_q8[i]);
    } else if (!naive && sg.n >= kBatchedMin) {
      build_latent_panels(*sg.cache, layer, sg.n_past + sg.n, R, pool, panels[i]);
    }
  }
  // Absorbed attention token by token (decode, short chunks) is multi-query attention over the latent cache: all
  // heads' queries [q_abs | q_rope] meet the same rows, so they go together and each cached row is read once per
  // token (attend_rows_n) rather than once per head. Their queries are absorbed first, per head.
  std::vector<std::pair<size_t, int64_t>> by_row;  // (segment, token within it)
  if (!naive)
    for (size_t si = 0; si < segs.size(); ++si)
      if (panels[si].scores.empty() && !expanded[si])
        for (int64_t t = 0; t < segs[si].n; ++t) by_row.push_back({si, t});
  const int64_t n_row = int64_t(by_row.size());
  bool any_batched = false;
  for (const LatentPanels& lp : panels) any_batched = any_batched || !lp.scores.empty();
  // Heads split into groups only as far as it takes to give every thread work. With fewer tokens than threads
  // (one sequence decoding) and nothing batched, each (token, head group) also absorbs its queries and applies
  // W_uv itself: one parallel region for the whole attention instead of three.
  const int64_t n_groups = n_row > 0 ? std::min<int64_t>(H, (pool.size() + n_row - 1) / n_row) : 1;
  const int64_t per = (H + n_groups - 1) / n_groups;
  const bool fused = n_groups > 1 && !any_batched && !any_expanded;
  // Scratch kept between calls, as q and o (~1 MB a layer for 16 sequences decoding: zeroing it anew cost ~1% of
  // their step); the lambdas below use the pointers.
  thread_local std::vector<float> q_cat_buf, ctx_row_buf, q_nope_buf;
  q_cat_buf.resize(size_t(n_row * H * W));
  ctx_row_buf.resize(size_t(n_row * H * R));
  q_nope_buf.resize(size_t(n_row * H * qk));
  float* const q_cat_all = q_cat_buf.data();
  float* const ctx_row = ctx_row_buf.data();
  float* const q_nope = q_nope_buf.data();
  if (n_row > 0) {
    for (int64_t i = 0; i < n_row; ++i) {
      const float* src = q + (segs[by_row[size_t(i)].first].begin + by_row[size_t(i)].second) * H * qk;
      std::copy(src, src + H * qk, q_nope + i * H * qk);
      for (int64_t hd = 0; hd < H; ++hd)
        std::copy(src + hd * qk + nope, src + (hd + 1) * qk, q_cat_all + (i * H + hd) * W + R);
    }
    auto absorb = [&](int ti, int nt) {
      for (int64_t hd = ti; hd < H; hd += nt)
        absorb_key(head_proj(a, c, hd), q_nope + hd * qk, H * qk, n_row, q_cat_all + hd * W, H * W);
    };
    std::atomic<int64_t> next{0};
    auto attend = [&](int, int) {
      std::vector<float> scores(static_cast<size_t>(per * max_kv));
      for (int64_t it = next.fetch_add(1); it < n_row * n_groups; it = next.fetch_add(1)) {
        const int64_t i = it / n_groups, h0 = it % n_groups * per, hn = std::min(per, H - h0);
        const Segment& sg = segs[by_row[size_t(i)].first];
        const int64_t t = by_row[size_t(i)].second, len = sg.n_past + t + 1;  // causal: positions 0 .. n_past + t
        if (fused)
          for (int64_t hd = h0; hd < h0 + hn; ++hd)
            absorb_key(head_proj(a, c, hd), q_nope + i * H * qk + hd * qk, qk, 1,
                       q_cat_all + (i * H + hd) * W, W);
        attend_rows_n(q_cat_all + (i * H + h0) * W, W, hn, sg.cache->at(layer, 0), W, len, W, R, scale,
                      scores.data(), ctx_row + (i * H + h0) * R, R);
        if (fused)
          for (int64_t hd = h0; hd < h0 + hn; ++hd)
            matmul_serial(head_proj(a, c, hd).value, ctx_row + (i * H + hd) * R, R, 1,
                          o + (sg.begin + t) * H * V + hd * V, H * V);
      }
    };
    if (work < (int64_t(1) << 16)) {
      if (!fused) absorb(0, 1);
      attend(0, 1);
    } else {
      if (!fused) pool.run(absorb);
      pool.run(attend);
    }
  }
  std::vector<int64_t> row_of(static_cast<size_t>(n), -1);  // batch row -> its index in by_row
  for (int64_t i = 0; i < n_row; ++i) row_of[size_t(segs[by_row[size_t(i)].first].begin + by_row[size_t(i)].second)] = i;

  // Rows whose context W_uv maps to the head's output: all but the expanded segments' (theirs is in o already), in
  // runs as long as the batch allows, so that a head's W_uv is read once for all the sequences decoding together.
  std::vector<std::pair<int64_t, int64_t>> uv_runs;  // (first row, rows)
  for (size_t si = 0; si < segs.size(); ++si) {
    if (expanded[si]) continue;
    if (!uv_runs.empty() && uv_runs.back().first + uv_runs.back().second == segs[si].begin) uv_runs.back().second += segs[si].n;
    else uv_runs.push_back({segs[si].begin, segs[si].n});
  }
  // Per head: the expanded segments' attention, the batched segments' (their queries absorbed here), the
  // token-by-token contexts gathered, then W_uv for those rows at once, so a head's weights are read once per step
  // however many sequences decode together.
  auto heads = [&](int ti, int nt) {
    std::vector<float> scores(static_cast<size_t>(max_kv));
    std::vector<float> q_abs, ctx_all, keys, vals, uk;
    LatentPanels head_panels;
    if (naive) {
      keys.resize(size_t(max_kv * nope));
      vals.resize(size_t(max_kv * V));
    } else {
      q_abs.resize(size_t(n * R));
      ctx_all.resize(size_t(n * R));
    }
    for (int64_t hd = ti; hd < H; hd += nt) {
      const HeadProj p = head_proj(a, c, hd);
      if (!naive && any_batched) absorb_key(p, q + hd * qk, H * qk, n, q_abs.data(), R);
      Mat uk_mat;  // this head's W_uk (nope x R), found or made for the first expanded segment
      for (size_t si = 0; si < segs.size(); ++si) {
        const Segment& sg = segs[si];
        MlaCache& cache = *sg.cache;
        const int64_t n_kv = sg.n_past + sg.n;
        const float* q_head = q + sg.begin * H * qk + hd * qk;  // row stride H * qk
        if (expanded[si]) {
          if (uk_mat.empty()) {
            if (!p.key_transposed) uk_mat = p.key;  // attn_kv_b: W_uk's rows as stored
            else if (!a.uk.empty()) uk_mat = a.uk.slice_rows(hd * nope, nope);
            else uk_mat = head_key_f32(p, nope, R, uk);
          }
          keys.resize(size_t(n_kv * qk));
          vals.resize(size_t(n_kv * V));
          matmul_serial(uk_mat, cache.at(layer, 0), W, n_kv, keys.data(), qk);
          for (int64_t s = 0; s < n_kv; ++s)
            std::copy(cache.at(layer, s) + R, cache.at(layer, s) + W, keys.begin() + s * qk + nope);
          if (uv_q8) matmul_serial(p.value, latents_q8[si], vals.data(), V);
          else matmul_serial(p.value, cache.at(layer, 0), W, n_kv, vals.data(), V);
          build_head_panels(keys.data(), qk, vals.data(), V, n_kv, qk, V, head_panels);
          attend_batched(head_panels, q_head, H * qk, sg.n, sg.n_past, scale, o + sg.begin * H * V + hd * V,
                         H * V);
          continue;
        }
        if (!panels[si].scores.empty()) {
          attend_head_batched(panels[si], q_abs.data() + sg.begin * R, q_head + nope, H * qk, sg.n, sg.n_past,
                              rope_dim, scale, ctx_all.data() + sg.begin * R);
          continue;
        }
        if (!naive) {
          for (int64_t t = 0; t < sg.n; ++t) {
            const float* src = ctx_row + (row_of[size_t(sg.begin + t)] * H + hd) * R;
            std::copy(src, src + R, ctx_all.begin() + (sg.begin + t) * R);
          }
          continue;
        }
        // Naive: expand every cached latent into this head's key (nope part) and value.
        for (int64_t s = 0; s < n_kv; ++s) {
          const float* lat = cache.at(layer, s);
          expand_key(p, lat, W, 1, keys.data() + s * nope, nope);
          matmul_serial(p.value, lat, W, 1, vals.data() + s * V, V);
        }
        for (int64_t t = 0; t < sg.n; ++t) {
          const int64_t len = sg.n_past + t + 1;  // causal: positions 0 .. n_past + t
          const float* qt = q_head + t * H * qk;
          for (int64_t s = 0; s < len; ++s) {
            const float* lat = cache.at(layer, s);
            scores[size_t(s)] = (vec_dot(qt, keys.data() + s * nope, nope) + vec_dot(qt + nope, lat + R, rope_dim)) * scale;
          }
          softmax(scores.data(), len);
          float* ot = o + (sg.begin + t) * H * V + hd * V;
          std::fill(ot, ot + V, 0.0f);
          for (int64_t s = 0; s < len; ++s) vec_axpy(scores[size_t(s)], vals.data() + s * V, ot, V);
        }
      }
      if (!naive)
        for (const auto& [r0, nr] : uv_runs)
          matmul_serial(p.value, ctx_all.data() + r0 * R, R, nr, o + r0 * H * V + hd * V, H * V);
    }
  };
  // Split heads across threads unless the whole attention is too small to repay a parallel region.
  if (fused) {  // every head's output is in o already
  } else if (work < (int64_t(1) << 16)) {
    heads(0, 1);
  } else {
    pool.run(heads);
  }
  matmul(pool, a.wo, o, n, out);
}

}  // namespace seek
