"""The codebook types end to end against llama.cpp (prebuilt v0.4.0 inside npm node-llama-cpp@3.21.1).

A deepseek2 model with 256-wide rows (tools/ref/make_test_gguf.py) has its matrices quantised by llama.cpp's own
ggml_quantize_chunk to IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S and IQ1_M in turn (tools/quant/iq_requant.py; the
embedding and output head included, the router kept F32). Then:

1. llama.cpp loads and runs the file (16 greedy tokens). Its tokens are compared with seek's and the agreement is
   reported, not required: llama.cpp multiplies these types with activations rounded to 8 bits (q8_K), seek
   with f32 activations, and random-weight models have logit gaps far below that noise.
2. Exact numerics: llama.cpp dequantises the file to F32 with its own code (llama_model_quantize, ftype F32) and
   runs that; seek runs the IQ file itself, with the reference kernels and with its default ones. Log-probabilities
   at the end of the prompt agree within 2e-5 of the logits' scale, and 16 greedy tokens are identical wherever
   seek's top-2 logit gap stays above 1e-3.
"""
import math
import os
import subprocess
import sys

import harness

sys.path.insert(0, os.path.join(harness.REPO, "tools", "quant"))
import iq_requant  # noqa: E402
import llama_quantize  # noqa: E402

harness.require(harness.have_llamacpp(), "tools/oracle/node_modules (run: npm ci --prefix tools/oracle)")
harness.require(llama_quantize.available() and iq_requant.available(), "llama.cpp's libraries in tools/oracle")
make_test_gguf = harness.make_test_gguf_module()

SEEK = harness.seek_binary()
TMP = harness.tmpdir()
QUIET = dict(os.environ, SEEK_QUIET="1")
N_GEN = 16
LOGPROB_TOL = 2e-5  # f32 rounding in two engines that sum in different orders, relative to the logits' scale
c = harness.Checks()


def path(name):
    return os.path.join(TMP, name)


def log_softmax(v):
    m = max(v)
    s = math.log(sum(math.exp(x - m) for x in v))
    return [x - m - s for x in v]


def top2_gap(v):
    a, b = sorted(v, reverse=True)[:2]
    return a - b


def common_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def run_tool(cmd):
    r = subprocess.run([sys.executable, *cmd], capture_output=True)  # llama.cpp's log holds raw bytes: not text
    if r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(cmd)}\n"
                           f"{r.stderr.decode(errors='replace')[-2000:]}")


def seek_json(model_path, ids, n, kernels, extra=()):
    return harness.run_json([SEEK, "run", "-m", model_path, "--tokens", ",".join(map(str, ids)), "-n", str(n),
                             "--temp", "0", "--ignore-eos", "--json", "-t", "1", "--kernels", kernels,
                             "--f32-activations", *extra], env=QUIET)


def llama_greedy(model_path, ids):
    return harness.llamacpp("greedy", "--model", model_path, "--tokens", ",".join(map(str, ids)), "-n", str(N_GEN),
                            "--threads", "1")["tokens"]


def llama_logprobs(model_path, ids):
    return harness.llamacpp("logits", "--model", model_path, "--tokens", ",".join(map(str, ids)), "--threads",
                            "1")["last_logprobs"]


# The model: make_test_gguf's v3 configuration at 256-wide rows, so every matrix but attn_k_b holds whole blocks.
f32 = path("k-v3-f32.gguf")
big = dict(n_embd=256, n_head=2, kv_lora=256, qk_nope=128, rope=64, v_head=128, n_ff=512, n_ff_exp=256, n_layer=4)
cfg = dict(make_test_gguf.CONFIGS["v3"], name="k-v3-iq", **big)
cfg["q_lora"] = 256
make_test_gguf.write_model(f32, cfg, "kvb", "f32", 7)
iq = path("k-v3-iq.gguf")
run_tool([os.path.join(harness.REPO, "tools", "quant", "iq_requant.py"), f32, iq])
deq = path("k-v3-iq-llama-deq-F32.gguf")
run_tool([os.path.join(harness.REPO, "tools", "quant", "llama_quantize.py"), iq, deq, "F32", "--threads", "2"])
info = harness.run_json([SEEK, "info", iq, "--json"], env=QUIET)
have = {t: v["tensors"] for t, v in info["types"].items()}
c.check(all(have.get(t, 0) > 0 for t in iq_requant.IQ_TYPES), "the file holds every codebook type", f"({have})")

for seed in (1, 2):
    ids = harness.prompt_ids(seed, 12, 250)
    ours = seek_json(iq, ids, N_GEN, "ref")["tokens"]
    # margins along seek's path: the top-2 logit gap at each step
    gaps = [top2_gap(seek_json(iq, ids + ours[:t], 1, "ref", ["--logits"])["prompt_logits"]) for t in range(N_GEN)]
    n_clear = next((t for t, g in enumerate(gaps) if g < 1e-3), N_GEN)
    auto = seek_json(iq, ids, N_GEN, "auto")["tokens"]
    c.check(auto[:n_clear] == ours[:n_clear], f"seed {seed}: seek's default kernels give the reference kernels' "
            f"tokens", f"({n_clear} steps with a clear gap)")
    # 1. llama.cpp runs the file itself
    theirs = llama_greedy(iq, ids)
    c.check(len(theirs) == N_GEN, f"seed {seed}: llama.cpp loads and runs the IQ file", f"({len(theirs)} tokens)")
    agree = common_prefix(ours, theirs)
    print(f"note seed {seed}: llama.cpp on the IQ file (8-bit activations) agrees on {agree}/{N_GEN} greedy tokens; "
          f"smallest gap on seek's path {min(gaps):.4f}")
    # 2. exact numerics against llama.cpp's own dequantisation
    logits = seek_json(iq, ids, 1, "ref", ["--logits"])["prompt_logits"]
    a, b = log_softmax(logits), llama_logprobs(deq, ids)
    diff = max(abs(x - y) for x, y in zip(a, b) if y is not None and y > -30)
    tol = LOGPROB_TOL * (1 + max(abs(x) for x in logits))
    c.check(diff <= tol, f"seed {seed}: log-probs match llama.cpp's dequantisation",
            f"(max diff {diff:.2e}, tolerance {tol:.2e})")
    q = llama_logprobs(iq, ids)
    noise = max(abs(x - y) for x, y in zip(q, b) if x is not None and y is not None and y > -30)
    print(f"note seed {seed}: llama.cpp's own 8-bit activation rounding moves its log-probs by up to {noise:.3f} "
          f"(its IQ run against its F32 run of the same weights)")
    deq_tokens = llama_greedy(deq, ids)
    c.check(ours[:n_clear] == deq_tokens[:n_clear], f"seed {seed}: greedy tokens match llama.cpp's dequantisation",
            f"({n_clear} steps with a clear gap; {common_prefix(ours, deq_tokens)} identical)")
c.finish()
