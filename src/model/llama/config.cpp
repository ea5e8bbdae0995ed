// Reading LlamaConfig from GGUF metadata (keys as llama.cpp's converter writes them), one clear error per problem.
#include <cmath>

#include "formats/gguf.h"
#include "model/hf_folder.h"
#include "model/loader.h"
#include "model/llama/llama.h"

namespace seek {

namespace {

constexpr int64_t kBig = kMaxWidth;

}  // namespace

Result<LlamaConfig> llama_config_from_gguf(const GgufFile& f) {
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  if (!arch->has_value()) return err("%s: metadata key general.architecture is missing", f.path.c_str());
  if (**arch != "llama" && **arch != "qwen2")
    return err("%s: architecture '%s' is not supported by the Llama model (expected llama or qwen2)", f.path.c_str(),
               (*arch)->c_str());
  LlamaConfig c;
  c.arch = **arch;
  c.rope_style = c.arch == "qwen2" ? RopeStyle::Neox : RopeStyle::Norm;
  // A Llama read straight from a Hugging Face folder keeps HF's q/k row order: rotate-half rotary.
  auto neox = f.get_bool(kHfRopeNeoxKey);
  if (!neox) return neox.error();
  if (neox->value_or(false)) c.rope_style = RopeStyle::Neox;
  const std::string p = c.arch + ".";
  int64_t value_len = 0;
  SEEK_TRY(read_int(f, p + "block_count", &c.n_layers, true, 1, 4096));
  SEEK_TRY(read_int(f, p + "embedding_length", &c.dim, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "context_length", &c.max_seq_len, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "feed_forward_length", &c.inter_dim, true, 1, kBig));
  SEEK_TRY(read_int(f, p + "attention.head_count", &c.n_heads, true, 1, 65536));
  c.n_kv_heads = c.n_heads;
  SEEK_TRY(read_int(f, p + "attention.head_count_kv", &c.n_kv_heads, false, 1, 65536));
  if (c.n_heads % c.n_kv_heads)
    return err("%s: attention.head_count (%lld) is not a multiple of attention.head_count_kv (%lld)", f.path.c_str(),
               (long long)c.n_heads, (long long)c.n_kv_heads);
  if (c.dim % c.n_heads == 0) c.head_dim = c.dim / c.n_heads;
  SEEK_TRY(read_int(f, p + "attention.key_length", &c.head_dim, false, 1, kBig));
  if (c.head_dim == 0)
    return err("%s: embedding_length %lld is not a multiple of head_count %lld and attention.key_length is missing",
               f.path.c_str(), (long long)c.dim, (long long)c.n_heads);
  value_len = c.head_dim;
  SEEK_TRY(read_int(f, p + "attention.value_length", &value_len, false, 1, kBig));
  if (value_len != c.head_dim)
    return err("%s: attention.value_length (%lld) differs from attention.key_length (%lld), which seek does not support",
               f.path.c_str(), (long long)value_len, (long long)c.head_dim);
  c.n_rot = c.head_dim;
  SEEK_TRY(read_int(f, p + "rope.dimension_count", &c.n_rot, false, 2, c.head_dim));
  if (c.n_rot % 2) return err("%s: rope.dimension_count must be even", f.path.c_str());
  SEEK_TRY(read_float(f, p + "attention.layer_norm_rms_epsilon", &c.rms_eps, true));
  SEEK_TRY(read_float(f, p + "rope.freq_base", &c.rope_theta, false));
  if (c.rope_theta <= 0) return err("%s: rope.freq_base must be positive", f.path.c_str());

  auto scaling = f.get_string(p + "rope.scaling.type");
  if (!scaling) return scaling.error();
  const std::string type = scaling->value_or("none");
  if (type == "linear") {
    float factor = 1.0f;
    SEEK_TRY(read_float(f, p + "rope.scaling.factor", &factor, true));
    if (factor <= 0) return err("%s: rope.scaling.factor must be positive", f.path.c_str());
    c.rope_freq_scale = 1.0f / factor;
  } else if (type != "none") {
    return err("%s: rope.scaling.type '%s' is not supported for %s (expected none or linear; Llama-3 scaling comes as "
               "the rope_freqs.weight tensor)", f.path.c_str(), type.c_str(), c.arch.c_str());
  }
  SEEK_TRY(read_int(f, p + "vocab_size", &c.vocab_size, false, 1, int64_t(1) << 31));
  return c;
}

}  // namespace seek
