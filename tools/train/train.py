#!/usr/bin/env python3
"""Trains seek-tiny-v3 (small DeepSeek-V3: MLA + DeepSeekMoE + 1 MTP module) on the training split.

  nice -n 19 /usr/bin/python3 tools/train/train.py [--data ../shared/data] [--out tools/train/out] [--resume]

Deterministic given the seed (single process, 2 threads). Checkpoints to OUT/ckpt.pt every --ckpt-every steps
and writes OUT/final.pt at the end. Logs train/held-out loss to stdout (and OUT/train_log.jsonl).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import common
from bpe import Tokenizer
from model import Config, Transformer, count_params, rope_tables


def tokenize_corpus(tok, data, out):
    path = os.path.join(out, "train_ids.npy")
    if os.path.exists(path):
        return np.load(path)
    train, _ = common.load_splits(data)
    ids = []
    for name, text in train:
        t0 = time.time()
        ids.append(tok.bos_id)
        ids.extend(tok.encode(text, add_bos=False, parse_special=False))
        ids.append(tok.eos_id)
        print(f"tokenized {name}: {len(ids)} tokens so far ({time.time()-t0:.1f}s)", flush=True)
    arr = np.array(ids, dtype=np.int16 if len(tok.tokens) < 32768 else np.int32)
    np.save(path + ".tmp.npy", arr)
    os.replace(path + ".tmp.npy", path)
    return arr


def heldout_batches(tok, data, ctx, n_chunks):
    """llama-perplexity style chunks of the held-out text (BOS-prefixed tokenisation, first token -> BOS)."""
    ids = tok.encode(common.heldout_text(data), add_bos=True, parse_special=False)
    n = min(len(ids) // ctx, n_chunks)
    x = torch.tensor([ids[i * ctx:(i + 1) * ctx] for i in range(n)], dtype=torch.long)
    x[:, 0] = tok.bos_id
    return x


@torch.no_grad()
def eval_heldout(model, x, ctx):
    model.eval()
    nll, cnt, mnll, mcnt = 0.0, 0, 0.0, 0
    first = ctx // 2
    for i in range(0, x.size(0), 8):
        b = x[i:i + 8]
        lg, ml = model(b, mtp=True)
        lp = F.log_softmax(lg[:, first:ctx - 1].float(), -1)
        tgt = b[:, first + 1:ctx]
        nll += -lp.gather(-1, tgt.unsqueeze(-1)).sum().item()
        cnt += tgt.numel()
        mlp = F.log_softmax(ml[:, first:ctx - 2].float(), -1)
        mt = b[:, first + 2:ctx]
        mnll += -mlp.gather(-1, mt.unsqueeze(-1)).sum().item()
        mcnt += mt.numel()
    model.train()
    return nll / cnt, mnll / mcnt


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * min(1.0, p)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default=common.DEFAULT_OUT)
    ap.add_argument("--tokenizer", default=None, help="default OUT/tokenizer.json")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--mtp-weight", type=float, default=0.3)
    ap.add_argument("--mtp-frac", type=float, default=0.25, help="fraction of positions scored by the MTP head (compute saving)")
    ap.add_argument("--bias-gamma", type=float, default=1e-3, help="aux-loss-free bias update speed")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-chunks", type=int, default=24)
    ap.add_argument("--ckpt-every", type=int, default=25)
    ap.add_argument("--max-minutes", type=float, default=45.0, help="wall-clock cap; stops early and saves")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--config", default="{}", help="JSON overrides for model Config")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    data = common.data_dir(a.data)
    os.makedirs(a.out, exist_ok=True)
    tok = Tokenizer(a.tokenizer or os.path.join(a.out, "tokenizer.json"))
    ids = torch.from_numpy(tokenize_corpus(tok, data, a.out).astype(np.int64))
    print(f"train tokens: {len(ids)}", flush=True)
    hx = heldout_batches(tok, data, a.ctx, a.eval_chunks)

    cfg = Config(vocab_size=len(tok.tokens), max_seq_len=a.ctx, **json.loads(a.config))
    random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
    model = Transformer(cfg)
    pc = count_params(model)
    print("config", json.dumps(cfg.to_dict()), flush=True)
    print("params", json.dumps(pc), flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(a.seed)
    step, elapsed = 0, 0.0
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"]); torch.set_rng_state(ck["rng"])
        step, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed at step {step}", flush=True)

    def save(path, final=False):
        ck = {"model": model.state_dict(), "config": cfg.to_dict(), "step": step, "elapsed": elapsed,
              "params": pc, "args": vars(a)}
        if not final:
            ck.update(opt=opt.state_dict(), gen=gen.get_state(), rng=torch.get_rng_state())
        torch.save(ck, path + ".tmp")
        os.replace(path + ".tmp", path)

    logf = open(os.path.join(a.out, "train_log.jsonl"), "a")
    moes = model.moe_modules()
    T = a.ctx
    n_windows = len(ids) - (T + 1)
    t_start = time.time() - elapsed
    model.train()
    while step < a.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        starts = torch.randint(0, n_windows, (a.batch,), generator=gen)
        x = torch.stack([ids[s:s + T + 1] for s in starts])
        x[:, 0] = tok.bos_id                       # every window starts with BOS (as in llama-perplexity chunks)
        inp, tgt = x[:, :T], x[:, 1:]
        logits, _ = model(inp, mtp=False)
        loss_main = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), tgt.reshape(-1))
        # MTP: position t combines h_t (main, post-norm) with Emb(token t+1) and predicts token t+2
        e = model.embed(inp)
        h = model._last_h
        m = model.mtp[0]
        cos, sin = rope_tables(cfg, T - 1)
        mask = torch.full((T - 1, T - 1), float("-inf")).triu_(1)
        hm = m(h[:, :T - 1], e[:, 1:], cos, sin, mask)
        mt = x[:, 2:T + 1]
        if a.mtp_frac < 1.0:
            k = max(1, int((T - 1) * a.mtp_frac))
            pos = torch.randperm(T - 1, generator=gen)[:k]
            hm, mt = hm[:, pos], mt[:, pos]
        loss_mtp = F.cross_entropy(model.head(hm).reshape(-1, cfg.vocab_size), mt.reshape(-1))
        loss = loss_main + a.mtp_weight * loss_mtp
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        # aux-loss-free load balancing (V3 paper): b_i += gamma * sign(mean_load - load_i)
        with torch.no_grad():
            for mo in moes:
                mo.gate.bias += a.bias_gamma * torch.sign(mo.load.mean() - mo.load)
        step += 1
        elapsed = time.time() - t_start
        rec = {"step": step, "loss": round(loss_main.item(), 4), "mtp_loss": round(loss_mtp.item(), 4),
               "lr": round(lr_at(step - 1, a), 6), "gnorm": round(gn.item(), 3), "t": round(elapsed, 1)}
        if step % a.eval_every == 0 or step == a.steps:
            hl, hm_ = eval_heldout(model, hx, T)
            rec.update(heldout_loss=round(hl, 4), heldout_ppl=round(math.exp(hl), 2), heldout_mtp_loss=round(hm_, 4))
            maxv = max(((mo.load.max() / mo.load.mean()).item() for mo in moes))
            rec["max_load_ratio"] = round(maxv, 2)
        print(json.dumps(rec), flush=True)
        logf.write(json.dumps(rec) + "\n"); logf.flush()
        if step % a.ckpt_every == 0:
            save(ckpt_path)
        if elapsed > a.max_minutes * 60:
            print(f"wall-clock cap reached at step {step}", flush=True)
            break
    save(ckpt_path)
    save(os.path.join(a.out, "final.pt"), final=True)
    print(f"done: {step} steps, {elapsed/60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
