"""seek quantize against llama.cpp (prebuilt v0.4.0 inside npm node-llama-cpp@3.21.1).

0. Bad arguments (unknown TYPE, unreadable input, unwritable output) get one error line and a non-zero exit.
1. Same bytes: `seek quantize` writes exactly the file that llama.cpp's own llama_model_quantize writes
   (tools/quant/llama_quantize.py calls it through ctypes) for the Q4_K_M mix and every single type (as
   llama-quantize --pure), from f32, bf16 and already quantised inputs, on a model whose rows fit 256-element
   blocks (k-quants proper) and on seek's v3-tiny, whose 64-wide rows take llama.cpp's fallbacks.
2. llama.cpp loads and runs seek's Q4_K_M files (16 greedy tokens). Its tokens are compared with seek's and the
   agreement is reported, not required: for these types llama.cpp rounds activations to 8 bits (q8_K) and seek
   does not, and random-weight models have logit gaps far below that noise.
3. Exact numerics: llama.cpp dequantises seek's Q4_K_M file to F32 with its own code (llama_model_quantize,
   ftype F32) and runs that; seek runs the quantised file itself. Log-probabilities at the end of the prompt
   agree within 2e-5 of the logits' scale, and 16 greedy tokens are identical wherever seek's top-2 logit gap
   stays above 1e-3.
"""
import math
import os
import subprocess
import sys

import harness

sys.path.insert(0, os.path.join(harness.REPO, "tools", "quant"))
import llama_quantize  # noqa: E402

harness.require(harness.have_llamacpp(), "tools/oracle/node_modules (run: npm ci --prefix tools/oracle)")
harness.require(llama_quantize.available(), "llama.cpp's libllama in tools/oracle/node_modules")
make_test_gguf = harness.make_test_gguf_module()

SEEK = harness.seek_binary()
TMP = harness.tmpdir()
QUIET = dict(os.environ, SEEK_QUIET="1")
N_GEN = 16
# f32 rounding in two engines that sum in different orders, relative to the logits' scale (as reference_test.py)
LOGPROB_TOL = 2e-5
SINGLE_TYPES = ["Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K", "IQ4_XS", "F16", "BF16"]
c = harness.Checks()


def path(name):
    return os.path.join(TMP, name)


def k_model(name, config, layout, wtype="f32"):
    """A tools/ref test model whose matrices have 256-wide rows (k-quant blocks fit; attn_k_b's 128 do not)."""
    p = path(f"{name}-{wtype}.gguf")
    if not os.path.exists(p):
        big = dict(n_embd=256, n_head=2, kv_lora=256, qk_nope=128, rope=64, v_head=128, n_ff=512, n_ff_exp=256,
                   n_layer=4)
        cfg = dict(make_test_gguf.CONFIGS[config], name=name, **big)
        if cfg["q_lora"]:
            cfg["q_lora"] = 256
        make_test_gguf.write_model(p, cfg, layout, wtype, 7)
    return p


def seek_quantize(src, dst, recipe):
    harness.run([SEEK, "quantize", src, dst, recipe, "--threads", "2"], env=QUIET)


def llama_quantize_file(src, dst, recipe):
    pure = recipe not in ("Q4_K_M", "F32")
    cmd = [sys.executable, os.path.join(harness.REPO, "tools", "quant", "llama_quantize.py"), src, dst, recipe,
           "--threads", "2"] + (["--pure"] if pure else [])
    r = subprocess.run(cmd, capture_output=True)  # llama.cpp's log holds raw token bytes: not text
    if r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(cmd)}\n"
                           f"{r.stderr.decode(errors='replace')[-2000:]}")


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        da, db = fa.read(), fb.read()
    if da == db:
        return True, f"({len(da)} bytes)"
    first = next((i for i in range(min(len(da), len(db))) if da[i] != db[i]), min(len(da), len(db)))
    return False, f"(sizes {len(da)} and {len(db)}, first difference at byte {first})"


def check_same_bytes(src, recipe, label):
    ours, theirs = path(f"{label}-seek-{recipe}.gguf"), path(f"{label}-llama-{recipe}.gguf")
    seek_quantize(src, ours, recipe)
    llama_quantize_file(src, theirs, recipe)
    ok, detail = same_file(ours, theirs)
    c.check(ok, f"{label} -> {recipe}: same bytes as llama_model_quantize", detail)
    os.remove(theirs)
    return ours


def log_softmax(v):
    m = max(v)
    s = math.log(sum(math.exp(x - m) for x in v))
    return [x - m - s for x in v]


def seek_logits(model_path, ids, kernels="ref"):
    # f32 activations: the comparison below is with llama.cpp running the dequantised (F32) weights.
    out = harness.run_json([SEEK, "run", "-m", model_path, "--tokens", ",".join(map(str, ids)), "-n", "1", "--temp",
                            "0", "--json", "--logits", "--kernels", kernels, "-t", "1", "--f32-activations"], env=QUIET)
    return out["prompt_logits"]


def top2_gap(v):
    a, b = sorted(v, reverse=True)[:2]
    return a - b


def seek_greedy(model_path, ids, kernels):
    return harness.run_json([SEEK, "run", "-m", model_path, "--tokens", ",".join(map(str, ids)), "-n", str(N_GEN),
                             "--temp", "0", "--ignore-eos", "--json", "-t", "1", "--kernels", kernels,
                             "--f32-activations"],
                            env=QUIET)["tokens"]


def llama_greedy(model_path, ids):
    return harness.llamacpp("greedy", "--model", model_path, "--tokens", ",".join(map(str, ids)), "-n", str(N_GEN),
                            "--threads", "1")["tokens"]


