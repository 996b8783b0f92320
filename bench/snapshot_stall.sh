#!/usr/bin/env bash
# Does a checkpoint (the write-ahead log folded into the LMDB snapshot) stall clients?
# Issue target: the p99.9 latency of a concurrent benchmark while checkpoints of a
# 1M-key data set run stays within 2x of its value without one.
#
# Usage: bench/snapshot_stall.sh [MEMENTO_BINARY]
#   MEMENTO_BINARY defaults to build/bin/memento (build a Release one first; this script
#   builds nothing). Needs redis-cli, redis-benchmark (redis-tools) and python3.
#
# Each run starts a fresh memento (own temporary data directory, port picked at run
# time, checkpoints only on request: snapshot_interval_s = 0, snapshot_after_writes = 0)
# and measures the same workload three times:
#   first  the worst case: KEYS keys loaded with redis-cli --pipe and never saved, so the
#          whole data set is in the log; the workload runs while BGSAVE is sent every
#          BGSAVE_EVERY seconds (the first checkpoint folds the whole load into an empty
#          snapshot).
#   none   SAVE first (the log is then empty), the workload, no checkpoint.
#   ckpt   every key rewritten first (a backlog of KEYS log records over a full
#          snapshot), then the workload while BGSAVE is sent every BGSAVE_EVERY seconds.
# The workload is a SET+GET mix: two redis-benchmark processes started together, one
# `-t set` and one `-t get`, CLIENTS/2 connections each, -P 1, -d DATA_SIZE, random keys
# over the KEYS loaded keys (-r KEYS; the loaded keys are named as redis-benchmark names
# them, key:%012d, so every GET hits and the key count stays KEYS), -n REQUESTS each.
# p99.9 comes from redis-benchmark's "Latency by percentile distribution" (--precision 3):
# the first percentile line at or above 99.9%, i.e. the histogram's upper bound.
# For the runs with BGSAVE the script checks that checkpoints really ran during the
# workload (INFO persistence rdb_saves grew, and memento logged "checkpoint: log records
# A..B folded" lines) and reports how many, how many records they folded and the longest.
#
# Environment (defaults in brackets):
#   RUNS [3]               fresh servers; the table shows medians over the runs
#   KEYS [1000000]         keys loaded      DATA_SIZE [100]   value bytes
#   CLIENTS [50]           connections in all (half SET, half GET)
#   REQUESTS [400000]      requests of each redis-benchmark process
#   BGSAVE_EVERY [0.5]     seconds between BGSAVEs during the checkpoint runs
#   MEMENTO_ARGS []        extra flags for memento (e.g. "--threads 1")
#   KEEP_LOGS []           a directory to copy every raw output and memento's log into
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
memento=${1:-${root}/build/bin/memento}
runs=${RUNS:-3}
keys=${KEYS:-1000000}
data_size=${DATA_SIZE:-100}
clients=${CLIENTS:-50}
requests=${REQUESTS:-400000}
bgsave_every=${BGSAVE_EVERY:-0.5}
read -r -a memento_args <<<"${MEMENTO_ARGS:-}"
half=$((clients / 2))
((half >= 1)) || half=1

