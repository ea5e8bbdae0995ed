#!/usr/bin/python3
"""Independent float64 PyTorch reference that runs Hugging Face model folders directly (config.json +
safetensors, sharded through model.safetensors.index.json or a single model.safetensors).

Architectures (config "model_type"), with the semantics of the Hugging Face / DeepSeek inference code:
  deepseek_v3  MLA with q LoRA; RoPE on the rope part rotating adjacent pairs (DeepSeek's inference/model.py;
               HF's modeling_deepseek de-interleaves q and k alike, which gives the same dot products); YaRN
               frequency correction and softmax_scale * mscale(factor, mscale_all_dim)^2; sigmoid scores, the
               e_score_correction_bias for selection only, groups scored by the sum of their top-2 biased
               scores, the best topk_group groups kept, top-k experts, weights = unbiased scores normalised
               (norm_topk_prob) times routed_scaling_factor; shared experts added. The MTP layer(s) at index
               num_hidden_layers are loaded and checked but not used for next-token logits (--mtp prints them).
  deepseek_v2  the same MLA (q_proj when q_lora_rank is null), softmax scores, topk_method greedy (or
               group_limited_greedy: groups scored by their max), weights normalised only when norm_topk_prob,
               otherwise times routed_scaling_factor.
  qwen2        GQA with q/k/v biases, rotate_half RoPE on the weights as stored.
  llama        GQA, rotate_half RoPE, rope_scaling rope_type "llama3" (or "linear").
Weights: F32, F16, BF16 and F8_E4M3 with NAME.weight_scale_inv (128x128 blocks by default, quantization_config
weight_block_size; w = fp8 * scale_inv, partial edge blocks cropped). FP8 decoding by a 256-entry table.

CLI:
  /usr/bin/python3 tools/ref/hf_ref.py DIR --tokens 1,2,3 [--greedy N] [--json] [--out FILE] [--mtp]
      [--dtype float64|float32]
prints one JSON object: logits (last prompt position), greedy (N argmax tokens, each fed back), plus the names
deepseek2_ref.py uses (prompt_tokens, last_logits, greedy_tokens, min_top2_logit_gap, per_step_top2_gap,
min_routing_margin, min_routing_margin_at, min_expert_margin, min_group_margin) and, with --mtp, mtp_logits:
the MTP head's logits for the token after greedy[0], from the last prompt position.

Python:
  import hf_ref; m = hf_ref.load(DIR); res = hf_ref.run(m, ids, n)
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch

# ---------------------------------------------------------------------------------------------- FP8 E4M3


def fp8_e4m3_table():
    """Value of each of the 256 codes: sign bit 7, exponent bits 6..3 (bias 7), mantissa bits 2..0;
    exponent 0 is subnormal (m/8 * 2^-6); 0x7F and 0xFF are NaN; no infinities (the "fn" variant)."""
    t = np.empty(256, dtype=np.float64)
    for code in range(256):
        s = -1.0 if code & 0x80 else 1.0
        e = (code >> 3) & 0xF
        m = code & 0x7
        if e == 0xF and m == 0x7:
            t[code] = np.nan
        elif e == 0:
            t[code] = s * math.ldexp(m / 8.0, -6)
        else:
            t[code] = s * math.ldexp(1.0 + m / 8.0, e - 7)
    return t


FP8_TABLE = fp8_e4m3_table()


def dequant_fp8(codes, scale_inv, block=(128, 128)):
    """codes (rows, cols) uint8, scale_inv (ceil(rows/br), ceil(cols/bc)) -> float64 (rows, cols)."""
    rows, cols = codes.shape
    br, bc = block
    if scale_inv.shape != (-(-rows // br), -(-cols // bc)):
        raise ValueError(f"weight_scale_inv shape {scale_inv.shape} does not fit a {rows}x{cols} weight "
                         f"in {br}x{bc} blocks")
    s = np.repeat(np.repeat(scale_inv.astype(np.float64), br, axis=0), bc, axis=1)[:rows, :cols]
    return FP8_TABLE[codes] * s


# ---------------------------------------------------------------------------------------------- safetensors

_DT = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "F8_E4M3": "u1", "I64": "<i8", "I32": "<i4",
       "U8": "u1", "I8": "i1"}


class SafeTensorsFile:
    def __init__(self, path):
        self.path = path
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            if n > size - 8:
                raise ValueError(f"{path}: header length {n} beyond the file")
            self.header = json.loads(f.read(n).decode("utf-8"))
        self.meta = self.header.pop("__metadata__", {})
        self.data_start = 8 + n
        self.mm = np.memmap(path, dtype=np.uint8, mode="r")
        for name, info in self.header.items():
            a, b = info["data_offsets"]
            want = np.dtype(_DT[info["dtype"]]).itemsize * int(np.prod(info["shape"], dtype=np.int64))
            if b - a != want or self.data_start + b > size:
                raise ValueError(f"{path}: tensor {name} has a bad extent")

    def raw(self, name):
        info = self.header[name]
        a, b = info["data_offsets"]
        buf = self.mm[self.data_start + a:self.data_start + b]
        return info["dtype"], np.frombuffer(buf, dtype=np.dtype(_DT[info["dtype"]])).reshape(info["shape"])


class Checkpoint:
    """All tensors of a folder: model.safetensors.index.json (shards) or one model.safetensors."""

    def __init__(self, folder, block=(128, 128)):
        self.block = block
        idx = os.path.join(folder, "model.safetensors.index.json")
        self.where = {}
        if os.path.exists(idx):
            with open(idx) as f:
                index = json.load(f)
            files = {}
            for name, fn in index["weight_map"].items():
                if fn not in files:
                    files[fn] = SafeTensorsFile(os.path.join(folder, fn))
                if name not in files[fn].header:
                    raise ValueError(f"index maps {name} to {fn}, which does not hold it")
                self.where[name] = files[fn]
            self.total_size = index.get("metadata", {}).get("total_size")
        else:
            single = os.path.join(folder, "model.safetensors")
            if not os.path.exists(single):
                raise FileNotFoundError(f"{folder}: neither model.safetensors.index.json nor model.safetensors")
            st = SafeTensorsFile(single)
            self.where = {name: st for name in st.header}

    def __contains__(self, name):
        return name in self.where

    def names(self):
        return list(self.where)

    def dtype(self, name):
        return self.where[name].header[name]["dtype"]

    def get(self, name):
        """float64 numpy array; FP8 weights multiplied by their weight_scale_inv blocks."""
        dt, a = self.where[name].raw(name)
        if dt == "BF16":
            return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        if dt == "F8_E4M3":
            sname = name[:-len("weight")] + "weight_scale_inv" if name.endswith("weight") else name + "_scale_inv"
            if sname not in self.where:
                raise ValueError(f"FP8 tensor {name} has no {sname}")
            return dequant_fp8(a, self.get(sname), self.block)
        return a.astype(np.float64)


# ---------------------------------------------------------------------------------------------- common math

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def swiglu(x, gate, up, down):
    return (torch.nn.functional.silu(x @ gate.T) * (x @ up.T)) @ down.T


def rope_pairs(x, pos, inv_freq):
    """Rotates adjacent pairs (x[2i], x[2i+1]) by pos * inv_freq[i]; x (..., T, d)."""
    ang = pos.to(torch.float64)[:, None] * inv_freq[None, :]
    cos, sin = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


def rope_half(x, pos, inv_freq):
    """rotate_half convention: (x[i], x[i + d/2]) rotate together; x (..., T, d)."""
    ang = pos.to(torch.float64)[:, None] * inv_freq[None, :]
    cos, sin = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)


def yarn_mscale(factor, m):
    return 1.0 if factor <= 1 else 0.1 * m * math.log(factor) + 1.0


def yarn_inv_freq(dim, base, rs):
    """DeepSeek YaRN: ramp between interpolated (freq / factor) and original frequencies."""
    i = torch.arange(0, dim // 2, dtype=torch.float64)
    extra = 1.0 / base ** (2 * i / dim)
    inter = extra / rs["factor"]
    orig = rs["original_max_position_embeddings"]

    def corr(rot):
        return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(corr(rs.get("beta_fast", 32))), 0)
    high = min(math.ceil(corr(rs.get("beta_slow", 1))), dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((i - low) / (high - low), 0, 1)       # 0 at high frequencies: keep them
    return inter * ramp + extra * (1 - ramp)


def llama3_inv_freq(inv_freq, rs):
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    out = torch.where(wavelen > old / lo, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - lo) / (hi - lo)
    mid = (wavelen >= old / hi) & (wavelen <= old / lo)
    return torch.where(mid, (1 - smooth) * inv_freq / factor + smooth * inv_freq, out)


class Stats:
    def __init__(self):
        self.min_margin = math.inf
        self.min_expert = math.inf
        self.min_group = math.inf
        self.where = None

    def update(self, kind, v, layer, pos):
        if v < self.min_margin:
            self.min_margin, self.where = v, {"kind": kind, "layer": layer, "position": pos}
        if kind == "expert":
            self.min_expert = min(self.min_expert, v)
        else:
            self.min_group = min(self.min_group, v)


def _fin(v):
    return None if v == math.inf else v


# ---------------------------------------------------------------------------------------------- models

class HFModel:
    def __init__(self, folder, dtype=torch.float64):
        with open(os.path.join(folder, "config.json")) as f:
            self.cfg = json.load(f)
        c = self.cfg
        self.type = c["model_type"]
        if self.type not in ("deepseek_v3", "deepseek_v2", "qwen2", "llama"):
            raise ValueError(f"{folder}: model_type {self.type!r} is not supported")
        q = c.get("quantization_config") or {}
        block = tuple(q.get("weight_block_size", (128, 128)))
        self.ck = Checkpoint(folder, block)
        self.dtype = dtype
        self._cache = {}
        self.n_vocab = c["vocab_size"]
        self.eps = c["rms_norm_eps"]
        self.n_layer = c["num_hidden_layers"]
        self.deepseek = self.type.startswith("deepseek")
        self.has_fp8 = any(self.ck.dtype(n) == "F8_E4M3" for n in self.ck.names())
        rs = c.get("rope_scaling") or None
        if self.deepseek:
            self.n_mtp = c.get("num_nextn_predict_layers", 0) or 0
            for il in range(self.n_layer, self.n_layer + self.n_mtp):
                for part in ("embed_tokens", "enorm", "hnorm", "eh_proj", "shared_head.norm", "shared_head.head",
                             "input_layernorm", "post_attention_layernorm", "self_attn.kv_b_proj"):
                    if f"model.layers.{il}.{part}.weight" not in self.ck:
                        raise ValueError(f"MTP layer {il}: model.layers.{il}.{part}.weight is missing")
            self.qk_nope, self.qk_rope = c["qk_nope_head_dim"], c["qk_rope_head_dim"]
            self.v_head = c["v_head_dim"]
            self.softmax_scale = (self.qk_nope + self.qk_rope) ** -0.5
            if rs:
                self.inv_freq = yarn_inv_freq(self.qk_rope, c["rope_theta"], rs)
                mad = rs.get("mscale_all_dim", 0)
                if mad:
                    m = yarn_mscale(rs["factor"], mad)
                    self.softmax_scale *= m * m
                # cos/sin carry mscale(mscale)/mscale(mscale_all_dim): 1 for every DeepSeek config
                self.rope_mag = yarn_mscale(rs["factor"], rs.get("mscale", 1)) / yarn_mscale(rs["factor"], mad) \
                    if mad else yarn_mscale(rs["factor"], rs.get("mscale", 1))
            else:
                i = torch.arange(0, self.qk_rope // 2, dtype=torch.float64)
                self.inv_freq = 1.0 / c["rope_theta"] ** (2 * i / self.qk_rope)
                self.rope_mag = 1.0
        else:
            self.n_mtp = 0
            self.head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
            i = torch.arange(0, self.head_dim // 2, dtype=torch.float64)
            inv = 1.0 / c.get("rope_theta", 10000.0) ** (2 * i / self.head_dim)
            if rs:
                kind = rs.get("rope_type", rs.get("type"))
                if kind == "llama3":
                    inv = llama3_inv_freq(inv, rs)
                elif kind == "linear":
                    inv = inv / rs["factor"]
                elif kind not in (None, "default"):
                    raise ValueError(f"rope_scaling type {kind!r} is not supported")
            self.inv_freq = inv
        self.tied = c.get("tie_word_embeddings", False) or "lm_head.weight" not in self.ck

    def w(self, name):
        t = self._cache.get(name)
        if t is None:
            t = torch.from_numpy(self.ck.get(name)).to(self.dtype)
            self._cache[name] = t
        return t

    def has(self, name):
        return name in self.ck

    # ---- DeepSeek blocks ----
    def mla(self, p, x, pos, lc):
        c = self.cfg
        T, H = x.shape[0], c["num_attention_heads"]
        a = p + "self_attn."
        if c.get("q_lora_rank"):
            q = rms_norm(x @ self.w(a + "q_a_proj.weight").T, self.w(a + "q_a_layernorm.weight"), self.eps)
            q = q @ self.w(a + "q_b_proj.weight").T
        else:
            q = x @ self.w(a + "q_proj.weight").T
        q = q.view(T, H, self.qk_nope + self.qk_rope)
        kv = x @ self.w(a + "kv_a_proj_with_mqa.weight").T
        r = c["kv_lora_rank"]
        ckv = rms_norm(kv[:, :r], self.w(a + "kv_a_layernorm.weight"), self.eps)
        k_pe = kv[:, r:]
        kvb = (ckv @ self.w(a + "kv_b_proj.weight").T).view(T, H, self.qk_nope + self.v_head)
        k_nope, v = kvb[..., :self.qk_nope], kvb[..., self.qk_nope:]
        q_pe = rope_pairs(q[..., self.qk_nope:].transpose(0, 1), pos, self.inv_freq).transpose(0, 1) * self.rope_mag
        k_pe = rope_pairs(k_pe, pos, self.inv_freq) * self.rope_mag
        qf = torch.cat((q[..., :self.qk_nope], q_pe), -1)
        k = torch.cat((k_nope, k_pe[:, None, :].expand(T, H, self.qk_rope)), -1)
        k, v, kpos = self._append(lc, k, v, pos)
        s = torch.einsum("thd,shd->hts", qf, k) * self.softmax_scale
        s = s.masked_fill((kpos[None, :] > pos[:, None])[None], float("-inf"))
        o = torch.einsum("hts,she->the", torch.softmax(s, -1), v).reshape(T, H * self.v_head)
        return o @ self.w(a + "o_proj.weight").T

    @staticmethod
    def _append(lc, k, v, pos):
        if lc is None:
            return k, v, pos
        if "k" in lc:
            k, v, pos_all = torch.cat((lc["k"], k)), torch.cat((lc["v"], v)), torch.cat((lc["pos"], pos))
        else:
            pos_all = pos
        lc["k"], lc["v"], lc["pos"] = k, v, pos_all
        return k, v, pos_all

    def moe(self, p, il, x, pos, stats):
        c = self.cfg
        m = p + "mlp."
        E, k = c["n_routed_experts"], c["num_experts_per_tok"]
        logits = x @ self.w(m + "gate.weight").T
        func = c.get("scoring_func", "softmax")
        scores = torch.sigmoid(logits) if func == "sigmoid" else torch.softmax(logits, -1)
        method = c.get("topk_method", "greedy")
        bias = self.w(m + "gate.e_score_correction_bias") if method == "noaux_tc" else None
        sel = scores + bias if bias is not None else scores
        G, keepg = c.get("n_group") or 1, c.get("topk_group") or 1
        T = x.shape[0]
        chosen = []
        for t in range(T):
            s = sel[t]
            eligible = torch.ones(E, dtype=torch.bool)
            if method in ("noaux_tc", "group_limited_greedy") and G > 1:
                sg = s.view(G, E // G)
                gs = sg.topk(2, -1).values.sum(-1) if method == "noaux_tc" else sg.max(-1).values
                order = torch.argsort(gs, descending=True)
                if stats is not None and keepg < G:
                    stats.update("group", float(gs[order[keepg - 1]] - gs[order[keepg]]), il, int(pos[t]))
                gm = torch.zeros(G, dtype=torch.bool)
                gm[order[:keepg]] = True
                eligible = gm[:, None].expand(G, E // G).reshape(E)
            sm = s.masked_fill(~eligible, float("-inf"))
            order = torch.argsort(sm, descending=True)
            if stats is not None and int(eligible.sum()) > k:
                stats.update("expert", float(sm[order[k - 1]] - sm[order[k]]), il, int(pos[t]))
            chosen.append(order[:k])
        idx = torch.stack(chosen)
        wts = scores.gather(1, idx)
        if c.get("norm_topk_prob") and k > 1:
            wts = wts / (wts.sum(-1, keepdim=True) + 1e-20)
            if self.type == "deepseek_v3":
                wts = wts * c.get("routed_scaling_factor", 1.0)
        else:
            wts = wts * c.get("routed_scaling_factor", 1.0)
        out = torch.zeros_like(x)
        for e in range(E):
            rows, slot = torch.nonzero(idx == e, as_tuple=True)
            if len(rows) == 0:
                continue
            x_e = f"{m}experts.{e}."
            y = swiglu(x[rows], self.w(x_e + "gate_proj.weight"), self.w(x_e + "up_proj.weight"),
                       self.w(x_e + "down_proj.weight"))
            out.index_add_(0, rows, y * wts[rows, slot][:, None])
        if c.get("n_shared_experts"):
            s = m + "shared_experts."
            out = out + swiglu(x, self.w(s + "gate_proj.weight"), self.w(s + "up_proj.weight"),
                               self.w(s + "down_proj.weight"))
        return out

    def deepseek_layer(self, il, x, pos, lc, stats):
        c = self.cfg
        p = f"model.layers.{il}."
        x = x + self.mla(p, rms_norm(x, self.w(p + "input_layernorm.weight"), self.eps), pos, lc)
        h = rms_norm(x, self.w(p + "post_attention_layernorm.weight"), self.eps)
        if c.get("n_routed_experts") and il >= c.get("first_k_dense_replace", 0) \
                and il % c.get("moe_layer_freq", 1) == 0:
            return x + self.moe(p, il, h, pos, stats)
        return x + self.mlp(p, h)

    def mlp(self, p, h):
        m = p + "mlp."
        return swiglu(h, self.w(m + "gate_proj.weight"), self.w(m + "up_proj.weight"), self.w(m + "down_proj.weight"))

    # ---- Qwen2 / Llama block ----
    def dense_layer(self, il, x, pos, lc):
        c = self.cfg
        p = f"model.layers.{il}."
        a = p + "self_attn."
        T, H, KV, hd = x.shape[0], c["num_attention_heads"], c["num_key_value_heads"], self.head_dim
        h = rms_norm(x, self.w(p + "input_layernorm.weight"), self.eps)

        def proj(nm):
            y = h @ self.w(a + nm + ".weight").T
            return y + self.w(a + nm + ".bias") if self.has(a + nm + ".bias") else y

        q = rope_half(proj("q_proj").view(T, H, hd).transpose(0, 1), pos, self.inv_freq)        # (H, T, hd)
        k = rope_half(proj("k_proj").view(T, KV, hd).transpose(0, 1), pos, self.inv_freq)
        v = proj("v_proj").view(T, KV, hd)
        k, v, kpos = self._append(lc, k.transpose(0, 1), v, pos)                                 # (S, KV, hd)
        g = H // KV
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        s = torch.einsum("htd,shd->hts", q, k) / math.sqrt(hd)
        s = s.masked_fill((kpos[None, :] > pos[:, None])[None], float("-inf"))
        o = torch.einsum("hts,shd->thd", torch.softmax(s, -1), v).reshape(T, H * hd)
        o = o @ self.w(a + "o_proj.weight").T
        if self.has(a + "o_proj.bias"):
            o = o + self.w(a + "o_proj.bias")
        x = x + o
        h = rms_norm(x, self.w(p + "post_attention_layernorm.weight"), self.eps)
        return x + self.mlp(p, h)

    # ---- whole model ----
    def forward(self, ids, start=0, cache=None, stats=None, return_hidden=False):
        """Logits (T, vocab) of ids at positions start..; cache: dict carried between calls."""
        pos = torch.arange(start, start + len(ids))
        x = self.w("model.embed_tokens.weight")[torch.tensor(ids)]
        for il in range(self.n_layer):
            lc = None if cache is None else cache.setdefault(il, {})
            x = self.deepseek_layer(il, x, pos, lc, stats) if self.deepseek else self.dense_layer(il, x, pos, lc)
        head = self.w("model.embed_tokens.weight") if self.tied else self.w("lm_head.weight")
        logits = rms_norm(x, self.w("model.norm.weight"), self.eps) @ head.T
        return (logits, x) if return_hidden else logits

    def mtp_logits(self, hidden, next_ids, start=0):
        """MTP module 0: position i combines the main model's last hidden state at i (before model.norm) with the
        embedding of token i+1: eh_proj([enorm(emb); hnorm(h)]), one decoder layer, shared_head. Logits (T, V)
        predict token i+2."""
        il = self.n_layer
        p = f"model.layers.{il}."
        pos = torch.arange(start, start + len(next_ids))
        e = rms_norm(self.w(p + "embed_tokens.weight")[torch.tensor(next_ids)], self.w(p + "enorm.weight"), self.eps)
        h = rms_norm(hidden, self.w(p + "hnorm.weight"), self.eps)
        x = torch.cat((e, h), -1) @ self.w(p + "eh_proj.weight").T
        x = self.deepseek_layer(il, x, pos, None, None)
        return rms_norm(x, self.w(p + "shared_head.norm.weight"), self.eps) @ self.w(p + "shared_head.head.weight").T


def load(folder, dtype=torch.float64):
    return HFModel(folder, dtype)


def top2_gap(v):
    t = torch.topk(v, 2).values
    return float(t[0] - t[1])


def run(model, prompt, n_greedy, mtp=False, check_cache=False):
    ids = list(prompt)
    stats = Stats() if model.deepseek else None
    with torch.no_grad():
        cache = {}
        logits, hidden = model.forward(ids, 0, cache, stats, return_hidden=True)
        last = logits[-1]
        cur, out, gaps = last, [], []
        for _ in range(n_greedy):
            gaps.append(top2_gap(cur))
            out.append(int(torch.argmax(cur)))
            if len(out) < n_greedy:
                cur = model.forward([out[-1]], len(ids) + len(out) - 1, cache, stats)[-1]
        res = {"logits": [float(v) for v in last], "greedy": out, "prompt_tokens": ids,
               "last_logits": [float(v) for v in last], "greedy_tokens": out,
               "min_top2_logit_gap": min(gaps) if gaps else None, "per_step_top2_gap": gaps,
               "dtype": str(model.dtype).replace("torch.", ""), "model_type": model.type, "fp8": model.has_fp8}
        if stats is not None:
            res.update({"min_routing_margin": _fin(stats.min_margin), "min_routing_margin_at": stats.where,
                        "min_expert_margin": _fin(stats.min_expert), "min_group_margin": _fin(stats.min_group)})
        else:
            res["min_routing_margin"] = None
        if check_cache and out:
            full = model.forward(ids + out[:-1])[-1]
            res["cache_vs_recompute_max_abs_diff"] = float((full - cur).abs().max())
        if mtp:
            if not model.n_mtp:
                raise ValueError("the model has no MTP layer (num_nextn_predict_layers = 0)")
            nxt = ids[1:] + [int(torch.argmax(last))]
            res["mtp_logits"] = [float(v) for v in model.mtp_logits(hidden, nxt)[-1]]
            res["mtp_input_token"] = nxt[-1]
    return res


def main():
    ap = argparse.ArgumentParser(description="float64 reference for Hugging Face model folders")
    ap.add_argument("model", help="folder with config.json and safetensors")
    ap.add_argument("--tokens", required=True, help="prompt ids, comma-separated")
    ap.add_argument("--greedy", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print JSON (the default; accepted for symmetry)")
    ap.add_argument("--out", help="write the JSON here (through a temporary file and a rename)")
    ap.add_argument("--mtp", action="store_true", help="add mtp_logits (DeepSeek-V3 MTP head)")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    m = load(a.model, getattr(torch, a.dtype))
    res = run(m, [int(t) for t in a.tokens.split(",")], a.greedy, mtp=a.mtp)
    s = json.dumps(res)
    if a.out:
        with open(a.out + ".tmp", "w") as f:
            f.write(s)
        os.replace(a.out + ".tmp", a.out)
    else:
        print(s)


if __name__ == "__main__":
    main()
