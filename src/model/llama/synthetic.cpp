// The synthetic Llama / Qwen2 presets and their GGUF writer (metadata keys as llama.cpp's converter writes them).
#include "model/llama/synthetic.h"

#include <cmath>
#include <algorithm>
#include <cstring>

#include "core/half.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "model/synthetic_vocab.h"
#include "model/synthetic_weights.h"

namespace seek {

namespace {

LlamaConfig tiny(const std::string& arch) {
  LlamaConfig c;
  c.arch = arch;
  c.dim = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.n_rot = 16;
  c.inter_dim = 128;
  c.max_seq_len = 1024;
  c.rms_eps = arch == "qwen2" ? 1e-6f : 1e-5f;
  c.rope_theta = arch == "qwen2" ? 1000000.0f : 10000.0f;
  c.rope_style = arch == "qwen2" ? RopeStyle::Neox : RopeStyle::Norm;
  return c;
}

// Llama-3 frequency divisors as HF's "llama3" rope scaling defines them (and llama.cpp's converter stores them).
std::vector<float> llama3_factors(const LlamaConfig& c) {
  return llama3_rope_factors(c.rope_theta, c.n_rot, /*factor=*/8, /*low=*/1, /*high=*/4, /*original_context=*/64);
}

}  // namespace

std::vector<std::string> llama_synthetic_presets() { return {"llama-tiny", "qwen2-tiny"}; }

std::optional<LlamaSyntheticSpec> llama_synthetic_preset(const std::string& name) {
  LlamaSyntheticSpec s;
  s.name = name;
  if (name == "llama-tiny") {
    s.c = tiny("llama");
    s.rope_freqs = true;
    s.pre = "llama-bpe";
  } else if (name == "qwen2-tiny") {
    s.c = tiny("qwen2");
    s.tied_output = true;
    s.pre = "qwen2";
  } else {
    return std::nullopt;
  }
  return s;
}

Result<void> write_synthetic_llama(const LlamaSyntheticSpec& s, const std::string& path,
                                   const std::function<void(uint64_t, uint64_t)>& progress) {
  const Vocab v = generated_model_vocab(s.vocab ? &*s.vocab : nullptr, s.n_merges, s.pre, 0);
  const LlamaConfig& c = s.c;
  const int64_t vocab = int64_t(v.tokens.size()), q = c.n_heads * c.head_dim, kv = c.kv_width();
  const int64_t bs = traits(s.type).block_size;
  for (int64_t cols : {c.dim, c.inter_dim, q})
    if (cols % bs) return err("preset %s: width %lld is not a multiple of the %s block size", s.name.c_str(),
                              (long long)cols, std::string(traits(s.type).name).c_str());
  GgufWriter w;
  const std::string p = c.arch + ".";
  w.set_str("general.architecture", c.arch);
  w.set_str("general.name", "seek synthetic " + s.name);
  w.set_u32("general.file_type", s.type == GgmlType::F32 ? 0 : s.type == GgmlType::F16 ? 1 : s.type == GgmlType::Q8_0 ? 7 : 32);
  w.set_u32(p + "block_count", uint32_t(c.n_layers));
  w.set_u32(p + "context_length", uint32_t(c.max_seq_len));
  w.set_u32(p + "embedding_length", uint32_t(c.dim));
  w.set_u32(p + "feed_forward_length", uint32_t(c.inter_dim));
  w.set_u32(p + "attention.head_count", uint32_t(c.n_heads));
  w.set_u32(p + "attention.head_count_kv", uint32_t(c.n_kv_heads));
  w.set_f32(p + "rope.freq_base", c.rope_theta);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", c.rms_eps);
  if (c.arch == "llama") {
    w.set_u32(p + "vocab_size", uint32_t(vocab));
    w.set_u32(p + "rope.dimension_count", uint32_t(c.n_rot));
  }
  vocab_to_gguf(v, w);

  const uint64_t seed = s.seed;
  const GgmlType T = s.type;
  auto matrix = [&](const std::string& name, int64_t cols, int64_t rows, float gain = 1.0f) {
    add_random_tensor(w, seed, name, T, {cols, rows}, 0.0f, gain * std::sqrt(3.0f / float(cols)));
  };
  auto norm = [&](const std::string& name, int64_t n) { add_random_tensor(w, seed, name, GgmlType::F32, {n}, 1.0f, 0.2f); };
  add_random_tensor(w, seed, "token_embd.weight", T, {c.dim, vocab}, 0.0f, 1.7f);
  norm("output_norm.weight", c.dim);
  if (!s.tied_output) matrix("output.weight", c.dim, vocab, 3.0f);
  if (s.rope_freqs) {
    const std::vector<float> f = llama3_factors(c);
    w.add_tensor("rope_freqs.weight", GgmlType::F32, {int64_t(f.size())},
                 [f](uint8_t* dst, size_t nbytes) { std::memcpy(dst, f.data(), std::min(nbytes, f.size() * 4)); });
  }
  for (int64_t il = 0; il < c.n_layers; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    norm(b + "attn_norm.weight", c.dim);
    matrix(b + "attn_q.weight", c.dim, q);
    matrix(b + "attn_k.weight", c.dim, kv);
    matrix(b + "attn_v.weight", c.dim, kv);
    if (c.arch == "qwen2") {
      add_random_tensor(w, seed, b + "attn_q.bias", GgmlType::F32, {q}, 0.0f, 0.5f);
      add_random_tensor(w, seed, b + "attn_k.bias", GgmlType::F32, {kv}, 0.0f, 0.5f);
      add_random_tensor(w, seed, b + "attn_v.bias", GgmlType::F32, {kv}, 0.0f, 0.5f);
    }
    matrix(b + "attn_output.weight", q, c.dim);
    norm(b + "ffn_norm.weight", c.dim);
    matrix(b + "ffn_gate.weight", c.dim, c.inter_dim);
    matrix(b + "ffn_up.weight", c.dim, c.inter_dim);
    matrix(b + "ffn_down.weight", c.inter_dim, c.dim);
  }
  return w.write(path, progress);
}

}  // namespace seek
