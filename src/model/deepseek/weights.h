// DeepSeek weights as views into the mapped GGUF, grouped per layer and named as in DeepSeek's model.py.
// Shapes are written (rows, cols) = (out, in).
#pragma once

#include <memory>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"
#include "model/deepseek/config.h"

namespace seek {

struct GgufFile;

// Multi-head Latent Attention.
struct MlaWeights {
  Mat wq_a;                  // (q_lora_rank, dim)              when q LoRA is used
  std::vector<float> q_norm; // (q_lora_rank)
  Mat wq_b;                  // (n_heads * qk_head_dim, q_lora_rank)
  Mat wq;                    // (n_heads * qk_head_dim, dim)    without q LoRA
  Mat wkv_a;                 // (kv_lora_rank + qk_rope_head_dim, dim)
  std::vector<float> kv_norm;// (kv_lora_rank)
  // The up-projection of the latent, in whichever layout the file has:
  Mat wkv_b;                 // (n_heads * (qk_nope + v_head), kv_lora_rank)       older files
  Mat wk_b;                  // n_heads blocks of (kv_lora_rank, qk_nope_head_dim)  newer files (attn_k_b)
  Mat wv_b;                  // n_heads blocks of (v_head_dim, kv_lora_rank)        newer files (attn_v_b)
  Mat wo;                    // (dim, n_heads * v_head_dim)
  // With attn_k_b, W_uk itself (n_heads blocks of (qk_nope, kv_lora_rank)) as f32, made when the weights are
  // repacked, for the expanded (MHA) prefill; empty otherwise (that prefill then transposes a head's slice itself).
  std::vector<float> uk_data;
  Mat uk;
};

// A SwiGLU MLP: w2(silu(w1 x) * w3 x).
struct MlpWeights {
  Mat w1;  // gate (inter, dim)
  Mat w2;  // down (dim, inter)
  Mat w3;  // up   (inter, dim)
};

// DeepSeekMoE: router, routed experts (views into a 3-D tensor, or one tensor each), and the shared experts.
struct MoeWeights {
  Mat gate;                   // (n_routed_experts, dim)
  std::vector<float> bias;    // (n_routed_experts) selection-only bias, empty if absent
  std::vector<MlpWeights> experts;  // n_routed_experts of w1 (moe_inter, dim), w2 (dim, moe_inter), w3 (moe_inter, dim)
  MlpWeights shared;          // width moe_inter * n_shared_experts; empty when there are none

  const MlpWeights& expert(int64_t e) const { return experts[size_t(e)]; }
};

struct BlockWeights {
  std::vector<float> attn_norm;  // (dim)
  MlaWeights attn;
  std::vector<float> ffn_norm;   // (dim)
  bool is_moe = false;
  MlpWeights ffn;                // dense blocks
  MoeWeights moe;                // MoE blocks
};

// The multi-token-prediction module (DeepSeek-V3 paper, section 2.2), kept for speculative decoding.
struct MtpWeights {
  Mat eh_proj;                   // (dim, 2 * dim)
  std::vector<float> enorm, hnorm, head_norm;  // (dim) each; head_norm falls back to output_norm
  BlockWeights block;
};

struct DeepseekWeights {
  Mat tok_embd;                  // (vocab, dim)
  std::vector<float> output_norm;
  Mat output;                    // (vocab, dim); tied to tok_embd when the file has no output.weight
  std::vector<BlockWeights> blocks;
  std::vector<MtpWeights> mtp;   // n_mtp_layers entries
  size_t weight_bytes = 0;       // bytes of every tensor the main forward reads
  size_t active_bytes_per_token = 0;  // bytes decode reads per token (dense + shared + activated experts + head)
};

// Builds views for every tensor, checking names, types and shapes against the config.
Result<DeepseekWeights> deepseek_weights_from_gguf(const GgufFile& f, const DeepseekConfig& c);

}  // namespace seek
