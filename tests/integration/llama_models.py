"""Test models for the llama / qwen2 integration tests, written here in Python (independently of seek's own
writer): random F32 weights in llama.cpp's layout, with the byte-level BPE vocabulary of seek's generated
DeepSeek model so that `seek run` has a tokenizer. `retokenized` copies a real file's weights under that
vocabulary, for SentencePiece files that seek's tokenizer cannot load (the prompt is given as ids anyway)."""
import math
import os
import sys

import numpy as np

import harness

sys.path.insert(0, os.path.join(harness.REPO, "tools", "ref"))
sys.path.insert(0, os.path.join(harness.REPO, "tools", "train"))
import gguf_writer as gw  # noqa: E402
from gguf_read import GGUFFile  # noqa: E402


def _add_vocab(w, pre):
    v = GGUFFile(harness.model("v3-tiny"))
    w.str("tokenizer.ggml.model", "gpt2")
    w.str("tokenizer.ggml.pre", pre)
    w.arr("tokenizer.ggml.tokens", gw.T_STRING, v.get("tokenizer.ggml.tokens"))
    w.arr("tokenizer.ggml.token_type", gw.T_INT32, v.get("tokenizer.ggml.token_type"))
    w.arr("tokenizer.ggml.merges", gw.T_STRING, v.get("tokenizer.ggml.merges"))
    w.u32("tokenizer.ggml.bos_token_id", v.get("tokenizer.ggml.bos_token_id"))
    w.u32("tokenizer.ggml.eos_token_id", v.get("tokenizer.ggml.eos_token_id"))
    return len(v.get("tokenizer.ggml.tokens"))


# name: (arch, dim, layers, heads, kv heads, ffn, theta, tied output, Llama-3 rope_freqs)
CONFIGS = {
    "llama-gqa": ("llama", 64, 2, 4, 2, 128, 10000.0, False, True),
    "llama-mha-tied": ("llama", 64, 2, 4, 4, 96, 10000.0, True, False),
    "qwen2-gqa": ("qwen2", 64, 2, 4, 2, 128, 1000000.0, True, False),
    "qwen2-untied": ("qwen2", 64, 2, 8, 2, 128, 10000.0, False, False),
}


def random_model(name, seed=7):
    path = os.path.join(harness.tmpdir(), f"py-{name}-{seed}.gguf")
    if os.path.exists(path):
        return path
    arch, dim, n_layers, n_head, n_kv, ffn, theta, tied, rope_freqs = CONFIGS[name]
    hd = dim // n_head
    rng = np.random.default_rng(seed)
    w = gw.GGUFWriter()
    w.str("general.architecture", arch)
    p = arch + "."
    w.u32(p + "block_count", n_layers)
    w.u32(p + "context_length", 1024)
    w.u32(p + "embedding_length", dim)
    w.u32(p + "feed_forward_length", ffn)
    w.u32(p + "attention.head_count", n_head)
    w.u32(p + "attention.head_count_kv", n_kv)
    w.f32(p + "rope.freq_base", theta)
    w.f32(p + "attention.layer_norm_rms_epsilon", 1e-6 if arch == "qwen2" else 1e-5)
    vocab = _add_vocab(w, "qwen2" if arch == "qwen2" else "llama-bpe")

    def mat(rows, cols, gain=1.0):
        return rng.uniform(-1, 1, (rows, cols)) * gain * math.sqrt(3.0 / cols)

    F32 = gw.GGML_F32
    w.add_tensor("token_embd.weight", rng.uniform(-1.7, 1.7, (vocab, dim)), F32)
    w.add_tensor("output_norm.weight", 1 + 0.2 * rng.uniform(-1, 1, dim), F32)
    if not tied:
        w.add_tensor("output.weight", mat(vocab, dim, 3.0), F32)
    if rope_freqs:  # Llama-3 "llama3" scaling as the HF converter computes it: factor 8, low 1, high 4, ctx 64
        f = []
        for i in range(hd // 2):
            wavelen = 2 * math.pi / theta ** (-2 * i / hd)
            if wavelen < 64 / 4:
                f.append(1.0)
            elif wavelen > 64 / 1:
                f.append(8.0)
            else:
                s = (64 / wavelen - 1) / (4 - 1)
                f.append(1 / ((1 - s) / 8 + s))
        w.add_tensor("rope_freqs.weight", np.array(f), F32)
    for il in range(n_layers):
        b = f"blk.{il}."
        w.add_tensor(b + "attn_norm.weight", 1 + 0.2 * rng.uniform(-1, 1, dim), F32)
        w.add_tensor(b + "attn_q.weight", mat(n_head * hd, dim), F32)
        w.add_tensor(b + "attn_k.weight", mat(n_kv * hd, dim), F32)
        w.add_tensor(b + "attn_v.weight", mat(n_kv * hd, dim), F32)
        if arch == "qwen2":
            w.add_tensor(b + "attn_q.bias", rng.uniform(-0.5, 0.5, n_head * hd), F32)
            w.add_tensor(b + "attn_k.bias", rng.uniform(-0.5, 0.5, n_kv * hd), F32)
            w.add_tensor(b + "attn_v.bias", rng.uniform(-0.5, 0.5, n_kv * hd), F32)
        w.add_tensor(b + "attn_output.weight", mat(dim, n_head * hd), F32)
        w.add_tensor(b + "ffn_norm.weight", 1 + 0.2 * rng.uniform(-1, 1, dim), F32)
        w.add_tensor(b + "ffn_gate.weight", mat(ffn, dim), F32)
        w.add_tensor(b + "ffn_up.weight", mat(ffn, dim), F32)
        w.add_tensor(b + "ffn_down.weight", mat(dim, ffn), F32)
    w.write(path)
    return path


def retokenized(src):
    """src's architecture keys and weights (same types: F32 / F16) under the synthetic byte-level vocabulary."""
    path = os.path.join(harness.tmpdir(), "retok-" + os.path.basename(src))
    if os.path.exists(path):
        return path
    f = GGUFFile(src)
    w = gw.GGUFWriter()
    for k, v in f.metadata.items():
        if k.startswith("tokenizer.") or k.endswith(".vocab_size"):
            continue
        t = f.metadata_types[k]
        if t in (gw.T_UINT32, gw.T_FLOAT32, gw.T_STRING, gw.T_INT32, gw.T_BOOL):
            w.add(k, t, v)
    _add_vocab(w, "llama-bpe")
    for name in f.tensor_order:
        ti = f.tensors[name]
        ggml_type = ti.ggml_type if hasattr(ti, "ggml_type") else ti.type
        w.add_tensor(name, f.tensor(name), gw.GGML_F16 if ggml_type == 1 else gw.GGML_F32)
    w.write(path)
    return path
