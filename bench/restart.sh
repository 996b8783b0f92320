#!/usr/bin/env bash
# How long does a restart take? memento recovering KEYS keys (an LMDB snapshot plus a
# write-ahead log tail) against redis-server loading the same data from an RDB file and
# from a pure AOF. Issue goal: memento restarts faster than Redis loads its RDB.
#
# Usage: bench/restart.sh [MEMENTO_BINARY]
#   MEMENTO_BINARY defaults to build/bin/memento (build a Release one first; this script
#   builds nothing). Needs redis-server, redis-cli (Debian's redis-server, redis-tools)
#   and python3.
#
# The same writes go to each server through redis-cli --pipe: KEYS keys key:%012d with
# DATA_SIZE-byte values, then TAIL overwrites of the first TAIL keys (so DBSIZE = KEYS).
#   memento   checkpoints only on request (snapshot_interval_s = 0,
#             snapshot_after_writes = 0), --fsync everysec (the default): the KEYS keys,
#             SAVE (into the snapshot), the TAIL overwrites (the log tail), kill -9 (no
#             final checkpoint): the restart loads the snapshot and replays the tail.
#   redis RDB --save '' --appendonly no: every write, SAVE, kill -9: loads dump.rdb.
#   redis AOF --appendonly yes --appendfsync everysec --aof-use-rdb-preamble no
#             --auto-aof-rewrite-percentage 0 --save '': the KEYS keys, BGREWRITEAOF (a
#             base file of commands, like memento's snapshot), the TAIL overwrites (the
#             incremental file), kill -9: replays base + tail.
# Each restart is timed from just before the server is spawned until it answers PING
# with PONG on a fresh connection (a python poller started beforehand, 2 ms between
# tries; Redis answers -LOADING while it loads), then DBSIZE is checked. RUNS restarts of each (kill -9 in
# between, the files stay as they are), median reported, together with memento's
# "recovered N keys in X ms" and Redis's "DB loaded from disk" / "DB loaded from append
# only file" figures, and the size of each data directory (apparent bytes). The page
# cache is warm (the files were just written): this measures CPU work, not the disk.
#
# Environment (defaults in brackets):
#   RUNS [3]          restarts of each server    KEYS [1000000]   DATA_SIZE [100]
#   TAIL [100000]     overwrites after the snapshot / RDB / AOF rewrite
#   MEMENTO_ARGS []   extra flags for memento (e.g. "--threads 1")
#   KEEP_LOGS []      a directory to copy the servers' logs into
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
memento=${1:-${root}/build/bin/memento}
runs=${RUNS:-3}
keys=${KEYS:-1000000}
data_size=${DATA_SIZE:-100}
tail_writes=${TAIL:-100000}
read -r -a memento_args <<<"${MEMENTO_ARGS:-}"

