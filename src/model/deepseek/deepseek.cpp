// DeepSeek model: loading, the cache, and the forward pass as a list of named ops per block
// (model.py Block.forward: x = x + attn(attn_norm(x)); x = x + ffn(ffn_norm(x))).
#include "model/deepseek/deepseek.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "model/ops.h"

namespace seek {

Result<std::unique_ptr<Model>> load_deepseek(std::shared_ptr<GgufFile> file) {
  auto cfg = deepseek_config_from_gguf(*file);
  if (!cfg) return cfg.error();
  auto w = deepseek_weights_from_gguf(*file, *cfg);
  if (!w) return w.error();
  auto m = std::make_unique<DeepseekModel>();
  m->config = std::move(*cfg);
  m->weights = std::move(*w);
  m->rope = make_rope(m->config);
  m->file = std::move(file);
  return std::unique_ptr<Model>(std::move(m));
}

namespace {

void add_mlp(MlpWeights& m, std::vector<Mat*>& out) {
  out.insert(out.end(), {&m.w1, &m.w2, &m.w3});
}

// The matrices only matmul reads: not the embedding (rows are looked up). Of the latent up-projections, the split
// layout's attn_k_b and attn_v_b when attention is absorbed (it multiplies by each head's slice of them, 32-row
// aligned); the combined attn_kv_b, and naive attention, also multiply by their transposes.
void add_block(BlockWeights& b, bool slices_as_panels, std::vector<Mat*>& out) {
  out.insert(out.end(), {&b.attn.wq_a, &b.attn.wq_b, &b.attn.wq, &b.attn.wkv_a, &b.attn.wo});
  if (slices_as_panels && b.attn.wkv_b.empty()) out.insert(out.end(), {&b.attn.wk_b, &b.attn.wv_b});
  if (!b.is_moe) {
    add_mlp(b.ffn, out);
    return;
  }
  out.push_back(&b.moe.gate);
  for (MlpWeights& e : b.moe.experts) add_mlp(e, out);
  add_mlp(b.moe.shared, out);
}

}  // namespace

void DeepseekModel::make_uk(MlaWeights& a, ThreadPool& pool) const {
  const DeepseekConfig& c = config;
  if (a.wk_b.empty() || !a.uk.empty()) return;
  const int64_t H = c.n_heads, nope = c.qk_nope_head_dim, R = c.kv_lora_rank;
  a.uk_data.resize(size_t(H * nope * R));
  pool.run([&](int ti, int nt) {
    for (int64_t h = ti; h < H; h += nt) key_from_transpose(a.wk_b.slice_rows(h * R, R), nope, R, a.uk_data.data() + h * nope * R);
  });
  a.uk = f32_rows(a.uk_data.data(), H * nope, R);
}

Model::RepackReport DeepseekModel::repack_weights(ThreadPool& pool, size_t max_bytes,
                                                  const RepackProgress& progress) {
  std::vector<Mat*> mats;
  if (weights.output.data != weights.tok_embd.data) mats.push_back(&weights.output);
  // A head's slice starts at a panel boundary only when kv_lora_rank and v_head_dim are whole panels.
  const bool slices = options.mla == MlaMode::Absorbed && config.kv_lora_rank % kPanelRows == 0 &&
                      config.v_head_dim % kPanelRows == 0;
  for (BlockWeights& b : weights.blocks) add_block(b, slices, mats);
  for (MtpWeights& m : weights.mtp) {
    mats.push_back(&m.eh_proj);
    add_block(m.block, slices, mats);
  }
  const MappedFile* map = file && file->mapping ? file->mapping.get() : nullptr;
  packed = repack_q8_0(mats, pool, map ? map->data() : nullptr, map ? map->size() : 0, max_bytes, progress);
  // The expanded prefill's W_uk: attn_k_b holds its transpose, which a prefill would otherwise transpose per head
  // and step (from panels, which unpack row by row). f32, 4 x the bytes of attn_k_b's Q8_0; exact.
  if (packed.bytes > 0) {
    for (BlockWeights& b : weights.blocks) make_uk(b.attn, pool);
    for (MtpWeights& m : weights.mtp) make_uk(m.block.attn, pool);
  }
  return {packed.bytes, packed.declined_bytes};
}

std::unique_ptr<ModelState> DeepseekModel::new_state(int64_t n_ctx) const {
  auto s = std::make_unique<MlaCache>();
  s->capacity = n_ctx;
  s->n_layers = config.n_layers;
  s->width = config.cache_width();
  s->data = HugeBuffer(size_t(s->n_layers) * size_t(n_ctx) * size_t(s->width), sizeof(float), HugeBuffer::Fault::Now);
  return s;
}

void DeepseekModel::block_forward(const BlockWeights& b, int64_t layer, const std::vector<Segment>& segs,
                                  ThreadPool& pool, float* x, int64_t n) const {
  const int64_t dim = config.dim;
  // Scratch kept from call to call: allocating a prefill batch's buffers anew zeroed them (~3% of a prefill).
  // (Pool threads see their own thread_local objects: lambdas below use these pointers, never the names.)
  thread_local std::vector<float> h_buf, out_buf;
  h_buf.resize(size_t(n * dim));
  out_buf.resize(size_t(n * dim));
  float* const h = h_buf.data();
  float* const out = out_buf.data();
  const float eps = config.rms_eps;
  rmsnorm_rows(&pool, x, dim, b.attn_norm.data(), n, dim, eps, h, dim);
  attention(b.attn, layer, segs, pool, h, n, out);
  // The residual add and the next norm, row by row on the pool's threads.
  parallel_rows(&pool, n, 2 * dim, [&](int64_t r0, int64_t r1) {
    for (int64_t t = r0; t < r1; ++t) {
      float* xt = x + t * dim;
      const float* ot = out + t * dim;
      for (int64_t i = 0; i < dim; ++i) xt[i] += ot[i];
      rmsnorm(xt, b.ffn_norm.data(), dim, eps, h + t * dim);
    }
  });
  if (b.is_moe) {
    moe(b.moe, pool, h, n, out);
  } else {
    swiglu_mlp(b.ffn, &pool, h, n, out);
  }
  parallel_rows(&pool, n, dim, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0 * dim; i < r1 * dim; ++i) x[i] += out[i];
  });
}

