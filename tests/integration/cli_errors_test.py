"""Bad input to the CLI gets one clear error line naming what and where, and a non-zero exit: missing and
truncated files, foreign architectures, unsupported tensor types, malformed options, out-of-range token ids, KV caches
larger than the memory."""
import json
import os
import struct
import subprocess

import harness

c = harness.Checks()
seek = harness.seek_binary()
good = harness.model("v3-tiny")


def expect_error(args, code, needles, name, env=None):
    r = subprocess.run([seek, *args], capture_output=True, text=True, timeout=120,
                       env=None if env is None else {**os.environ, **env})
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode == code and len(lines) == 1 and all(n in r.stderr for n in needles)
    c.check(ok, name, f"(exit {r.returncode}: {r.stderr.strip()[:200]})")


expect_error(["run", "-m", "/nonexistent/x.gguf", "-p", "hi"], 1, ["/nonexistent/x.gguf", "cannot open"],
             "missing model file")
data = open(good, "rb").read()
trunc = os.path.join(harness.tmpdir(), "trunc.gguf")
open(trunc, "wb").write(data[:5000])
expect_error(["run", "-m", trunc, "-p", "hi"], 1, [trunc, "offset"], "truncated model file")
expect_error(["info", trunc], 1, [trunc, "offset"], "info on a truncated file")
notgguf = os.path.join(harness.tmpdir(), "not.gguf")
open(notgguf, "wb").write(b"PK\x03\x04 this is a zip file" * 10)
expect_error(["run", "-m", notgguf, "-p", "hi"], 1, ["not a GGUF file"], "not a GGUF file")

# A file of an architecture seek does not run: the generated model with general.architecture renamed.
b = bytearray(data)
key = b"general.architecture"
at = b.index(key) + len(key) + 4 + 8  # value type (u32) and string length (u64), then the string
assert b[at:at + 9] == b"deepseek2"
b[at:at + 9] = b"falcon-h1"
foreign = os.path.join(harness.tmpdir(), "foreign.gguf")
open(foreign, "wb").write(bytes(b))
expect_error(["run", "-m", foreign, "--tokens", "1,2", "-n", "1"], 1, ["architecture 'falcon-h1' is not supported"],
             "foreign architecture")


def retype_first_tensor(src, dst, new_type):
    """Rewrites the type id of the first tensor named blk.0.attn_q_a.weight in the header."""
    b = bytearray(open(src, "rb").read())
    name = b"blk.0.attn_q_a.weight"
    i = b.find(struct.pack("<Q", len(name)) + name)
    p = i + 8 + len(name)
    n_dims = struct.unpack_from("<I", b, p)[0]
    struct.pack_into("<I", b, p + 4 + 8 * n_dims, new_type)
    open(dst, "wb").write(bytes(b))


q40 = os.path.join(harness.tmpdir(), "q4_0.gguf")
retype_first_tensor(good, q40, 3)  # q4_1: smaller than f32, so it still fits in the file; no kernel for it
expect_error(["run", "-m", q40, "-p", "hi"], 1, ["blk.0.attn_q_a.weight", "q4_1", "cannot compute"],
             "unsupported tensor type")
bad_type = os.path.join(harness.tmpdir(), "badtype.gguf")
retype_first_tensor(good, bad_type, 1234)
expect_error(["run", "-m", bad_type, "-p", "hi"], 1, ["blk.0.attn_q_a.weight", "unknown tensor type 1234"],
             "unknown tensor type")

expect_error(["run", "-m", good, "-p", "hi", "--frobnicate"], 2, ["unknown option --frobnicate"], "unknown option")
expect_error(["run", "-m", good, "-p", "hi", "-n", "lots"], 2, ["-n", "integer"], "malformed number")
expect_error(["run", "-m", good, "-p", "hi", "--temp", "-1"], 2, ["--temp"], "out-of-range option")
expect_error(["run", "-m", good, "--tokens", "0,99999"], 1, ["99999", "outside the vocabulary"],
             "token id out of range")
expect_error(["run", "-m", good], 2, ["-p"], "no prompt")
expect_error(["run", "-m", good, "-p", "hi", "-c", "999999"], 2, ["between 1 and 1024"], "context above training")
# KV caches larger than the memory available (told through SEEK_TEST_AVAILABLE_MEMORY, as MemAvailable would be):
# one error naming both sizes and what to lower, before any is allocated (they are faulted in when made). The size
# expected is worked out here from the model's hyper-parameters: per layer and token, the latent and k_rope in f32.
hp = json.loads(subprocess.run([seek, "info", "--json", good], capture_output=True, text=True, check=True).stdout)["hparams"]
per_token = hp["n_layers"] * (hp["kv_lora_rank"] + hp["qk_rope_head_dim"]) * 4
kb = lambda n_seq, n_ctx: f"{round(n_seq * n_ctx * per_token / 1e3)} KB"  # noqa: E731
small = {"SEEK_TEST_AVAILABLE_MEMORY": "100000"}
expect_error(["run", "-m", good, "-p", "hi", "-c", "256"], 2,
             [f"KV cache of one sequence of 256 tokens takes {kb(1, 256)}", "100 KB of memory is available",
              "-c/--ctx"], "KV cache above the memory (run)", small)
expect_error(["chat", "-m", good, "-c", "256"], 2, [f"KV cache of one sequence of 256 tokens takes {kb(1, 256)}"],
             "KV cache above the memory (chat)", small)
expect_error(["bench", "-m", good, "-p", "64", "-n", "4", "--parallel", "4"], 2,
             [f"KV caches of 5 sequences of 64 tokens take {kb(5, 64)}", "-p/-n or --parallel"],
             "KV caches above the memory (bench)", small)
# serve reports its address before the model loads, then the error as its last line.
r = subprocess.run([seek, "serve", "-m", good, "--port", "0", "-c", "64", "--parallel", "4"], capture_output=True,
                   text=True, timeout=120, env={**os.environ, **small})
last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
c.check(r.returncode == 2 and f"KV caches of 4 sequences of 64 tokens take {kb(4, 64)}" in last and "--parallel" in last,
        "KV caches above the memory (serve)", f"(exit {r.returncode}: {r.stderr.strip()[-300:]})")
# Within the memory, the same run goes ahead.
r = subprocess.run([seek, "run", "-m", good, "-p", "hi", "-n", "2", "-c", "64"], capture_output=True, text=True,
                   timeout=120, env={**os.environ, **small})
c.check(r.returncode == 0, "KV cache within the memory", f"(exit {r.returncode}: {r.stderr.strip()[-200:]})")
short = os.path.join(harness.tmpdir(), "short.txt")
open(short, "w").write("too short")
expect_error(["perplexity", "-m", good, "-f", short, "--ctx", "64"], 1, ["at least"], "perplexity on a short text")
expect_error(["gen-model", "v9-huge", os.path.join(harness.tmpdir(), "x.gguf")], 2, ["unknown preset"],
             "unknown preset")
expect_error(["frobnicate"], 2, ["unknown command"], "unknown command")
c.finish()
