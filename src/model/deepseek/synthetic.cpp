// The synthetic DeepSeek presets and their GGUF writer (metadata keys as llama.cpp's converter writes them).
#include "model/deepseek/synthetic.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "model/synthetic_vocab.h"
#include "model/synthetic_weights.h"

namespace seek {

namespace {

DeepseekConfig v3_tiny() {
  DeepseekConfig c;
  c.dim = 64;
  c.n_layers = 3;
  c.n_mtp_layers = 1;
  c.n_heads = 4;
  c.max_seq_len = 1024;
  c.inter_dim = 128;
  c.moe_inter_dim = 32;
  c.n_dense_layers = 1;
  c.n_routed_experts = 16;
  c.n_shared_experts = 1;
  c.n_activated_experts = 4;
  c.n_expert_groups = 4;
  c.n_limited_groups = 2;
  c.score_func = ScoreFunc::Sigmoid;
  c.norm_topk_prob = true;
  c.route_scale = 2.5f;
  c.q_lora_rank = 64;
  c.kv_lora_rank = 32;
  c.qk_nope_head_dim = 32;
  c.qk_rope_head_dim = 16;
  c.v_head_dim = 16;
  c.rms_eps = 1e-6f;
  c.rope_theta = 10000.0f;
  c.rope_factor = 4.0f;
  c.original_seq_len = 128;
  c.mscale_all_dim = 1.0f;
  return c;
}

// DeepSeek-V3's shape at ~2.1B parameters, for benchmarks: 8 blocks (1 dense), 64 experts in 8 groups (4 kept),
// 6 active + 1 shared, the full-size MLA head dimensions and V3's 129280-token vocabulary.
DeepseekConfig v3_bench() {
  DeepseekConfig c = v3_tiny();
  c.dim = 2048;
  c.n_layers = 8;
  c.n_mtp_layers = 0;
  c.n_heads = 16;
  c.max_seq_len = 4096;
  c.inter_dim = 5632;
  c.moe_inter_dim = 512;
  c.n_routed_experts = 64;
  c.n_activated_experts = 6;
  c.n_expert_groups = 8;
  c.n_limited_groups = 4;
  c.q_lora_rank = 768;
  c.kv_lora_rank = 512;
  c.qk_nope_head_dim = 128;
  c.qk_rope_head_dim = 64;
  c.v_head_dim = 128;
  c.original_seq_len = 4096;
  c.rope_factor = 1.0f;
  return c;
}

// What sets DeepSeek-V2-Lite apart from V3: no q LoRA, softmax routing without groups or a routed scale, 2 shared
// experts.
DeepseekConfig with_v2_lite_routing(DeepseekConfig c) {
  c.q_lora_rank = 0;
  c.score_func = ScoreFunc::Softmax;
  c.norm_topk_prob = false;
  c.route_scale = 1.0f;
  c.n_expert_groups = 1;
  c.n_limited_groups = 1;
  c.n_shared_experts = 2;
  return c;
}

// DeepSeek-V2-Lite's shape (64 experts with 6 active, one leading dense block, 16 heads over a 512-wide latent) at
// 2.6B parameters for benchmarks: hidden 1536 and expert width 256 instead of 2048 and 1408, 26 layers (the count
// llama.cpp recognises V2-Lite by).
DeepseekConfig v2_lite_bench() {
  DeepseekConfig c = with_v2_lite_routing(v3_bench());
  c.dim = 1536;
  c.n_layers = 26;
  c.inter_dim = 8192;
  c.moe_inter_dim = 256;
  return c;
}

DeepseekConfig v2_lite_tiny() {
  DeepseekConfig c = with_v2_lite_routing(v3_tiny());
  c.n_mtp_layers = 0;
  c.n_routed_experts = 8;
  c.n_activated_experts = 3;
  c.mscale_all_dim = 0.707f;
  return c;
}

// How a tensor's values are drawn: centre + spread * uniform.
struct Dist {
  float centre, spread;
};

class Builder {
 public:
  Builder(GgufWriter& w, uint64_t seed) : w_(w), seed_(seed) {}

  // dims are GGUF dims (ne0 first); rows of ne0 values are drawn in order from the tensor's own generator.
  void tensor(const std::string& name, GgmlType type, std::vector<int64_t> dims, Dist d) {
    add_random_tensor(w_, seed_, name, type, std::move(dims), d.centre, d.spread);
  }
  // A weight matrix of `rows` outputs and `cols` inputs (std ~ gain / sqrt(cols)).
  void matrix(const std::string& name, GgmlType type, int64_t cols, int64_t rows, float gain = 1.0f, int64_t n = 0) {
    std::vector<int64_t> dims{cols, rows};
    if (n) dims.push_back(n);
    tensor(name, type, dims, {0.0f, gain * std::sqrt(3.0f / float(cols))});
  }
  void norm(const std::string& name, int64_t n) { tensor(name, GgmlType::F32, {n}, {1.0f, 0.2f}); }

