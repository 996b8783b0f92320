#!/usr/bin/env bash
# memento-cli's prompt on a real terminal: a tmux pane runs it against a real daemon
# and the test types into it and reads the screen. Checks that the prompt appears, a
# command runs, up-arrow recalls history, history persists across sessions in
# $HOME/.memento_cli_history (HOME is a temporary directory), the prompt survives
# a daemon restart with a "reconnected" message, and bytes outside ASCII typed at the
# prompt reach the server and the history unchanged, whatever the locale (UTF-8, "C",
# LANG unset, a locale that is not installed).
#
# Usage: cli_tty_test.sh MEMENTO_CLI MEMENTO     (ctest passes both built binaries)
# Exit 77 (ctest: skipped) when tmux is missing.
set -euo pipefail

if ! command -v tmux >/dev/null 2>&1; then
  echo "cli_tty_test.sh: SKIPPED: tmux is not installed (Debian package tmux;" \
    "scripts/install-deps.sh installs it)"
  exit 77
fi
# tests/clients/lib.sh: start_memento, fail, pass, expect_eq, a temp dir and cleanup.
source "$(dirname "$0")/../../tests/clients/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 MEMENTO_CLI MEMENTO"
cli_binary=$1
memento_binary=$2
[[ -x "${cli_binary}" ]] || fail "memento-cli binary '${cli_binary}' is not executable"

