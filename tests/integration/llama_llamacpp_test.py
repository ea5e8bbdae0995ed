"""seek against llama.cpp (tools/oracle, v0.4.0, F32 KV cache) on llama and qwen2 files: 32 greedy tokens
identical on F32 models of both architectures (prompts whose float64 reference top-2 gap is >= 1e-3, so f32
summation order cannot flip a token), and on the real llama-2-tiny-random GGUF (F16 weights, SentencePiece
vocabulary: llama.cpp reads the file as is; seek reads the same weights under a byte-level vocabulary, since the
prompt is given as ids) and the llama2.c stories260K model converted by tools/convert/llama2c_to_gguf.py."""
import os
import sys

import harness

harness.require(harness.have_llamacpp(), "tools/oracle/node_modules (run: npm ci --prefix tools/oracle)")
sys.path.insert(0, os.path.join(harness.REPO, "tools", "ref"))
sys.path.insert(0, os.path.join(harness.REPO, "tools", "convert"))
try:
    import torch  # noqa: F401
    import llama_ref
except ImportError:
    llama_ref = None
harness.require(llama_ref is not None, "python3-torch (for the top-2 margins of tools/ref/llama_ref.py)")
import llama_models  # noqa: E402

N_PROMPT, N_GEN = 24, 32
c = harness.Checks()


def theirs(path, ids):
    return harness.llamacpp("greedy", "--model", path, "--tokens", ",".join(map(str, ids)), "-n", str(N_GEN),
                            "--threads", "2")["tokens"]


def check(label, ours, ref):
    c.check(ours == ref, f"{label}: {N_GEN} greedy tokens")
    if ours != ref:
        print("  seek:     ", ours)
        print("  llama.cpp:", ref)


for name in llama_models.CONFIGS:
    path = llama_models.random_model(name)
    m = llama_ref.load(path)
    compared = 0
    for seed in range(1, 6):
        if compared >= 2:
            break
        ids = harness.prompt_ids(seed, N_PROMPT, m.n_vocab)
        if llama_ref.run(m, ids, N_GEN)["min_top2_logit_gap"] < 1e-3:
            print(f"note {name} seed {seed}: near-tie, not compared")
            continue
        check(f"{name} seed {seed}", harness.seek_run_tokens(path, ids, N_GEN)["tokens"], theirs(path, ids))
        compared += 1
    c.check(compared >= 2, f"{name}: two prompts compared", f"({compared})")

models = os.path.join(harness.REPO, "..", "shared", "data", "models")
tiny = os.path.join(models, "llama-2-tiny-random", "llama-2-tiny-random.gguf")
stories = os.path.join(models, "stories260K")
if os.path.exists(tiny):
    for ids in ([1, 450, 4996, 17354, 1701], [1] + list(range(100, 130))):
        check(f"llama-2-tiny-random prompt of {len(ids)}",
              harness.seek_run_tokens(llama_models.retokenized(tiny), ids, N_GEN)["tokens"], theirs(tiny, ids))
if os.path.exists(os.path.join(stories, "stories260K.bin")):
    import llama2c_to_gguf
    gguf = os.path.join(harness.tmpdir(), "stories260K.gguf")
    llama2c_to_gguf.convert(os.path.join(stories, "stories260K.bin"), os.path.join(stories, "tok512.bin"), gguf)
    ids = [1, 403, 407, 261, 378]
    check("stories260K", harness.seek_run_tokens(llama_models.retokenized(gguf), ids, N_GEN)["tokens"],
          theirs(gguf, ids))
c.finish()