void DeepseekModel::forward(ModelState& state, ThreadPool& pool, const int32_t* tokens, int64_t n, int64_t n_past,
                            bool all_logits, float* logits) const {
  const SeqChunk chunk{&state, tokens, n, n_past, all_logits, logits};
  forward_multi(pool, &chunk, 1);
}

void DeepseekModel::forward_multi(ThreadPool& pool, const SeqChunk* chunks, size_t n_chunks) const {
  const int64_t dim = config.dim;
  std::vector<Segment> segs;
  int64_t n = 0;
  for (size_t i = 0; i < n_chunks; ++i) {
    segs.push_back({static_cast<MlaCache*>(chunks[i].state), n, chunks[i].n, chunks[i].n_past});
    n += chunks[i].n;
  }
  // Buffers kept from call to call: every element is written before it is read, and a fresh zeroed one cost a
  // 16-sequence decode step ~2% (the logits of 16 tokens are 8 MB).
  thread_local std::vector<float> x, normed, out;
  x.resize(size_t(n * dim));
  for (size_t i = 0; i < n_chunks; ++i)
    for (int64_t t = 0; t < chunks[i].n; ++t)
      row_f32(weights.tok_embd, chunks[i].tokens[t], x.data() + (segs[i].begin + t) * dim);
  for (int64_t l = 0; l < config.n_layers; ++l) block_forward(weights.blocks[size_t(l)], l, segs, pool, x.data(), n);

  // Only the rows whose logits are wanted go through the final norm and the head, in one batch (none for a chunk
  // without a logits buffer).
  std::vector<int64_t> rows;
  std::vector<size_t> wanted;  // the chunks that take logits, in order
  for (size_t i = 0; i < n_chunks; ++i) {
    if (chunks[i].logits == nullptr) continue;
    wanted.push_back(i);
    for (int64_t t = chunks[i].all_logits ? 0 : chunks[i].n - 1; t < chunks[i].n; ++t) rows.push_back(segs[i].begin + t);
  }
  if (rows.empty()) return;
  const int64_t nr = int64_t(rows.size()), V = n_vocab();
  normed.resize(size_t(nr * dim));
  for (int64_t r = 0; r < nr; ++r)
    rmsnorm(x.data() + rows[size_t(r)] * dim, weights.output_norm.data(), dim, config.rms_eps, normed.data() + r * dim);
  // Straight into the callers' buffers when they lie one after another in row order (one chunk; the server's
  // step buffer), else through `out`. (Compared as addresses: a pointer past another caller's buffer is not formed.)
  bool in_place = true;
  float* const dst = chunks[wanted[0]].logits;
  int64_t r = 0;
  for (size_t i : wanted) {
    in_place = in_place && reinterpret_cast<uintptr_t>(chunks[i].logits) ==
                               reinterpret_cast<uintptr_t>(dst) + size_t(r * V) * sizeof(float);
    r += chunks[i].all_logits ? chunks[i].n : 1;
  }
  if (!in_place) out.resize(size_t(nr * V));
  matmul(pool, weights.output, normed.data(), nr, in_place ? dst : out.data());
  if (in_place) return;
  r = 0;
  for (size_t i : wanted) {
    const int64_t k = chunks[i].all_logits ? chunks[i].n : 1;
    std::copy(out.begin() + r * V, out.begin() + (r + k) * V, chunks[i].logits);
    r += k;
  }
}

}  // namespace seek
