#!/usr/bin/python3
"""Independent PyTorch reference of the Llama / Qwen2 ("llama" / "qwen2" GGUF) forward pass, float64.

Written from the Llama and Qwen2 equations (pre-norm blocks, RMSNorm, grouped-query attention with scale
1/sqrt(head_dim), rotary embeddings, SwiGLU MLP) and llama.cpp's GGUF conventions, not from seek's C++:
  * tensor names token_embd / blk.N.{attn_norm,attn_q,attn_k,attn_v,attn_output,ffn_norm,ffn_gate,ffn_up,ffn_down}
    / output_norm / output (absent: tied to token_embd); qwen2 adds attn_{q,k,v}.bias;
  * RoPE as llama.cpp applies it per architecture: "llama" rotates adjacent pairs (2i, 2i+1) (its HF converter
    permutes q/k rows so this equals HF's rotate_half), "qwen2" rotates (i, i + n_rot/2) (NeoX);
    angle = pos * freq_scale * base^(-2i/n_rot) / rope_freqs[i] (rope_freqs.weight: Llama-3 factors, optional);
    only the first rope.dimension_count values of a head rotate;
  * query head h reads key/value head h // (n_head / n_head_kv).

CLI:  /usr/bin/python3 tools/ref/llama_ref.py MODEL.gguf --tokens 1,2,3 [--greedy N] [--out FILE.json]
Python:  m = llama_ref.load(path); run(m, ids, n) -> {"last_logits", "greedy_tokens", "min_top2_logit_gap"}
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_read import GGUFFile  # noqa: E402


class LlamaRef:
    def __init__(self, path, dtype=torch.float64):
        f = GGUFFile(path)
        self.arch = f.get("general.architecture")
        if self.arch not in ("llama", "qwen2"):
            raise ValueError(f"{path}: architecture {self.arch!r} is not llama or qwen2")
        p = self.arch + "."
        self.dim = f.get(p + "embedding_length")
        self.n_layers = f.get(p + "block_count")
        self.n_head = f.get(p + "attention.head_count")
        self.n_head_kv = f.get(p + "attention.head_count_kv", self.n_head)
        self.head_dim = f.get(p + "attention.key_length", self.dim // self.n_head)
        self.n_rot = f.get(p + "rope.dimension_count", self.head_dim)
        self.eps = f.get(p + "attention.layer_norm_rms_epsilon")
        base = f.get(p + "rope.freq_base", 10000.0)
        scale = 1.0
        if f.get(p + "rope.scaling.type", "none") == "linear":
            scale = 1.0 / f.get(p + "rope.scaling.factor")

        def t(name):
            return torch.from_numpy(f.tensor(name).copy()).to(dtype)

        self.emb = t("token_embd.weight")
        self.n_vocab = self.emb.shape[0]
        self.out_norm = t("output_norm.weight")
        self.out = t("output.weight") if "output.weight" in f else self.emb
        i = torch.arange(self.n_rot // 2, dtype=torch.float64)
        self.freqs = scale * base ** (-2.0 * i / self.n_rot)
        if "rope_freqs.weight" in f:
            self.freqs = self.freqs / torch.from_numpy(f.tensor("rope_freqs.weight").copy()).to(torch.float64)
        self.layers = []
        for il in range(self.n_layers):
            b = f"blk.{il}."
            L = {k: t(b + k + ".weight") for k in
                 ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]}
            for k in ["attn_q", "attn_k", "attn_v", "attn_output"]:
                L[k + ".bias"] = t(b + k + ".bias") if (b + k + ".bias") in f else None
            self.layers.append(L)
        self.dtype = dtype

    def rmsnorm(self, x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x):  # x: (T, heads, head_dim), positions 0..T-1
        T = x.shape[0]
        ang = torch.arange(T, dtype=torch.float64)[:, None] * self.freqs[None, :]
        cos, sin = torch.cos(ang).to(self.dtype)[:, None, :], torch.sin(ang).to(self.dtype)[:, None, :]
        x = x.clone()
        h = self.n_rot // 2
        if self.arch == "qwen2":
            a, b = x[..., :h].clone(), x[..., h:2 * h].clone()
            x[..., :h], x[..., h:2 * h] = a * cos - b * sin, a * sin + b * cos
        else:
            a, b = x[..., 0:2 * h:2].clone(), x[..., 1:2 * h:2].clone()
            x[..., 0:2 * h:2], x[..., 1:2 * h:2] = a * cos - b * sin, a * sin + b * cos
        return x

    def forward(self, ids):
        """Logits (T, n_vocab) for every position of ids (a full causal recompute)."""
        T = len(ids)
        x = self.emb[torch.tensor(ids)]
        mask = torch.full((T, T), -math.inf, dtype=self.dtype).triu(1)
        group = self.n_head // self.n_head_kv
        for L in self.layers:
            h = self.rmsnorm(x, L["attn_norm"])

            def lin(name, v):
                y = v @ L[name].T
                return y + L[name + ".bias"] if L[name + ".bias"] is not None else y

            q = self.rope(lin("attn_q", h).view(T, self.n_head, self.head_dim))
            k = self.rope(lin("attn_k", h).view(T, self.n_head_kv, self.head_dim))
            v = lin("attn_v", h).view(T, self.n_head_kv, self.head_dim)
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
            s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(self.head_dim) + mask
            o = torch.einsum("hts,shd->thd", torch.softmax(s, -1), v).reshape(T, -1)
            x = x + lin("attn_output", o)
            h = self.rmsnorm(x, L["ffn_norm"])
            g = h @ L["ffn_gate"].T
            x = x + (torch.nn.functional.silu(g) * (h @ L["ffn_up"].T)) @ L["ffn_down"].T
        return self.rmsnorm(x, self.out_norm) @ self.out.T


def load(path, dtype=torch.float64):
    return LlamaRef(path, dtype)


def top2_gap(logits):
    v = torch.topk(logits, 2).values
    return float(v[0] - v[1])


def run(model, prompt, n_greedy):
    """Last-position logits of the prompt and n_greedy greedy tokens (each step a full recompute)."""
    ids = list(prompt)
    with torch.no_grad():
        last = model.forward(ids)[-1]
        cur, out, gaps = last, [], []
        for _ in range(n_greedy):
            gaps.append(top2_gap(cur))
            out.append(int(torch.argmax(cur)))
            if len(out) < n_greedy:
                cur = model.forward(ids + out)[-1]
    return {"prompt_tokens": ids, "last_logits": [float(v) for v in last], "greedy_tokens": out,
            "min_top2_logit_gap": min(gaps) if gaps else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--greedy", type=int, default=0)
    ap.add_argument("--out")
    a = ap.parse_args()
    res = run(load(a.model), [int(x) for x in a.tokens.split(",")], a.greedy)
    s = json.dumps(res)
    if a.out:
        open(a.out, "w").write(s)
    else:
        print(s)


if __name__ == "__main__":
    main()
