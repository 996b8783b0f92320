#!/usr/bin/env bash
# Dump and restore throughput, and the dump's size against Redis's RDB of the same data.
#
# Usage: bench/dump_restore.sh [BUILD_DIR]
#   BUILD_DIR defaults to build/ (Release; this script builds nothing): its bin/ must
#   hold memento, memento-dump and memento-restore. Needs redis-server, redis-cli and
#   python3 (scripts/install-deps.sh).
#
# The same writes go to memento and to redis-server through redis-cli --pipe: KEYS keys
# key:%012d with DATA_SIZE-byte values, each a fresh string of pseudo-random hex digits
# (4 bits of entropy per byte: no compressor gets below half, and no value repeats
# another, so neither side wins by finding duplicates).
#   memento-dump     timed while the daemon runs (half of the keys only in the log, the
#                    other half in the snapshot: SAVE after the first half), RUNS times,
#                    median; --quiet; output to a file on the same disk
#   memento-restore  timed into a new directory (checks the whole file, then builds the
#                    snapshot), RUNS times, median; then a daemon started on the restored
#                    directory must report DBSIZE = KEYS
#   redis            --save '' --appendonly no, the same writes, SAVE (timed), size of
#                    dump.rdb (default rdbcompression yes, LZF)
# keys/s = KEYS / seconds; MB/s = (key + value bytes) / seconds. The page cache is warm.
#
# Environment: KEYS [1000000]  DATA_SIZE [100]  RUNS [3]  LEVEL [3] (zstd level of the dump)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${root}/build}
keys=${KEYS:-1000000}
data_size=${DATA_SIZE:-100}
runs=${RUNS:-3}
level=${LEVEL:-3}
bin=${build}/bin

die() { echo "dump_restore.sh: $*" >&2; exit 1; }
for b in memento memento-dump memento-restore; do
  [[ -x "${bin}/${b}" ]] || die "${bin}/${b} not found: build it (Release) or pass the build dir"
done
for tool in redis-server redis-cli python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-dumpbench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "${p}" 2>/dev/null || true; wait "${p}" 2>/dev/null || true; done
  rm -rf "${tmp}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gen_sets() {  # FIRST COUNT: RESP SETs for key:%012d, each value fresh random hex
  python3 - "$1" "$2" "${data_size}" <<'EOF'
