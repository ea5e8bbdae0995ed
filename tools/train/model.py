"""Small DeepSeek-V3 (MLA + DeepSeekMoE + one MTP module) in PyTorch, following DeepSeek-V3 inference/model.py
and matching llama.cpp's `deepseek2` graph (src/models/deepseek2.cpp) so an exported GGUF reproduces it."""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4000
    dim: int = 192
    n_layers: int = 4            # main layers (MTP block is extra)
    n_dense_layers: int = 1
    n_heads: int = 4
    q_lora_rank: int = 96
    kv_lora_rank: int = 64
    qk_nope_head_dim: int = 32
    qk_rope_head_dim: int = 16
    v_head_dim: int = 32
    inter_dim: int = 512         # dense FFN
    moe_inter_dim: int = 64      # per expert
    n_routed_experts: int = 16
    n_shared_experts: int = 1
    n_activated_experts: int = 4
    n_expert_groups: int = 4
    n_limited_groups: int = 2
    route_scale: float = 2.5
    rope_theta: float = 10000.0
    norm_eps: float = 1e-6
    max_seq_len: int = 256
    n_mtp: int = 1

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, seqlen, device=None):
    d = cfg.qk_rope_head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    t = torch.arange(seqlen, dtype=torch.float64)
    ang = torch.outer(t, inv)                     # [T, d/2]
    return ang.cos().float(), ang.sin().float()


