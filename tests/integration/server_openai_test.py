#!/usr/bin/env python3
"""seek serve against the official `openai` npm client (tools/server-test/openai_test.mjs), with an API key."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from server_util import Server  # noqa: E402

TOOLS = os.path.join(harness.REPO, "tools", "server-test")


def main():
    harness.require(shutil.which("node"), "node")
    harness.require(os.path.isdir(os.path.join(TOOLS, "node_modules", "openai")),
                    "the openai npm package (scripts/install-deps.sh installs tools/server-test)")
    c = harness.Checks()
    srv = Server(harness.seek_binary(), harness.model("v3-tiny"), "-t", "1", "--api-key", "k-123", "--kernels", "ref",
                 "--parallel", "2", env={"SEEK_TEST_STEP_DELAY_MS": "2"})  # keeps a stream open long enough to abort
    r = subprocess.run(["node", os.path.join(TOOLS, "openai_test.mjs"), "--url", srv.url, "--key", "k-123"],
                       capture_output=True, text=True, timeout=300)
    print(r.stdout + r.stderr)
    c.check(r.returncode == 0, "openai client checks")
    code, report = srv.stop()
    c.check(code == 0 and not report, "clean exit", f"code {code} {report}")
    c.finish()


if __name__ == "__main__":
    main()
