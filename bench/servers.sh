# shellcheck shell=bash
# Sourced by bench/compare.sh and bench/benchmark_compare.sh: starts the two servers
# they compare, both persisting every write the same way (memento's write-ahead log
# with its fsync policy, Redis's AOF with appendfsync everysec).
#
# start_servers: needs ${tmp}, ${memento}, the array memento_args and a die function;
# starts memento (-p 0, data in ${tmp}/memento-data) and redis-server (a free port,
# files in ${tmp}/redis), waits until both answer, and sets memento_pid, memento_port,
# redis_pid and redis_port. The caller's EXIT trap stops them.
start_servers() {
  mkdir -p "${tmp}/memento-data" "${tmp}/redis"
  # The port is read from the "listening on HOST:PORT" line, logged at info level;
  # commands run once "Ready to accept commands" follows (the data is loaded).
  : >"${tmp}/memento.log"  # exists before the daemon's redirection, for sed below
  "${memento}" -p 0 --data-dir "${tmp}/memento-data" --log-level info "${memento_args[@]}" \
    2>"${tmp}/memento.log" &
  memento_pid=$!
  memento_port=
  local i
  for ((i = 0; i < 200; i++)); do
    memento_port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "${tmp}/memento.log" | head -n 1)
    [[ -n "${memento_port}" ]] && grep -q "Ready to accept commands" "${tmp}/memento.log" && break
    sleep 0.05
  done
  [[ -n "${memento_port}" ]] || die "memento did not log its port: $(cat "${tmp}/memento.log")"

  # Any free port: bind port 0, read what the kernel gave, release it for redis-server.
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --bind 127.0.0.1 --port "${redis_port}" --dir "${tmp}/redis" \
    --appendonly yes --appendfsync everysec --save '' \
    --logfile "${tmp}/redis.log" --daemonize no &
  redis_pid=$!
  for ((i = 0; i < 200; i++)); do
    [[ "$(redis-cli -p "${redis_port}" PING 2>/dev/null)" == PONG ]] && break
    sleep 0.05
  done
  [[ "$(redis-cli -p "${redis_port}" PING 2>/dev/null)" == PONG ]] ||
    die "redis-server did not answer on port ${redis_port}: $(tail -5 "${tmp}/redis.log")"
}