def apply_rope(x, cos, sin):
    """Interleaved (adjacent-pair) rotation as in DeepSeek's view_as_complex / ggml rope NORM mode.
    x: [B, T, H, d]; cos/sin: [T, d/2]."""
    x1 = x[..., 0::2]
    x2 = x[..., 1::2]
    c = cos[None, :, None, :]
    s = sin[None, :, None, :]
    o1 = x1 * c - x2 * s
    o2 = x1 * s + x2 * c
    return torch.stack([o1, o2], dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        H = cfg.n_heads
        self.qk_head_dim = cfg.qk_nope_head_dim + cfg.qk_rope_head_dim
        self.wq_a = nn.Linear(cfg.dim, cfg.q_lora_rank, bias=False)
        self.q_norm = RMSNorm(cfg.q_lora_rank, cfg.norm_eps)
        self.wq_b = nn.Linear(cfg.q_lora_rank, H * self.qk_head_dim, bias=False)
        self.wkv_a = nn.Linear(cfg.dim, cfg.kv_lora_rank + cfg.qk_rope_head_dim, bias=False)
        self.kv_norm = RMSNorm(cfg.kv_lora_rank, cfg.norm_eps)
        # rows per head: [qk_nope | v]  (HF kv_b_proj layout)
        self.wkv_b = nn.Linear(cfg.kv_lora_rank, H * (cfg.qk_nope_head_dim + cfg.v_head_dim), bias=False)
        self.wo = nn.Linear(H * cfg.v_head_dim, cfg.dim, bias=False)
        self.softmax_scale = self.qk_head_dim ** -0.5

    def forward(self, x, cos, sin, mask):
        cfg = self.cfg
        B, T, _ = x.shape
        H = cfg.n_heads
        q = self.wq_b(self.q_norm(self.wq_a(x))).view(B, T, H, self.qk_head_dim)
        q_nope, q_pe = q.split([cfg.qk_nope_head_dim, cfg.qk_rope_head_dim], dim=-1)
        q_pe = apply_rope(q_pe, cos, sin)
        kv = self.wkv_a(x)
        kv_c, k_pe = kv.split([cfg.kv_lora_rank, cfg.qk_rope_head_dim], dim=-1)
        k_pe = apply_rope(k_pe.unsqueeze(2), cos, sin)          # [B,T,1,r]
        kvb = self.wkv_b(self.kv_norm(kv_c)).view(B, T, H, cfg.qk_nope_head_dim + cfg.v_head_dim)
        k_nope, v = kvb.split([cfg.qk_nope_head_dim, cfg.v_head_dim], dim=-1)
        # scores [B,H,T,T]
        s = torch.einsum("bthd,bshd->bhts", q_nope, k_nope) + torch.einsum("bthd,bsd->bhts", q_pe, k_pe[:, :, 0])
        s = s * self.softmax_scale + mask
        p = s.softmax(dim=-1)
        o = torch.einsum("bhts,bshd->bthd", p, v).reshape(B, T, H * cfg.v_head_dim)
        return self.wo(o)


class MLP(nn.Module):
    def __init__(self, dim, inter):
        super().__init__()
        self.w1 = nn.Linear(dim, inter, bias=False)   # gate
        self.w2 = nn.Linear(inter, dim, bias=False)   # down
        self.w3 = nn.Linear(dim, inter, bias=False)   # up

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Gate(nn.Module):
    """V3 router: sigmoid scores, bias (aux-loss-free, not a gradient) used for selection only,
    group-limited routing (group score = sum of top-2 biased scores), weights normalised, times route_scale."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.dim))
        self.register_buffer("bias", torch.zeros(cfg.n_routed_experts))

    def forward(self, x):
        cfg = self.cfg
        scores = F.linear(x.float(), self.weight.float()).sigmoid()      # [N, E]
        original = scores
        sel = scores + self.bias
        if cfg.n_expert_groups > 1:
            g = sel.view(x.size(0), cfg.n_expert_groups, -1)
            gscore = g.topk(2, dim=-1)[0].sum(dim=-1)                       # [N, G]
            gidx = gscore.topk(cfg.n_limited_groups, dim=-1)[1]
            keep = torch.zeros_like(gscore, dtype=torch.bool).scatter_(1, gidx, True)
            sel = g.masked_fill(~keep.unsqueeze(-1), float("-inf")).flatten(1)
        idx = sel.topk(cfg.n_activated_experts, dim=-1)[1]                 # [N, k]
        w = original.gather(1, idx)
        w = w / w.sum(dim=-1, keepdim=True)
        w = w * cfg.route_scale
        return w.type_as(x), idx


class MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        E, D, I = cfg.n_routed_experts, cfg.dim, cfg.moe_inter_dim
        self.gate = Gate(cfg)
        # stacked expert weights, nn.Linear convention [out, in]
        self.w1 = nn.Parameter(torch.empty(E, I, D))
        self.w2 = nn.Parameter(torch.empty(E, D, I))
        self.w3 = nn.Parameter(torch.empty(E, I, D))
        self.shared = MLP(D, cfg.n_shared_experts * I)
        self.register_buffer("load", torch.zeros(E), persistent=False)

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        w, idx = self.gate(x)
        y = torch.zeros_like(x)
        counts = torch.bincount(idx.flatten(), minlength=self.cfg.n_routed_experts)
        if self.training:
            self.load = counts.float()
        flat_idx = idx.flatten()
        order = torch.argsort(flat_idx, stable=True)
        tok = order // self.cfg.n_activated_experts
        wts = w.flatten()[order]
        start = 0
        for e, c in enumerate(counts.tolist()):
            if c == 0:
                continue
            t = tok[start:start + c]
            xe = x.index_select(0, t)
            h = F.silu(xe @ self.w1[e].t()) * (xe @ self.w3[e].t())
            ye = (h @ self.w2[e].t()) * wts[start:start + c, None]
            y.index_add_(0, t, ye)
            start += c
        return (y + self.shared(x)).view(shape)


class Block(nn.Module):
    def __init__(self, cfg, layer_id):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = MLA(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn = MLP(cfg.dim, cfg.inter_dim) if layer_id < cfg.n_dense_layers else MoE(cfg)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask)
        return x + self.ffn(self.ffn_norm(x))


class MTP(nn.Module):
    """One MTP module (V3 paper sec. 2.2), laid out as llama.cpp's graph_mtp expects:
    h' = eh_proj([enorm(Emb(t+1)) ; hnorm(h_t)]), one Block, shared_head_norm, shared output head.
    h_t is the main model's final hidden state *after* the output norm (llama.cpp t_h_nextn)."""

    def __init__(self, cfg, layer_id):
        super().__init__()
        self.enorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.hnorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.eh_proj = nn.Linear(2 * cfg.dim, cfg.dim, bias=False)
        self.block = Block(cfg, layer_id)
        self.shared_head_norm = RMSNorm(cfg.dim, cfg.norm_eps)

    def forward(self, h, e, cos, sin, mask):
        x = self.eh_proj(torch.cat([self.enorm(e), self.hnorm(h)], dim=-1))
        return self.shared_head_norm(self.block(x, cos, sin, mask))


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList([Block(cfg, i) for i in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.mtp = nn.ModuleList([MTP(cfg, cfg.n_layers + i) for i in range(cfg.n_mtp)])
        self.init_weights()

    def init_weights(self):
        std = 0.02
        for n, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, std)
        # scale residual-output projections (GPT-2 style)
        nres = 2 * (self.cfg.n_layers + self.cfg.n_mtp)
        for n, p in self.named_parameters():
            if n.endswith("wo.weight") or n.endswith("w2.weight") or n.endswith(".w2"):
                with torch.no_grad():
                    p.mul_(1.0 / math.sqrt(nres))

    def moe_modules(self):
        return [m for m in self.modules() if isinstance(m, MoE)]

    def forward(self, tokens, mtp=True):
        """tokens [B, T]. Returns (logits [B,T,V], mtp_logits [B,T-1,V] or None);
        mtp_logits[:, t] predicts tokens[:, t+2] from h_t and tokens[:, t+1]."""
        B, T = tokens.shape
        cos, sin = rope_tables(self.cfg, T)
        mask = torch.full((T, T), float("-inf")).triu_(1)
        e = self.embed(tokens)
        h = e
        for layer in self.layers:
            h = layer(h, cos, sin, mask)
        h = self.norm(h)
        self._last_h = h
        logits = self.head(h)
        mtp_logits = None
        if mtp and self.cfg.n_mtp > 0:
            m = self.mtp[0]
            T1 = T - 1
            hm = m(h[:, :T1], e[:, 1:], cos[:T1], sin[:T1], mask[:T1, :T1])
            mtp_logits = self.head(hm)
        return logits, mtp_logits


def count_params(model):
    cfg = model.cfg
    total = sum(p.numel() for p in model.parameters())
    mtp = sum(p.numel() for p in model.mtp.parameters())
    experts = 0
    for m in model.moe_modules():
        experts += m.w1.numel() + m.w2.numel() + m.w3.numel()
    per_expert_frac = cfg.n_activated_experts / cfg.n_routed_experts
    main_experts = sum(m.w1.numel() + m.w2.numel() + m.w3.numel() for l in model.layers for m in [l.ffn] if isinstance(m, MoE))
    main = total - mtp
    active_main = main - main_experts * (1 - per_expert_frac) - model.embed.weight.numel()
    return {"total": total, "main": main, "mtp": mtp, "routed_expert": experts,
            "active_main_per_token_excl_embedding": int(active_main)}
