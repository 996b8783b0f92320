#!/usr/bin/env bash
# Runs memento-benchmark with the same flags against memento (text protocol and RESP2)
# and against redis-server (RESP2) in one run, and prints ops/s and p99 per phase side
# by side with the ratios memento/redis.
#
# Usage: bench/benchmark_compare.sh [MEMENTO_BINARY [MEMENTO_BENCHMARK_BINARY]]
#   MEMENTO_BINARY defaults to build/bin/memento, MEMENTO_BENCHMARK_BINARY to the
#   memento-benchmark next to it. This script builds nothing: build both (Release) first
#   (see bench/README.md, section "memento-benchmark"). redis-server comes from
#   Debian's redis-server package (scripts/install-deps.sh installs it).
#
# Environment (defaults in brackets):
#   RUNS [3]                runs of each cell; the table shows the median ops/s and p99
#   PIPELINES ["1 16"]      pipeline depths to measure (--pipeline)
#   REQUESTS_P1 [200000]    requests per phase without pipelining
#   REQUESTS [1000000]      requests per phase with any other pipeline depth
#   CONNECTIONS [50]        --connections      THREADS [1]        --threads
#   VALUE_SIZE [100]        --value-size       KEYSPACE [100000]  --keyspace
#   RATIO [1:10]            --ratio (the mixed phase)
#   MEMENTO_ARGS []         extra flags for memento (e.g. "--threads 1")
#
# Both servers listen on 127.0.0.1 on ports picked free at run time, keep their files in
# one temporary directory and are stopped on exit. They run at the same time but are
# measured one at a time (an idle server costs nothing), alternating memento text,
# memento RESP2 and redis run by run, so that drift on a shared machine hits all alike.
# Both persist every write the same way: memento to its write-ahead log (fsync
# everysec, its default), Redis to its AOF (--appendonly yes --appendfsync everysec).
# memento-benchmark checks every reply; any error fails the script.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
memento=${1:-${root}/build/bin/memento}
bench=${2:-$(dirname "${memento}")/memento-benchmark}
runs=${RUNS:-3}
pipelines=${PIPELINES:-1 16}
requests_p1=${REQUESTS_P1:-200000}
requests=${REQUESTS:-1000000}
connections=${CONNECTIONS:-50}
threads=${THREADS:-1}
value_size=${VALUE_SIZE:-100}
keyspace=${KEYSPACE:-100000}
ratio=${RATIO:-1:10}
read -r -a memento_args <<<"${MEMENTO_ARGS:-}"

die() { echo "benchmark_compare.sh: $*" >&2; exit 1; }
[[ -x "${memento}" ]] || die "memento binary '${memento}' not found: build it (Release) or pass its path"
[[ -x "${bench}" ]] || die "memento-benchmark binary '${bench}' not found: build it or pass its path"
for tool in redis-server redis-cli python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-benchmark-compare.XXXXXX")
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
# run_cell TARGET PORT PROTOCOL PIPELINE RUN: one memento-benchmark run (all four
# phases), its CSV in ${tmp}/TARGET-P<PIPELINE>-<RUN>.csv.
run_cell() {
  local target=$1 port=$2 protocol=$3 pipeline=$4 run=$5
  local n=${requests}
  [[ ${pipeline} -eq 1 ]] && n=${requests_p1}
  local out="${tmp}/${target}-P${pipeline}-${run}"
  "${bench}" -p "${port}" --protocol "${protocol}" --pipeline "${pipeline}" --requests "${n}" \
    --connections "${connections}" --threads "${threads}" --value-size "${value_size}" \
    --keyspace "${keyspace}" --ratio "${ratio}" --csv --quiet >"${out}.csv" 2>"${out}.err" ||
    die "memento-benchmark against ${target} (--pipeline ${pipeline}) failed: $(cat "${out}.err")"
}

# field TARGET PIPELINE PHASE COLUMN: the median over the runs of a CSV column
# (5 = ops_per_sec, 7 = p99_us).
field() {
  local target=$1 pipeline=$2 phase=$3 column=$4
  cat "${tmp}/${target}-P${pipeline}-"*.csv |
    awk -F, -v p="${phase}" -v c="${column}" '$1 == p { print $c }' |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "benchmark_compare.sh: memento on port ${memento_port}, redis-server on port ${redis_port};" \
  "${runs} run(s) per cell" >&2
for pipeline in ${pipelines}; do
  for ((run = 1; run <= runs; run++)); do
    echo "benchmark_compare.sh: --pipeline ${pipeline}, run ${run}/${runs}" >&2
    run_cell memento-text "${memento_port}" text "${pipeline}" "${run}"
    run_cell memento-resp "${memento_port}" resp "${pipeline}" "${run}"
    run_cell redis "${redis_port}" resp "${pipeline}" "${run}"
  done
done

kill -0 "${memento_pid}" 2>/dev/null || die "memento died during the benchmark: $(tail -5 "${tmp}/memento.log")"
kill -0 "${redis_pid}" 2>/dev/null || die "redis-server died during the benchmark"
memento_fsync=$(redis-cli -p "${memento_port}" INFO persistence | tr -d '\r' | sed -n 's/^wal_fsync://p')

# ---- report --------------------------------------------------------------------------
echo
echo "$("${memento}" --version 2>&1 | head -n 1) vs $(redis-server --version | cut -d' ' -f1-3)," \
  "measured by $("${bench}" --version)"
echo "memento-benchmark --connections ${connections} --threads ${threads}" \
  "--value-size ${value_size} --keyspace ${keyspace} --ratio ${ratio}" \
  "(--pipeline 1 --requests ${requests_p1}; other depths --requests ${requests});" \
  "median of ${runs} run(s); $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "memento flags: ${MEMENTO_ARGS:-(defaults)}, write-ahead log fsync ${memento_fsync};" \
  "redis-server --appendonly yes --appendfsync everysec --save ''"
echo "load average ${load_start} at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
printf '| %-5s | %-5s | %12s | %12s | %12s | %10s | %10s | %9s | %9s | %9s |\n' \
  "pipe" "phase" "text ops/s" "resp ops/s" "redis ops/s" "text/redis" "resp/redis" \
  "text p99" "resp p99" "redis p99"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' "-------" "-------" "--------------" \
  "--------------" "--------------" "------------" "------------" "-----------" \
  "-----------" "-----------"
for pipeline in ${pipelines}; do
  for phase in set get grow mixed; do
    t_ops=$(field memento-text "${pipeline}" "${phase}" 5)
    m_ops=$(field memento-resp "${pipeline}" "${phase}" 5)
    r_ops=$(field redis "${pipeline}" "${phase}" 5)
    t_p99=$(field memento-text "${pipeline}" "${phase}" 7)
    m_p99=$(field memento-resp "${pipeline}" "${phase}" 7)
    r_p99=$(field redis "${pipeline}" "${phase}" 7)
    awk -v pl="${pipeline}" -v ph="${phase}" -v t="${t_ops}" -v m="${m_ops}" -v r="${r_ops}" \
      -v tp="${t_p99}" -v mp="${m_p99}" -v rp="${r_p99}" 'BEGIN {
        printf "| %-5s | %-5s | %12.0f | %12.0f | %12.0f | %9.2fx | %9.2fx | %6.3f ms | %6.3f ms | %6.3f ms |\n",
          "P" pl, ph, t, m, r, (r > 0) ? t / r : 0, (r > 0) ? m / r : 0, tp / 1000, mp / 1000, rp / 1000
      }'
  done
done
echo
echo "Every reply was checked by memento-benchmark: no errors in any run."
