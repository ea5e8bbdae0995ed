// Reading DeepseekConfig from GGUF metadata, with one clear error per missing or out-of-range field.
#include "model/deepseek/config.h"

#include <cmath>

#include "formats/gguf.h"
#include "model/loader.h"

namespace seek {

float DeepseekConfig::softmax_scale() const {
  float scale = 1.0f / std::sqrt(float(qk_head_dim()));
  if (rope_factor > 1.0f) {
    const float mscale = 0.1f * mscale_all_dim * std::log(rope_factor) + 1.0f;
    scale *= mscale * mscale;
  }
  return scale;
}

namespace {

// Reads an integer key into `out`. Required keys must exist; all must lie in [lo, hi].
constexpr int64_t kBig = kMaxWidth;

}  // namespace

Result<DeepseekConfig> deepseek_config_from_gguf(const GgufFile& f) {
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  if (!arch->has_value()) return err("%s: metadata key general.architecture is missing", f.path.c_str());
  if (**arch != "deepseek2")
    return err("%s: architecture '%s' is not supported by the DeepSeek model (expected deepseek2)", f.path.c_str(),
               (*arch)->c_str());

  const std::string p = "deepseek2.";
  DeepseekConfig c;
  int64_t block_count = 0, head_kv = 0, key_len = 0, value_len = 0, key_len_mla = 0, value_len_mla = 0;
  int64_t gating = 0;
  SEEK_TRY(read_int(f, p + "block_count", &block_count, true, 1, 4096));
  SEEK_TRY(read_int(f, p + "nextn_predict_layers", &c.n_mtp_layers, false, 0, 16));
  if (c.n_mtp_layers >= block_count)
    return err("%s: nextn_predict_layers (%lld) must be smaller than block_count (%lld)", f.path.c_str(),
               (long long)c.n_mtp_layers, (long long)block_count);
  c.n_layers = block_count - c.n_mtp_layers;
  SEEK_TRY(read_int(f, p + "embedding_length", &c.dim, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "context_length", &c.max_seq_len, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "feed_forward_length", &c.inter_dim, true, 0, kBig));
  SEEK_TRY(read_int(f, p + "attention.head_count", &c.n_heads, true, 1, 65536));
  SEEK_TRY(read_int(f, p + "attention.head_count_kv", &head_kv, false, 0, 65536));
  SEEK_TRY(read_int(f, p + "attention.q_lora_rank", &c.q_lora_rank, false, 0, kBig));
  SEEK_TRY(read_int(f, p + "attention.kv_lora_rank", &c.kv_lora_rank, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "attention.key_length", &key_len, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "attention.value_length", &value_len, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "attention.key_length_mla", &key_len_mla, false, 1, kBig));
  SEEK_TRY(read_int(f, p + "attention.value_length_mla", &value_len_mla, false, 1, kBig));
  SEEK_TRY(read_int(f, p + "rope.dimension_count", &c.qk_rope_head_dim, true, 2, kBig));
  SEEK_TRY(read_float(f, p + "attention.layer_norm_rms_epsilon", &c.rms_eps, true));
  SEEK_TRY(read_float(f, p + "rope.freq_base", &c.rope_theta, false));
  SEEK_TRY(read_int(f, p + "leading_dense_block_count", &c.n_dense_layers, false, 0, block_count));
  SEEK_TRY(read_int(f, p + "expert_count", &c.n_routed_experts, true, 1, 65536));
  SEEK_TRY(read_int(f, p + "expert_used_count", &c.n_activated_experts, true, 1, 65536));
  SEEK_TRY(read_int(f, p + "expert_shared_count", &c.n_shared_experts, false, 0, 65536));
  SEEK_TRY(read_int(f, p + "expert_feed_forward_length", &c.moe_inter_dim, true, 1, kBig));
  SEEK_TRY(read_float(f, p + "expert_weights_scale", &c.route_scale, false));
  auto norm = f.get_bool(p + "expert_weights_norm");
  if (!norm) return norm.error();
  SEEK_TRY(read_int(f, p + "expert_gating_func", &gating, false, 0, 2));
  SEEK_TRY(read_int(f, p + "expert_group_count", &c.n_expert_groups, false, 0, 65536));
  SEEK_TRY(read_int(f, p + "expert_group_used_count", &c.n_limited_groups, false, 0, 65536));

  // MLA head sizes: the split-layout convention stores key_length = kv_lora_rank + rope and the real per-head
  // sizes in *_mla keys; the older layout stores the per-head sizes directly.
  const int64_t qk_head = key_len_mla ? key_len_mla : key_len;
  c.v_head_dim = value_len_mla ? value_len_mla : value_len;
  c.qk_nope_head_dim = qk_head - c.qk_rope_head_dim;
  if (c.qk_nope_head_dim < 1)
    return err("%s: key length %lld leaves no room for the non-rotary part beside rope.dimension_count %lld",
               f.path.c_str(), (long long)qk_head, (long long)c.qk_rope_head_dim);
  if (c.qk_rope_head_dim % 2) return err("%s: rope.dimension_count must be even", f.path.c_str());
  c.norm_topk_prob = norm->value_or(false);
  // Files without expert_gating_func predate V3: softmax (as llama.cpp assumes).
  c.score_func = gating == 2 ? ScoreFunc::Sigmoid : ScoreFunc::Softmax;
  if (c.n_expert_groups == 0) c.n_expert_groups = 1;
  if (c.n_limited_groups == 0) c.n_limited_groups = c.n_expert_groups;
  if (c.n_routed_experts % c.n_expert_groups)
    return err("%s: expert_count %lld is not divisible by expert_group_count %lld", f.path.c_str(),
               (long long)c.n_routed_experts, (long long)c.n_expert_groups);
  if (c.n_limited_groups > c.n_expert_groups)
    return err("%s: expert_group_used_count exceeds expert_group_count", f.path.c_str());
  if (c.n_activated_experts > c.n_limited_groups * (c.n_routed_experts / c.n_expert_groups))
    return err("%s: expert_used_count %lld exceeds the experts in the kept groups", f.path.c_str(),
               (long long)c.n_activated_experts);
  if (c.n_expert_groups > 1 && c.n_routed_experts / c.n_expert_groups < 2)
    return err("%s: expert groups need at least 2 experts each", f.path.c_str());

  auto scaling = f.get_string(p + "rope.scaling.type");
  if (!scaling) return scaling.error();
  if (scaling->has_value() && **scaling == "yarn") {
    SEEK_TRY(read_float(f, p + "rope.scaling.factor", &c.rope_factor, true));
    SEEK_TRY(read_int(f, p + "rope.scaling.original_context_length", &c.original_seq_len, true, 1, kBig));
    float log_mul = 0.0f;
    SEEK_TRY(read_float(f, p + "rope.scaling.yarn_log_multiplier", &log_mul, false));
    c.mscale_all_dim = log_mul / 0.1f;
    SEEK_TRY(read_float(f, p + "rope.scaling.yarn_beta_fast", &c.beta_fast, false));
    SEEK_TRY(read_float(f, p + "rope.scaling.yarn_beta_slow", &c.beta_slow, false));
    if (c.rope_factor < 1.0f) return err("%s: rope.scaling.factor must be >= 1", f.path.c_str());
  } else if (scaling->has_value() && **scaling != "none") {
    return err("%s: rope.scaling.type '%s' is not supported (expected yarn or none)", f.path.c_str(),
               (*scaling)->c_str());
  }

  auto vocab = f.find("tokenizer.ggml.tokens");
  int64_t n_vocab = 0;
  SEEK_TRY(read_int(f, p + "vocab_size", &n_vocab, false, 1, int64_t(1) << 31));
  if (!n_vocab && vocab) n_vocab = int64_t(vocab->arr.size());
  c.vocab_size = n_vocab;  // checked against token_embd when the weights load
  return c;
}

}  // namespace seek
