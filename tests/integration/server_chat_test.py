#!/usr/bin/env python3
"""seek chat: as a script filter (lines or a JSON conversation on stdin, plain text out; the reply equals the
server's for the same conversation), and interactively on a pseudo-terminal: commands, multi-line input, Ctrl-C
stopping a reply (not the program), /save written atomically and /load, and a full context handled by dropping the
oldest turns."""
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from server_util import Server  # noqa: E402


class Pty:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        self.out = b""

    def expect(self, needle, timeout=20):
        """Reads until `needle` (bytes) appears after what earlier expects consumed; returns the text before it."""
        end = time.time() + timeout
        while needle not in self.out:
            if time.time() > end:
                raise TimeoutError(f"waiting for {needle!r}; got {self.out[-400:]!r}")
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise EOFError(f"program ended while waiting for {needle!r}; got {self.out[-400:]!r}")
                self.out += data
        before, _, self.out = self.out.partition(needle)
        return before

    def send(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def wait(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                os.read(self.fd, 65536)
            except OSError:
                pass
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        return None


def main():
    seek = harness.seek_binary()
    model = harness.model("v3-tiny")
    c = harness.Checks()
    base = [seek, "chat", "-m", model, "-t", "1", "--kernels", "ref", "--temp", "0"]

    # --- without a terminal ------------------------------------------------------------------------------------------
    r = subprocess.run(base + ["-n", "8"], input=b"Hello there\nHow are you?\n", capture_output=True, timeout=60)
    c.check(r.returncode == 0 and r.stdout and b"\x1b[" not in r.stdout, "stdin lines -> plain replies",
            r.stderr.decode(errors="replace")[-300:])
    try:
        r.stdout.decode("utf-8")
        c.check(True, "output is valid UTF-8")
    except UnicodeError:
        c.check(False, "output is valid UTF-8")
    conv = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]}
    r = subprocess.run(base + ["-n", "12"], input=json.dumps(conv).encode(), capture_output=True, timeout=60)
    srv = Server(seek, model, "-t", "1", "--kernels", "ref")
    status, body = srv.json("POST", "/v1/chat/completions", dict(conv, max_tokens=12, temperature=0))
    srv.stop()
    c.check(r.returncode == 0 and r.stdout.decode() == body["choices"][0]["message"]["content"] + "\n",
            "a JSON conversation gets the same reply as from seek serve",
            f"{r.stdout!r} vs {body['choices'][0]['message']['content']!r}")
    r = subprocess.run(base, input=b"[{\"role\": \"user\"", capture_output=True, timeout=60)
    c.check(r.returncode == 1 and b"not a conversation" in r.stderr, "broken JSON input is reported")

    # --- on a terminal -----------------------------------------------------------------------------------------------
    env = dict(os.environ, SEEK_TEST_STEP_DELAY_MS="5", TERM="xterm")
    save = os.path.join(harness.tmpdir(), "chat.json")
    t = Pty(base + ["-n", "400", "-c", "1024"], env)
    try:
        t.expect(b"> ")
        t.send("/system Be brief.\n")
        t.expect(b"(system prompt set)")
        t.expect(b"> ")
        t.send("Hello\n")
        reply = t.expect(b"tokens of context]")
        c.check(len(reply.strip()) > 0, "a reply is streamed")
        t.expect(b"> ")
        t.send("Tell me a long story \\\n")
        t.expect(b"... ")
        t.send("with a second line\n")
        time.sleep(0.4)
        t.send(b"\x03")  # Ctrl-C during the reply
        t.expect(b"(stopped)")
        t.expect(b"> ")
        c.check(True, "Ctrl-C stops the reply, not the program")
        t.send(b"\x03")  # Ctrl-C at the prompt
        t.expect(b"/exit or Ctrl-D quits")
        t.expect(b"> ")
        c.check(True, "Ctrl-C at the prompt keeps the program")
        t.send(f"/save {save}\n")
        t.expect(b"(saved 5 messages")
        saved = json.load(open(save))
        c.check([m["role"] for m in saved["messages"]] == ["system", "user", "assistant", "user", "assistant"] and
                saved["messages"][3]["content"] == "Tell me a long story \nwith a second line" and
                not os.path.exists(save + ".tmp"), "/save writes the conversation (multi-line message kept)")
        t.send("/reset\n")
        t.expect(b"(conversation reset)")
        t.send(f"/load {save}\n")
        t.expect(b"(loaded 5 messages")
        t.send("/load /nonexistent/file.json\n")
        t.expect(b"cannot open")
        t.send("/think\n")
        t.expect(b"(reasoning hidden)")
        t.send("/bogus\n")
        t.expect(b"unknown command")
        t.send("/exit\n")
        code = t.wait()
        c.check(code == 0, "/exit quits with 0", str(code))
    except (TimeoutError, EOFError) as e:
        c.check(False, "interactive session", str(e))
        os.kill(t.pid, signal.SIGKILL)

    # --- a small context fills up: the oldest turns are dropped, with a note ------------------------------------------
    t = Pty(base + ["-n", "24", "-c", "96"], dict(os.environ, TERM="xterm"))
    try:
        notes = b""
        for i in range(5):
            t.expect(b"> ")
            t.send(f"Message number {i} with some words in it\n")
            notes += t.expect(b"tokens of context]")
        c.check(b"context full: dropped" in notes, "a full context drops the oldest turns and says so")
        t.expect(b"> ")
        t.send("x" * 400 + "\n")
        t.expect(b"error: the message needs")
        t.expect(b"> ")
        c.check(True, "a message longer than the context is refused, the chat goes on")
        t.send(b"\x04")  # Ctrl-D
        code = t.wait()
        c.check(code == 0, "Ctrl-D quits with 0", str(code))
    except (TimeoutError, EOFError) as e:
        c.check(False, "small-context session", str(e))
        os.kill(t.pid, signal.SIGKILL)
    c.finish()


if __name__ == "__main__":
    main()
