#!/usr/bin/env bash
# Forwarded vs local requests in a 3-node cluster (docs/cluster.md): redis-benchmark
# against node0 with a key node0 owns (local) and with a key node1 owns (every request
# forwarded over the bus and the reply relayed), same flags, as a table with the ratio
# forwarded/local.
#
# Usage: bench/cluster.sh [MEMENTO_BINARY]     (default build/bin/memento, Release)
# Environment: REQUESTS [200000] (-n), CLIENTS [50] (-c), PIPELINE [1] (-P), RUNS [3]
#   (median of the runs), THREADS [1] (each node's event loops; 3 nodes share 2 cores).
# The nodes listen on 127.0.0.1 on ports picked free at run time, keep their data in a
# temporary directory (storage.fsync everysec, the default) and are stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
memento=${1:-${root}/build/bin/memento}
requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
pipeline=${PIPELINE:-1}
runs=${RUNS:-3}
threads=${THREADS:-1}
[[ -x "${memento}" ]] || { echo "cluster.sh: no ${memento}; build it first" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "cluster.sh: redis-benchmark missing" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "${pid}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "${work}"
}
trap cleanup EXIT

free_port() {
  python3 - <<'PY'
import random, socket
while True:
    p = random.randint(20000, 59000)
    ok = True
    for q in (p, p + 100):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p)
        break
PY
}
ports=()
for _ in 0 1 2; do ports+=("$(free_port)"); done
for i in 0 1 2; do
  {
    printf '[cluster]\nenabled = true\nname = "node%d"\n' "${i}"
    for n in 0 1 2; do
      printf '[[cluster.nodes]]\nname = "node%d"\nhost = "127.0.0.1"\nport = %d\n' "${n}" "${ports[n]}"
    done
  } >"${work}/node${i}.toml"
  "${memento}" -f "${work}/node${i}.toml" --data-dir "${work}/data${i}" --threads "${threads}" \
    2>"${work}/node${i}.log" &
  pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 100); do
    grep -q "Cluster successfully formed" "${work}/node${i}.log" && break
    sleep 0.1
  done
  grep -q "Cluster successfully formed" "${work}/node${i}.log" ||
    { cat "${work}/node${i}.log" >&2; echo "cluster.sh: node${i} did not form" >&2; exit 1; }
done

# A key each node owns, found with CLUSTER KEYSLOT (node0 owns 0-2729, node1 2730-5459).
key_on() {
  local lo=$1 hi=$2 i=0
  while :; do
    local slot
    slot=$(redis-cli -p "${ports[0]}" CLUSTER KEYSLOT "bench:${i}")
    if ((slot >= lo && slot <= hi)); then echo "bench:${i}"; return; fi
    i=$((i + 1))
  done
}
local_key=$(key_on 0 2729)
remote_key=$(key_on 2730 5459)

# One redis-benchmark run; prints "rps p99_ms".
run() {
  redis-benchmark -p "${ports[0]}" -n "${requests}" -c "${clients}" -P "${pipeline}" --csv "$@" |
    awk -F'"' 'NR == 2 { print $4, $14 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf 'memento cluster, 3 nodes x %s event loop(s); redis-benchmark -n %s -c %s -P %s against node0; median of %s runs\n' \
  "${threads}" "${requests}" "${clients}" "${pipeline}" "${runs}"
printf '%-6s %14s %14s %8s %12s %12s\n' op local_rps forwarded_rps ratio local_p99 fwd_p99
for op in SET GET; do
  declare -a lr=() lp=() fr=() fp=()
  for _ in $(seq "${runs}"); do
    args=("${op}" KEY)
    [[ ${op} == SET ]] && args=(SET KEY xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx)
    read -r r p < <(run "${args[0]}" "${local_key}" "${args[@]:2}")
    lr+=("${r}"); lp+=("${p}")
    read -r r p < <(run "${args[0]}" "${remote_key}" "${args[@]:2}")
    fr+=("${r}"); fp+=("${p}")
  done
  l=$(printf '%s\n' "${lr[@]}" | median); f=$(printf '%s\n' "${fr[@]}" | median)
  lp99=$(printf '%s\n' "${lp[@]}" | median); fp99=$(printf '%s\n' "${fp[@]}" | median)
  printf '%-6s %14s %14s %8.2f %12s %12s\n' "${op}" "${l}" "${f}" "$(awk -v f="${f}" -v l="${l}" 'BEGIN { print f / l }')" "${lp99}" "${fp99}"
done
grep -h "cluster_requests_forwarded" < <(redis-cli -p "${ports[0]}" INFO cluster) || true
