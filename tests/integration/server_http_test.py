#!/usr/bin/env python3
"""seek serve over HTTP with curl and raw sockets: the API's answers and errors in the OpenAI shape, the limits
(body size, JSON depth, API key, Host/Origin, the queue's 429), cancellation when a client goes away (streaming,
waiting and queued), /health while loading, R1's reasoning split, prefix reuse, and a clean exit (the leak check
under the sanitizer build)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from server_util import Server, sse_events  # noqa: E402

KEY = "test-key-0123456789"
AUTH = {"Authorization": "Bearer " + KEY}
HELLO = {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 12, "temperature": 0}


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "60", *args], capture_output=True, timeout=90)
    return r.stdout


def is_api_error(body, status_type=None):
    try:
        e = json.loads(body)["error"]
        return isinstance(e["message"], str) and e["message"] and "type" in e and (status_type is None or e["type"] == status_type)
    except Exception:
        return False


def raw(port, data, read=True, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
    s.close()
    return out


def post_head(path, body, extra=""):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def wait_until(pred, seconds=5.0):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def main():
    harness.require(shutil.which("curl"), "curl")
    harness.require(shutil.which("ss"), "ss (iproute2)")
    seek = harness.seek_binary()
    model = harness.model("v3-tiny")
    c = harness.Checks()

    # --- /health while the model loads -------------------------------------------------------------------------
    srv = Server(seek, model, "-t", "1", env={"SEEK_TEST_LOAD_DELAY_MS": "1500"}, wait_ready=False)
    status, headers, body = srv.request("GET", "/health")
    c.check(status == 503 and json.loads(body)["status"] == "loading" and "Retry-After" in headers,
            "health 503 while loading", str(status))
    status, _, body = srv.request("POST", "/v1/chat/completions", HELLO)
    c.check(status == 503 and is_api_error(body), "API 503 while loading", str(status))
    c.check(wait_until(lambda: srv.request("GET", "/health")[0] == 200, 30), "health 200 once loaded")
    code, report = srv.stop()
    c.check(code == 0 and not report, "clean exit after loading", f"code {code} {report}")

    # --- the main server: API key, small body limit, reference kernels for exact comparisons --------------------
    srv = Server(seek, model, "-t", "1", "--api-key", KEY, "--max-body", "65536", "--kernels", "ref",
                 "--parallel", "2")
    srv.auth = AUTH
    u = srv.url
    # A burst of clients connecting at once must not overflow the listen queue (cpp-httplib's default backlog of 5
    # dropped SYNs under load, which clients retry a second later): ss shows a listening socket's backlog as Send-Q.
    listen = subprocess.run(["ss", "-ltnH", f"sport = :{srv.port}"], capture_output=True, text=True).stdout.split()
    c.check(len(listen) >= 3 and int(listen[2]) >= 128, "listen backlog of at least 128", " ".join(listen))
    out = curl(u + "/v1/chat/completions", "-H", "Authorization: Bearer " + KEY, "-H", "Content-Type: application/json",
               "-d", json.dumps(HELLO))
    full = json.loads(out)
    msg = full["choices"][0]["message"]
    usage = full["usage"]
    c.check(full["object"] == "chat.completion" and msg["role"] == "assistant" and isinstance(msg["content"], str),
            "curl chat non-stream", json.dumps(msg)[:120])
    c.check(usage["completion_tokens"] == 12 and full["choices"][0]["finish_reason"] == "length" and
            usage["prompt_cache_hit_tokens"] + usage["prompt_cache_miss_tokens"] == usage["prompt_tokens"] and
            usage["completion_tokens_details"]["reasoning_tokens"] == 0, "usage fields", json.dumps(usage))
    try:
        msg["content"].encode("utf-8")
        c.check(True, "reply is valid UTF-8")
    except UnicodeError:
        c.check(False, "reply is valid UTF-8")

    out = curl("-N", u + "/chat/completions", "-H", "X-Api-Key: " + KEY, "-d",
               json.dumps(dict(HELLO, stream=True, stream_options={"include_usage": True})))
    events, done = sse_events(out)
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    c.check(done and events[0]["choices"][0]["delta"]["role"] == "assistant", "curl stream: role first, [DONE] last")
    c.check(text == msg["content"], "stream text equals non-stream text (DeepSeek path, X-Api-Key)",
            f"{text!r} vs {msg['content']!r}")
    finals = [e for e in events if e["choices"] and e["choices"][0]["finish_reason"]]
    c.check(len(finals) == 1 and finals[0]["choices"][0]["finish_reason"] == "length", "one finish_reason chunk")
    c.check(events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 12, "usage chunk last")
    c.check(events[-1]["usage"]["prompt_cache_hit_tokens"] == usage["prompt_tokens"] - 1,
            "prefix reuse: repeated prompt reuses all but its last token", json.dumps(events[-1]["usage"]))

    # --- authentication -------------------------------------------------------------------------------------------
    for name, hdr in [("no key", {}), ("wrong key", {"Authorization": "Bearer nope"}),
                      ("wrong X-Api-Key", {"X-Api-Key": KEY + "x"})]:
        status, _, body = srv.request("POST", "/v1/chat/completions", HELLO, hdr)
        c.check(status == 401 and is_api_error(body, "authentication_error"), f"401 with {name}", str(status))
    for path in ["/v1/models", "/metrics", "/tokenize"]:
        status, _, _ = srv.request("GET" if path != "/tokenize" else "POST", path, {"content": "x"} if path == "/tokenize" else None)
        c.check(status == 401, f"key required on {path}", str(status))
    c.check(srv.request("GET", "/health")[0] == 200, "no key needed for /health")

    # --- limits and malformed requests ----------------------------------------------------------------------------
    big = json.dumps({"messages": [{"role": "user", "content": "a" * 70000}]}).encode()
    status, _, body = srv.request("POST", "/v1/chat/completions", big, AUTH)
    c.check(status == 413 and is_api_error(body), "413 past --max-body (Content-Length)", str(status))
    r = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", u + "/v1/chat/completions", "-H",
                        "Authorization: Bearer " + KEY, "-H", "Transfer-Encoding: chunked", "--data-binary", "@-"],
                       input=big, capture_output=True, timeout=60)
    c.check(r.stdout.endswith(b"413") and is_api_error(r.stdout.rsplit(b"\n", 1)[0]), "413 past --max-body (chunked)",
            r.stdout[-60:].decode(errors="replace"))
    deep = ("[" * 100 + "]" * 100).encode()
    status, _, body = srv.request("POST", "/v1/chat/completions", deep, AUTH)
    c.check(status == 400 and b"deeper than 64" in body, "400 for JSON nested too deep", body[:100].decode())
    for name, payload in [("not JSON", b"{nope"), ("invalid UTF-8", b'{"messages":[{"role":"user","content":"\xff"}]}'),
                          ("wrong type", json.dumps({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}).encode()),
                          ("empty body", b"")]:
        status, _, body = srv.request("POST", "/v1/chat/completions", payload, AUTH)
        c.check(status == 400 and is_api_error(body, "invalid_request_error"), f"400 for {name}", body[:120].decode(errors="replace"))
    status, body = srv.json("POST", "/v1/chat/completions", dict(HELLO, max_tokens=5000), AUTH)
    c.check(status == 400 and "1024 tokens" in body["error"]["message"] and "5000 in the completion" in body["error"]["message"],
            "context overflow states both counts", body["error"]["message"][:160])
    status, body = srv.json("POST", "/v1/completions", {"prompt": "def f(", "suffix": "x"}, AUTH)
    c.check(status == 400 and "fill-in-the-middle" in body["error"]["message"], "FIM refused without FIM tokens")
    status, _, body = srv.request("GET", "/nope", None, AUTH)
    c.check(status == 404 and is_api_error(body), "404 in the API's shape")
    status, _, body = srv.request("GET", "/health", None, {"Host": "evil.example"})
    c.check(status == 403, "Host header of another name refused (DNS rebinding)", str(status))
    status, _, body = srv.request("POST", "/v1/chat/completions", HELLO, dict(AUTH, Origin="http://evil.example"))
    c.check(status == 403 and is_api_error(body), "cross-origin POST refused", str(status))
    for name, data in [("garbage request line", b"\x00\x01\x02 nonsense\r\n\r\n"),
                       ("huge header", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n"),
                       ("bad content length", b"POST /tokenize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
                       ("truncated body", post_head("/v1/chat/completions", b'{"messages": [')[:-5])]:
        raw(srv.port, data, read=True, timeout=2)
        c.check(srv.request("GET", "/health")[0] == 200, f"alive after {name}")
    status, body = srv.json("POST", "/detokenize", {"tokens": [300, 301, 200]}, AUTH)
    c.check(status == 200 and "\ufffd" in body["content"], "detokenize: a cut character becomes U+FFFD")
    status, body = srv.json("POST", "/tokenize", {"content": "Hello world", "with_pieces": True}, AUTH)
    c.check(status == 200 and "".join(t["piece"] for t in body["tokens"]) == "Hello world", "tokenize with pieces")
    status, body = srv.json("POST", "/detokenize", {"tokens": [t["id"] for t in body["tokens"]]}, AUTH)
    c.check(body.get("content") == "Hello world", "detokenize round trip")
    status, body = srv.json("GET", "/v1/models", None, AUTH)
    c.check(status == 200 and body["data"][0]["object"] == "model", "models list")

    code, report = srv.stop()
    c.check(code == 0 and not report, "clean exit (no leaks under the sanitizer build)", f"code {code} {report}")

    # --- cancellation when the client goes away; the queue: 429 past it --------------------------------------------
    # Steps slowed to 20 ms: a 900-token reply takes 18 s, so requests are surely in flight when clients leave.
    srv = Server(seek, model, "-t", "1", "--parallel", "1", "--queue", "1", env={"SEEK_TEST_STEP_DELAY_MS": "20"})
    long_req = {"messages": [{"role": "user", "content": "x"}], "max_tokens": 900, "ignore_eos": True}
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(post_head("/v1/chat/completions", json.dumps(dict(long_req, stream=True)).encode()))
    s.recv(1024)
    s.close()
    c.check(wait_until(lambda: srv.metrics().get("seek_requests_cancelled_total", 0) == 1 and
                       srv.metrics().get("seek_sequences_active", 1) == 0),
            "streaming request cancelled when the client closes")
    results = []

    def hold(n):
        status, headers, _ = srv.request("POST", "/v1/chat/completions", dict(long_req, max_tokens=n))
        results.append((status, headers.get("Retry-After")))

    first = threading.Thread(target=hold, args=(60,))
    first.start()
    wait_until(lambda: srv.metrics().get("seek_sequences_active", 0) == 1)
    # The slot is busy: this one waits in the queue, then its client goes away (non-streaming).
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(post_head("/v1/chat/completions", json.dumps(long_req).encode()).replace(f"Authorization: Bearer {KEY}\r\n".encode(), b""))
    c.check(wait_until(lambda: srv.metrics().get("seek_queue_depth", 0) == 1), "second request queued")
    status, headers, body = srv.request("POST", "/v1/chat/completions", long_req)
    c.check(status == 429 and headers.get("Retry-After") and is_api_error(body, "rate_limit_error"),
            "429 with Retry-After past the queue", str(status))
    s.close()
    c.check(wait_until(lambda: srv.metrics().get("seek_queue_depth", 1) == 0 and
                       srv.metrics().get("seek_requests_cancelled_total", 0) >= 2),
            "queued request cancelled when its client closes")
    first.join()
    c.check(results == [(200, None)], "the running request is unaffected", str(results))
    c.check(srv.metrics().get("seek_requests_finished_total", 0) == 1, "nothing else ran")
    code, report = srv.stop()
    c.check(code == 0 and not report, "clean exit after cancellations", f"code {code} {report}")

    # --- R1: reasoning_content apart from content --------------------------------------------------------------------
    srv = Server(seek, model, "-t", "1", "--chat-template", "deepseek-r1")
    status, body = srv.json("POST", "/v1/chat/completions", dict(HELLO, max_tokens=8, ignore_eos=True))
    m = body["choices"][0]["message"]
    c.check(status == 200 and isinstance(m.get("reasoning_content"), str) and m["reasoning_content"] != "",
            "R1: reasoning_content reported", json.dumps(m)[:120])
    c.check(body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0, "R1: reasoning_tokens counted")
    _, _, raw_sse = srv.request("POST", "/v1/chat/completions", dict(HELLO, max_tokens=8, ignore_eos=True, stream=True))
    events, done = sse_events(raw_sse)
    deltas = [e["choices"][0]["delta"] for e in events if e["choices"]]
    streamed = "".join(d.get("reasoning_content") or "" for d in deltas)
    c.check(done and "reasoning_content" in deltas[0] and streamed == m["reasoning_content"] and
            all(d.get("content") in (None, "") for d in deltas), "R1 stream: reasoning_content deltas, content null",
            f"{streamed!r} vs {m['reasoning_content']!r}")
    code, report = srv.stop()
    c.check(code == 0 and not report, "clean exit (R1 server)", f"code {code} {report}")
    c.finish()


if __name__ == "__main__":
    main()