def common_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def expect_error(args, code, needles, name):
    """One clear error line and the given exit code."""
    r = subprocess.run([SEEK, "quantize", *args], capture_output=True, text=True, timeout=120)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    ok = r.returncode == code and len(lines) == 1 and all(n in r.stderr for n in needles)
    c.check(ok, f"quantize: {name}", f"(exit {r.returncode}: {r.stderr.strip()[:200]})")


# ---- 0. command-line errors ---------------------------------------------------------------------------------
tiny = harness.model("v3-tiny")
expect_error([tiny, path("x.gguf"), "Q9_K"], 2, ["unknown TYPE 'Q9_K'", "Q4_K_M"], "unknown type")
expect_error(["/nonexistent/in.gguf", path("x.gguf"), "Q4_K_M"], 1, ["/nonexistent/in.gguf", "cannot open"],
             "unreadable input")
expect_error([tiny, "/nonexistent/dir/out.gguf", "Q4_K_M"], 1, ["/nonexistent/dir/out.gguf"], "unwritable output")
expect_error([tiny, path("x.gguf"), "Q4_K_M", "--threads", "0"], 2, ["--threads"], "bad thread count")

# ---- 1. the same bytes as llama.cpp -----------------------------------------------------------------------
k3 = k_model("k-v3", "v3", "kvb")          # attn_kv_b layout: the counted kv_b rule of Q4_K_M applies
klite = k_model("k-v2lite", "v2lite", "kbvb")  # tied output, alignment 64, split k_b/v_b
check_same_bytes(tiny, "Q4_K_M", "v3-tiny")
k3_q4km = check_same_bytes(k3, "Q4_K_M", "k-v3")
lite_q4km = check_same_bytes(klite, "Q4_K_M", "k-v2lite")
for t in SINGLE_TYPES:
    os.remove(check_same_bytes(k3, t, "k-v3"))
os.remove(check_same_bytes(k_model("k-v3mtp", "v3mtp", "kbvb", "bf16"), "Q4_K_M", "k-v3mtp-bf16"))
os.remove(check_same_bytes(k3_q4km, "Q8_0", "k-v3-q4km"))  # requantising k-quant input
tiny_q4km = path("v3-tiny-seek-Q4_K_M.gguf")

# ---- 2. llama.cpp runs seek's files; 3. exact numerics against llama.cpp's own dequantisation ---------------
for label, qpath in [("v3-tiny", tiny_q4km), ("k-v3", k3_q4km), ("k-v2lite", lite_q4km)]:
    deq = path(f"{label}-llama-deq-F32.gguf")
    llama_quantize_file(qpath, deq, "F32")
    for seed in (1, 2):
        ids = harness.prompt_ids(seed, 12, 250)
        ours = seek_greedy(qpath, ids, "ref")
        theirs = llama_greedy(qpath, ids)
        c.check(len(theirs) == N_GEN, f"{label} Q4_K_M seed {seed}: llama.cpp loads and runs seek's file",
                f"({len(theirs)} tokens)")
        # margins along seek's path (logit gap of the top two) and at the first disagreement with llama.cpp
        gaps = [top2_gap(seek_logits(qpath, ids + ours[:t])) for t in range(N_GEN)]
        n_clear = next((t for t, g in enumerate(gaps) if g < 1e-3), N_GEN)
        try:
            auto = seek_greedy(qpath, ids, "auto")
        except RuntimeError as e:
            auto = []
            print("  seek --kernels auto failed:", str(e).splitlines()[0])
        c.check(auto[:n_clear] == ours[:n_clear], f"{label} Q4_K_M seed {seed}: seek's default kernels give the "
                f"reference kernels' tokens", f"({n_clear} steps with a clear gap)")
        agree = common_prefix(ours, theirs)
        where = f"first difference at step {agree}, seek's top-2 gap there {gaps[agree]:.4f}" if agree < N_GEN else ""
        print(f"note {label} seed {seed}: llama.cpp on the Q4_K_M file agrees on {agree}/{N_GEN} greedy tokens"
              f"{'; ' + where if where else ''}; smallest gap on seek's path {min(gaps):.4f}")
        # exact numerics: seek on the quantised file vs llama.cpp on its F32 dequantisation
        logits = seek_logits(qpath, ids)
        a = log_softmax(logits)
        b = harness.llamacpp("logits", "--model", deq, "--tokens", ",".join(map(str, ids)), "--threads", "1")
        b = b["last_logprobs"]
        diff = max(abs(x - y) for x, y in zip(a, b) if y is not None and y > -30)
        q = harness.llamacpp("logits", "--model", qpath, "--tokens", ",".join(map(str, ids)), "--threads", "1")
        noise = max(abs(x - y) for x, y in zip(q["last_logprobs"], b) if x is not None and y is not None and y > -30)
        print(f"note {label} seed {seed}: llama.cpp's own 8-bit activation rounding moves its log-probs by up to "
              f"{noise:.3f} (its Q4_K_M run against its F32 run of the same weights)")
        tol = LOGPROB_TOL * (1 + max(abs(x) for x in logits))
        c.check(diff <= tol, f"{label} seed {seed}: log-probs match llama.cpp's dequantisation",
                f"(max diff {diff:.2e}, tolerance {tol:.2e})")
        deq_tokens = llama_greedy(deq, ids)
        c.check(ours[:n_clear] == deq_tokens[:n_clear],
                f"{label} seed {seed}: greedy tokens match llama.cpp's dequantisation",
                f"({n_clear} steps with a clear gap; {common_prefix(ours, deq_tokens)} identical)")
c.finish()