# A port below the ephemeral range (32768-60999): while the daemon is down for the
# restart check, no other process's outgoing connection can take it.
port=$(python3 -c '
import random, socket
while True:
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        print(p)
        break
    except OSError:
        pass
    finally:
        s.close()
')
# start_on_port WHAT: starts memento on ${port} with the test's data directory and waits
# until it listens; WHAT ("start", "restart") goes into the failure messages.
start_on_port() {
  # Emptied here, not by the child's redirection, which may run after the first grep
  # below has already read an earlier daemon's "listening on".
  : >"${MEMENTO_LOG}"
  "${memento_binary}" -p "${port}" --data-dir "${TEST_TMP}/data" 2>"${MEMENTO_LOG}" &
  MEMENTO_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    grep -q "listening on" "${MEMENTO_LOG}" && return 0
    running "${MEMENTO_PID}" || fail "memento exited during its $1 on port ${port}"
    sleep 0.05
  done
  fail "memento did not $1 on port ${port}"
}
start_on_port start
MEMENTO_PORT=${port}
home="${TEST_TMP}/home"
mkdir -p "${home}"

# A private tmux server (-L): the test never touches anyone else's sessions.
socket="memento-cli-tty-test-$$"
tmux_cleanup() { tmux -L "${socket}" kill-server >/dev/null 2>&1 || true; }
trap 'tmux_cleanup; cleanup' EXIT

screen() { tmux -L "${socket}" capture-pane -p -J -t "$1" -S -200; }
# wait_screen SESSION TEXT [COUNT]: waits up to 10 s until TEXT is on COUNT lines.
wait_screen() {
  local want=${3:-1} i
  for ((i = 0; i < 100; i++)); do
    (($(screen "$1" | grep -cF -- "$2") >= want)) && return 0
    sleep 0.1
  done
  fail "'$2' did not appear ${want} time(s) in session $1; screen:"$'\n'"$(screen "$1")"
}
type_line() {
  tmux -L "${socket}" send-keys -t "$1" -l -- "$2"
  tmux -L "${socket}" send-keys -t "$1" Enter
}
# The line the cursor is on (the prompt being edited).
cursor_line() {
  local y
  y=$(tmux -L "${socket}" display-message -p -t "$1" '#{cursor_y}')
  screen "$1" | sed -n "$((y + 1))p"
}
# start_cli SESSION [ENV-ARGUMENTS]: memento-cli in a new tmux session; the optional
# words go to env(1) first (e.g. "-u LANG LC_ALL=C" for a session in the C locale).
start_cli() {
  # stderr goes to the pane too; `sleep` keeps the pane readable after an exit.
  tmux -L "${socket}" -f /dev/null new-session -d -s "$1" -x 160 -y 50 \
    "env ${2:-} HOME='${home}' TERM=xterm '${cli_binary}' -p ${MEMENTO_PORT} 2>&1; echo memento-cli exited with status \$?; sleep 60"
}
# resp_get_is KEY VALUE: true if a second client, a raw socket speaking RESP, reads
# exactly the bytes VALUE from KEY (both given as the shell's bytes); prints the reply
# it got otherwise.
resp_get_is() {
  python3 - "${MEMENTO_PORT}" "$1" "$2" <<'PY'
import os, socket, sys
port, key, want = int(sys.argv[1]), os.fsencode(sys.argv[2]), os.fsencode(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
expected = b"$%d\r\n%s\r\n" % (len(want), want)
got = b""
while len(got) < len(expected) and not got.startswith((b"$-1", b"-")):
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
if got != expected:
    print(repr(got))
    sys.exit(1)
PY
}

prompt="127.0.0.1:${MEMENTO_PORT}> "

# ---- first session: prompt, commands, up-arrow ------------------------------------
start_cli one
wait_screen one "${prompt}"
pass "the prompt appears"
type_line one 'SET greeting "hello world"'
wait_screen one "OK"
type_line one "GET greeting"
wait_screen one "hello world" 1
pass "a command runs and its reply is shown"
tmux -L "${socket}" send-keys -t one Up
for ((i = 0; i < 50; i++)); do
  [[ "$(cursor_line one)" == *"> GET greeting"* ]] && break
  sleep 0.1
done
[[ "$(cursor_line one)" == *"> GET greeting"* ]] ||
  fail "up-arrow did not recall 'GET greeting'; cursor line: [$(cursor_line one)]"
tmux -L "${socket}" send-keys -t one Enter
wait_screen one "hello world" 2
pass "up-arrow recalls the last command, Enter runs it again"
type_line one "help getp"
wait_screen one "GETP <key>"
pass "help works at the prompt"

# ---- bytes outside ASCII ---------------------------------------------------------------
# A program starts in the "C" locale, where libedit drops every byte above 0x7f
# (`SET café Zoë` once stored "caf" = "Zo"). Typed in the test's own environment, then
# in the C locale, with LANG unset, and with a locale that is not installed.
utf8_sessions=(one "c:-u LANG -u LC_CTYPE LC_ALL=C" "unset:-u LANG -u LC_CTYPE -u LC_ALL"
  "missing:-u LC_ALL -u LC_CTYPE LANG=xx_XX.UTF-8")
for entry in "${utf8_sessions[@]}"; do
  session=${entry%%:*}
  env_args=
  [[ "${entry}" == *:* ]] && env_args=${entry#*:}
  if [[ "${session}" != one ]]; then
    start_cli "${session}" "${env_args}"
    wait_screen "${session}" "${prompt}"
  fi
  type_line "${session}" "SET café:${session} Zoë"
  wait_screen "${session}" "OK"
  got=$(resp_get_is "café:${session}" "Zoë") ||
    fail "session ${session} (env ${env_args:-unchanged}): key 'café:${session}' does not" \
      "hold 'Zoë' byte for byte; GET over a raw socket replied ${got}; screen:"$'\n'"$(screen "${session}")"
  # The history file is written before the command runs. libedit writes a space as
  # \040 but keeps other bytes as they are (LC_ALL=C: grep compares bytes). Checked
  # now: each session rewrites the whole file from its own history on every line.
  LC_ALL=C grep -qF "café:${session}\\040Zoë" "${home}/.memento_cli_history" ||
    fail "session ${session}: the history lacks the UTF-8 bytes of 'SET café:${session} Zoë':" \
      "$(cat -A "${home}/.memento_cli_history")"
  if [[ "${session}" != one ]]; then
    type_line "${session}" "quit"
    wait_screen "${session}" "memento-cli exited with status 0"
  fi
done
pass "SET café Zoë typed at the prompt stores those bytes and the history keeps them" \
  "(own locale, C, LANG unset, a missing locale)"

# ---- a daemon restart on the same port ----------------------------------------------
stop_memento
start_on_port restart
type_line one "GET greeting"
wait_screen one "reconnected to 127.0.0.1:${port}"
wait_screen one "hello world" 3
pass "after a daemon restart the next command reconnects, with a message"

type_line one "quit"
wait_screen one "memento-cli exited with status 0"
pass "quit leaves with status 0"

# ---- history persists ------------------------------------------------------------------
history="${home}/.memento_cli_history"
[[ -s "${history}" ]] || fail "no history file at ${history}"
grep -q "GET" "${history}" || fail "history file lacks the GET: $(cat "${history}")"
pass "history written to \$HOME/.memento_cli_history"

start_cli two
wait_screen two "${prompt}"
# The newest entry is "quit", then "GET greeting" (the restart test's).
tmux -L "${socket}" send-keys -t two Up Up
for ((i = 0; i < 50; i++)); do
  [[ "$(cursor_line two)" == *"> GET greeting"* ]] && break
  sleep 0.1
done
[[ "$(cursor_line two)" == *"> GET greeting"* ]] ||
  fail "a new session did not recall 'GET greeting'; cursor line: [$(cursor_line two)]"
tmux -L "${socket}" send-keys -t two Enter
wait_screen two "hello world"
pass "a new session recalls the previous session's commands"

# A line with UTF-8 read back from the history file and sent again, in the C locale:
# the bytes recalled are the bytes typed.
type_line two "DEL café:one"
wait_screen two "(integer) 1"
tmux -L "${socket}" kill-session -t two
start_cli three "-u LANG -u LC_CTYPE LC_ALL=C"
wait_screen three "${prompt}"
# Newest first: "DEL café:one", "GET greeting", then the SETs typed above ("quit" of
# the other sessions went into the history too; search instead of counting).
tmux -L "${socket}" send-keys -t three C-r
tmux -L "${socket}" send-keys -t three -l -- "SET café:one"
tmux -L "${socket}" send-keys -t three Enter
wait_screen three "OK" 1
got=$(resp_get_is "café:one" "Zoë") ||
  fail "the SET recalled from the history in the C locale did not store 'Zoë' at 'café:one';" \
    "GET replied ${got}; screen:"$'\n'"$(screen three)"
pass "a UTF-8 line recalled from the history file is sent byte for byte"

echo "cli_tty_test.sh: all checks passed"
