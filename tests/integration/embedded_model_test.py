"""The embedded default model (models/seek-tiny-v3.gguf) against its own training code and llama.cpp:
perplexity on a slice of the held-out split (the one tools/train/make_split.py cuts from ../shared/data) within
0.5% of tools/train/eval.py (PyTorch) and of llama.cpp, and greedy continuations of five prompts identical to
llama.cpp's."""
import os
import subprocess
import sys

import harness

MODEL = os.path.join(harness.REPO, "models", "seek-tiny-v3.gguf")
DATA = os.path.join(harness.REPO, "..", "shared", "data")
harness.require(os.path.exists(MODEL), "models/seek-tiny-v3.gguf")
harness.require(os.path.isdir(os.path.join(DATA, "corpora")), "../shared/data/corpora (the held-out split)")
harness.require(harness.have_llamacpp(), "tools/oracle/node_modules (run: npm ci --prefix tools/oracle)")
try:
    import torch  # noqa: F401
except ImportError:
    torch = None
harness.require(torch is not None, "python3-torch (for tools/train/eval.py)")

c = harness.Checks()
split = harness.tmpdir()
harness.run([sys.executable, os.path.join(harness.REPO, "tools", "train", "make_split.py"), "--data", DATA,
             "--out", split])
with open(os.path.join(split, "heldout.txt"), encoding="utf-8") as f:
    held = f.read()
text = os.path.join(split, "slice.txt")
with open(text, "w", encoding="utf-8") as f:
    f.write(held[:16000])

ours = harness.run_json([harness.seek_binary(), "perplexity", "-m", MODEL, "-f", text, "--ctx", "256", "--json",
                         "-t", "2"])
torch_eval = harness.run_json([sys.executable, os.path.join(harness.REPO, "tools", "train", "eval.py"), "--model",
                               MODEL, "--file", text, "--ctx", "256", "--threads", "2"])
llama = harness.llamacpp("perplexity", "--model", MODEL, "--file", text, "--ctx", "256", "--threads", "2")
for name, ppl in [("training code (PyTorch)", torch_eval["ppl"]), ("llama.cpp", llama["ppl"])]:
    rel = abs(ours["perplexity"] - ppl) / ppl
    c.check(rel <= 5e-3, f"held-out perplexity vs {name} within 0.5%",
            f"(seek {ours['perplexity']:.4f}, {name} {ppl:.4f}, relative difference {rel:.1e}, "
            f"{ours['n_scored']} tokens scored)")
c.check(ours["n_tokens"] == torch_eval["n_tokens"] == llama["n_tokens"], "same tokenisation of the slice",
        f"({ours['n_tokens']} tokens)")

for prompt in ["The old man said", "Prince Andrew looked at", "HACKER n.", "The army marched", "She smiled and"]:
    a = harness.run_json([harness.seek_binary(), "run", "-m", MODEL, "-p", prompt, "-n", "32", "--temp", "0",
                          "--ignore-eos", "--json", "-t", "2"])
    b = harness.llamacpp("greedy", "--model", MODEL, "--prompt", prompt, "-n", "32", "--threads", "2")
    c.check(a["prompt_tokens"] == b["prompt_tokens"] and a["tokens"] == b["tokens"],
            f"greedy continuation of {prompt!r} identical to llama.cpp's", repr(a["text"][:60]))
c.finish()
