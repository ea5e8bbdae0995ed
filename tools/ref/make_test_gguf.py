#!/usr/bin/python3
"""Writes tiny random-weight deepseek2 GGUF files that llama.cpp also loads.

Own minimal GGUF v3 writer (not gguf-py). Configs:
  v3      q LoRA, sigmoid gating + exp_probs_b bias, 4 expert groups (2 kept), norm + scale 2.5,
          1 shared expert, 1 dense + 2 MoE layers, YaRN factor 40 (mscale_all_dim 1.0), own output.
  v2lite  no q LoRA (attention.q_lora_rank = 0), softmax gating, no bias, no groups (1/1), no norm,
          scale 1.0, 2 shared experts, YaRN factor 40 (mscale_all_dim 0.707), tied output
          (no output.weight), general.alignment 64.
  v2      DeepSeek-V2(236B)-like: q LoRA, softmax, 4 expert groups (2 kept) with NO bias, no norm,
          scale 16, 2 shared experts. Official V2 scores a group by its max expert score;
          llama.cpp always by the sum of its top-2 (see README).
  v3mtp   like v3 plus one trailing MTP block (nextn_predict_layers = 1) the main forward ignores.
Each config in both MLA layouts: "kvb" (attn_kv_b, older files) and "kbvb" (attn_k_b + attn_v_b,
the current convert_hf_to_gguf.py layout). Both layouts of one config hold the same model.

usage: make_test_gguf.py OUT_DIR [--configs v3,v2lite,v3mtp] [--type f32|f16|bf16|q8_0] [--seed N]
Writes OUT_DIR/ds2-<config>-<layout>[-<type>].gguf and prints the paths.
"""
import argparse
import os
import struct
import sys

import numpy as np

# GGUF value types
U8, I8, U16, I16, U32, I32, F32V, BOOL, STR, ARR, U64, I64, F64V = range(13)
GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30


