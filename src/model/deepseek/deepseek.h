// The DeepSeek-V2/V3 model: config + weights + RoPE table, and its forward pass (deepseek.cpp, mla.cpp, moe.cpp).
#pragma once

#include <memory>
#include <vector>

#include "core/huge_buffer.h"
#include "model/deepseek/config.h"
#include "model/deepseek/weights.h"
#include "model/model.h"
#include "model/ops.h"
#include "model/repack.h"

namespace seek {

struct GgufFile;

// The MLA cache: per layer and position, the normalised latent c_kv (kv_lora_rank) then the rotated k_rope.
struct MlaCache : ModelState {
  int64_t n_layers = 0, width = 0;
  HugeBuffer data;
  float* at(int64_t layer, int64_t pos) { return data.floats() + (size_t(layer) * size_t(capacity) + size_t(pos)) * size_t(width); }
};

// Keys and values packed for the batched attention of a prefill (mla_batched.cpp): one layer's cached latents
// (absorbed form: keys [c_kv | k_rope], values c_kv) or one head's expanded keys and values (MHA form).
struct LatentPanels {
  int64_t n_kv = 0, W = 0, R = 0;  // W: key width, R: value width
  std::vector<float> scores;  // ceil(n_kv / 32) panels: 32 positions x W values, for S = X K^T
  std::vector<float> values;  // ceil(R / 32) panels: 32 value columns x n_kv positions, for P V
};
void build_latent_panels(MlaCache& cache, int64_t layer, int64_t n_kv, int64_t R, ThreadPool& pool, LatentPanels& out);
// One head, n tokens at positions n_past..: ctx (n x R) = softmax(scale * [q_abs | q_rope] C^T, causal) C[:, :R].
// q_abs is n x R; q_rope rows are ld_rope apart.
void attend_head_batched(const LatentPanels& lp, const float* q_abs, const float* q_rope, int64_t ld_rope, int64_t n,
                         int64_t n_past, int64_t rope_dim, float scale, float* ctx);
// The same panels from row-major keys (n_kv x W, ldk apart) and values (n_kv x R, ldv apart), on this thread: the
// expanded (MHA) form's per-head keys [W_uk c | k_rope] and values W_uv c.
void build_head_panels(const float* keys, int64_t ldk, const float* vals, int64_t ldv, int64_t n_kv, int64_t W,
                       int64_t R, LatentPanels& out);
// n queries (W wide, ldx apart) at positions n_past..: out (n x R, ldo apart) = softmax(scale X K^T, causal) V.
void attend_batched(const LatentPanels& lp, const float* x, int64_t ldx, int64_t n, int64_t n_past, float scale,
                    float* out, int64_t ldo);

// One head's W_uk (nope rows of R) as f32 in out, from its slice of attn_k_b (W_uk^T: R rows of nope), whichever
// way that slice is held.
void key_from_transpose(const Mat& key_t, int64_t nope, int64_t R, float* out);

// Interleaved (adjacent-pair) rotary embedding with YaRN frequency correction, as in DeepSeek's model.py.
struct Rope {
  std::vector<double> freqs;  // one per pair
  // Rotates n_vec vectors of 2*freqs.size() values, each `stride` apart, to position pos.
  void apply(float* x, int64_t n_vec, int64_t stride, int64_t pos) const;
};
Rope make_rope(const DeepseekConfig& c);

// Expert choice for one token: indices and weights of the activated experts.
struct Routing {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};
// DeepSeekMoE gate (model.py Gate.forward): scores, bias for selection, group limit, top-k, weights.
void route(const DeepseekConfig& c, const float* logits, const std::vector<float>& bias, Routing& out);

class DeepseekModel : public Model {
 public:
  DeepseekConfig config;
  DeepseekWeights weights;
  Rope rope;
  std::shared_ptr<GgufFile> file;  // keeps the mapping alive

  std::string arch() const override { return "deepseek2"; }
  int64_t n_vocab() const override { return weights.tok_embd.rows; }
  int64_t n_ctx_train() const override { return config.max_seq_len; }
  int64_t kv_bytes_per_token() const override { return config.n_layers * config.cache_width() * int64_t(sizeof(float)); }
  size_t weight_bytes() const override { return weights.weight_bytes; }
  size_t active_bytes_per_token() const override { return weights.active_bytes_per_token; }
  std::unique_ptr<ModelState> new_state(int64_t n_ctx) const override;
  void forward(ModelState& state, ThreadPool& pool, const int32_t* tokens, int64_t n, int64_t n_past, bool all_logits,
               float* logits) const override;
  // All chunks' tokens go through every projection and expert as one batch; only attention is per sequence.
  void forward_multi(ThreadPool& pool, const SeqChunk* chunks, size_t n_chunks) const override;
  RepackReport repack_weights(ThreadPool& pool, size_t max_bytes, const RepackProgress& progress) override;
  PackedWeights packed;  // the repacked matrices' panels

  // A run of consecutive batch rows that belong to one sequence.
  struct Segment {
    MlaCache* cache;
    int64_t begin, n, n_past;  // rows [begin, begin + n) at positions n_past ..
  };
  // One block over the whole batch: x += MLA(norm(x)); x += FFN(norm(x)).
  void block_forward(const BlockWeights& b, int64_t layer, const std::vector<Segment>& segs, ThreadPool& pool, float* x,
                     int64_t n) const;
  void attention(const MlaWeights& a, int64_t layer, const std::vector<Segment>& segs, ThreadPool& pool,
                 const float* h, int64_t n, float* out) const;
  void moe(const MoeWeights& m, ThreadPool& pool, const float* h, int64_t n, float* out) const;
  // Fills a.uk (W_uk as f32) from attn_k_b, if the layer has it.
  void make_uk(MlaWeights& a, ThreadPool& pool) const;
};

// out[t] = w2 (silu(w1 x[t]) * w3 x[t]) for n tokens (the dense FFN, shared and routed experts); products split
// across `pool`, or all on the calling thread when pool is null. w1 and w3 held as panels share one quantisation
// of x: `xq` when the caller has it already (x quantised, n rows), else made here.
void swiglu_mlp(const MlpWeights& m, ThreadPool* pool, const float* x, int64_t n, float* out,
                const Q8Batch* xq = nullptr);

Result<std::unique_ptr<Model>> load_deepseek(std::shared_ptr<GgufFile> file);

}  // namespace seek
