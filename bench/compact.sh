#!/usr/bin/env bash
# What does memento-compact save, and how long does it take? A data directory written by
# memento with KEYS keys of DATA_SIZE-byte values, each written ROUNDS times (a
# checkpoint after every round but the last, so the LMDB file holds the pages the
# overwrites freed; the last round is left in the write-ahead log by a kill -9), then
# memento-compact on it (timed), then memento-compact --check (timed), then a restart
# that must find KEYS keys.
#
# Usage: bench/compact.sh [BUILD_DIR]
#   BUILD_DIR defaults to build (its bin/memento and bin/memento-compact; build them
#   Release first, this script builds nothing). Needs redis-cli (Debian's redis-tools)
#   and python3.
#
# Environment (defaults in brackets):
#   KEYS [1000000]   DATA_SIZE [100]   ROUNDS [3]   (writes = KEYS x ROUNDS)
#   STOP [kill]      kill: kill -9 after the last round (it stays in the log);
#                    term: SIGTERM (the final checkpoint folds it into the snapshot)
# The page cache is warm (the files were just written): this measures CPU and copy
# work more than the disk.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${root}/build}
memento=${build}/bin/memento
compact=${build}/bin/memento-compact
keys=${KEYS:-1000000}
data_size=${DATA_SIZE:-100}
rounds=${ROUNDS:-3}
stop=${STOP:-kill}

die() { echo "compact.sh: $*" >&2; exit 1; }
say() { echo "compact.sh: $*" >&2; }
[[ -x "${memento}" && -x "${compact}" ]] || die "${memento} or ${compact} not found: build them (Release)"
for tool in redis-cli python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-compact-bench.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "${server_pid}" ]]; then
    kill -KILL "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
  fi
  rm -rf "${tmp}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"${tmp}/memento.toml" <<'EOF'
[storage]
snapshot_interval_s = 0
snapshot_after_writes = 0
EOF

# gen_sets SEED: RESP SET commands for key:%012d, 0..KEYS-1, DATA_SIZE-byte values that
# differ per key and per SEED and do not compress (redis-cli --pipe input).
gen_sets() {
  python3 - "$1" "${keys}" "${data_size}" <<'EOF'
import random, sys
seed, count, size = (int(a) for a in sys.argv[1:4])
pool = random.Random(42).randbytes(1 << 19).hex().encode()
span = len(pool) - size
head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
mid = b"\r\n$%d\r\n" % size
out = sys.stdout.buffer
for start in range(0, count, 10000):
    out.write(b"".join(
        head + b"key:%012d" % i + mid
        + pool[(o := (i * 7919 + seed * 104729) % span):o + size] + b"\r\n"
        for i in range(start, min(start + 10000, count))))
EOF
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_memento() {
  "${memento}" -f "${tmp}/memento.toml" -a 127.0.0.1 -p "${port}" --data-dir "${tmp}/data" \
    2>>"${tmp}/memento.log" &
  server_pid=$!
  for _ in $(seq 1 3000); do
    redis-cli -p "${port}" PING 2>/dev/null | grep -q PONG && return 0
    sleep 0.01
  done
  die "memento did not start (see its log: ${tmp}/memento.log)"
}

du_bytes() { du -sb --apparent-size "$1" | cut -f1; }

start_memento
for round in $(seq 1 "${rounds}"); do
  say "round ${round}/${rounds}: ${keys} SETs of ${data_size} bytes"
  gen_sets "${round}" | redis-cli -p "${port}" --pipe >/dev/null
  if ((round < rounds)); then redis-cli -p "${port}" SAVE >/dev/null; fi
done
if [[ "${stop}" == term ]]; then
  kill -TERM "${server_pid}"
else
  kill -KILL "${server_pid}"
fi
wait "${server_pid}" 2>/dev/null || true
server_pid=""

say "data directory before: $(du_bytes "${tmp}/data") bytes"
t0=$(date +%s%N)
"${compact}" --quiet --data-dir "${tmp}/data" | tee "${tmp}/compact.out"
t1=$(date +%s%N)
"${compact}" --quiet --check --data-dir "${tmp}/data" >"${tmp}/check.out" ||
  { cat "${tmp}/check.out"; die "--check found problems"; }
t2=$(date +%s%N)
say "data directory after: $(du_bytes "${tmp}/data") bytes"

start_memento
dbsize=$(redis-cli -p "${port}" DBSIZE)
kill -TERM "${server_pid}"
wait "${server_pid}" 2>/dev/null || true
server_pid=""
[[ "${dbsize}" == "${keys}" ]] || die "after the restart DBSIZE is ${dbsize}, expected ${keys}"

printf 'keys %s x %s B x %s rounds (stop: %s): compact %.1f s, --check %.1f s, restart DBSIZE %s\n' \
  "${keys}" "${data_size}" "${rounds}" "${stop}" \
  "$(echo "(${t1} - ${t0}) / 1000000000" | bc -l)" "$(echo "(${t2} - ${t1}) / 1000000000" | bc -l)" \
  "${dbsize}"