import random, sys
first, count, size = (int(a) for a in sys.argv[1:4])
rng = random.Random(first)
head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
mid = b"\r\n$%d\r\n" % size
out = sys.stdout.buffer
for start in range(first, first + count, 10000):
    out.write(b"".join(
        head + b"key:%012d" % i + mid + rng.randbytes((size + 1) // 2).hex().encode()[:size]
        + b"\r\n" for i in range(start, min(start + 10000, first + count))))
EOF
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wait_port() { for _ in $(seq 200); do redis-cli -p "$1" PING >/dev/null 2>&1 && return 0; sleep 0.05; done; die "no server on port $1"; }

half=$((keys / 2))
gen_sets 0 "${half}" >"${tmp}/first.resp"
gen_sets "${half}" "$((keys - half))" >"${tmp}/second.resp"
data_bytes=$((keys * (16 + data_size)))

# --- memento ---
port=$(free_port)
"${bin}/memento" -p "${port}" --data-dir "${tmp}/data" --snapshot-interval 0 2>"${tmp}/memento.log" &
pids+=($!)
wait_port "${port}"
redis-cli -p "${port}" --pipe <"${tmp}/first.resp" >/dev/null
redis-cli -p "${port}" SAVE >/dev/null
redis-cli -p "${port}" --pipe <"${tmp}/second.resp" >/dev/null
[[ $(redis-cli -p "${port}" DBSIZE) == "${keys}" ]] || die "memento DBSIZE is not ${keys}"

# timed CMD...: runs CMD, appends "wall cpu" (seconds; cpu = user + sys) to ${tmp}/times.
timed() {
  local TIMEFORMAT='%R %U %S'
  { time "$@" 2>/dev/null; } 2>>"${tmp}/times.raw"
  tail -1 "${tmp}/times.raw" | awk '{print $1, $2 + $3}' >>"${tmp}/times"
}
# median_of FIELD: the median of column FIELD of ${tmp}/times, which is then emptied.
median_of() { awk -v f="$1" '{print $f}' "${tmp}/times" | median; }

: >"${tmp}/times"
for _ in $(seq "${runs}"); do
  rm -f "${tmp}/data.mdump"
  timed "${bin}/memento-dump" --quiet --level "${level}" --data-dir "${tmp}/data" -o "${tmp}/data.mdump"
done
dump_s=$(median_of 1)
dump_cpu=$(median_of 2)
dump_size=$(stat -c %s "${tmp}/data.mdump")

: >"${tmp}/times"
for _ in $(seq "${runs}"); do
  rm -rf "${tmp}/restored"
  timed "${bin}/memento-restore" --quiet -i "${tmp}/data.mdump" --data-dir "${tmp}/restored"
done
restore_s=$(median_of 1)
restore_cpu=$(median_of 2)
port2=$(free_port)
"${bin}/memento" -p "${port2}" --data-dir "${tmp}/restored" 2>"${tmp}/restored.log" &
pids+=($!)
wait_port "${port2}"
[[ $(redis-cli -p "${port2}" DBSIZE) == "${keys}" ]] || die "restored DBSIZE is not ${keys}"
snapshot_size=$(stat -c %s "${tmp}/restored/snapshot/snap-000001/data.mdb")

# --- redis ---
rport=$(free_port)
mkdir -p "${tmp}/redis"
redis-server --port "${rport}" --dir "${tmp}/redis" --save '' --appendonly no \
  --logfile "${tmp}/redis.log" &
pids+=($!)
wait_port "${rport}"
cat "${tmp}/first.resp" "${tmp}/second.resp" | redis-cli -p "${rport}" --pipe >/dev/null
[[ $(redis-cli -p "${rport}" DBSIZE) == "${keys}" ]] || die "redis DBSIZE is not ${keys}"
t0=$(now)
redis-cli -p "${rport}" SAVE >/dev/null
save_s=$(echo "$(now) - ${t0}" | bc -l)
rdb_size=$(stat -c %s "${tmp}/redis/dump.rdb")

load=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v k="${keys}" -v b="${data_bytes}" -v d="${dump_s}" -v r="${restore_s}" -v ds="${dump_size}" \
    -v dc="${dump_cpu}" -v rc="${restore_cpu}" -v ld="${load}" \
    -v rs="${rdb_size}" -v sv="${save_s}" -v ss="${snapshot_size}" -v lv="${level}" -v n="${runs}" 'BEGIN {
  printf "keys %d, %d-byte values, %.1f MB of keys and values; median of %d runs; load average %s\n", k, (b / k) - 16, b / 1e6, n, ld
  printf "%-34s %8.2f s %10.0f keys/s %8.1f MB/s   (CPU %.2f s: %.0f keys/s)\n", "memento-dump (zstd level " lv ")", d, k / d, b / 1e6 / d, dc, k / dc
  printf "%-34s %8.2f s %10.0f keys/s %8.1f MB/s   (CPU %.2f s: %.0f keys/s)\n", "memento-restore (check + build)", r, k / r, b / 1e6 / r, rc, k / rc
  printf "%-34s %8.2f s %10.0f keys/s %8.1f MB/s\n", "redis SAVE (RDB, for reference)", sv, k / sv, b / 1e6 / sv
  printf "%-34s %12d bytes (%.1f%% of the keys and values)\n", "dump file", ds, 100 * ds / b
  printf "%-34s %12d bytes (%.1f%% of the keys and values)\n", "redis dump.rdb", rs, 100 * rs / b
  printf "%-34s %12d bytes\n", "restored LMDB snapshot (data.mdb)", ss
  printf "dump / rdb size: %.2f\n", ds / rs
}'
