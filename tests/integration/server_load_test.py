#!/usr/bin/env python3
"""A bounded load test of seek serve: 16 concurrent streaming clients on loopback for 30 s (SEEK_LOAD_SECONDS) on a
generated model, plus one client that keeps walking away mid-stream. Zero errors, zero lost or mixed-up streams:
every reply equals, token for token, the greedy reply its client got alone before the load. The server must then
exit cleanly, which under the sanitizer build is the LeakSanitizer check. The reference kernels make the replies
independent of how prompts are chunked and batched (see tests/server/engine_test.cpp)."""
import http.client
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from server_util import Server  # noqa: E402

CLIENTS = 16
SECONDS = float(os.environ.get("SEEK_LOAD_SECONDS", "30"))


def request_body(i):
    return {"model": "m", "messages": [{"role": "system", "content": f"You are client {i}."},
                                       {"role": "user", "content": f"Client {i} says hello, " * (1 + i % 4)}],
            "max_tokens": 16 + 5 * i, "temperature": 0, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}


def stream_once(conn, body):
    """One streaming request: (text, usage, id) or raises with what went wrong."""
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"status {r.status}: {r.read()[:200]!r}")
    text, usage, ids, done, buf = [], None, set(), False, b""
    while True:
        chunk = r.read1(65536) if hasattr(r, "read1") else r.read(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            line = event.decode("utf-8")  # must be valid UTF-8
            if not line.startswith("data: "):
                continue
            payload = line[6:]
            if payload == "[DONE]":
                done = True
                continue
            e = json.loads(payload)
            if "error" in e:
                raise RuntimeError("error event: " + payload)
            ids.add(e["id"])
            if e.get("usage"):
                usage = e["usage"]
            if e["choices"]:
                text.append(e["choices"][0]["delta"].get("content") or "")
    if not done:
        raise RuntimeError("the stream ended without [DONE]")
    if len(ids) != 1:
        raise RuntimeError(f"chunks of {len(ids)} different ids in one stream")
    return "".join(text), usage


def main():
    seek = harness.seek_binary()
    model = harness.model("v3-tiny")
    c = harness.Checks()
    srv = Server(seek, model, "-t", "1", "--kernels", "ref", "--parallel", "8", "--queue", "16")

    # Each client's reply alone.
    reference = []
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    for i in range(CLIENTS):
        text, usage = stream_once(conn, request_body(i))
        reference.append((text, usage["completion_tokens"]))
    conn.close()
    c.check(all(n == 16 + 5 * i for i, (_, n) in enumerate(reference)), "reference replies have their lengths")

    stop_at = time.time() + SECONDS
    stats = {"requests": 0, "tokens": 0, "errors": [], "mismatches": [], "walkaways": 0}
    lock = threading.Lock()

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        while time.time() < stop_at:
            try:
                text, usage = stream_once(conn, request_body(i))
            except Exception as e:  # noqa: BLE001 (every failure is reported)
                with lock:
                    stats["errors"].append(f"client {i}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
                continue
            with lock:
                stats["requests"] += 1
                stats["tokens"] += usage["completion_tokens"]
                if (text, usage["completion_tokens"]) != reference[i]:
                    stats["mismatches"].append(f"client {i}: {text!r} != {reference[i][0]!r}")
        conn.close()

    def walkaway():
        # Opens a long stream, reads a little, and closes the connection: the server must cancel it and go on.
        body = json.dumps(dict(request_body(0), max_tokens=500)).encode()
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        while time.time() < stop_at:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            s.sendall(head + body)
            s.recv(4096)
            s.close()
            with lock:
                stats["walkaways"] += 1
            time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)] + [threading.Thread(target=walkaway)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    print(f"{stats['requests']} streams, {stats['tokens']} tokens in {elapsed:.1f} s "
          f"({stats['tokens'] / elapsed:.0f} tokens/s), {stats['walkaways']} clients walked away")
    c.check(not stats["errors"], "zero errors", "; ".join(stats["errors"][:5]))
    c.check(not stats["mismatches"], "zero lost or mixed-up streams (each reply equals its solo reply)",
            "; ".join(stats["mismatches"][:3]))
    c.check(stats["requests"] >= CLIENTS, "every client completed streams", str(stats["requests"]))
    time.sleep(0.5)
    m = srv.metrics()
    c.check(m.get("seek_sequences_active") == 0 and m.get("seek_queue_depth") == 0, "idle after the load")
    c.check(m.get("seek_requests_cancelled_total", 0) >= 1, "walked-away streams were cancelled",
            str(m.get("seek_requests_cancelled_total")))
    code, report = srv.stop()
    c.check(code == 0 and not report, "clean exit, no leaks", f"code {code} {report}")
    c.finish()


if __name__ == "__main__":
    main()
