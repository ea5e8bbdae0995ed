// DeepSeek-V2/V3 hyper-parameters (GGUF architecture "deepseek2"), named as in DeepSeek's inference/model.py.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace seek {

struct GgufFile;

enum class ScoreFunc { Softmax, Sigmoid };

struct DeepseekConfig {
  int64_t vocab_size = 0;
  int64_t dim = 0;             // hidden size
  int64_t n_layers = 0;        // main transformer blocks (the MTP block is not counted)
  int64_t n_mtp_layers = 0;    // nextn_predict_layers: extra blocks after the main ones
  int64_t n_heads = 0;
  int64_t max_seq_len = 0;     // context_length
  int64_t inter_dim = 0;       // dense FFN width
  int64_t moe_inter_dim = 0;   // routed/shared expert width
  int64_t n_dense_layers = 0;  // leading dense blocks
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t n_activated_experts = 0;
  int64_t n_expert_groups = 1;
  int64_t n_limited_groups = 1;
  ScoreFunc score_func = ScoreFunc::Softmax;
  bool norm_topk_prob = false;  // normalise the chosen experts' weights to sum 1
  float route_scale = 1.0f;
  int64_t q_lora_rank = 0;      // 0: q = wq * x
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  float rms_eps = 1e-6f;
  float rope_theta = 10000.0f;
  // YaRN (active when rope_factor > 1)
  float rope_factor = 1.0f;
  int64_t original_seq_len = 0;
  float mscale_all_dim = 0.0f;  // GGUF stores 0.1 * mscale_all_dim as rope.scaling.yarn_log_multiplier
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;

  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  // softmax_scale = mscale^2 / sqrt(qk_head_dim), mscale = 0.1 * mscale_all_dim * ln(factor) + 1 (DeepSeek-V3 paper).
  float softmax_scale() const;
  // Numbers the MLA cache keeps per token per layer: the latent c_kv and the rotated shared k_rope.
  int64_t cache_width() const { return kv_lora_rank + qk_rope_head_dim; }
};

// Reads and checks every hyper-parameter from the file's `deepseek2.*` metadata.
Result<DeepseekConfig> deepseek_config_from_gguf(const GgufFile& f);

}  // namespace seek