die() { echo "restart.sh: $*" >&2; exit 1; }
say() { echo "restart.sh: $*" >&2; }
[[ -x "${memento}" ]] || die "memento binary '${memento}' not found: build it (Release) or pass its path"
for tool in redis-server redis-cli python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done
((tail_writes <= keys)) || die "TAIL (${tail_writes}) must not exceed KEYS (${keys})"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-restart.XXXXXX")
server_pid=""
poller_pid=""
cleanup() {
  if [[ -n "${poller_pid}" ]]; then kill "${poller_pid}" 2>/dev/null || true; fi
  if [[ -n "${server_pid}" ]]; then
    kill -KILL "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
  fi
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    mkdir -p "${KEEP_LOGS}"
    cp "${tmp}"/*.log "${KEEP_LOGS}/" 2>/dev/null || true
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

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_poller PORT: starts (in the background) a python poller that tries PING on a
# new connection every 2 ms until it gets PONG (60 s at most), and waits until it runs,
# so that python's own start-up is not timed. It then reads the spawn time (written by
# timed_start into ${tmp}/t0, CLOCK_REALTIME ns) and writes the milliseconds from the
# spawn to PONG into ${tmp}/ms.
start_poller() {
  rm -f "${tmp}/t0" "${tmp}/ms" "${tmp}/poller-ready"
  python3 - "$1" "${tmp}" <<'EOF' &
import os, socket, sys, time
port, tmp = int(sys.argv[1]), sys.argv[2]
open(os.path.join(tmp, "poller-ready"), "w").close()
deadline = time.time() + 60
while time.time() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            if s.recv(128).startswith(b"+PONG"):
                done = time.time_ns()
                with open(os.path.join(tmp, "t0")) as f:
                    t0 = int(f.read())
                with open(os.path.join(tmp, "ms"), "w") as f:
                    f.write("%.1f\n" % ((done - t0) / 1e6))
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.002)
sys.exit("no PONG within 60 s")
EOF
  poller_pid=$!
  while [[ ! -e "${tmp}/poller-ready" ]]; do sleep 0.01; done
}

# timed_start KIND: the spawn time into ${tmp}/t0, then start KIND; waits for the poller
# (started before): the milliseconds until PONG are then in ${tmp}/ms.
timed_start() {
  date +%s%N >"${tmp}/t0"
  start "$1"
  local status=0
  wait "${poller_pid}" || status=$?
  poller_pid=""
  ((status == 0)) && [[ -s "${tmp}/ms" ]]
}

cli() { redis-cli -h 127.0.0.1 -p "${port}" "$@"; }

pipe_in() {  # pipe_in FIRST COUNT SEED
  gen_sets "$1" "$2" "$3" | cli --pipe >"${tmp}/pipe.out" 2>&1 ||
    die "redis-cli --pipe failed: $(tail -3 "${tmp}/pipe.out")"
  grep -q "errors: 0, replies: $2" "${tmp}/pipe.out" ||
    die "loading did not succeed: $(tail -3 "${tmp}/pipe.out")"
}

kill9() {
  kill -KILL "${server_pid}" 2>/dev/null || true
  wait "${server_pid}" 2>/dev/null || true
  server_pid=""
}

# start KIND: spawns the server of KIND on ${port} with its data in ${tmp}/KIND, its
# stderr/log in ${tmp}/KIND.log (appended); sets server_pid.
start() {
  local kind=$1
  case ${kind} in
    memento)
      "${memento}" -f "${tmp}/memento.toml" -p "${port}" --data-dir "${tmp}/memento" \
        --log-level info "${memento_args[@]}" 2>>"${tmp}/memento.log" &
      ;;
    rdb)
      redis-server --bind 127.0.0.1 --port "${port}" --dir "${tmp}/rdb" --save '' \
        --appendonly no --logfile "${tmp}/rdb.log" --daemonize no &
      ;;
    aof)
      redis-server --bind 127.0.0.1 --port "${port}" --dir "${tmp}/aof" --save '' \
        --appendonly yes --appendfsync everysec --aof-use-rdb-preamble no \
        --auto-aof-rewrite-percentage 0 --logfile "${tmp}/aof.log" --daemonize no &
      ;;
  esac
  server_pid=$!
}

dbsize_ok() {
  local n
  n=$(cli DBSIZE)
  [[ "${n}" == "${keys}" ]] || die "$1: DBSIZE is ${n}, expected ${keys}"
}

# ---- fill each data directory --------------------------------------------------------
for kind in memento rdb aof; do
  mkdir -p "${tmp}/${kind}"
  port=$(free_port)
  say "${kind}: loading ${keys} keys x ${data_size} B, then ${tail_writes} overwrites"
  start_poller "${port}"
  timed_start "${kind}" || die "${kind} did not start: $(tail -5 "${tmp}/${kind}.log")"
  pipe_in 0 "${keys}" 1
  case ${kind} in
    memento) cli SAVE >/dev/null ;;
    aof)
      cli BGREWRITEAOF >/dev/null
      sleep 0.2
      while cli INFO persistence | tr -d '\r' | grep -qE '^aof_rewrite_(in_progress|scheduled):1'; do
        sleep 0.1
      done
      ;;
  esac
  pipe_in 0 "${tail_writes}" 2
  [[ ${kind} == rdb ]] && cli SAVE >/dev/null
  [[ ${kind} == aof ]] && sleep 1.5  # let the everysec fsync catch up (kill -9 keeps
                                     # written data anyway: it is in the page cache)
  dbsize_ok "${kind}"
  kill9
done

# ---- restart RUNS times each, alternating --------------------------------------------
: >"${tmp}/results"
load_start=$(cut -d' ' -f1 /proc/loadavg)
for ((run = 1; run <= runs; run++)); do
  for kind in memento rdb aof; do
    port=$(free_port)
    lines_before=$(wc -l <"${tmp}/${kind}.log")
    start_poller "${port}"
    timed_start "${kind}" || die "${kind} did not come back: $(tail -5 "${tmp}/${kind}.log")"
    ms=$(cat "${tmp}/ms")
    dbsize_ok "${kind} after restart ${run}"
    kill9
    new_log=$(tail -n +"$((lines_before + 1))" "${tmp}/${kind}.log")
    case ${kind} in
      memento) own=$(sed -n 's/.*recovered [0-9]* keys in \([0-9.]*\) ms.*/\1/p' <<<"${new_log}" | head -n 1) ;;
      *) own=$(sed -n 's/.*DB loaded from [a-z ]*: \([0-9.]*\) seconds.*/\1/p' <<<"${new_log}" |
        awk '{ s += $1 } END { if (NR) printf "%.1f", s * 1000 }') ;;
    esac
    say "restart ${run}/${runs} ${kind}: PONG after ${ms} ms (its own log: ${own:-?} ms)"
    echo "${kind} ${ms} ${own:-nan}" >>"${tmp}/results"
  done
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

