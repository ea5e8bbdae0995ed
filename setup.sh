#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to generated text: installs what seek needs, builds it, and runs
# the embedded default model (models/seek-tiny-v3.gguf) on a prompt.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
echo
build/seek run -p "${1:-The old man said}" -n 64 --temp 0.7 --seed 1
