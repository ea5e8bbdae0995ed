#!/usr/bin/env python3
"""The web chat page end to end in Debian's headless chromium, driven by npm playwright-core
(tools/server-test/web_test.mjs): streamed reply, stop button, conversations kept in the browser, phone layout.
Screenshots go to $SEEK_WEB_SCREENSHOTS when set."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from server_util import Server  # noqa: E402

TOOLS = os.path.join(harness.REPO, "tools", "server-test")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main():
    harness.require(shutil.which("node"), "node")
    harness.require(os.path.isdir(os.path.join(TOOLS, "node_modules", "playwright-core")),
                    "the playwright-core npm package (scripts/install-deps.sh installs tools/server-test)")
    harness.require(os.access(CHROMIUM, os.X_OK), "chromium (apt-get install chromium)")
    c = harness.Checks()
    model = harness.model("v3-tiny")
    # Slow steps (50 ms: a 24-token reply streams for over a second) so that the page is seen to grow and can be
    # stopped even when each browser round trip is slow (CI runs this beside the load test on 2 cores).
    srv = Server(harness.seek_binary(), model, "-t", "1", env={"SEEK_TEST_STEP_DELAY_MS": "50"})
    r1 = Server(harness.seek_binary(), model, "-t", "1", "--chat-template", "deepseek-r1")
    out = os.environ.get("SEEK_WEB_SCREENSHOTS") or harness.tmpdir()
    os.makedirs(out, exist_ok=True)
    model_id = os.path.basename(model)[:-5]
    r = subprocess.run(["node", os.path.join(TOOLS, "web_test.mjs"), "--url", srv.url, "--model", model_id, "--out", out,
                        "--r1-url", r1.url],
                       capture_output=True, text=True, timeout=240)
    print(r.stdout + r.stderr[-3000:])
    c.check(r.returncode == 0, "web page checks")
    for s in (srv, r1):
        code, report = s.stop()
        c.check(code == 0 and not report, "clean exit", f"code {code} {report}")
    c.finish()


if __name__ == "__main__":
    main()
