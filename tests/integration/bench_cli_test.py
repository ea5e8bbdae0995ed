"""seek bench and the repacked Q8_0 weights from the command line: bench's --json report holds every figure
(pp, tg, and with --parallel N the sequences decoded together), a bad --parallel is one usage error, and a Q8_0
model gives the same prompt logits with its weights repacked (the default) and as stored rows (--no-repack),
within float rounding of the different summation order (the integer sums are the same)."""
import json
import os
import subprocess

import harness

c = harness.Checks()
seek = harness.seek_binary()
q8 = harness.model("v3-tiny", "q8_0")

j = harness.run_json([seek, "bench", "-m", q8, "-p", "8", "-n", "4", "-r", "1", "-t", "2", "--parallel", "3", "--json"])
c.check(j["pp"]["n"] == 8 and j["pp"]["tokens_per_s"] > 0, "bench: prompt processing measured", str(j["pp"]))
c.check(j["tg"]["n"] == 4 and j["tg"]["tokens_per_s"] > 0 and j["tg"]["gb_per_s"] > 0, "bench: generation measured",
        str(j["tg"]))
c.check(j["parallel"]["sequences"] == 3 and j["parallel"]["tokens_per_s"] > 0, "bench: 3 sequences decoded together",
        str(j["parallel"]))
j0 = harness.run_json([seek, "bench", "-m", q8, "-p", "0", "-n", "2", "-r", "1", "--json"])
c.check(j0["parallel"]["sequences"] == 0 and j0["parallel"]["tokens_per_s"] == 0, "bench: no --parallel, no figure",
        str(j0["parallel"]))

r = subprocess.run([seek, "bench", "-m", q8, "--parallel", "-2"], capture_output=True, text=True, timeout=60)
lines = [l for l in r.stderr.splitlines() if l.strip()]
c.check(r.returncode == 2 and len(lines) == 1 and "--parallel" in r.stderr, "bench: a negative --parallel is a usage error",
        f"(exit {r.returncode}: {r.stderr.strip()[:200]})")


def prompt_logits(*extra):
    return harness.run_json([seek, "run", "-m", q8, "--tokens", "1,5,9,13,17,21,25", "-n", "1", "--temp", "0", "--json",
                             "--logits", "-t", "2", *extra])["prompt_logits"]


packed, rows = prompt_logits(), prompt_logits("--no-repack")
scale = 1.0 + max(abs(x) for x in rows)
diff = max(abs(a - b) for a, b in zip(packed, rows))
# Not bit-identical (each form sums in its own order), which also shows --no-repack took the other path.
c.check(len(packed) == len(rows) and 0 < diff / scale < 2e-5, "run: repacked and stored Q8_0 weights agree",
        f"(max |diff| {diff:.2e}, logit scale {scale:.2f})")
# Too little memory for the panels (~0.5 MB): the weights stay as stored, and the user is told in one line. (A
# 16-token context keeps the KV cache, ~9 KB, within the 100 KB said to be available.)
r = subprocess.run([seek, "run", "-m", q8, "--tokens", "1,5,9,13,17,21,25", "-n", "1", "--temp", "0", "--json",
                    "--logits", "-t", "2", "-c", "16"], capture_output=True, text=True, timeout=120,
                   env=dict(os.environ, SEEK_TEST_AVAILABLE_MEMORY="100000"))
kept = json.loads(r.stdout)["prompt_logits"] if r.returncode == 0 else []
c.check(r.returncode == 0 and "Q8_0 weights kept as stored" in r.stderr and kept == rows,
        "run: with too little memory the weights stay as stored (same logits as --no-repack)", r.stderr.strip()[:160])
c.finish()
