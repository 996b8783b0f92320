#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: first a Release
# build (unit + end-to-end tests; benchmarks are compiled, not run), then the whole
# suite again under AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on
# any failure. Set MEMENTO_SKIP_SANITIZERS=1 for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
jobs=$(nproc)

run_suite() {  # name build-dir cmake-args...
  local name=$1 dir=$2
  shift 2
  echo "== ${name}: configure and build in ${dir}"
  cmake -S . -B "${dir}" "$@" >/dev/null
  cmake --build "${dir}" -j"${jobs}"
  echo "== ${name}: tests"
  (cd "${dir}" && ctest --output-on-failure -j"${jobs}" --timeout 600)
}

run_suite release build -DCMAKE_BUILD_TYPE=Release -DMEMENTO_BUILD_BENCHMARKS=ON

if [[ "${MEMENTO_SKIP_SANITIZERS:-0}" != 1 ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite asan-ubsan build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMENTO_SANITIZE=address,undefined
fi
echo "== all test suites passed"