# ---- report --------------------------------------------------------------------------
median() {
  awk -v n="$1" -v c="$2" '$1 == n { print $c }' "${tmp}/results" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'
}
all() { awk -v n="$1" '$1 == n { printf "%s%s", s, $2; s = " " }' "${tmp}/results"; }
bytes() { du -sb "$@" 2>/dev/null | awk '{ s += $1 } END { printf "%.1f MB", s / 1e6 }'; }

memento_snapshot=$(bytes "${tmp}/memento/snapshot")
memento_wal=$(bytes "${tmp}/memento/wal")
rdb_size=$(bytes "${tmp}/rdb/dump.rdb")
aof_base=$(bytes "${tmp}"/aof/appendonlydir/*.base.aof)
aof_incr=$(bytes "${tmp}"/aof/appendonlydir/*.incr.aof)

echo
echo "$("${memento}" --version 2>&1 | head -n 1) (flags: ${MEMENTO_ARGS:-defaults}) vs" \
  "$(redis-server --version | cut -d' ' -f1-3); $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "${keys} keys x ${data_size} B + ${tail_writes} overwrites after the snapshot;" \
  "median of ${runs} restart(s), warm page cache; load average ${load_start} at the start," \
  "${load_end} at the end"
echo
printf '| %-46s | %12s | %16s | %-36s |\n' "server (what it loads)" "until PONG" "its own log says" "data on disk"
printf '|%s|%s|%s|%s|\n' "------------------------------------------------" "--------------" \
  "------------------" "--------------------------------------"
printf '| %-46s | %9s ms | %13s ms | %-36s |\n' "memento (LMDB snapshot + log tail)" \
  "$(median memento 2)" "$(median memento 3)" "snapshot ${memento_snapshot} + wal ${memento_wal}"
printf '| %-46s | %9s ms | %13s ms | %-36s |\n' "redis-server (dump.rdb)" \
  "$(median rdb 2)" "$(median rdb 3)" "dump.rdb ${rdb_size}"
printf '| %-46s | %9s ms | %13s ms | %-36s |\n' "redis-server (AOF, no RDB preamble)" \
  "$(median aof 2)" "$(median aof 3)" "base ${aof_base} + incr ${aof_incr}"
echo
awk -v m="$(median memento 2)" -v r="$(median rdb 2)" -v a="$(median aof 2)" 'BEGIN {
  printf "memento / redis RDB: %.2fx the time (goal < 1: %s); memento / redis AOF: %.2fx\n",
    m / r, (m < r) ? "met" : "MISSED", m / a
}'
echo "Per restart until PONG (ms): memento $(all memento); rdb $(all rdb); aof $(all aof)"