die() { echo "snapshot_stall.sh: $*" >&2; exit 1; }
say() { echo "snapshot_stall.sh: $*" >&2; }
[[ -x "${memento}" ]] || die "memento binary '${memento}' not found: build it (Release) or pass its path"
for tool in redis-cli redis-benchmark python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-stall.XXXXXX")
memento_pid=""
bgsaver_pid=""
cleanup() {
  if [[ -n "${bgsaver_pid}" ]]; then kill "${bgsaver_pid}" 2>/dev/null || true; fi
  if [[ -n "${memento_pid}" ]]; then
    kill -KILL "${memento_pid}" 2>/dev/null || true
    wait "${memento_pid}" 2>/dev/null || true
  fi
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    mkdir -p "${KEEP_LOGS}"
    cp "${tmp}"/*.txt "${tmp}"/*.log "${KEEP_LOGS}/" 2>/dev/null || true
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

# gen_sets FIRST COUNT SEED: RESP SET commands for key:%012d, FIRST..FIRST+COUNT-1
# (redis-cli --pipe input). Values are DATA_SIZE hex digits cut out of a fixed
# pseudo-random pool at an offset that depends on the key and on SEED: they differ from
# key to key and from SEED to SEED, and do not compress (Redis's RDB would shrink
# repeated bytes to nothing with LZF).
gen_sets() {
  python3 - "$1" "$2" "$3" "${data_size}" <<'EOF'
import random, sys
first, count, seed, size = (int(a) for a in sys.argv[1:5])
pool = random.Random(42).randbytes(1 << 19).hex().encode()
span = len(pool) - size
head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
mid = b"\r\n$%d\r\n" % size
out = sys.stdout.buffer
for start in range(first, first + count, 10000):
    out.write(b"".join(
        head + b"key:%012d" % i + mid
        + pool[(o := (i * 7919 + seed * 104729) % span):o + size] + b"\r\n"
        for i in range(start, min(start + 10000, first + count))))
EOF
}

start_memento() {  # start_memento LOG: fresh data dir; sets memento_pid, memento_port
  local log=$1
  rm -rf "${tmp}/data" && mkdir -p "${tmp}/data"
  : >"${log}"
  "${memento}" -f "${tmp}/memento.toml" -p 0 --data-dir "${tmp}/data" --log-level info \
    "${memento_args[@]}" 2>"${log}" &
  memento_pid=$!
  memento_port=
  for ((i = 0; i < 200; i++)); do
    memento_port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "${log}" | head -n 1)
    [[ -n "${memento_port}" ]] && grep -q "Ready to accept commands" "${log}" && break
    sleep 0.05
  done
  [[ -n "${memento_port}" ]] || die "memento did not log its port: $(cat "${log}")"
}

stop_memento() {
  kill -TERM "${memento_pid}" 2>/dev/null || true
  wait "${memento_pid}" 2>/dev/null || true
  memento_pid=""
}

cli() { redis-cli -h 127.0.0.1 -p "${memento_port}" "$@"; }
info_field() { cli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }

load() {  # load SEED: SET every key (values of SEED, see gen_sets) through redis-cli --pipe
  gen_sets 0 "${keys}" "$1" | cli --pipe >"${tmp}/pipe.out" 2>&1 ||
    die "redis-cli --pipe failed: $(tail -3 "${tmp}/pipe.out")"
  grep -q "errors: 0, replies: ${keys}" "${tmp}/pipe.out" ||
    die "loading did not succeed: $(tail -3 "${tmp}/pipe.out")"
}

# p999 FILE: the p99.9 in ms from redis-benchmark's percentile distribution.
p999() {
  awk '/Latency by percentile distribution/ { on = 1; next }
       on && /%/ { p = $1; sub(/%/, "", p); if (p + 0 >= 99.9) { print $3; exit } }' "$1"
}
rps() { awk '/throughput summary:/ { print $3 }' "$1"; }

# workload NAME BGSAVE(0/1): the SET and GET benchmarks at once; with BGSAVE=1 a BGSAVE
# every BGSAVE_EVERY seconds while they run. Records p99.9 and rps of both, and the
# checkpoints that ran, in ${tmp}/results.
workload() {
  local name=$1 bgsave=$2 run=$3
  local out="${tmp}/${name}-${run}"
  local saves_before log_before
  saves_before=$(info_field rdb_saves)
  log_before=$(wc -l <"${tmp}/memento-${run}.log")
  redis-benchmark -h 127.0.0.1 -p "${memento_port}" -t set -c "${half}" -P 1 \
    -d "${data_size}" -r "${keys}" -n "${requests}" --precision 3 >"${out}-set.txt" 2>&1 &
  local set_pid=$!
  redis-benchmark -h 127.0.0.1 -p "${memento_port}" -t get -c "${half}" -P 1 \
    -d "${data_size}" -r "${keys}" -n "${requests}" --precision 3 >"${out}-get.txt" 2>&1 &
  local get_pid=$!
  if ((bgsave)); then
    (
      while kill -0 "${set_pid}" 2>/dev/null || kill -0 "${get_pid}" 2>/dev/null; do
        sleep "${bgsave_every}"
        cli BGSAVE >>"${out}-bgsave.txt" 2>&1 || true
      done
    ) &
    bgsaver_pid=$!
  fi
  local status=0
  wait "${set_pid}" || status=1
  wait "${get_pid}" || status=1
  if [[ -n "${bgsaver_pid}" ]]; then
    wait "${bgsaver_pid}" 2>/dev/null || true
    bgsaver_pid=""
  fi
  ((status == 0)) || die "redis-benchmark failed (${name}): $(tail -3 "${out}-set.txt" "${out}-get.txt")"
  kill -0 "${memento_pid}" 2>/dev/null || die "memento died during ${name}: $(tail -5 "${tmp}/memento-${run}.log")"
  if grep -E "ERR|[Ee]rror" "${out}-set.txt" "${out}-get.txt" >&2; then
    die "redis-benchmark reported the errors above (${name})"
  fi
  # Checkpoints that ran during the workload (those still running finish first).
  while [[ "$(info_field rdb_bgsave_in_progress)" == 1 ]]; do sleep 0.1; done
  local saves_after
  saves_after=$(info_field rdb_saves)
  local ckpt
  ckpt=$(tail -n +"$((log_before + 1))" "${tmp}/memento-${run}.log" |
    sed -n 's/.*checkpoint: log records \([0-9]*\)\.\.\([0-9]*\) folded .* in \([0-9.]*\) ms.*/\1 \2 \3/p' |
    awk '{ n++; recs += $2 - $1 + 1; if ($3 > mx) mx = $3 }
         END { printf "%d %d %.0f\n", n, recs, mx }')
  read -r ck_n ck_records ck_max <<<"${ckpt}"
  if ((bgsave)) && ((saves_after <= saves_before || ck_n == 0)); then
    die "no checkpoint ran during ${name} (rdb_saves ${saves_before} -> ${saves_after})"
  fi
  printf '%s %s %s %s %s %s %s %s %s\n' "${name}" "${run}" \
    "$(p999 "${out}-set.txt")" "$(p999 "${out}-get.txt")" \
    "$(rps "${out}-set.txt")" "$(rps "${out}-get.txt")" \
    "$((saves_after - saves_before))" "${ck_records}" "${ck_max}" >>"${tmp}/results"
  say "  ${name}: SET p99.9 $(p999 "${out}-set.txt") ms, GET p99.9 $(p999 "${out}-get.txt") ms," \
    "rdb_saves +$((saves_after - saves_before)), ${ck_n} checkpoint(s) folded ${ck_records} records, longest ${ck_max} ms"
}

