#!/usr/bin/env bash
# Runs the same redis-benchmark matrix against memento and against redis-server on this
# machine, and prints throughput and p99 latency side by side with the ratio
# memento/redis.
#
# Usage: bench/compare.sh [MEMENTO_BINARY]
#   MEMENTO_BINARY defaults to build/bin/memento. This script builds nothing: build a
#   Release memento first (see bench/README.md). redis-server and redis-benchmark come
#   from Debian's redis-server and redis-tools (scripts/install-deps.sh installs them).
#
# Environment (defaults in brackets):
#   RUNS [3]             runs of each cell; the table shows the median rps and p99
#   CLIENTS [50]         connections (-c)     DATA_SIZE [100]   value bytes (-d)
#   KEYSPACE [100000]    random keys (-r)
#   REQUESTS_P1 [200000] requests (-n) without pipelining (-P 1)
#   REQUESTS_P16 [1000000] requests (-n) with 16 requests pipelined (-P 16)
#   MEMENTO_ARGS []      extra flags for memento (e.g. "--threads 1")
#
# Both servers listen on 127.0.0.1 on ports picked free at run time, keep their files in
# one temporary directory, and are stopped on exit. They run at the same time but are
# measured one at a time (an idle server costs nothing), alternating cell by cell so
# that drift on a shared machine hits both alike.
#
# Both servers persist every write the same way: memento appends it to its write-ahead
# log before the reply (storage.fsync = everysec, its default, unless MEMENTO_ARGS says
# otherwise), Redis to its AOF (appendfsync everysec). The script checks in memento's
# INFO persistence that the SETs reached the log, and prints the policy in use.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
memento=${1:-${root}/build/bin/memento}
runs=${RUNS:-3}
clients=${CLIENTS:-50}
data_size=${DATA_SIZE:-100}
keyspace=${KEYSPACE:-100000}
requests_p1=${REQUESTS_P1:-200000}
requests_p16=${REQUESTS_P16:-1000000}
read -r -a memento_args <<<"${MEMENTO_ARGS:-}"

die() { echo "compare.sh: $*" >&2; exit 1; }
[[ -x "${memento}" ]] || die "memento binary '${memento}' not found: build it (Release) or pass its path"
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-compare.XXXXXX")
memento_pid=""
redis_pid=""
cleanup() {
  for pid in ${memento_pid} ${redis_pid}; do
    kill -TERM "${pid}" 2>/dev/null || true
  done
  for pid in ${memento_pid} ${redis_pid}; do
    wait "${pid}" 2>/dev/null || true
  done
  rm -rf "${tmp}"
}
trap cleanup EXIT

# ---- start both servers ------------------------------------------------------------
# shellcheck source=bench/servers.sh
source "$(dirname "$0")/servers.sh"
start_servers

# ---- measure -------------------------------------------------------------------------
# run_cell NAME PORT PIPELINE REQUESTS RUN: one redis-benchmark run of SET then GET,
# its CSV in ${tmp}/NAME-P<P>-<RUN>.csv. GET follows SET, so most GETs find a key.
run_cell() {
  local name=$1 port=$2 pipeline=$3 requests=$4 run=$5
  local out="${tmp}/${name}-P${pipeline}-${run}"
  redis-benchmark -h 127.0.0.1 -p "${port}" -t set,get -d "${data_size}" -c "${clients}" \
    -r "${keyspace}" -n "${requests}" -P "${pipeline}" --csv >"${out}.csv" 2>"${out}.err" ||
    die "redis-benchmark against ${name} failed: $(cat "${out}.err")"
  # A server error would otherwise only show as a fast, wrong result.
  if grep -E "ERR|[Ee]rror" "${out}.csv" "${out}.err" >&2; then
    die "redis-benchmark against ${name} (-P ${pipeline}) reported the errors above"
  fi
}