class GGUFWriter:
    def __init__(self, alignment=32, version=3):
        self.version = version
        self.kv = []          # (key, vtype, value, elem_type)
        self.tensors = []     # (name, np array (numpy shape), ggml type)
        self.alignment = alignment
        if alignment != 32:
            self.add("general.alignment", U32, alignment)

    def add(self, key, vtype, value, etype=None):
        self.kv.append((key, vtype, value, etype))

    def add_tensor(self, name, arr, ggml_type=GGML_F32):
        self.tensors.append((name, np.asarray(arr, dtype=np.float32), ggml_type))

    @staticmethod
    def _str(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _val(self, vtype, v, etype=None):
        fmts = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32V: "<f",
                BOOL: "<?", U64: "<Q", I64: "<q", F64V: "<d"}
        if vtype in fmts:
            return struct.pack(fmts[vtype], v)
        if vtype == STR:
            return self._str(v)
        if vtype == ARR:
            et = etype[0] if isinstance(etype, tuple) else etype
            sub = etype[1] if isinstance(etype, tuple) else None
            out = struct.pack("<IQ", et, len(v))
            return out + b"".join(self._val(et, x, sub) for x in v)
        raise ValueError(vtype)

    @staticmethod
    def _encode(arr, t):
        if t == GGML_F32:
            return arr.astype("<f4").tobytes()
        if t == GGML_F16:
            return arr.astype("<f2").tobytes()
        if t == GGML_BF16:
            u = arr.astype(np.float32).view(np.uint32)
            u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")   # round to nearest even
            return u.tobytes()
        if t == GGML_Q8_0:
            x = arr.reshape(-1, 32).astype(np.float32)
            amax = np.abs(x).max(axis=1, keepdims=True)
            d = amax / 127.0
            idv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
            q = np.round(x * idv).clip(-127, 127).astype(np.int8)
            out = np.zeros((x.shape[0], 34), dtype=np.uint8)
            out[:, 0:2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
            out[:, 2:] = q.view(np.uint8)
            return out.tobytes()
        raise ValueError(t)

    def write(self, path):
        al = self.alignment
        head = b"GGUF" + struct.pack("<IQQ", self.version, len(self.tensors), len(self.kv))
        for k, vt, v, et in self.kv:
            head += self._str(k) + struct.pack("<I", vt) + self._val(vt, v, et)
        blobs, off = [], 0
        infos = b""
        for name, arr, t in self.tensors:
            dims = list(reversed(arr.shape))      # ne0 fastest
            data = self._encode(arr, t)
            infos += self._str(name) + struct.pack("<I", len(dims)) + \
                b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", t, off)
            pad = (-len(data)) % al
            blobs.append(data + b"\0" * pad)
            off += len(data) + pad
        head += infos
        head += b"\0" * ((-len(head)) % al)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(head)
            for b in blobs:
                f.write(b)
        os.replace(tmp, path)


# ---- tokenizer: GPT-2 byte-level alphabet plus a few merges ----------------------------------------
def gpt2_byte_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    m = dict(zip(bs, cs))
    return [chr(m[b]) for b in range(256)]


MERGES = ["t h", "h e", "i n", "e r", "a n", "r e", "o n", "a t", "e n", "n d", "s t", "e s", "o r",
          "t e", "o f", "e d", "i s", "i t", "a l", "a r", "\u0120 t", "\u0120 a", "\u0120 s", "\u0120 w",
          "th e", "an d", "\u0120t he", "in g", "o u", "l e"]


def vocab():
    toks = gpt2_byte_chars()
    types = [1] * 256
    merges = []
    for m in MERGES:
        a, b = m.split(" ")
        assert a in toks and b in toks, m
        if a + b not in toks:
            toks.append(a + b)
            types.append(1)
        merges.append(m)
    bos = len(toks)
    toks.append("<\uff5cbegin\u2581of\u2581sentence\uff5c>")
    types.append(3)
    eos = len(toks)
    toks.append("<\uff5cend\u2581of\u2581sentence\uff5c>")
    types.append(3)
    return toks, types, merges, bos, eos


# ---- model configs ----------------------------------------------------------------------------------
BASE = dict(n_embd=64, n_head=4, kv_lora=32, qk_nope=16, rope=8, v_head=12, n_ff=96, n_ff_exp=24,
            n_layer=3, n_dense=1, out_gain=1.0, eps=1e-6, rope_base=10000.0, factor=40.0, orig_ctx=4096, ctx=163840)
CONFIGS = {
    "v3": dict(BASE, q_lora=48, n_expert=16, n_used=3, n_group=4, n_group_used=2, n_shared=1,
               gating=2, bias=True, norm=True, scale=2.5, mscale_all_dim=1.0, tied=False, nextn=0,
               alignment=32),
    "v2lite": dict(BASE, q_lora=0, n_expert=8, n_used=3, n_group=1, n_group_used=1, n_shared=2,
                   gating=1, bias=False, norm=False, scale=1.0, mscale_all_dim=0.707, tied=True, nextn=0,
                   alignment=64),
    "v2": dict(BASE, q_lora=48, n_expert=16, n_used=3, n_group=4, n_group_used=2, n_shared=2,
               gating=1, bias=False, norm=False, scale=16.0, mscale_all_dim=0.707, tied=False, nextn=0,
               alignment=32),
    "v3mtp": dict(BASE, q_lora=48, n_expert=16, n_used=3, n_group=4, n_group_used=2, n_shared=1,
                  gating=2, bias=True, norm=True, scale=2.5, mscale_all_dim=1.0, tied=False, nextn=1,
                  alignment=32),
}


def make_weights(cfg, seed, n_vocab):
    """HF-style weights (out, in), including the unsplit kv_b: (H*(qk_nope+v), kv_lora)."""
    rng = np.random.default_rng(seed)
    E, H = cfg["n_embd"], cfg["n_head"]
    qk = cfg["qk_nope"] + cfg["rope"]

    def lin(out, inp, gain=1.0):
        return rng.standard_normal((out, inp)) * (gain / np.sqrt(inp))

    def norm(n):
        return 1.0 + 0.1 * rng.standard_normal(n)

    W = {"token_embd": rng.standard_normal((n_vocab, E)) * 0.5,
         "output_norm": norm(E)}
    if not cfg["tied"]:
        W["output"] = lin(n_vocab, E, 2.0)
    n_blocks = cfg["n_layer"] + cfg["nextn"]
    for il in range(n_blocks):
        b = "blk.%d." % il
        W[b + "attn_norm"] = norm(E)
        if cfg["q_lora"]:
            W[b + "attn_q_a"] = lin(cfg["q_lora"], E)
            W[b + "attn_q_a_norm"] = norm(cfg["q_lora"])
            W[b + "attn_q_b"] = lin(H * qk, cfg["q_lora"], 2.0)
        else:
            W[b + "attn_q"] = lin(H * qk, E, 2.0)
        W[b + "attn_kv_a_mqa"] = lin(cfg["kv_lora"] + cfg["rope"], E, 2.0)
        W[b + "attn_kv_a_norm"] = norm(cfg["kv_lora"])
        W[b + "attn_kv_b"] = lin(H * (cfg["qk_nope"] + cfg["v_head"]), cfg["kv_lora"], 2.0)
        W[b + "attn_output"] = lin(E, H * cfg["v_head"], cfg["out_gain"])
        W[b + "ffn_norm"] = norm(E)
        if il < cfg["n_dense"]:
            W[b + "ffn_gate"] = lin(cfg["n_ff"], E)
            W[b + "ffn_up"] = lin(cfg["n_ff"], E)
            W[b + "ffn_down"] = lin(E, cfg["n_ff"], cfg["out_gain"])
        else:
            X, F = cfg["n_expert"], cfg["n_ff_exp"]
            W[b + "ffn_gate_inp"] = lin(X, E, 2.0)
            if cfg["bias"]:
                W[b + "exp_probs_b"] = 0.1 * rng.standard_normal(X)
            W[b + "ffn_gate_exps"] = np.stack([lin(F, E) for _ in range(X)])
            W[b + "ffn_up_exps"] = np.stack([lin(F, E) for _ in range(X)])
            W[b + "ffn_down_exps"] = np.stack([lin(E, F, cfg["out_gain"]) for _ in range(X)])
            S = F * cfg["n_shared"]
            W[b + "ffn_gate_shexp"] = lin(S, E)
            W[b + "ffn_up_shexp"] = lin(S, E)
            W[b + "ffn_down_shexp"] = lin(E, S, cfg["out_gain"])
        if il >= cfg["n_layer"]:   # MTP block extras
            W[b + "nextn.eh_proj"] = lin(E, 2 * E)
            W[b + "nextn.enorm"] = norm(E)
            W[b + "nextn.hnorm"] = norm(E)
            W[b + "nextn.shared_head_norm"] = norm(E)
    return W


def write_model(path, cfg, layout, wtype, seed):
    toks, types, merges, bos, eos = vocab()
    n_vocab = len(toks)
    W = make_weights(cfg, seed, n_vocab)
    H = cfg["n_head"]
    w = GGUFWriter(cfg["alignment"])
    a = "deepseek2."
    w.add("general.architecture", STR, "deepseek2")
    w.add("general.name", STR, "seek-test-%s-%s" % (cfg["name"], layout))
    w.add(a + "context_length", U32, cfg["ctx"])
    w.add(a + "block_count", U32, cfg["n_layer"] + cfg["nextn"])
    if cfg["nextn"]:
        w.add(a + "nextn_predict_layers", U32, cfg["nextn"])
    w.add(a + "embedding_length", U32, cfg["n_embd"])
    w.add(a + "feed_forward_length", U32, cfg["n_ff"])
    w.add(a + "attention.head_count", U32, H)
    # current converter: MLA as MQA -> head_count_kv 1; legacy kv_b files: head_count_kv = n_head
    # (llama.cpp sizes its K/V cache rows from it on the kv_b path)
    w.add(a + "attention.head_count_kv", U32, 1 if layout == "kbvb" else H)
    w.add(a + "rope.freq_base", F32V, cfg["rope_base"])
    w.add(a + "attention.layer_norm_rms_epsilon", F32V, cfg["eps"])
    w.add(a + "expert_used_count", U32, cfg["n_used"])
    w.add(a + "expert_group_count", U32, cfg["n_group"])
    w.add(a + "expert_group_used_count", U32, cfg["n_group_used"])
    w.add(a + "expert_gating_func", U32, cfg["gating"])
    w.add(a + "leading_dense_block_count", U32, cfg["n_dense"])
    w.add(a + "vocab_size", U32, n_vocab)
    w.add(a + "attention.q_lora_rank", U32, cfg["q_lora"])
    w.add(a + "attention.kv_lora_rank", U32, cfg["kv_lora"])
    qk = cfg["qk_nope"] + cfg["rope"]
    if layout == "kbvb":
        w.add(a + "attention.key_length", U32, cfg["kv_lora"] + cfg["rope"])
        w.add(a + "attention.value_length", U32, cfg["kv_lora"])
        w.add(a + "attention.key_length_mla", U32, qk)
        w.add(a + "attention.value_length_mla", U32, cfg["v_head"])
    else:
        w.add(a + "attention.key_length", U32, qk)
        w.add(a + "attention.value_length", U32, cfg["v_head"])
    w.add(a + "expert_feed_forward_length", U32, cfg["n_ff_exp"])
    w.add(a + "expert_count", U32, cfg["n_expert"])
    w.add(a + "expert_shared_count", U32, cfg["n_shared"])
    w.add(a + "expert_weights_scale", F32V, cfg["scale"])
    if cfg["norm"]:
        w.add(a + "expert_weights_norm", BOOL, True)
    w.add(a + "rope.dimension_count", U32, cfg["rope"])
    w.add(a + "rope.scaling.type", STR, "yarn")
    w.add(a + "rope.scaling.factor", F32V, cfg["factor"])
    w.add(a + "rope.scaling.original_context_length", U32, cfg["orig_ctx"])
    w.add(a + "rope.scaling.yarn_log_multiplier", F32V, 0.1 * cfg["mscale_all_dim"])
    w.add("tokenizer.ggml.model", STR, "gpt2")
    w.add("tokenizer.ggml.pre", STR, "deepseek-v3")
    w.add("tokenizer.ggml.tokens", ARR, toks, STR)
    w.add("tokenizer.ggml.token_type", ARR, types, I32)
    w.add("tokenizer.ggml.merges", ARR, merges, STR)
    w.add("tokenizer.ggml.bos_token_id", U32, bos)
    w.add("tokenizer.ggml.eos_token_id", U32, eos)
    w.add("tokenizer.ggml.add_bos_token", BOOL, True)
    w.add("tokenizer.ggml.add_eos_token", BOOL, False)

    qt = {"f32": GGML_F32, "f16": GGML_F16, "bf16": GGML_BF16, "q8_0": GGML_Q8_0}[wtype]
    for name, arr in W.items():
        is_norm = arr.ndim == 1
        t = GGML_F32 if is_norm else qt
        if t == GGML_Q8_0 and arr.shape[-1] % 32 != 0:
            t = GGML_F16
        suffix = ".bias" if name.endswith("exp_probs_b") else ".weight"
        if name.endswith("attn_kv_b") and layout == "kbvb":
            # as convert_hf_to_gguf.py: view (H, qk_nope+v, kv_lora), split, transpose k part
            kvb = arr.reshape(H, cfg["qk_nope"] + cfg["v_head"], cfg["kv_lora"])
            k_b = np.ascontiguousarray(kvb[:, :cfg["qk_nope"], :].transpose(0, 2, 1))  # (H, kv_lora, qk_nope)
            v_b = np.ascontiguousarray(kvb[:, cfg["qk_nope"]:, :])                     # (H, v, kv_lora)
            base = name[:-len("attn_kv_b")]
            tk = t if (t != GGML_Q8_0 or cfg["qk_nope"] % 32 == 0) else GGML_F16
            tv = t if (t != GGML_Q8_0 or cfg["kv_lora"] % 32 == 0) else GGML_F16
            w.add_tensor(base + "attn_k_b.weight", k_b, tk)
            w.add_tensor(base + "attn_v_b.weight", v_b, tv)
            continue
        w.add_tensor(name + suffix, arr, t)
    w.write(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--configs", default="v3,v2lite,v3mtp")
    ap.add_argument("--layouts", default="kvb,kbvb")
    ap.add_argument("--type", default="f32", choices=["f32", "f16", "bf16", "q8_0"])
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    for name in a.configs.split(","):
        cfg = dict(CONFIGS[name], name=name)
        for layout in a.layouts.split(","):
            suffix = "" if a.type == "f32" else "-" + a.type
            path = os.path.join(a.out_dir, "ds2-%s-%s%s.gguf" % (name, layout, suffix))
            write_model(path, cfg, layout, a.type, a.seed)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
