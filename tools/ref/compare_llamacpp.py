#!/usr/bin/python3
"""Self-check of deepseek2_ref.py against llama.cpp (node-llama-cpp 3.21.1) on GGUF files.

usage: compare_llamacpp.py MODEL.gguf [MODEL2.gguf ...] [--tokens 286,72,...] [--greedy 24]
                           [--group-score auto|top2|max]
For each file: greedy continuation from the reference (float64) and from llama.cpp (free-running),
then llama.cpp teacher-forced on the reference's tokens so probabilities can be compared at every
step even after a divergence. Prints one JSON line per model.
"""
import argparse
import json
import math
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import deepseek2_ref  # noqa: E402


def llamacpp(model, prompt, n, force=None):
    cmd = ["node", os.path.join(HERE, "llamacpp_greedy.mjs"), model, ",".join(map(str, prompt)), str(n)]
    if force:
        cmd += ["--force", ",".join(map(str, force))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--tokens", default="286,72,101,108,108,111,32,119,111,114,108,100")
    ap.add_argument("--greedy", type=int, default=24)
    ap.add_argument("--group-score", default="auto", choices=["auto", "top2", "max"])
    a = ap.parse_args(argv)
    prompt = [int(t) for t in a.tokens.split(",")]
    ok_all = True
    for path in a.models:
        m = deepseek2_ref.load(path, group_score=a.group_score)
        with torch.no_grad():
            r = deepseek2_ref.run(m, prompt, a.greedy)
            ref_tok = r["greedy_tokens"]
            full = m.forward(prompt + ref_tok)
        ref_p = torch.softmax(full[len(prompt) - 1:len(prompt) - 1 + a.greedy], dim=-1)
        free = llamacpp(path, prompt, a.greedy)
        forced = llamacpp(path, prompt, a.greedy, force=ref_tok)
        first_div = next((i for i, (x, y) in enumerate(zip(ref_tok, free["greedy_tokens"])) if x != y), None)
        forced_mismatch = [i for i, (x, y) in enumerate(zip(ref_tok, forced["greedy_tokens"])) if x != y]
        max_dp, max_dlogp = 0.0, 0.0
        for i, pl in enumerate(forced["probs"]):
            pl = torch.tensor(pl, dtype=torch.float64)
            pr = ref_p[i][:len(pl)]
            max_dp = max(max_dp, float((pr - pl).abs().max()))
            keep = (pl > 1e-6) & (pr > 1e-6)
            max_dlogp = max(max_dlogp, float((pr[keep].log() - pl[keep].log()).abs().max()))
        res = {
            "model": os.path.basename(path),
            "ref_greedy": ref_tok,
            "llama_greedy": free["greedy_tokens"],
            "greedy_match": ref_tok == free["greedy_tokens"],
            "first_divergence": first_div,
            "forced_argmax_mismatch_steps": forced_mismatch,
            "max_abs_prob_diff": max_dp,
            "max_abs_logprob_diff": max_dlogp,
            "min_routing_margin": r["min_routing_margin"],
            "min_top2_logit_gap": r["min_top2_logit_gap"],
        }
        ok_all &= res["greedy_match"]
        print(json.dumps(res))
        sys.stdout.flush()
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
