// Loading DeepSeek weights: one view per GGUF tensor, each checked for presence, type and shape.
#include "model/deepseek/weights.h"

#include <optional>
#include <string>

#include "formats/gguf.h"
#include "model/loader.h"

namespace seek {

namespace {

Result<void> load_attention(TensorLoader& L, const DeepseekConfig& c, const std::string& p, MlaWeights& a) {
  const int64_t qk = c.qk_head_dim(), H = c.n_heads;
  if (c.q_lora_rank > 0) {
    SEEK_ASSIGN(a.wq_a, L.get(p + "attn_q_a.weight", {c.dim, c.q_lora_rank}));
    SEEK_ASSIGN(a.q_norm, L.vec(p + "attn_q_a_norm.weight", c.q_lora_rank));
    SEEK_ASSIGN(a.wq_b, L.get(p + "attn_q_b.weight", {c.q_lora_rank, H * qk}));
  } else {
    SEEK_ASSIGN(a.wq, L.get(p + "attn_q.weight", {c.dim, H * qk}));
  }
  SEEK_ASSIGN(a.wkv_a, L.get(p + "attn_kv_a_mqa.weight", {c.dim, c.kv_lora_rank + c.qk_rope_head_dim}));
  SEEK_ASSIGN(a.kv_norm, L.vec(p + "attn_kv_a_norm.weight", c.kv_lora_rank));
  SEEK_ASSIGN(a.wkv_b, L.get(p + "attn_kv_b.weight", {c.kv_lora_rank, H * (c.qk_nope_head_dim + c.v_head_dim)}, true));
  if (a.wkv_b.empty()) {
    // Newer layout: k_b is {qk_nope, kv_lora, H} and v_b is {kv_lora, v_head, H}.
    SEEK_ASSIGN(a.wk_b, L.get(p + "attn_k_b.weight", {c.qk_nope_head_dim, c.kv_lora_rank, H}));
    SEEK_ASSIGN(a.wv_b, L.get(p + "attn_v_b.weight", {c.kv_lora_rank, c.v_head_dim, H}));
  }
  SEEK_ASSIGN(a.wo, L.get(p + "attn_output.weight", {H * c.v_head_dim, c.dim}));
  return {};
}

Result<void> load_mlp(TensorLoader& L, const std::string& p, const std::string& suffix, int64_t dim, int64_t inter,
                      MlpWeights& m) {
  SEEK_ASSIGN(m.w1, L.get(p + "ffn_gate" + suffix + ".weight", {dim, inter}));
  SEEK_ASSIGN(m.w2, L.get(p + "ffn_down" + suffix + ".weight", {inter, dim}));
  SEEK_ASSIGN(m.w3, L.get(p + "ffn_up" + suffix + ".weight", {dim, inter}));
  return {};
}

Result<void> load_block(TensorLoader& L, const DeepseekConfig& c, int64_t il, BlockWeights& b) {
  const std::string p = "blk." + std::to_string(il) + ".";
  SEEK_ASSIGN(b.attn_norm, L.vec(p + "attn_norm.weight", c.dim));
  SEEK_TRY(load_attention(L, c, p, b.attn));
  SEEK_ASSIGN(b.ffn_norm, L.vec(p + "ffn_norm.weight", c.dim));
  b.is_moe = il >= c.n_dense_layers;
  if (!b.is_moe) return load_mlp(L, p, "", c.dim, c.inter_dim, b.ffn);
  MoeWeights& m = b.moe;
  const int64_t E = c.n_routed_experts;
  SEEK_ASSIGN(m.gate, L.get(p + "ffn_gate_inp.weight", {c.dim, E}));
  SEEK_ASSIGN(m.bias, L.vec(p + "exp_probs_b.bias", E, true));
  std::vector<Mat> w1, w2, w3;
  SEEK_ASSIGN(w1, L.experts(p + "ffn_gate_exps.weight", c.dim, c.moe_inter_dim, E));
  SEEK_ASSIGN(w2, L.experts(p + "ffn_down_exps.weight", c.moe_inter_dim, c.dim, E));
  SEEK_ASSIGN(w3, L.experts(p + "ffn_up_exps.weight", c.dim, c.moe_inter_dim, E));
  for (int64_t e = 0; e < E; ++e) m.experts.push_back({w1[size_t(e)], w2[size_t(e)], w3[size_t(e)]});
  if (c.n_shared_experts > 0)
    SEEK_TRY(load_mlp(L, p, "_shexp", c.dim, c.moe_inter_dim * c.n_shared_experts, m.shared));
  return {};
}

size_t mlp_bytes(const MlpWeights& m) { return m.w1.bytes() + m.w2.bytes() + m.w3.bytes(); }

size_t attention_bytes(const MlaWeights& a) {
  return a.wq_a.bytes() + a.wq_b.bytes() + a.wq.bytes() + a.wkv_a.bytes() + a.wkv_b.bytes() + a.wk_b.bytes() +
         a.wv_b.bytes() + a.wo.bytes();
}

}  // namespace

Result<DeepseekWeights> deepseek_weights_from_gguf(const GgufFile& f, const DeepseekConfig& c) {
  TensorLoader L(f);
  DeepseekWeights w;
  int64_t vocab = 0;
  SEEK_ASSIGN(vocab, L.embedding_rows(c.dim, c.vocab_size));
  SEEK_ASSIGN(w.tok_embd, L.get("token_embd.weight", {c.dim, vocab}));
  SEEK_ASSIGN(w.output_norm, L.vec("output_norm.weight", c.dim));
  SEEK_ASSIGN(w.output, L.get("output.weight", {c.dim, vocab}, true));
  if (w.output.empty()) w.output = w.tok_embd;

  w.blocks.resize(size_t(c.n_layers));
  for (int64_t il = 0; il < c.n_layers; ++il) SEEK_TRY(load_block(L, c, il, w.blocks[size_t(il)]));
  w.weight_bytes = L.bytes();

  for (int64_t k = 0; k < c.n_mtp_layers; ++k) {
    const int64_t il = c.n_layers + k;
    const std::string p = "blk." + std::to_string(il) + ".nextn.";
    MtpWeights m;
    SEEK_ASSIGN(m.eh_proj, L.get(p + "eh_proj.weight", {2 * c.dim, c.dim}));
    SEEK_ASSIGN(m.enorm, L.vec(p + "enorm.weight", c.dim));
    SEEK_ASSIGN(m.hnorm, L.vec(p + "hnorm.weight", c.dim));
    SEEK_ASSIGN(m.head_norm, L.vec(p + "shared_head_norm.weight", c.dim, true));
    if (m.head_norm.empty()) m.head_norm = w.output_norm;
    SEEK_TRY(load_block(L, c, il, m.block));
    w.mtp.push_back(std::move(m));
  }

  // What one decoded token reads: every dense tensor, the router, shared and activated experts, the head row
  // set (all of the output matrix) and one embedding row.
  size_t active = w.output.bytes() + w.tok_embd.row_stride;
  for (const BlockWeights& b : w.blocks) {
    active += attention_bytes(b.attn);
    if (!b.is_moe) {
      active += mlp_bytes(b.ffn);
    } else {
      active += b.moe.gate.bytes() + mlp_bytes(b.moe.shared);
      active += size_t(c.n_activated_experts) * mlp_bytes(b.moe.expert(0));
    }
  }
  w.active_bytes_per_token = active;
  return w;
}

}  // namespace seek
