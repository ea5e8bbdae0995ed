"""seek against llama.cpp (prebuilt v0.4.0 inside npm node-llama-cpp@3.21.1, F32 KV cache, no flash attention) on
the same generated GGUF files: 32 greedy tokens identical on every configuration and both MLA layouts, and
perplexity on the same text and context within 0.1%.

llama.cpp sums in other orders than seek, so exact tokens are required where the PyTorch reference shows the
routing and argmax decisions clear of rounding (the same rule as reference_test.py); the files use F32 weights
because llama.cpp rounds activations to 8 bits for quantised weights (see tools/ref/README.md).
"""
import os
import sys

import harness

harness.require(harness.have_llamacpp(), "tools/oracle/node_modules (run: npm ci --prefix tools/oracle)")
sys.path.insert(0, os.path.join(harness.REPO, "tools", "ref"))
try:
    import torch
    import deepseek2_ref
except ImportError:
    deepseek2_ref = None
harness.require(deepseek2_ref is not None, "python3-torch (for the routing margins of tools/ref)")

N_PROMPT, N_GEN = 32, 32
c = harness.Checks()
for preset, layout in [("v3-tiny", None), ("v3-tiny", "kv_b"), ("v3-tiny-kvb", None), ("v2-lite-tiny", None),
                       ("v2-lite-tiny", "split")]:
    path = harness.model(preset, "f32", layout)
    ref_model = deepseek2_ref.load(path)
    compared = 0
    for seed in range(1, 6):
        if compared >= 2:
            break
        ids = harness.prompt_ids(seed, N_PROMPT, ref_model.n_vocab)
        with torch.no_grad():
            ref = deepseek2_ref.run(ref_model, ids, N_GEN)
        margin, gap = ref["min_routing_margin"], ref["min_top2_logit_gap"]
        if (margin is not None and margin < 2e-5) or gap < 1e-3:
            print(f"note {preset}/{layout} seed {seed}: near-tie, not compared")
            continue
        ours = harness.seek_run_tokens(path, ids, N_GEN)["tokens"]
        theirs = harness.llamacpp("greedy", "--model", path, "--tokens", ",".join(map(str, ids)), "-n", str(N_GEN),
                                  "--threads", "2")["tokens"]
        c.check(ours == theirs, f"{preset} ({layout or 'default'} layout) seed {seed}: {N_GEN} greedy tokens")
        if ours != theirs:
            print("  seek:     ", ours)
            print("  llama.cpp:", theirs)
        compared += 1
    c.check(compared >= 2, f"{preset} ({layout or 'default'} layout): two prompts compared", f"({compared})")

# Perplexity: same text, same context, same chunking (llama-perplexity's), within 0.1%.
text = os.path.join(harness.REPO, "..", "shared", "data", "corpora", "devils-dictionary.dict.txt")
if not os.path.exists(text):
    text = os.path.join(harness.tmpdir(), "text.txt")
    with open(text, "w") as f:  # fallback when ../shared/data is absent: a fixed text of our own
        f.write(" ".join(f"The engine reads the model number {i} and the cache grows." for i in range(400)))
for preset in ["v3-tiny", "v2-lite-tiny"]:
    path = harness.model(preset)
    ours = harness.run_json([harness.seek_binary(), "perplexity", "-m", path, "-f", text, "--ctx", "128",
                             "--chunks", "8", "--json", "-t", "2"])
    theirs = harness.llamacpp("perplexity", "--model", path, "--file", text, "--ctx", "128", "--chunks", "8",
                              "--threads", "2")
    rel = abs(ours["perplexity"] - theirs["ppl"]) / theirs["ppl"]
    c.check(rel <= 1e-3 and ours["n_scored"] == theirs["n_scored"], f"{preset}: perplexity within 0.1%",
            f"(seek {ours['perplexity']:.4f}, llama.cpp {theirs['ppl']:.4f}, relative difference {rel:.1e})")
    c.check(ours["n_tokens"] == theirs["n_tokens"], f"{preset}: same token count for the text",
            f"(seek {ours['n_tokens']}, llama.cpp {theirs['n_tokens']})")
c.finish()