# field NAME PIPELINE TEST COLUMN: the median over the runs of a CSV column
# (2 = rps, 7 = p99_latency_ms).
field() {
  local name=$1 pipeline=$2 test=$3 column=$4
  cat "${tmp}/${name}-P${pipeline}-"*.csv |
    awk -F'","' -v t="\"${test}" -v c="${column}" '$1 == t { gsub(/"/, "", $c); print $c }' |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "compare.sh: memento on port ${memento_port}, redis-server on port ${redis_port};" \
  "${runs} run(s) per cell" >&2
for pipeline in 1 16; do
  requests=${requests_p1}
  [[ ${pipeline} -eq 16 ]] && requests=${requests_p16}
  for ((run = 1; run <= runs; run++)); do
    echo "compare.sh: -P ${pipeline} -n ${requests}, run ${run}/${runs}" >&2
    run_cell memento "${memento_port}" "${pipeline}" "${requests}" "${run}"
    run_cell redis "${redis_port}" "${pipeline}" "${requests}" "${run}"
  done
done

# Both servers must still be up: a crash mid-run would make the numbers meaningless.
kill -0 "${memento_pid}" 2>/dev/null || die "memento died during the benchmark: $(tail -5 "${tmp}/memento.log")"
kill -0 "${redis_pid}" 2>/dev/null || die "redis-server died during the benchmark"

# The SETs went through memento's write-ahead log: every SET took an LSN.
memento_info=$(redis-cli -p "${memento_port}" INFO persistence | tr -d '\r')
memento_fsync=$(sed -n 's/^wal_fsync://p' <<<"${memento_info}")
memento_lsn=$(sed -n 's/^wal_last_lsn://p' <<<"${memento_info}")
sets=$(((requests_p1 + requests_p16) * runs))
if [[ -z "${memento_lsn}" ]] || ((memento_lsn < sets)); then
  die "memento's log holds ${memento_lsn:-no} records after ${sets} SETs: is persistence on?"
fi

# ---- report --------------------------------------------------------------------------
# Targets for memento/redis throughput: pipelined SET >= 1.5x (memento's WAL
# group-commits), pipelined GET >= 1.1x, unpipelined >= 1.0x; p99 no worse than Redis.
target() {
  case "$1/$2" in
    SET/16) echo 1.5 ;;
    GET/16) echo 1.1 ;;
    *) echo 1.0 ;;
  esac
}

echo
echo "$("${memento}" --version 2>&1 | head -n 1) vs $(redis-server --version | cut -d' ' -f1-3)"
echo "redis-benchmark -t set,get -d ${data_size} -c ${clients} -r ${keyspace}" \
  "(-P 1 -n ${requests_p1}; -P 16 -n ${requests_p16}); median of ${runs} run(s);" \
  "$(nproc) cores, $(date -u +%Y-%m-%d)"
echo "memento flags: ${MEMENTO_ARGS:-(defaults)}; load average ${load_start} at the start," \
  "$(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
printf '| %-8s | %14s | %14s | %-20s | %14s | %14s | %-14s |\n' \
  "test" "memento rps" "redis rps" "ratio (target)" "memento p99 ms" "redis p99 ms" "p99 no worse"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "----------" "----------------" "----------------" \
  "----------------------" "----------------" "----------------" "----------------"
for pipeline in 1 16; do
  for test in SET GET; do
    m_rps=$(field memento "${pipeline}" "${test}" 2)
    r_rps=$(field redis "${pipeline}" "${test}" 2)
    m_p99=$(field memento "${pipeline}" "${test}" 7)
    r_p99=$(field redis "${pipeline}" "${test}" 7)
    goal=$(target "${test}" "${pipeline}")
    read -r ratio ratio_ok p99_ok < <(awk -v m="${m_rps}" -v r="${r_rps}" -v g="${goal}" \
      -v mp="${m_p99}" -v rp="${r_p99}" 'BEGIN {
        x = (r > 0) ? m / r : 0
        printf "%.2f %s %s\n", x, (x >= g) ? "met" : "MISSED", (mp <= rp) ? "yes" : "NO"
      }')
    printf '| %-8s | %14.0f | %14.0f | %-20s | %14s | %14s | %-14s |\n' \
      "${test} P${pipeline}" "${m_rps}" "${r_rps}" "${ratio}x (${goal}x ${ratio_ok})" \
      "${m_p99}" "${r_p99}" "${p99_ok}"
  done
done
echo
echo "Persistence: memento's write-ahead log with fsync ${memento_fsync} (${memento_lsn} log" \
  "records after ${sets} SETs); redis-server --appendonly yes --appendfsync everysec."
