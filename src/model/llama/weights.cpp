// Loading Llama/Qwen2 weights: one view per GGUF tensor, each checked for presence, type and shape.
#include <cmath>
#include <string>

#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "model/loader.h"
#include "model/llama/llama.h"

namespace seek {

namespace {

Result<void> load_block(TensorLoader& L, const LlamaConfig& c, int64_t il, LlamaBlock& b) {
  const std::string p = "blk." + std::to_string(il) + ".";
  const int64_t q = c.n_heads * c.head_dim, kv = c.kv_width();
  const bool bias_required = c.arch == "qwen2";
  SEEK_ASSIGN(b.attn_norm, L.vec(p + "attn_norm.weight", c.dim));
  SEEK_ASSIGN(b.wq, L.get(p + "attn_q.weight", {c.dim, q}));
  SEEK_ASSIGN(b.wk, L.get(p + "attn_k.weight", {c.dim, kv}));
  SEEK_ASSIGN(b.wv, L.get(p + "attn_v.weight", {c.dim, kv}));
  SEEK_ASSIGN(b.bq, L.vec(p + "attn_q.bias", q, !bias_required));
  SEEK_ASSIGN(b.bk, L.vec(p + "attn_k.bias", kv, !bias_required));
  SEEK_ASSIGN(b.bv, L.vec(p + "attn_v.bias", kv, !bias_required));
  SEEK_ASSIGN(b.wo, L.get(p + "attn_output.weight", {q, c.dim}));
  SEEK_ASSIGN(b.bo, L.vec(p + "attn_output.bias", c.dim, true));
  SEEK_ASSIGN(b.ffn_norm, L.vec(p + "ffn_norm.weight", c.dim));
  SEEK_ASSIGN(b.w1, L.get(p + "ffn_gate.weight", {c.dim, c.inter_dim}));
  SEEK_ASSIGN(b.w2, L.get(p + "ffn_down.weight", {c.inter_dim, c.dim}));
  SEEK_ASSIGN(b.w3, L.get(p + "ffn_up.weight", {c.dim, c.inter_dim}));
  return {};
}

}  // namespace

Result<LlamaWeights> llama_weights_from_gguf(const GgufFile& f, const LlamaConfig& c) {
  TensorLoader L(f);
  LlamaWeights w;
  int64_t vocab = 0;
  SEEK_ASSIGN(vocab, L.embedding_rows(c.dim, c.vocab_size));
  SEEK_ASSIGN(w.tok_embd, L.get("token_embd.weight", {c.dim, vocab}));
  const size_t embd_bytes = L.bytes();
  SEEK_ASSIGN(w.output_norm, L.vec("output_norm.weight", c.dim));
  SEEK_ASSIGN(w.output, L.get("output.weight", {c.dim, vocab}, true));
  const bool tied = w.output.empty();
  if (tied) w.output = w.tok_embd;
  SEEK_ASSIGN(w.rope_freqs, L.vec("rope_freqs.weight", c.n_rot / 2, true));
  for (float x : w.rope_freqs)
    if (!(x > 0.0f) || !std::isfinite(x))
      return err("%s: tensor rope_freqs.weight holds a factor that is not a positive number", f.path.c_str());
  w.blocks.resize(size_t(c.n_layers));
  for (int64_t il = 0; il < c.n_layers; ++il) SEEK_TRY(load_block(L, c, il, w.blocks[size_t(il)]));
  w.weight_bytes = L.bytes();
  w.active_bytes_per_token = w.weight_bytes - (tied ? 0 : embd_bytes) + w.tok_embd.row_stride;
  return w;
}

}  // namespace seek
