#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds an optimised and a sanitizer (ASan + UBSan) build, and
# runs every test (unit tests, oracle comparisons, bad-input and offline checks) with CTest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
scripts/build.sh --sanitize
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
ctest --test-dir build --output-on-failure -j2 || status=1
echo "== sanitizer build (ASan + UBSan) =="
ctest --test-dir build-asan --output-on-failure -j2 || status=1
exit $status
