#!/usr/bin/env bash
# Configures and builds seek in build/ (Release) or, with --sanitize, build-asan/ (ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build; flags=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEEK_SANITIZE=ON); fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" "${@:2}"
