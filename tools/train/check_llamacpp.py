#!/usr/bin/env python3
"""Verifies models/seek-tiny-v3.gguf against llama.cpp (via node-llama-cpp, check_llamacpp.mjs):
loads, tokenization of the held-out text equals ours, greedy continuations, and llama.cpp's perplexity
matches eval.py's within 0.5%. Prints one JSON report (also written to --report).

  /usr/bin/python3 tools/train/check_llamacpp.py [--model models/seek-tiny-v3.gguf] [--ctx 256] [--chunks N]
"""
import argparse
import json
import os
import subprocess
import sys

import torch

import common
import eval as ev

PROMPTS = ["The old prince said", "Prince Andrew looked at", "hacker n. ", "LOVE, n.", "The war"]


@torch.no_grad()
def greedy_torch(model, ids, n):
    x = list(ids)
    for _ in range(n):
        lg, _ = model(torch.tensor([x[-model.cfg.max_seq_len:]]), mtp=False)
        x.append(int(lg[0, -1].argmax()))
    return x[len(ids):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--model", default=os.path.join(common.REPO_ROOT, "models", "seek-tiny-v3.gguf"))
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--chunks", type=int, default=-1)
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nlc", default=None, help="dir containing node_modules/node-llama-cpp")
    ap.add_argument("--report", default=os.path.join(common.DEFAULT_OUT, "check_report.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = common.data_dir(a.data)
    os.makedirs(common.DEFAULT_OUT, exist_ok=True)
    held = os.path.join(common.DEFAULT_OUT, "heldout.txt")
    with open(held, "w", encoding="utf-8") as f:
        f.write(common.heldout_text(data))
    cmd = ["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_llamacpp.mjs"),
           "--model", a.model, "--file", held, "--ctx", str(a.ctx), "--chunks", str(a.chunks),
           "--n", str(a.n), "--threads", str(a.threads), "--out", os.path.join(common.DEFAULT_OUT, "llama_cpp_raw.json")]
    if a.nlc:
        cmd += ["--nlc", a.nlc]
    for p in PROMPTS:
        cmd += ["--prompt", p]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"llama.cpp check failed (rc {r.returncode}):\n{r.stderr[-4000:]}")
    with open(os.path.join(common.DEFAULT_OUT, "llama_cpp_raw.json"), "r", encoding="utf-8") as f:
        lc = json.load(f)

    model, tok = ev.load_gguf_model(a.model)
    model.eval()
    with open(held, "r", encoding="utf-8") as f:
        text = f.read()
    if text.endswith("\n"):
        text = text[:-1]
    ours = tok.encode(text, add_bos=False, parse_special=False)
    same_whole = ours == lc["tokens"]
    div = next((i for i, (p, q) in enumerate(zip(ours, lc["tokens"])) if p != q), min(len(ours), len(lc["tokens"])))
    lines = text.split("\n")
    line_ok = sum(tok.encode(l, parse_special=False) == t for l, t in zip(lines, lc["line_tokens"]))
    ours_eval = ev.evaluate(model, tok, text, a.ctx, a.chunks)
    rel = abs(lc["ppl"] - ours_eval["ppl"]) / ours_eval["ppl"]
    greedy = []
    for g in lc["greedy"]:
        tg = greedy_torch(model, g["prompt_tokens"], len(g["tokens"]))
        greedy.append({"prompt": g["prompt"], "llama_cpp": g["text"], "same_tokens_as_pytorch": tg == g["tokens"],
                       "pytorch": tok.decode(tg)})
    rep = {
        "model": a.model,
        "tokenization": {"whole_text_identical": same_whole, "n_tokens_ours": len(ours), "n_tokens_llama_cpp": len(lc["tokens"]),
                         "first_divergence": None if same_whole else div,
                         "lines_identical": line_ok, "lines": len(lines), "line_match_rate": line_ok / len(lines)},
        "perplexity": {"ctx": a.ctx, "n_chunks": lc["n_chunks"], "n_scored": lc["n_scored"],
                       "llama_cpp": lc["ppl"], "eval_py": ours_eval["ppl"], "rel_diff": rel, "within_0.5pct": rel < 0.005},
        "mtp": {k: ours_eval.get(k) for k in ("mtp_next_next_token_acc", "mtp_draft_equals_main_greedy")},
        "next_token_acc": ours_eval["next_token_acc"],
        "greedy": greedy,
    }
    with open(a.report, "w", encoding="utf-8") as f:
        json.dump(rep, f, ensure_ascii=False, indent=1)
    print(json.dumps(rep, ensure_ascii=False, indent=1))
    ok = same_whole and rel < 0.005
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
