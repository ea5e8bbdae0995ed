"""Starting and stopping `seek serve` for the server's integration tests (loopback only, any free port)."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


class Server:
    """A `seek serve` process on 127.0.0.1 with a free port. stop() checks it exits cleanly (code 0, no sanitizer
    report): under the sanitizer build that is the leak check."""

    def __init__(self, seek, model, *args, env=None, wait_ready=True):
        self.log = tempfile.NamedTemporaryFile(prefix="seek_serve_", suffix=".log", delete=False)
        e = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen([seek, "serve", "-m", model, "--port", "0", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        self.port = None
        deadline = time.time() + 60
        while time.time() < deadline and self.port is None:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.text())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                raise RuntimeError("seek serve exited early:\n" + self.text())
            else:
                time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("seek serve did not report its port:\n" + self.text())
        self.url = f"http://127.0.0.1:{self.port}"
        if wait_ready:
            while time.time() < deadline:
                if "ready:" in self.text():
                    break
                time.sleep(0.05)

    def text(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, body bytes) of one request; body may be a dict (sent as JSON) or bytes."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data)

    def metrics(self):
        _, _, data = self.request("GET", "/metrics", headers=getattr(self, "auth", None))
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def stop(self, timeout=60):
        """SIGTERM, then the exit code and whether the log shows a sanitizer report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -9, "did not stop within %d s after SIGTERM" % timeout
        log = self.text()
        os.unlink(self.log.name)
        bad = [w for w in ("LeakSanitizer", "AddressSanitizer", "runtime error:") if w in log]
        return self.proc.returncode, ("sanitizer report: " + ", ".join(bad) + "\n" + log[-4000:]) if bad else ""


def sse_events(raw):
    """The JSON payloads of a server-sent-event stream (bytes), and whether it ended with [DONE]."""
    events, done = [], False
    for block in raw.decode("utf-8").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                payload = line[6:]
                if payload == "[DONE]":
                    done = True
                else:
                    events.append(json.loads(payload))
    return events, done