: >"${tmp}/results"
load_start=$(cut -d' ' -f1 /proc/loadavg)
for ((run = 1; run <= runs; run++)); do
  say "run ${run}/${runs}: fresh memento, loading ${keys} keys x ${data_size} B (no SAVE)"
  start_memento "${tmp}/memento-${run}.log"
  load 1
  [[ "$(cli DBSIZE)" == "${keys}" ]] || die "DBSIZE is $(cli DBSIZE), expected ${keys}"
  workload first 1 "${run}"
  say "  SAVE"
  cli SAVE >/dev/null
  workload none 0 "${run}"
  say "  rewriting ${keys} keys (log backlog)"
  load 2
  workload ckpt 1 "${run}"
  [[ "$(cli DBSIZE)" == "${keys}" ]] || die "DBSIZE is $(cli DBSIZE), expected ${keys}"
  stop_memento
done
load_end=$(cut -d' ' -f1 /proc/loadavg)
cp "${tmp}/results" "${tmp}/results.txt"

# ---- report --------------------------------------------------------------------------
# median NAME COLUMN over the runs (columns: 3 SET p99.9, 4 GET p99.9, 5 SET rps,
# 6 GET rps, 7 rdb_saves delta, 8 records folded, 9 longest checkpoint ms)
median() {
  awk -v n="$1" -v c="$2" '$1 == n { print $c }' "${tmp}/results" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'
}
all() { awk -v n="$1" -v c="$2" '$1 == n { printf "%s%s", s, $c; s = " " }' "${tmp}/results"; }

echo
echo "$("${memento}" --version 2>&1 | head -n 1), memento flags: ${MEMENTO_ARGS:-(defaults)};" \
  "$(nproc) cores, $(date -u +%Y-%m-%d)"
echo "${keys} keys x ${data_size} B; workload: redis-benchmark -t set and -t get at once," \
  "-c ${half} each, -P 1, -r ${keys}, -n ${requests} each; BGSAVE every ${bgsave_every} s;" \
  "median of ${runs} run(s); load average ${load_start} at the start, ${load_end} at the end"
echo
printf '| %-40s | %12s | %12s | %10s | %10s | %-30s |\n' "workload" "SET p99.9 ms" "GET p99.9 ms" \
  "SET rps" "GET rps" "checkpoints (records, longest)"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------------" "--------------" \
  "--------------" "------------" "------------" "--------------------------------"
for name in none ckpt first; do
  case ${name} in
    none) label="no checkpoint" ;;
    ckpt) label="checkpoints (${keys}-record backlog)" ;;
    first) label="first checkpoint (all in the log)" ;;
  esac
  printf '| %-40s | %12s | %12s | %10.0f | %10.0f | %-30s |\n' "${label}" \
    "$(median "${name}" 3)" "$(median "${name}" 4)" "$(median "${name}" 5)" "$(median "${name}" 6)" \
    "$(median "${name}" 7) ($(median "${name}" 8), $(median "${name}" 9) ms)"
done
echo
for name in ckpt first; do
  for col in 3 4; do
    test=SET
    ((col == 4)) && test=GET
    awk -v w="${name}" -v t="${test}" -v m="$(median "${name}" "${col}")" -v b="$(median none "${col}")" 'BEGIN {
      r = (b > 0) ? m / b : 0
      printf "%s p99.9 %s / none: %.2fx (target <= 2x: %s)\n", t, w, r, (r <= 2.0) ? "met" : "MISSED"
    }'
  done
done
echo
echo "Per run (SET p99.9 ms; GET p99.9 ms):"
for name in none ckpt first; do
  echo "  ${name}: $(all "${name}" 3); $(all "${name}" 4)"
done
