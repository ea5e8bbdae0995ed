#!/usr/bin/python3
"""Independent PyTorch reference of the DeepSeek-V2/V3 ("deepseek2" GGUF) forward pass.

Written from the DeepSeek-V2/V3 papers, DeepSeek's official inference/model.py and Hugging Face
modeling_deepseek.py, plus llama.cpp's GGUF naming/layout conventions. Not derived from seek's C++.

Naive (expanded) MLA with a causal mask, float64 by default. See README.md in this folder.

CLI:
  /usr/bin/python3 tools/ref/deepseek2_ref.py MODEL.gguf --tokens 0,17,42 [--greedy N]
      [--dtype float64|float32] [--out FILE.json] [--group-score auto|top2|max]

Python:
  import deepseek2_ref
  m = deepseek2_ref.load("model.gguf")          # DeepSeek2Model
  logits = m.forward([0, 17, 42])               # torch tensor (T, n_vocab)
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_read import GGUFFile  # noqa: E402

GATING_SOFTMAX = 1
GATING_SIGMOID = 2


class Config:
    pass


def _scalar_or_layer(v, il=0):
    """Some hparams may be stored per layer (array)."""
    if isinstance(v, list):
        return v[il]
    return v


def read_config(g):
    arch = g.get("general.architecture")
    if arch != "deepseek2":
        raise ValueError("general.architecture is %r, expected 'deepseek2'" % (arch,))
    p = arch + "."

    def key(name, default=None, required=False):
        k = p + name
        if k in g.metadata:
            return g.metadata[k]
        if required:
            raise KeyError("missing metadata key " + k)
        return default

    c = Config()
    c.n_layer_all = int(key("block_count", required=True))
    c.n_nextn = int(key("nextn_predict_layers", 0) or 0)
    c.n_layer = c.n_layer_all - c.n_nextn                  # MTP blocks sit at the end: ignored
    c.n_embd = int(key("embedding_length", required=True))
    c.n_ff = key("feed_forward_length", 0)
    c.n_head = int(_scalar_or_layer(key("attention.head_count", required=True)))
    c.eps = float(key("attention.layer_norm_rms_epsilon", required=True))
    c.q_lora_rank = int(key("attention.q_lora_rank", 0) or 0)
    c.kv_lora_rank = int(key("attention.kv_lora_rank", required=True))
    c.n_rot = int(key("rope.dimension_count", required=True))
    head_k_default = c.n_embd // c.n_head
    if key("attention.key_length_mla") is not None:
        # newer layout: key_length = kv_lora_rank + rope, value_length = kv_lora_rank
        c.qk_head_dim = int(key("attention.key_length_mla"))
        c.v_head_dim = int(key("attention.value_length_mla", required=True))
    else:
        c.qk_head_dim = int(key("attention.key_length", head_k_default))
        c.v_head_dim = int(key("attention.value_length", head_k_default))
    c.qk_nope = c.qk_head_dim - c.n_rot
    c.rope_base = float(key("rope.freq_base", 10000.0))
    c.rope_type = key("rope.scaling.type", "none")
    c.rope_factor = float(key("rope.scaling.factor", 0.0) or 0.0)
    c.rope_orig_ctx = int(key("rope.scaling.original_context_length",
                              key("context_length", 0)) or 0)
    ylm = key("rope.scaling.yarn_log_multiplier")
    # the converter stores 0.1 * mscale_all_dim
    c.mscale_all_dim = None if ylm is None else float(ylm) / 0.1
    c.beta_fast = float(key("rope.scaling.yarn_beta_fast", 32.0))
    c.beta_slow = float(key("rope.scaling.yarn_beta_slow", 1.0))
    c.n_dense_lead = int(key("leading_dense_block_count", 0) or 0)
    c.n_expert = int(key("expert_count", 0) or 0)
    c.n_expert_used = int(_scalar_or_layer(key("expert_used_count", 0) or 0))
    c.n_expert_shared = int(key("expert_shared_count", 0) or 0)
    c.n_ff_exp = int(_scalar_or_layer(key("expert_feed_forward_length", 0) or 0))
    c.expert_weights_scale = float(key("expert_weights_scale", 0.0) or 0.0)
    c.expert_weights_norm = bool(key("expert_weights_norm", False))
    c.gating = int(key("expert_gating_func", 0) or 0)
    if c.gating == 0:
        c.gating = GATING_SOFTMAX          # older V2 files carry no gating key: softmax
    c.n_group = int(key("expert_group_count", 0) or 0)
    c.n_group_used = int(key("expert_group_used_count", 0) or 0)
    return c


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def yarn_inv_freq(c, dtype):
    """Per-pair inverse frequencies (n_rot/2), with YaRN correction when enabled."""
    d = c.n_rot
    i = torch.arange(0, d // 2, dtype=torch.float64)
    freqs = 1.0 / (c.rope_base ** (2.0 * i / d))
    if c.rope_type == "yarn" and c.rope_factor > 1.0:
        def corr_dim(n_rot):
            return d * math.log(c.rope_orig_ctx / (n_rot * 2 * math.pi)) / (2 * math.log(c.rope_base))
        low = max(math.floor(corr_dim(c.beta_fast)), 0)
        high = min(math.ceil(corr_dim(c.beta_slow)), d - 1)
        if high == low:
            high += 0.001
        ramp = torch.clamp((i - low) / (high - low), 0.0, 1.0)   # 0: keep original, 1: interpolate
        smooth = 1.0 - ramp
        freqs = freqs / c.rope_factor * (1.0 - smooth) + freqs * smooth
    elif c.rope_type == "linear" and c.rope_factor > 1.0:
        freqs = freqs / c.rope_factor
    return freqs.to(dtype)


def yarn_get_mscale(scale, mscale):
    if scale <= 1.0:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def apply_rope_interleaved(x, pos, inv_freq, cos_scale=1.0):
    """x: (..., T, n_rot) with adjacent pairs (x[2i], x[2i+1]) rotated by pos*inv_freq[i]."""
    ang = pos.to(inv_freq.dtype)[:, None] * inv_freq[None, :]     # (T, n_rot/2)
    cos = torch.cos(ang) * cos_scale
    sin = torch.sin(ang) * cos_scale
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2)


class RoutingStats:
    def __init__(self):
        self.min_margin = math.inf
        self.min_expert_margin = math.inf
        self.min_group_margin = math.inf
        self.where = None

    def update(self, kind, value, layer, pos):
        if value < self.min_margin:
            self.min_margin = value
            self.where = {"kind": kind, "layer": layer, "position": pos}
        if kind == "expert":
            self.min_expert_margin = min(self.min_expert_margin, value)
        else:
            self.min_group_margin = min(self.min_group_margin, value)


class DeepSeek2Model:
    def __init__(self, path, dtype=torch.float64, group_score="auto", cache_weights=True):
        self.g = GGUFFile(path)
        self.c = read_config(self.g)
        self.dtype = dtype
        self.group_score = group_score
        self.cache_weights = cache_weights
        self._w = {}
        c = self.c
        g = self.g
        # layout detection from tensors (robust against missing/odd metadata)
        self.has_q_lora = "blk.0.attn_q_a.weight" in g
        if not self.has_q_lora and "blk.0.attn_q.weight" not in g:
            raise ValueError("neither attn_q_a nor attn_q present")
        if "blk.0.attn_kv_b.weight" in g:
            self.mla_layout = "kv_b"
        elif "blk.0.attn_k_b.weight" in g and "blk.0.attn_v_b.weight" in g:
            self.mla_layout = "k_b+v_b"
            kb = g.tensors["blk.0.attn_k_b.weight"].dims   # [qk_nope, kv_lora, n_head]
            vb = g.tensors["blk.0.attn_v_b.weight"].dims   # [kv_lora, v_head, n_head]
            if kb != [c.qk_nope, c.kv_lora_rank, c.n_head] or vb != [c.kv_lora_rank, c.v_head_dim, c.n_head]:
                raise ValueError("attn_k_b/attn_v_b dims %s %s disagree with metadata" % (kb, vb))
        else:
            raise ValueError("no attn_kv_b nor attn_k_b/attn_v_b")
        self.tied_output = "output.weight" not in g
        self.n_vocab = g.tensors["token_embd.weight"].dims[1]
        self.inv_freq = yarn_inv_freq(c, torch.float64)
        # attention scale and rope magnitude (YaRN)
        self.kq_scale = 1.0 / math.sqrt(c.qk_head_dim)
        self.rope_mag = 1.0
        if c.rope_type == "yarn" and c.rope_factor > 1.0:
            if c.mscale_all_dim is not None:
                # DeepSeek configs have mscale == mscale_all_dim, so the cos/sin magnitude factor
                # yarn_get_mscale(f, mscale)/yarn_get_mscale(f, mscale_all_dim) is 1.
                m = yarn_get_mscale(c.rope_factor, c.mscale_all_dim)
                self.kq_scale *= m * m
            else:
                # HF semantics for a config without mscale_all_dim (mscale=1, mscale_all_dim=0):
                # cos/sin scaled by 0.1*ln(f)+1, softmax scale untouched. llama.cpp differs here.
                self.rope_mag = yarn_get_mscale(c.rope_factor, 1.0)
                print("warning: YaRN without rope.scaling.yarn_log_multiplier: implementations disagree; "
                      "using HF semantics", file=sys.stderr)

    # ---- weights --------------------------------------------------------------------------------
    def w(self, name):
        t = self._w.get(name)
        if t is None:
            t = torch.from_numpy(np.ascontiguousarray(self.g.tensor(name, np.float64))).to(self.dtype)
            if self.cache_weights:
                self._w[name] = t
        return t

    def has(self, name):
        return name in self.g

    def expert_w(self, name, e):
        key = (name, e)
        t = self._w.get(key)
        if t is None:
            t = torch.from_numpy(np.ascontiguousarray(self.g.tensor_slice(name, e, np.float64))).to(self.dtype)
            if self.cache_weights:
                self._w[key] = t
        return t

    # ---- blocks ---------------------------------------------------------------------------------
    def attention(self, il, x, pos, cache):
        """x: (T, n_embd) normed input for new tokens; pos: (T,) absolute positions.
        cache: dict per layer holding expanded k (S, H, qk) and v (S, H, v) of earlier tokens."""
        c = self.c
        b = "blk.%d." % il
        T = x.shape[0]
        H = c.n_head
        if self.has_q_lora:
            q = x @ self.w(b + "attn_q_a.weight").T
            q = rms_norm(q, self.w(b + "attn_q_a_norm.weight"), c.eps)
            q = q @ self.w(b + "attn_q_b.weight").T
        else:
            q = x @ self.w(b + "attn_q.weight").T
        q = q.view(T, H, c.qk_head_dim)
        q_nope, q_pe = q[..., :c.qk_nope], q[..., c.qk_nope:]
        kv = x @ self.w(b + "attn_kv_a_mqa.weight").T                 # (T, kv_lora + rope)
        ckv = rms_norm(kv[:, :c.kv_lora_rank], self.w(b + "attn_kv_a_norm.weight"), c.eps)
        k_pe = kv[:, c.kv_lora_rank:]                                 # (T, rope), shared by heads
        invf = self.inv_freq.to(self.dtype)
        q_pe = apply_rope_interleaved(q_pe.transpose(0, 1), pos, invf, self.rope_mag).transpose(0, 1)
        k_pe = apply_rope_interleaved(k_pe, pos, invf, self.rope_mag)
        if self.mla_layout == "kv_b":
            # kv_b: (H*(qk_nope+v), kv_lora); per head rows [k_nope | v]
            kvb = (ckv @ self.w(b + "attn_kv_b.weight").T).view(T, H, c.qk_nope + c.v_head_dim)
            k_nope, v = kvb[..., :c.qk_nope], kvb[..., c.qk_nope:]
        else:
            # k_b numpy shape (H, kv_lora, qk_nope) = per head W_k^T;  v_b: (H, v, kv_lora) = W_v
            k_nope = torch.einsum("tc,hcd->thd", ckv, self.w(b + "attn_k_b.weight"))
            v = torch.einsum("tc,hec->the", ckv, self.w(b + "attn_v_b.weight"))
        k = torch.cat((k_nope, k_pe[:, None, :].expand(T, H, c.n_rot)), dim=-1)   # (T, H, qk)
        qf = torch.cat((q_nope, q_pe), dim=-1)
        if cache is not None:
            lc = cache.setdefault(il, {"k": None, "v": None, "pos": None})
            if lc["k"] is not None:
                k = torch.cat((lc["k"], k), 0)
                v = torch.cat((lc["v"], v), 0)
                kpos = torch.cat((lc["pos"], pos), 0)
            else:
                kpos = pos
            lc["k"], lc["v"], lc["pos"] = k, v, kpos
        else:
            kpos = pos
        scores = torch.einsum("thd,shd->hts", qf, k) * self.kq_scale   # (H, T, S)
        mask = kpos[None, :] > pos[:, None]                              # (T, S) future
        scores = scores.masked_fill(mask[None], float("-inf"))
        p = torch.softmax(scores, dim=-1)
        o = torch.einsum("hts,she->the", p, v).reshape(T, H * c.v_head_dim)
        return o @ self.w(b + "attn_output.weight").T

    def dense_ffn(self, il, x):
        b = "blk.%d." % il
        gte = x @ self.w(b + "ffn_gate.weight").T
        up = x @ self.w(b + "ffn_up.weight").T
        return (torch.nn.functional.silu(gte) * up) @ self.w(b + "ffn_down.weight").T

    def route(self, il, x, pos, stats):
        """Returns (indices (T,k), weights (T,k)) and records routing margins."""
        c = self.c
        b = "blk.%d." % il
        logits = x @ self.w(b + "ffn_gate_inp.weight").T              # (T, E)
        if c.gating == GATING_SIGMOID:
            scores = torch.sigmoid(logits)
        elif c.gating == GATING_SOFTMAX:
            scores = torch.softmax(logits, dim=-1)
        else:
            raise ValueError("unsupported expert_gating_func %d" % c.gating)
        has_bias = self.has(b + "exp_probs_b.bias")
        sel = scores + self.w(b + "exp_probs_b.bias") if has_bias else scores.clone()
        T, E = sel.shape
        k = c.n_expert_used
        idx_all = []
        for t in range(T):
            s = sel[t]
            eligible = torch.ones(E, dtype=torch.bool)
            if c.n_group > 1:
                G = c.n_group
                sg = s.view(G, E // G)
                rule = self.group_score
                if rule == "auto":
                    rule = "top2" if has_bias else "max"
                if rule == "top2":
                    gs = sg.topk(min(2, E // G), dim=-1).values.sum(-1)
                else:
                    gs = sg.max(dim=-1).values
                order = torch.argsort(gs, descending=True)
                kept = order[:c.n_group_used]
                dropped = order[c.n_group_used:]
                if stats is not None and len(dropped) > 0:
                    stats.update("group", float(gs[kept[-1]] - gs[dropped].max()), il, int(pos[t]))
                gmask = torch.zeros(G, dtype=torch.bool)
                gmask[kept] = True
                eligible = gmask[:, None].expand(G, E // G).reshape(E)
            s_m = s.masked_fill(~eligible, float("-inf"))
            order = torch.argsort(s_m, descending=True)
            chosen = order[:k]
            rest = order[k:]
            rest = rest[eligible[rest]]
            if stats is not None and len(rest) > 0:
                stats.update("expert", float(s_m[chosen[-1]] - s_m[rest].max()), il, int(pos[t]))
            idx_all.append(chosen)
        idx = torch.stack(idx_all)                                     # (T, k)
        wts = scores.gather(1, idx)                                    # unbiased scores
        if c.expert_weights_norm:
            wts = wts / wts.sum(-1, keepdim=True).clamp(min=6.103515625e-5)
        if c.expert_weights_scale != 0.0:
            wts = wts * c.expert_weights_scale
        return idx, wts

    def moe_ffn(self, il, x, pos, stats):
        c = self.c
        b = "blk.%d." % il
        idx, wts = self.route(il, x, pos, stats)
        out = torch.zeros_like(x)
        for e in torch.unique(idx).tolist():
            rows, slot = (idx == e).nonzero(as_tuple=True)
            xe = x[rows]
            gte = xe @ self.expert_w(b + "ffn_gate_exps.weight", e).T
            up = xe @ self.expert_w(b + "ffn_up_exps.weight", e).T
            ye = (torch.nn.functional.silu(gte) * up) @ self.expert_w(b + "ffn_down_exps.weight", e).T
            out.index_add_(0, rows, ye * wts[rows, slot][:, None])
        if c.n_expert_shared > 0:
            gte = x @ self.w(b + "ffn_gate_shexp.weight").T
            up = x @ self.w(b + "ffn_up_shexp.weight").T
            out = out + (torch.nn.functional.silu(gte) * up) @ self.w(b + "ffn_down_shexp.weight").T
        return out

    # ---- whole model ------------------------------------------------------------------------------
    def forward(self, tokens, start_pos=0, cache=None, stats=None):
        """Logits (T, n_vocab) for every position of `tokens`. With a cache dict, tokens are
        appended after the cached ones (positions start_pos...)."""
        c = self.c
        tok = torch.as_tensor(list(tokens), dtype=torch.long)
        if len(tok) == 0:
            raise ValueError("empty token list")
        if int(tok.min()) < 0 or int(tok.max()) >= self.n_vocab:
            raise ValueError("token id out of range [0, %d)" % self.n_vocab)
        pos = torch.arange(start_pos, start_pos + len(tok), dtype=torch.long)
        x = self.w("token_embd.weight")[tok]
        for il in range(c.n_layer):
            b = "blk.%d." % il
            h = x + self.attention(il, rms_norm(x, self.w(b + "attn_norm.weight"), c.eps), pos, cache)
            hn = rms_norm(h, self.w(b + "ffn_norm.weight"), c.eps)
            if il < c.n_dense_lead:
                x = h + self.dense_ffn(il, hn)
            else:
                x = h + self.moe_ffn(il, hn, pos, stats)
        x = rms_norm(x, self.w("output_norm.weight"), c.eps)
        out_w = self.w("token_embd.weight") if self.tied_output else self.w("output.weight")
        return x @ out_w.T

    def summary(self):
        c = self.c
        d = dict(vars(c))
        d.update({"q_lora": self.has_q_lora, "mla_layout": self.mla_layout, "tied_output": self.tied_output,
                  "n_vocab": self.n_vocab, "kq_scale": self.kq_scale, "rope_mag": self.rope_mag,
                  "group_score": self.group_score})
        return d


def load(path, dtype=torch.float64, **kw):
    return DeepSeek2Model(path, dtype=dtype, **kw)


def top2_gap(logits):
    v = torch.topk(logits, 2).values
    return float(v[0] - v[1])


def run(model, prompt, n_greedy):
    """Prefill + greedy decode with an expanded-KV cache; a final full recompute over
    prompt+generated collects routing margins and checks cache/recompute agreement."""
    cache = {}
    logits = model.forward(prompt, 0, cache)
    last_logits = logits[-1]
    generated, gaps = [], []
    cur = last_logits
    step_logits = []
    for _ in range(n_greedy):
        step_logits.append(cur)
        gaps.append(top2_gap(cur))
        nxt = int(torch.argmax(cur))
        generated.append(nxt)
        if len(generated) < n_greedy:
            cur = model.forward([nxt], len(prompt) + len(generated) - 1, cache)[-1]
    stats = RoutingStats()
    full = model.forward(list(prompt) + generated, 0, None, stats)
    diff = 0.0
    for i, sl in enumerate(step_logits):
        diff = max(diff, float((full[len(prompt) - 1 + i] - sl).abs().max()))
    if not step_logits:
        diff = float((full[len(prompt) - 1] - last_logits).abs().max())
    res = {
        "prompt_tokens": list(prompt),
        "last_logits": [float(v) for v in last_logits],
        "greedy_tokens": generated,
        "min_routing_margin": None if stats.min_margin == math.inf else stats.min_margin,
        "min_expert_margin": None if stats.min_expert_margin == math.inf else stats.min_expert_margin,
        "min_group_margin": None if stats.min_group_margin == math.inf else stats.min_group_margin,
        "min_routing_margin_at": stats.where,
        "min_top2_logit_gap": min(gaps) if gaps else None,
        "per_step_top2_gap": gaps,
        "cache_vs_recompute_max_abs_diff": diff,
        "dtype": str(model.dtype).replace("torch.", ""),
        "config": model.summary(),
    }
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True, help="comma-separated prompt token ids")
    ap.add_argument("--greedy", type=int, default=0, help="number of greedy tokens to generate")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--out", help="write JSON here instead of stdout")
    ap.add_argument("--group-score", choices=["auto", "top2", "max"], default="auto",
                    help="expert-group score: top2 = sum of top-2 (V3, llama.cpp always), max = "
                         "max (official V2 group_limited_greedy); auto = top2 with exp_probs_b, else max")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-cache-weights", action="store_true",
                    help="dequantise weights on every use instead of keeping them (big models)")
    a = ap.parse_args(argv)
    torch.set_num_threads(max(1, a.threads))
    prompt = [int(t) for t in a.tokens.replace(" ", "").split(",") if t != ""]
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    model = load(a.model, dtype=dtype, group_score=a.group_score, cache_weights=not a.no_cache_weights)
    with torch.no_grad():
        res = run(model, prompt, a.greedy)
    s = json.dumps(res)
    if a.out:
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(s)
        os.replace(tmp, a.out)
    else:
        print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
