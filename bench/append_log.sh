#!/usr/bin/env bash
# What does a small change to a large value cost in the write-ahead log? Sets one
# VALUE_MB MiB value, checkpoints (SAVE), then sends N one-byte APPENDs, N SETRANGEs of
# one byte and N INCRBYs, and prints the bytes the wal/ directory grew by for each kind.
# Before WAL format version 2 each such change was logged as the whole resulting value.
#
# Usage: bench/append_log.sh [BUILD_DIR]
#   BUILD_DIR defaults to build (its bin/memento; this script builds nothing). Needs
#   redis-cli (Debian's redis-tools) and python3.
#
# Environment (defaults in brackets): VALUE_MB [10]   N [100]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${root}/build}
memento=${build}/bin/memento
value_mb=${VALUE_MB:-10}
n=${N:-100}

die() { echo "append_log.sh: $*" >&2; exit 1; }
[[ -x "${memento}" ]] || die "${memento} not found: build it first"
for tool in redis-cli python3; do
  command -v "${tool}" >/dev/null || die "'${tool}' not found: run scripts/install-deps.sh"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memento-append-log.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "${server_pid}" ]]; then
    kill -TERM "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
  fi
  rm -rf "${tmp}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${memento}" -a 127.0.0.1 -p "${port}" --data-dir "${tmp}/data" --snapshot-interval 0 \
  2>>"${tmp}/memento.log" &
server_pid=$!
for _ in $(seq 1 3000); do
  redis-cli -p "${port}" PING 2>/dev/null | grep -q PONG && break
  sleep 0.01
done
cli() { redis-cli -p "${port}" "$@" >/dev/null; }
wal_bytes() { du -sb "${tmp}/data/wal" | cut -f1; }

# pipe CMD...: N copies of one RESP command through redis-cli --pipe.
pipe() {
  python3 - "${n}" "$@" <<'PY' | redis-cli -p "${port}" --pipe >/dev/null
import sys
n, argv = int(sys.argv[1]), [a.encode() for a in sys.argv[2:]]
one = b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
sys.stdout.buffer.write(one * n)
PY
}

python3 -c "
import sys
v = b'b' * (${value_mb} << 20)
sys.stdout.buffer.write(b'*3\r\n\$3\r\nSET\r\n\$3\r\nbig\r\n\$%d\r\n%s\r\n' % (len(v), v))
sys.stdout.buffer.write(b'*3\r\n\$3\r\nSET\r\n\$1\r\nn\r\n\$1\r\n0\r\n')
" | redis-cli -p "${port}" --pipe >/dev/null
cli SAVE
echo "value: ${value_mb} MiB; ${n} changes of each kind; log bytes grown:"
for kind in "APPEND big x" "SETRANGE big 7 y" "INCRBY n 3"; do
  before=$(wal_bytes)
  # shellcheck disable=SC2086
  pipe ${kind}
  after=$(wal_bytes)
  printf '  %-18s %12d bytes  (%d per change)\n' "${kind%% *}" $((after - before)) \
    $(((after - before) / n))
done
