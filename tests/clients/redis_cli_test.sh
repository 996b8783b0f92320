#!/usr/bin/env bash
# Drives memento with Redis's own command-line client, redis-cli (Debian redis-tools):
# one-shot commands, piped stdin, --pipe mass insertion, --scan, and an interactive
# session in a tmux pane (redis-cli fetches COMMAND DOCS for its hints when its stdin
# is a terminal; the start-up must show no error).
#
# Usage: redis_cli_test.sh MEMENTO_BINARY     (ctest passes build/bin/memento)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 MEMENTO_BINARY"
require_tool redis-cli redis-tools
require_tool tmux tmux

start_memento "$1"
cli() { timeout 20 redis-cli -p "${MEMENTO_PORT}" "$@" 2>&1; }

# ---- one-shot commands --------------------------------------------------------------
expect_eq "PING" "PONG" "$(cli PING)"
expect_eq "SET k v" "OK" "$(cli SET k v)"
expect_eq "GET k" "v" "$(cli GET k)"
expect_eq "GET of a missing key (nil prints as an empty line)" "" "$(cli GET missing)"
expect_eq "INCRBY counter 5 on a new key" "5" "$(cli INCRBY counter 5)"
expect_eq "INCRBY counter -2" "3" "$(cli INCRBY counter -2)"
expect_eq "INCRBY on a non-integer value" "ERR value is not an integer or out of range" \
  "$(cli INCRBY k 1)"
expect_eq "EXPIRE k 100" "1" "$(cli EXPIRE k 100)"
ttl=$(cli TTL k)
[[ "${ttl}" == 100 || "${ttl}" == 99 ]] || fail "TTL k after EXPIRE k 100: expected 99 or 100, got [${ttl}]"
pass "TTL k = ${ttl}"
expect_eq "TTL of a key without expiry" "-1" "$(cli TTL counter)"
expect_eq "TTL of a missing key" "-2" "$(cli TTL missing)"
expect_eq "EXPIRE of a missing key" "0" "$(cli EXPIRE missing 10)"
expect_eq "SET -x (value from stdin, with a space and a newline)" "OK" \
  "$(printf 'hello world\nline 2' | timeout 20 redis-cli -p "${MEMENTO_PORT}" -x SET blob 2>&1)"
expect_eq "GET blob (raw output)" $'hello world\nline 2' "$(cli --raw GET blob)"

# ---- commands piped on stdin (not a terminal: no help fetch, plain output) ----------
out=$(printf 'SET p1 x\nGET p1\nAPPEND p1 yz\nGET p1\nDEL p1\nEXISTS p1\n' |
  timeout 20 redis-cli -p "${MEMENTO_PORT}" 2>&1)
expect_eq "commands piped on stdin" $'OK\nx\n3\nxyz\n1\n0' "${out}"

# ---- --pipe mass insertion (raw RESP; ends with an ECHO of a magic string) ----------
count=300
for ((i = 0; i < count; i++)); do
  key="scan:${i}" value="value-${i}"
  # shellcheck disable=SC2016 # the $ are RESP bulk-length markers, not expansions
  printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' "${#key}" "${key}" "${#value}" "${value}"
done >"${TEST_TMP}/pipe.resp"
out=$(timeout 60 redis-cli -p "${MEMENTO_PORT}" --pipe <"${TEST_TMP}/pipe.resp" 2>&1) ||
  fail "redis-cli --pipe exited non-zero: ${out}"
grep -q "errors: 0, replies: ${count}" <<<"${out}" ||
  fail "redis-cli --pipe: expected 'errors: 0, replies: ${count}', got: ${out}"
pass "redis-cli --pipe of ${count} SETs"
expect_eq "GET scan:299 after --pipe" "value-299" "$(cli GET scan:299)"

# ---- --scan ---------------------------------------------------------------------------
expected=$(for ((i = 0; i < count; i++)); do echo "scan:${i}"; done | sort)
got=$(cli --scan --pattern 'scan:*' | sort)
[[ "${got}" == "${expected}" ]] ||
  fail "redis-cli --scan --pattern 'scan:*': expected the ${count} keys scan:0..scan:$((count - 1)), got $(wc -l <<<"${got}") lines: $(head -c 300 <<<"${got}")"
pass "redis-cli --scan --pattern lists every key set"
got=$(cli --scan | sort)
expected=$(printf '%s\n' "${expected}" blob counter k | sort)
[[ "${got}" == "${expected}" ]] ||
  fail "redis-cli --scan: expected $(wc -l <<<"${expected}") keys, got: $(head -c 300 <<<"${got}")"
pass "redis-cli --scan lists every key"
expect_eq "DBSIZE" "$((count + 3))" "$(cli DBSIZE)"

# ---- interactive session in a tmux pane ---------------------------------------------
# A private tmux server (-L) so that the test never touches anyone else's sessions.
tmux_socket="memento-cli-test-$$"
tmux_cleanup() { tmux -L "${tmux_socket}" kill-server >/dev/null 2>&1 || true; }
trap 'tmux_cleanup; cleanup' EXIT
screen() { tmux -L "${tmux_socket}" capture-pane -p -J -S -100; }
# wait_screen TEXT: waits up to 10 s for TEXT to appear on the screen.
wait_screen() {
  local i
  for ((i = 0; i < 100; i++)); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  fail "interactive redis-cli: '$1' did not appear; screen:"$'\n'"$(screen)"
}
type_line() {
  tmux -L "${tmux_socket}" send-keys -l -- "$1"
  tmux -L "${tmux_socket}" send-keys Enter
}

prompt="127.0.0.1:${MEMENTO_PORT}>"
# stderr goes to the pane too; `sleep` keeps the pane readable if redis-cli exits.
tmux -L "${tmux_socket}" -f /dev/null new-session -d -x 200 -y 50 \
  "redis-cli -p ${MEMENTO_PORT} 2>&1; echo redis-cli exited with status \$?; sleep 60"
wait_screen "${prompt}"
type_line "PING"
wait_screen "PONG"
type_line "SET interactive hello"
wait_screen "OK"
type_line "GET interactive"
wait_screen '"hello"'
# Typing a command name makes redis-cli show its argument hint, taken from the help it
# loaded at start-up (COMMAND DOCS, or its built-in table if that fails).
tmux -L "${tmux_socket}" send-keys -l -- "SET "
wait_screen "key value"
tmux -L "${tmux_socket}" send-keys C-u
type_line "QUIT"
wait_screen "redis-cli exited with status 0"
if screen | grep -E "ERR|[Ee]rror"; then
  fail "interactive redis-cli printed an error; screen:"$'\n'"$(screen)"
fi
pass "interactive redis-cli starts, runs commands and shows hints without errors"
tmux_cleanup

stop_memento
echo "${TEST_NAME}: all checks passed"
