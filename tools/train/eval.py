#!/usr/bin/env python3
"""Held-out evaluation of seek-tiny-v3, computed exactly like llama.cpp's llama-perplexity:
tokenize the whole text with BOS (no special-token parsing), n_chunks = floor(n_tokens/ctx), each chunk's first
token replaced by BOS, score positions ctx/2 .. ctx-2 (predicting the next token), ppl = exp(mean nll).
Also the MTP head's next-next-token accuracy (position t predicts token t+2 from h_t and token t+1) over the
same positions, and how often the MTP draft equals the main model's greedy choice at t+1 (draft acceptance).

  /usr/bin/python3 tools/train/eval.py [--model models/seek-tiny-v3.gguf | --model tools/train/out/final.pt]
                                       [--file tools/train/out/heldout.txt] [--ctx 256] [--chunks N]
Loads weights (and the vocabulary) from the GGUF, so it evaluates exactly the shipped F16 weights. Prints JSON.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import common
from bpe import Tokenizer
from gguf_writer import read_gguf
from model import Config, Transformer


def load_gguf_model(path):
    kv, ts = read_gguf(path)
    A = "deepseek2."
    L = kv[A + "block_count"] - kv[A + "nextn_predict_layers"]
    H = kv[A + "attention.head_count"]
    rope = kv[A + "rope.dimension_count"]
    cfg = Config(vocab_size=len(kv["tokenizer.ggml.tokens"]), dim=kv[A + "embedding_length"], n_layers=L,
                 n_dense_layers=kv[A + "leading_dense_block_count"], n_heads=H,
                 q_lora_rank=kv[A + "attention.q_lora_rank"], kv_lora_rank=kv[A + "attention.kv_lora_rank"],
                 qk_nope_head_dim=kv[A + "attention.key_length_mla"] - rope, qk_rope_head_dim=rope,
                 v_head_dim=kv[A + "attention.value_length_mla"], inter_dim=kv[A + "feed_forward_length"],
                 moe_inter_dim=kv[A + "expert_feed_forward_length"], n_routed_experts=kv[A + "expert_count"],
                 n_shared_experts=kv[A + "expert_shared_count"], n_activated_experts=kv[A + "expert_used_count"],
                 n_expert_groups=kv[A + "expert_group_count"], n_limited_groups=kv[A + "expert_group_used_count"],
                 route_scale=kv[A + "expert_weights_scale"], rope_theta=kv[A + "rope.freq_base"],
                 norm_eps=kv[A + "attention.layer_norm_rms_epsilon"], max_seq_len=kv[A + "context_length"],
                 n_mtp=kv[A + "nextn_predict_layers"])
    g = lambda n: torch.from_numpy(np.array(ts[n], dtype=np.float32))
    sd = {"embed.weight": g("token_embd.weight"), "norm.weight": g("output_norm.weight"), "head.weight": g("output.weight")}

    def block(i, p):
        b = f"blk.{i}."
        sd[p + "attn_norm.weight"] = g(b + "attn_norm.weight")
        sd[p + "attn.wq_a.weight"] = g(b + "attn_q_a.weight")
        sd[p + "attn.q_norm.weight"] = g(b + "attn_q_a_norm.weight")
        sd[p + "attn.wq_b.weight"] = g(b + "attn_q_b.weight")
        sd[p + "attn.wkv_a.weight"] = g(b + "attn_kv_a_mqa.weight")
        sd[p + "attn.kv_norm.weight"] = g(b + "attn_kv_a_norm.weight")
        kb = g(b + "attn_k_b.weight").transpose(1, 2)       # [H, nope, kvr]
        vb = g(b + "attn_v_b.weight")                       # [H, v, kvr]
        sd[p + "attn.wkv_b.weight"] = torch.cat([kb, vb], 1).reshape(-1, cfg.kv_lora_rank)
        sd[p + "attn.wo.weight"] = g(b + "attn_output.weight")
        sd[p + "ffn_norm.weight"] = g(b + "ffn_norm.weight")
        if i < cfg.n_dense_layers:
            sd[p + "ffn.w1.weight"] = g(b + "ffn_gate.weight")
            sd[p + "ffn.w2.weight"] = g(b + "ffn_down.weight")
            sd[p + "ffn.w3.weight"] = g(b + "ffn_up.weight")
        else:
            sd[p + "ffn.gate.weight"] = g(b + "ffn_gate_inp.weight")
            sd[p + "ffn.gate.bias"] = g(b + "exp_probs_b.bias")
            sd[p + "ffn.w1"] = g(b + "ffn_gate_exps.weight")
            sd[p + "ffn.w2"] = g(b + "ffn_down_exps.weight")
            sd[p + "ffn.w3"] = g(b + "ffn_up_exps.weight")
            sd[p + "ffn.shared.w1.weight"] = g(b + "ffn_gate_shexp.weight")
            sd[p + "ffn.shared.w2.weight"] = g(b + "ffn_down_shexp.weight")
            sd[p + "ffn.shared.w3.weight"] = g(b + "ffn_up_shexp.weight")

    for i in range(L):
        block(i, f"layers.{i}.")
    for j in range(cfg.n_mtp):
        i, p = L + j, f"mtp.{j}."
        block(i, p + "block.")
        sd[p + "eh_proj.weight"] = g(f"blk.{i}.nextn.eh_proj.weight")
        sd[p + "enorm.weight"] = g(f"blk.{i}.nextn.enorm.weight")
        sd[p + "hnorm.weight"] = g(f"blk.{i}.nextn.hnorm.weight")
        sd[p + "shared_head_norm.weight"] = g(f"blk.{i}.nextn.shared_head_norm.weight")
    model = Transformer(cfg)
    model.load_state_dict(sd, strict=True)
    tok = Tokenizer({"tokens": kv["tokenizer.ggml.tokens"], "token_types": kv["tokenizer.ggml.token_type"],
                     "merges": kv["tokenizer.ggml.merges"], "bos_id": kv["tokenizer.ggml.bos_token_id"],
                     "eos_id": kv["tokenizer.ggml.eos_token_id"], "pad_id": kv["tokenizer.ggml.padding_token_id"]})
    return model, tok


def load_model(path, tok_path):
    if path.endswith(".gguf"):
        return load_gguf_model(path)
    ck = torch.load(path, map_location="cpu")
    model = Transformer(Config(**ck["config"]))
    model.load_state_dict(ck["model"])
    return model, Tokenizer(tok_path)


@torch.no_grad()
def evaluate(model, tok, text, ctx, n_chunks=-1, batch=4):
    model.eval()
    ids = tok.encode(text, add_bos=True, parse_special=False)
    n_max = len(ids) // ctx
    n = n_max if n_chunks < 0 else min(n_chunks, n_max)
    first = ctx // 2
    nll = 0.0
    cnt = 0
    mtp_ok = mtp_n = main_ok = accept = 0
    for c0 in range(0, n, batch):
        rows = []
        for c in range(c0, min(n, c0 + batch)):
            r = ids[c * ctx:(c + 1) * ctx]
            r[0] = tok.bos_id
            rows.append(r)
        x = torch.tensor(rows, dtype=torch.long)
        logits, mlog = model(x, mtp=True)
        lp = F.log_softmax(logits[:, first:ctx - 1].double(), -1)
        tgt = x[:, first + 1:ctx]
        nll += -lp.gather(-1, tgt.unsqueeze(-1)).sum().item()
        cnt += tgt.numel()
        main_pred = logits.argmax(-1)                              # [B, T] prediction of token t+1
        main_ok += (main_pred[:, first:ctx - 1] == tgt).sum().item()
        if mlog is not None:
            mp = mlog[:, first:ctx - 2].argmax(-1)                  # prediction of token t+2
            mt = x[:, first + 2:ctx]
            mtp_ok += (mp == mt).sum().item()
            accept += (mp == main_pred[:, first + 1:ctx - 1]).sum().item()
            mtp_n += mt.numel()
    res = {"ctx": ctx, "n_tokens": len(ids), "n_chunks": n, "n_scored": cnt, "nll_sum": nll,
           "ppl": math.exp(nll / cnt), "next_token_acc": main_ok / cnt}
    if mtp_n:
        res.update(mtp_next_next_token_acc=mtp_ok / mtp_n, mtp_n=mtp_n, mtp_draft_equals_main_greedy=accept / mtp_n)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--model", default=os.path.join(common.REPO_ROOT, "models", "seek-tiny-v3.gguf"))
    ap.add_argument("--tokenizer", default=os.path.join(common.DEFAULT_OUT, "tokenizer.json"), help="for .pt models")
    ap.add_argument("--file", default=None, help="text file (default: the held-out split, regenerated from --data)")
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--chunks", type=int, default=-1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.file:
        with open(a.file, "r", encoding="utf-8") as f:
            text = f.read()
        if text.endswith("\n"):      # llama.cpp's -f drops one trailing newline
            text = text[:-1]
        src = a.file
    else:
        text = common.heldout_text(common.data_dir(a.data))
        if text.endswith("\n"):
            text = text[:-1]
        src = "held-out split"
    model, tok = load_model(a.model, a.tokenizer)
    res = evaluate(model, tok, text, a.ctx, a.chunks)
    res = {"model": os.path.basename(a.model), "text": src, **res}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
