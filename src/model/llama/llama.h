// The Llama family (GGUF architectures "llama" and "qwen2"; the DeepSeek-R1 distills): pre-norm decoder blocks
// with grouped-query attention, RoPE, a SwiGLU MLP and RMSNorm. Qwen2 is Llama with q/k/v biases and the NeoX
// rotary layout. Config + weights (llama.cpp's GGUF names) and the forward pass with an f32 KV cache.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/huge_buffer.h"
#include "core/result.h"
#include "core/tensor.h"
#include "model/model.h"
#include "model/repack.h"

namespace seek {

struct GgufFile;

// How RoPE pairs a head's values: Norm rotates adjacent pairs (2i, 2i+1), as llama.cpp does for "llama" (its HF
// converter permutes q/k so this matches HF's rotate_half); Neox rotates (i, i + n_rot/2), as for "qwen2".
enum class RopeStyle { Norm, Neox };

struct LlamaConfig {
  std::string arch;           // "llama" or "qwen2"
  int64_t vocab_size = 0;     // 0: taken from token_embd
  int64_t dim = 0;            // embedding_length
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;       // attention.key_length, default dim / n_heads
  int64_t n_rot = 0;          // rope.dimension_count, default head_dim: the leading values of a head that rotate
  int64_t inter_dim = 0;      // feed_forward_length
  int64_t max_seq_len = 0;    // context_length
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / rope.scaling.factor for "linear" scaling
  RopeStyle rope_style = RopeStyle::Norm;

  int64_t kv_width() const { return n_kv_heads * head_dim; }
};

// Reads and checks the `<arch>.*` hyper-parameters.
Result<LlamaConfig> llama_config_from_gguf(const GgufFile& f);

// Llama-3 rotary frequency divisors (HF's "llama3" rope type), one per rotated pair, as llama.cpp's converter
// stores them in rope_freqs.weight: 1 for short wavelengths, `factor` for long ones, a smooth blend between.
std::vector<float> llama3_rope_factors(double theta, int64_t n_rot, double factor, double low_freq_factor,
                                       double high_freq_factor, double original_context);

struct LlamaBlock {
  std::vector<float> attn_norm, ffn_norm;  // (dim)
  Mat wq, wk, wv, wo;                      // (H*hd, dim), (Hkv*hd, dim), (Hkv*hd, dim), (dim, H*hd)
  std::vector<float> bq, bk, bv, bo;       // biases; empty when absent (qwen2 has q/k/v)
  Mat w1, w2, w3;                          // gate (inter, dim), down (dim, inter), up (inter, dim)
};

struct LlamaWeights {
  Mat tok_embd;                  // (vocab, dim)
  std::vector<float> output_norm;
  Mat output;                    // (vocab, dim); tok_embd when the file has no output.weight
  std::vector<float> rope_freqs; // (n_rot/2) Llama-3 frequency divisors (rope_freqs.weight); empty when absent
  std::vector<LlamaBlock> blocks;
  size_t weight_bytes = 0;           // every tensor the forward reads
  size_t active_bytes_per_token = 0; // all but the embedding table, plus one of its rows
};

Result<LlamaWeights> llama_weights_from_gguf(const GgufFile& f, const LlamaConfig& c);

// The KV cache: per layer, capacity rows of k and of v, each n_kv_heads * head_dim floats (rotated k).
struct LlamaKvCache : ModelState {
  int64_t n_layers = 0, width = 0;
  HugeBuffer k, v;
  float* k_at(int64_t layer, int64_t pos) { return k.floats() + (size_t(layer) * size_t(capacity) + size_t(pos)) * size_t(width); }
  float* v_at(int64_t layer, int64_t pos) { return v.floats() + (size_t(layer) * size_t(capacity) + size_t(pos)) * size_t(width); }
};

class LlamaModel : public Model {
 public:
  LlamaConfig config;
  LlamaWeights weights;
  std::vector<double> inv_freq;  // n_rot/2 angles per position: freq_scale * theta^(-2i/n_rot) / rope_freqs[i]
  std::shared_ptr<GgufFile> file;

  std::string arch() const override { return config.arch; }
  int64_t n_vocab() const override { return weights.tok_embd.rows; }
  int64_t n_ctx_train() const override { return config.max_seq_len; }
  int64_t kv_bytes_per_token() const override { return 2 * config.n_layers * config.kv_width() * int64_t(sizeof(float)); }
  size_t weight_bytes() const override { return weights.weight_bytes; }
  size_t active_bytes_per_token() const override { return weights.active_bytes_per_token; }
  std::unique_ptr<ModelState> new_state(int64_t n_ctx) const override;
  void forward(ModelState& state, ThreadPool& pool, const int32_t* tokens, int64_t n, int64_t n_past, bool all_logits,
               float* logits) const override;
  RepackReport repack_weights(ThreadPool& pool, size_t max_bytes, const RepackProgress& progress) override;
  PackedWeights packed;  // the repacked matrices' panels

  // Rotates n_vec head vectors (each `stride` floats apart) to position pos.
  void rope(float* x, int64_t n_vec, int64_t stride, int64_t pos) const;
  void attention(const LlamaBlock& b, int64_t layer, LlamaKvCache& cache, ThreadPool& pool, const float* h, int64_t n,
                 int64_t n_past, float* out) const;
};

Result<std::unique_ptr<Model>> load_llama(std::shared_ptr<GgufFile> file);

}  // namespace seek
