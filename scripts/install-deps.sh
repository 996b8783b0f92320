#!/usr/bin/env bash
# Installs, from Debian's packages only, whatever the build and the tests need and is
# missing. Idempotent: a machine that has everything runs no apt-get at all.
set -euo pipefail

packages=(
  build-essential cmake pkg-config g++ clang ccache
  liblmdb-dev libzstd-dev libtomlplusplus-dev
  # HMAC-SHA256 and nonces of the cluster bus handshake (OpenSSL's libcrypto).
  libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Client tests (tests/clients/) and the comparison benchmark (bench/compare.sh).
  redis-server redis-tools python3 python3-redis tmux
  # memento-cli's line editing and history (tools/cli/).
  libedit-dev
  # Fault injection for tests/e2e/durability_test.cc (libfiu's POSIX preload).
  fiu-utils
  # The fuzzers (fuzz/README.md): libFuzzer and the sanitizer runtimes for clang 14,
  # and llvm-symbolizer for readable crash reports.
  libclang-rt-14-dev llvm-14
)
# Node.js for the ioredis client test. A machine may already have a node from another
# source (NodeSource's nodejs bundles npm and conflicts with Debian's npm package), so
# the commands are checked, not the packages.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them with sudo apt-get install)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
