"""seek against the independent float64 PyTorch reference tools/ref/llama_ref.py on llama and qwen2 models
(GQA and MHA, tied and untied heads, Llama-3 rope_freqs, qwen2 q/k/v biases and NeoX RoPE), plus the real
llama2.c stories260K model converted by tools/convert/llama2c_to_gguf.py.

Tolerances: seek computes in f32; over 2 blocks of <= 128-term dot products its last-position logits stay within
~1e-6 of their scale, so 1e-5 * (1 + max|logit|) (the DeepSeek tests' bound) leaves a ~10x margin while a wrong
rotation pairing, a missing bias or a wrong kv-head mapping moves logits by 1e-2 or more. 32 greedy tokens must
be identical wherever the reference's top-2 gap stays >= 1e-3 (far above f32 rounding).
"""
import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.REPO, "tools", "ref"))
sys.path.insert(0, os.path.join(harness.REPO, "tools", "convert"))
try:
    import torch  # noqa: F401
    import llama_ref
except ImportError:
    llama_ref = None
harness.require(llama_ref is not None, "python3-torch (for tools/ref/llama_ref.py)")
import llama_models  # noqa: E402

LOGIT_TOL, MIN_TOP2_GAP, N_PROMPT, N_GEN = 1e-5, 1e-3, 24, 32
c = harness.Checks()


def compare(label, path, ids):
    ref_model = llama_ref.load(path)
    ref = llama_ref.run(ref_model, ids, N_GEN)
    out = harness.seek_run_tokens(path, ids, N_GEN)
    a, b = out["prompt_logits"], ref["last_logits"]
    diff = max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")
    scale = max(abs(y) for y in b)
    c.check(len(a) == len(b) and diff <= LOGIT_TOL * (1 + scale), f"{label}: last-position logits",
            f"(max diff {diff:.2e}, bound {LOGIT_TOL * (1 + scale):.2e})")
    if ref["min_top2_logit_gap"] >= MIN_TOP2_GAP:
        c.check(out["tokens"] == ref["greedy_tokens"], f"{label}: {N_GEN} greedy tokens",
                f"(top-2 gap {ref['min_top2_logit_gap']:.2e})")
        if out["tokens"] != ref["greedy_tokens"]:
            print("  seek:", out["tokens"])
            print("  ref: ", ref["greedy_tokens"])
        return True
    print(f"note {label}: near-tie (top-2 gap {ref['min_top2_logit_gap']:.2e}), tokens not compared")
    return False


for name in llama_models.CONFIGS:
    path = llama_models.random_model(name)
    n_vocab = llama_ref.load(path).n_vocab
    compared = sum(compare(f"{name} seed {seed}", path, harness.prompt_ids(seed, N_PROMPT, n_vocab))
                   for seed in (1, 2, 3))
    c.check(compared >= 2, f"{name}: greedy tokens compared on two prompts or more", f"({compared})")

stories = os.path.join(harness.REPO, "..", "shared", "data", "models", "stories260K")
if os.path.exists(os.path.join(stories, "stories260K.bin")):
    import llama2c_to_gguf
    gguf = os.path.join(harness.tmpdir(), "stories260K.gguf")
    llama2c_to_gguf.convert(os.path.join(stories, "stories260K.bin"), os.path.join(stories, "tok512.bin"), gguf)
    compare("stories260K (retokenized)", llama_models.retokenized(gguf), [1, 403, 407, 261, 378])
else:
    print("note: ../shared/data/models/stories260K is absent; the real-model check is skipped")
c.finish()
