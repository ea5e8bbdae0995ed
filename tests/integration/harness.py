"""Shared helpers for seek's integration tests (run by CTest with /usr/bin/python3).

Each test script checks seek's binary against an independent oracle: the PyTorch reference in tools/ref or
llama.cpp through tools/oracle. A missing oracle is a skip (exit 77) on a developer machine and a failure in CI
(CI=true), so a CI run can never pass by skipping.
"""
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP = 77


def seek_binary():
    for i, a in enumerate(sys.argv):
        if a == "--seek" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return os.path.join(REPO, "build", "seek")


def require(ok, what):
    """Skips (or fails in CI) when an oracle is missing."""
    if ok:
        return
    if os.environ.get("CI"):
        print(f"FAIL: {what} is missing, and CI must not skip")
        sys.exit(1)
    print(f"SKIP: {what} is missing")
    sys.exit(SKIP)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r.stdout


def run_json(cmd, **kw):
    return json.loads(run(cmd, **kw))


_tmp = tempfile.TemporaryDirectory(prefix="seek_it_")


def model(preset, type_="f32", layout=None):
    """Writes (once per test process) a generated model and returns its path."""
    name = f"{preset}-{type_}{'-' + layout if layout else ''}.gguf"
    path = os.path.join(_tmp.name, name)
    if not os.path.exists(path):
        cmd = [seek_binary(), "gen-model", preset, path, "--type", type_]
        if layout:
            cmd += ["--layout", layout]
        run(cmd, env=dict(os.environ, SEEK_QUIET="1"))
    return path


def make_test_gguf_module():
    """tools/ref/make_test_gguf.py, which needs python3-numpy: a skip (a failure in CI) without it."""
    sys.path.insert(0, os.path.join(REPO, "tools", "ref"))
    try:
        import make_test_gguf
    except ImportError:
        make_test_gguf = None
    require(make_test_gguf is not None, "python3-numpy (for tools/ref/make_test_gguf.py)")
    return make_test_gguf


def tmpdir():
    return _tmp.name


def prompt_ids(seed, n, vocab):
    """A deterministic prompt of n ids starting with BOS (0), avoiding the special tokens at the ends."""
    out = [0]
    x = seed * 2654435761 % 2**32
    for _ in range(n - 1):
        x = (x * 1103515245 + 12345) % 2**31
        out.append(2 + x % (vocab - 10))
    return out


def seek_run_tokens(path, ids, n, extra=()):
    return run_json([seek_binary(), "run", "-m", path, "--tokens", ",".join(map(str, ids)), "-n", str(n),
                     "--temp", "0", "--ignore-eos", "--json", "--logits", "-t", "2", *extra])


ORACLE = os.path.join(REPO, "tools", "oracle")


def have_llamacpp():
    return os.path.isdir(os.path.join(ORACLE, "node_modules", "node-llama-cpp"))


def llamacpp(*args):
    return run_json(["node", os.path.join(ORACLE, "llamacpp.mjs"), *args], timeout=900)


class Checks:
    """Collects named checks and prints 'N passed, N failed' at the end, exiting non-zero on any failure."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name} {detail}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
