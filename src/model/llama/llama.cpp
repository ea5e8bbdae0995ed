// The Llama/Qwen2 forward pass (llama.cpp's build graph for "llama" and "qwen2", written as named ops):
//   x += wo attn(rope(wq h + bq), rope(wk h + bk), wv h + bv), h = rmsnorm(x)
//   x += w2(silu(w1 h) * w3 h),                               h = rmsnorm(x)
// with grouped-query attention (query head i reads kv head i / (n_heads / n_kv_heads)) and scale 1/sqrt(head_dim).
#include "model/llama/llama.h"

#include <algorithm>
#include <cmath>

#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "model/ops.h"

namespace seek {

Result<std::unique_ptr<Model>> load_llama(std::shared_ptr<GgufFile> file) {
  auto cfg = llama_config_from_gguf(*file);
  if (!cfg) return cfg.error();
  auto w = llama_weights_from_gguf(*file, *cfg);
  if (!w) return w.error();
  auto m = std::make_unique<LlamaModel>();
  m->config = std::move(*cfg);
  m->weights = std::move(*w);
  const LlamaConfig& c = m->config;
  m->inv_freq.resize(size_t(c.n_rot / 2));
  for (int64_t i = 0; i < c.n_rot / 2; ++i) {
    double f = double(c.rope_freq_scale) * std::pow(double(c.rope_theta), -double(2 * i) / double(c.n_rot));
    if (!m->weights.rope_freqs.empty()) f /= double(m->weights.rope_freqs[size_t(i)]);
    m->inv_freq[size_t(i)] = f;
  }
  m->file = std::move(file);
  return std::unique_ptr<Model>(std::move(m));
}

Model::RepackReport LlamaModel::repack_weights(ThreadPool& pool, size_t max_bytes,
                                               const RepackProgress& progress) {
  std::vector<Mat*> mats;  // every matrix but the embedding, whose rows are looked up
  if (weights.output.data != weights.tok_embd.data) mats.push_back(&weights.output);
  for (LlamaBlock& b : weights.blocks) mats.insert(mats.end(), {&b.wq, &b.wk, &b.wv, &b.wo, &b.w1, &b.w2, &b.w3});
  const MappedFile* map = file && file->mapping ? file->mapping.get() : nullptr;
  packed = repack_q8_0(mats, pool, map ? map->data() : nullptr, map ? map->size() : 0, max_bytes, progress);
  return {packed.bytes, packed.declined_bytes};
}

std::unique_ptr<ModelState> LlamaModel::new_state(int64_t n_ctx) const {
  auto s = std::make_unique<LlamaKvCache>();
  s->capacity = n_ctx;
  s->n_layers = config.n_layers;
  s->width = config.kv_width();
  const size_t n = size_t(s->n_layers) * size_t(n_ctx) * size_t(s->width);
  s->k = HugeBuffer(n, sizeof(float), HugeBuffer::Fault::Now);
  s->v = HugeBuffer(n, sizeof(float), HugeBuffer::Fault::Now);
  return s;
}

void LlamaModel::rope(float* x, int64_t n_vec, int64_t stride, int64_t pos) const {
  const size_t half = inv_freq.size();
  std::vector<float> cs(half), sn(half);
  for (size_t j = 0; j < half; ++j) {
    const double a = double(pos) * inv_freq[j];
    cs[j] = float(std::cos(a));
    sn[j] = float(std::sin(a));
  }
  // Norm pairs (2j, 2j+1); NeoX pairs (j, j + half). Values past n_rot are left as they are.
  const size_t step = config.rope_style == RopeStyle::Norm ? 2 : 1;
  const size_t off = config.rope_style == RopeStyle::Norm ? 1 : half;
  for (int64_t v = 0; v < n_vec; ++v) {
    float* p = x + v * stride;
    for (size_t j = 0; j < half; ++j) {
      float* a = p + j * step;
      const float x0 = a[0], x1 = a[off];
      a[0] = x0 * cs[j] - x1 * sn[j];
      a[off] = x0 * sn[j] + x1 * cs[j];
    }
  }
}

namespace {

void add_bias(float* y, const std::vector<float>& b, int64_t n_rows) {
  if (b.empty()) return;
  const int64_t w = int64_t(b.size());
  for (int64_t t = 0; t < n_rows; ++t)
    for (int64_t i = 0; i < w; ++i) y[t * w + i] += b[size_t(i)];
}

}  // namespace

void LlamaModel::attention(const LlamaBlock& b, int64_t layer, LlamaKvCache& cache, ThreadPool& pool, const float* h,
                           int64_t n, int64_t n_past, float* out) const {
  const LlamaConfig& c = config;
  const int64_t H = c.n_heads, Hkv = c.n_kv_heads, hd = c.head_dim, group = H / Hkv, W = c.kv_width();
  const float scale = 1.0f / std::sqrt(float(hd));

  std::vector<float> q(size_t(n * H * hd)), k(size_t(n * W)), v(size_t(n * W));
  matmul(pool, b.wq, h, n, q.data());
  matmul(pool, b.wk, h, n, k.data());
  matmul(pool, b.wv, h, n, v.data());
  add_bias(q.data(), b.bq, n);
  add_bias(k.data(), b.bk, n);
  add_bias(v.data(), b.bv, n);
  for (int64_t t = 0; t < n; ++t) {
    const int64_t pos = n_past + t;
    rope(q.data() + t * H * hd, H, hd, pos);
    rope(k.data() + t * W, Hkv, hd, pos);
    std::copy(k.data() + t * W, k.data() + (t + 1) * W, cache.k_at(layer, pos));
    std::copy(v.data() + t * W, v.data() + (t + 1) * W, cache.v_at(layer, pos));
  }

  const int64_t n_kv = n_past + n;
  std::vector<float> o(size_t(n * H * hd));
  auto heads = [&](int ti, int nt) {
    std::vector<float> scores(static_cast<size_t>(n_kv));
    for (int64_t hh = ti; hh < H; hh += nt) {
      const int64_t kvh = hh / group;
      for (int64_t t = 0; t < n; ++t) {
        const int64_t len = n_past + t + 1;  // causal
        const float* qt = q.data() + t * H * hd + hh * hd;
        for (int64_t s = 0; s < len; ++s) scores[size_t(s)] = vec_dot(qt, cache.k_at(layer, s) + kvh * hd, hd) * scale;
        softmax(scores.data(), len);
        float* ot = o.data() + t * H * hd + hh * hd;
        std::fill(ot, ot + hd, 0.0f);
        for (int64_t s = 0; s < len; ++s) vec_axpy(scores[size_t(s)], cache.v_at(layer, s) + kvh * hd, ot, hd);
      }
    }
  };
  const int64_t work = H * n * n_kv * hd;
  if (work < (int64_t(1) << 16)) heads(0, 1);
  else pool.run(heads);
  matmul(pool, b.wo, o.data(), n, out);
  add_bias(out, b.bo, n);
}

void LlamaModel::forward(ModelState& state, ThreadPool& pool, const int32_t* tokens, int64_t n, int64_t n_past,
                         bool all_logits, float* logits) const {
  LlamaKvCache& cache = static_cast<LlamaKvCache&>(state);
  const int64_t dim = config.dim, inter = config.inter_dim;
  std::vector<float> x(size_t(n * dim)), h(size_t(n * dim)), out(size_t(n * dim));
  std::vector<float> g(size_t(n * inter)), u(size_t(n * inter));
  for (int64_t t = 0; t < n; ++t) row_f32(weights.tok_embd, tokens[t], x.data() + t * dim);
  for (int64_t l = 0; l < config.n_layers; ++l) {
    const LlamaBlock& b = weights.blocks[size_t(l)];
    for (int64_t t = 0; t < n; ++t) rmsnorm(x.data() + t * dim, b.attn_norm.data(), dim, config.rms_eps, h.data() + t * dim);
    attention(b, l, cache, pool, h.data(), n, n_past, out.data());
    for (int64_t i = 0; i < n * dim; ++i) x[size_t(i)] += out[size_t(i)];
    for (int64_t t = 0; t < n; ++t) rmsnorm(x.data() + t * dim, b.ffn_norm.data(), dim, config.rms_eps, h.data() + t * dim);
    matmul(pool, b.w1, h.data(), n, g.data());
    matmul(pool, b.w3, h.data(), n, u.data());
    swiglu(g.data(), u.data(), n * inter);
    matmul(pool, b.w2, g.data(), n, out.data());
    for (int64_t i = 0; i < n * dim; ++i) x[size_t(i)] += out[size_t(i)];
  }
  if (logits == nullptr) return;  // nobody reads them: no head
  const int64_t first = all_logits ? 0 : n - 1, rows = n - first;
  std::vector<float> normed(size_t(rows * dim));
  for (int64_t t = 0; t < rows; ++t)
    rmsnorm(x.data() + (first + t) * dim, weights.output_norm.data(), dim, config.rms_eps, normed.data() + t * dim);
  matmul(pool, weights.output, normed.data(), rows, logits);
}

std::vector<float> llama3_rope_factors(double theta, int64_t n_rot, double factor, double low, double high,
                                       double old_ctx) {
  std::vector<float> out;
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double freq = std::pow(theta, -double(2 * i) / double(n_rot));
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < old_ctx / high) {
      out.push_back(1.0f);
    } else if (wavelen > old_ctx / low) {
      out.push_back(float(factor));
    } else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      out.push_back(float(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

}  // namespace seek