 private:
  GgufWriter& w_;
  uint64_t seed_;
};

void add_block(Builder& b, const SyntheticSpec& s, int64_t il) {
  const DeepseekConfig& c = s.c;
  const GgmlType T = s.type;
  const std::string p = "blk." + std::to_string(il) + ".";
  const int64_t H = c.n_heads, qk = c.qk_head_dim();
  b.norm(p + "attn_norm.weight", c.dim);
  if (c.q_lora_rank > 0) {
    b.matrix(p + "attn_q_a.weight", T, c.dim, c.q_lora_rank);
    b.norm(p + "attn_q_a_norm.weight", c.q_lora_rank);
    b.matrix(p + "attn_q_b.weight", T, c.q_lora_rank, H * qk);
  } else {
    b.matrix(p + "attn_q.weight", T, c.dim, H * qk);
  }
  b.matrix(p + "attn_kv_a_mqa.weight", T, c.dim, c.kv_lora_rank + c.qk_rope_head_dim);
  b.norm(p + "attn_kv_a_norm.weight", c.kv_lora_rank);
  if (s.split_mla) {
    // k_b: per head W_uk^T (kv_lora rows of qk_nope); drawn with the fan-in of W_uk (kv_lora).
    b.tensor(p + "attn_k_b.weight", T, {c.qk_nope_head_dim, c.kv_lora_rank, H},
             {0.0f, std::sqrt(3.0f / float(c.kv_lora_rank))});
    b.matrix(p + "attn_v_b.weight", T, c.kv_lora_rank, c.v_head_dim, 1.0f, H);
  } else {
    b.matrix(p + "attn_kv_b.weight", T, c.kv_lora_rank, H * (c.qk_nope_head_dim + c.v_head_dim));
  }
  b.matrix(p + "attn_output.weight", T, H * c.v_head_dim, c.dim);
  b.norm(p + "ffn_norm.weight", c.dim);
  if (il < c.n_dense_layers) {
    b.matrix(p + "ffn_gate.weight", T, c.dim, c.inter_dim);
    b.matrix(p + "ffn_up.weight", T, c.dim, c.inter_dim);
    b.matrix(p + "ffn_down.weight", T, c.inter_dim, c.dim);
    return;
  }
  const int64_t E = c.n_routed_experts;
  b.matrix(p + "ffn_gate_inp.weight", GgmlType::F32, c.dim, E, 2.0f);
  if (c.score_func == ScoreFunc::Sigmoid) b.tensor(p + "exp_probs_b.bias", GgmlType::F32, {E}, {0.0f, 0.1f});
  b.matrix(p + "ffn_gate_exps.weight", T, c.dim, c.moe_inter_dim, 1.0f, E);
  b.matrix(p + "ffn_up_exps.weight", T, c.dim, c.moe_inter_dim, 1.0f, E);
  b.matrix(p + "ffn_down_exps.weight", T, c.moe_inter_dim, c.dim, 1.0f, E);
  if (c.n_shared_experts > 0) {
    const int64_t w = c.moe_inter_dim * c.n_shared_experts;
    b.matrix(p + "ffn_gate_shexp.weight", T, c.dim, w);
    b.matrix(p + "ffn_up_shexp.weight", T, c.dim, w);
    b.matrix(p + "ffn_down_shexp.weight", T, w, c.dim);
  }
}

void write_metadata(GgufWriter& w, const SyntheticSpec& s, const Vocab& v) {
  const DeepseekConfig& c = s.c;
  const std::string p = "deepseek2.";
  w.set_str("general.architecture", "deepseek2");
  w.set_str("general.name", "seek synthetic " + s.name);
  w.set_u32("general.file_type", s.type == GgmlType::F32 ? 0 : s.type == GgmlType::F16 ? 1 : s.type == GgmlType::Q8_0 ? 7 : 32);
  w.set_u32(p + "block_count", uint32_t(c.n_layers + c.n_mtp_layers));
  w.set_u32(p + "context_length", uint32_t(c.max_seq_len));
  w.set_u32(p + "embedding_length", uint32_t(c.dim));
  w.set_u32(p + "feed_forward_length", uint32_t(c.inter_dim));
  w.set_u32(p + "attention.head_count", uint32_t(c.n_heads));
  w.set_u32(p + "attention.head_count_kv", s.split_mla ? 1 : uint32_t(c.n_heads));
  w.set_f32(p + "rope.freq_base", c.rope_theta);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_u32(p + "expert_used_count", uint32_t(c.n_activated_experts));
  w.set_u32(p + "leading_dense_block_count", uint32_t(c.n_dense_layers));
  w.set_u32(p + "vocab_size", uint32_t(v.tokens.size()));
  w.set_u32(p + "attention.q_lora_rank", uint32_t(c.q_lora_rank));
  w.set_u32(p + "attention.kv_lora_rank", uint32_t(c.kv_lora_rank));
  if (s.split_mla) {
    w.set_u32(p + "attention.key_length", uint32_t(c.kv_lora_rank + c.qk_rope_head_dim));
    w.set_u32(p + "attention.value_length", uint32_t(c.kv_lora_rank));
    w.set_u32(p + "attention.key_length_mla", uint32_t(c.qk_head_dim()));
    w.set_u32(p + "attention.value_length_mla", uint32_t(c.v_head_dim));
  } else {
    w.set_u32(p + "attention.key_length", uint32_t(c.qk_head_dim()));
    w.set_u32(p + "attention.value_length", uint32_t(c.v_head_dim));
  }
  w.set_u32(p + "expert_feed_forward_length", uint32_t(c.moe_inter_dim));
  w.set_u32(p + "expert_count", uint32_t(c.n_routed_experts));
  w.set_u32(p + "expert_shared_count", uint32_t(c.n_shared_experts));
  w.set_f32(p + "expert_weights_scale", c.route_scale);
  if (c.norm_topk_prob) w.set_bool(p + "expert_weights_norm", true);
  w.set_u32(p + "expert_gating_func", c.score_func == ScoreFunc::Sigmoid ? 2 : 1);
  if (c.n_expert_groups > 1) {
    w.set_u32(p + "expert_group_count", uint32_t(c.n_expert_groups));
    w.set_u32(p + "expert_group_used_count", uint32_t(c.n_limited_groups));
  }
  w.set_u32(p + "rope.dimension_count", uint32_t(c.qk_rope_head_dim));
  if (c.rope_factor > 1.0f) {
    w.set_str(p + "rope.scaling.type", "yarn");
    w.set_f32(p + "rope.scaling.factor", c.rope_factor);
    w.set_u32(p + "rope.scaling.original_context_length", uint32_t(c.original_seq_len));
    w.set_f32(p + "rope.scaling.yarn_log_multiplier", 0.1f * c.mscale_all_dim);
  }
  if (c.n_mtp_layers) w.set_u32(p + "nextn_predict_layers", uint32_t(c.n_mtp_layers));

  vocab_to_gguf(v, w);
}

}  // namespace

std::vector<std::string> synthetic_presets() {
  return {"v3-tiny", "v3-tiny-kvb", "v2-lite-tiny", "v3-bench", "v2-lite-bench"};
}

std::optional<SyntheticSpec> synthetic_preset(const std::string& name) {
  SyntheticSpec s;
  s.name = name;
  if (name == "v3-tiny") {
    s.c = v3_tiny();
  } else if (name == "v3-tiny-kvb") {
    s.c = v3_tiny();
    s.split_mla = false;
    s.tied_output = true;
  } else if (name == "v3-bench") {
    s.c = v3_bench();
    s.type = GgmlType::Q8_0;
    s.vocab_pad_to = 129280;
  } else if (name == "v2-lite-bench") {
    s.c = v2_lite_bench();
    s.type = GgmlType::Q8_0;
    s.split_mla = false;
    s.vocab_pad_to = 102400;
  } else if (name == "v2-lite-tiny") {
    s.c = v2_lite_tiny();
    s.split_mla = false;
  } else {
    return std::nullopt;
  }
  return s;
}

Result<void> write_synthetic_deepseek(const SyntheticSpec& s, const std::string& path,
                                      const std::function<void(uint64_t, uint64_t)>& progress) {
  Vocab v = generated_model_vocab(s.vocab ? &*s.vocab : nullptr, s.n_merges, "deepseek-v3", s.vocab_pad_to);
  if (!s.vocab) v.pad_id = v.eos_id;
  const int64_t vocab = int64_t(v.tokens.size());
  const int64_t bs = traits(s.type).block_size;
  for (int64_t cols : {s.c.dim, s.c.q_lora_rank, s.c.kv_lora_rank, s.c.qk_nope_head_dim, s.c.moe_inter_dim,
                       s.c.inter_dim, s.c.n_heads * s.c.v_head_dim})
    if (cols % bs) return err("preset %s: width %lld is not a multiple of the %s block size", s.name.c_str(),
                              (long long)cols, std::string(traits(s.type).name).c_str());
  GgufWriter w;
  write_metadata(w, s, v);
  Builder b(w, s.seed);
  b.tensor("token_embd.weight", s.type, {s.c.dim, vocab}, {0.0f, 1.7f});
  b.norm("output_norm.weight", s.c.dim);
  if (!s.tied_output) b.matrix("output.weight", s.type, s.c.dim, vocab, 3.0f);
  for (int64_t il = 0; il < s.c.n_layers + s.c.n_mtp_layers; ++il) add_block(b, s, il);
  for (int64_t k = 0; k < s.c.n_mtp_layers; ++k) {
    const std::string p = "blk." + std::to_string(s.c.n_layers + k) + ".nextn.";
    b.matrix(p + "eh_proj.weight", s.type, 2 * s.c.dim, s.c.dim);
    b.norm(p + "enorm.weight", s.c.dim);
    b.norm(p + "hnorm.weight", s.c.dim);
    b.norm(p + "shared_head_norm.weight", s.c.dim);
  }
  return w.write(path, progress);
}

}  // namespace seek
