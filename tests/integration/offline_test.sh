#!/usr/bin/env bash
# seek is offline by construction: `seek run` inside a network namespace with no network (unshare -n) gives
# exactly the output it gives outside, and under strace it makes no network system call at all.
set -u
SEEK=${1:-build/seek}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL $*"; echo "0 passed, 1 failed"; exit 1; }
skip_or_fail() { if [ -n "${CI:-}" ]; then fail "$*"; else echo "SKIP: $*"; exit 77; fi; }

SEEK_QUIET=1 "$SEEK" gen-model v3-tiny "$tmp/m.gguf" || fail "gen-model"
args=(run -m "$tmp/m.gguf" -p "The engine reads the model" -n 16 --temp 0.8 --seed 7 --json -t 2)
"$SEEK" "${args[@]}" > "$tmp/online.json" || fail "seek run"
unshare -n true 2>/dev/null || skip_or_fail "unshare -n is not permitted here (needs root)"
unshare -n -- "$SEEK" "${args[@]}" > "$tmp/offline.json" || fail "seek run in a namespace without network"
# Timings differ between runs; everything else must be identical.
strip() { sed -E 's/"timings":\{[^}]*\}//; s/"memory":\{[^}]*\}//' "$1"; }
[ "$(strip "$tmp/online.json")" = "$(strip "$tmp/offline.json")" ] || fail "output differs without network"
echo "ok   identical output with and without network"
passed=1
if command -v strace >/dev/null; then
  # LeakSanitizer cannot run under ptrace; the sanitizer build still checks everything else here.
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -e trace=%network -o "$tmp/trace" "$SEEK" "${args[@]}" > /dev/null || fail "seek run under strace"
  if [ -s "$tmp/trace" ]; then cat "$tmp/trace"; fail "seek made network system calls"; fi
  echo "ok   no network system calls (strace)"
  passed=2
else
  skip_or_fail "strace is not installed"
fi
echo "$passed passed, 0 failed"
