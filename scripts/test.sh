#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: first a Release
# build (unit + end-to-end tests; benchmarks are compiled, not run), then the whole
# suite again under AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on
# any failure. Then the concurrency tests under ThreadSanitizer, and a short run of
# every fuzz target. Set MEMENTO_SKIP_SANITIZERS=1 and MEMENTO_SKIP_FUZZ=1 for a
# quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
jobs=$(nproc)
# ccache, when the machine has it, makes a second clone's build cheap; it changes no
# compiler flag. base_dir makes its keys independent of where the clone lives.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${PWD}"
fi

run_suite() {  # name build-dir cmake-args...
  local name=$1 dir=$2
  shift 2
  echo "== ${name}: configure and build in ${dir}"
  # Every option the suite depends on is passed, never taken from the cache: start.sh
  # configures the same build/ with the tests off, and a cached MEMENTO_BUILD_TESTS=OFF
  # would otherwise leave ctest with nothing to run.
  cmake -S . -B "${dir}" -DMEMENTO_BUILD_TESTS=ON -DMEMENTO_BUILD_FUZZERS=OFF "${launcher[@]}" \
    "$@" >/dev/null
  cmake --build "${dir}" -j"${jobs}"
  echo "== ${name}: tests"
  # --no-tests=error: a build that registered no test is a failure, not a pass.
  (cd "${dir}" && ctest --output-on-failure --no-tests=error -j"${jobs}" --timeout 600)
}

run_suite release build -DCMAKE_BUILD_TYPE=Release -DMEMENTO_BUILD_BENCHMARKS=ON

if [[ "${MEMENTO_SKIP_SANITIZERS:-0}" != 1 ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite asan-ubsan build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMENTO_SANITIZE=address,undefined

  # ThreadSanitizer (clang) over the concurrency tests: the sharded table, the event
  # loops, the durability barrier and deferred replies, the write-ahead log's group
  # commit, the cluster bus, the connection registry, start-up while loading.
  echo "== tsan: configure and build in build-tsan"
  cmake -S . -B build-tsan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMEMENTO_BUILD_TESTS=ON -DMEMENTO_SANITIZE=thread "${launcher[@]}" >/dev/null
  # cluster_test starts real TSan-built daemons (three nodes, both protocols, forwarded
  # and split requests): a race in the daemon aborts it (halt_on_error) and fails it.
  # client_admin_test: CLIENT LIST/KILL and MONITOR reach connections on every loop;
  # daemon_lifecycle_test: clients served while the data loads (the loading flag).
  tsan_tests=(hash_map_test table_test server_test wal_test bus_test cluster_test
    client_admin_test daemon_lifecycle_test)
  cmake --build build-tsan -j"${jobs}" --target "${tsan_tests[@]}"
  echo "== tsan: tests"
  # detect_deadlocks=0: Table::Clear holds all 256 shard locks at once (so a FLUSH is
  # atomic against writes) and TSan's lock-order detector hangs tracking that many;
  # data-race detection is unaffected. Lock order is by shard index everywhere.
  export TSAN_OPTIONS=halt_on_error=1:detect_deadlocks=0
  (cd build-tsan && ctest --output-on-failure --no-tests=error -j"${jobs}" --timeout 600 \
    -R '^(HashMap|Table|TableSink|Server|Wal|GroupCommit|Bus|SilentPeer|Cluster|ClientAdmin|DaemonLifecycle)')
fi

# Fuzz smoke (fuzz/README.md): every libFuzzer target, built with clang under
# ASan+UBSan, runs for MEMENTO_FUZZ_SECONDS (20) from its seed corpus. The seeds and
# past crashes already ran above as the fuzz_replay_* tests; this looks for new ones.
# Set MEMENTO_SKIP_FUZZ=1 to skip it.
if [[ "${MEMENTO_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzz: configure and build in build-fuzz"
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMEMENTO_BUILD_FUZZERS=ON -DMEMENTO_SANITIZE=address,undefined \
    -DMEMENTO_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
  # Every target.
  ./fuzz/run_smoke.sh -t "${MEMENTO_FUZZ_SECONDS:-20}" -j "${jobs}" build-fuzz
fi
echo "== all test suites passed"
