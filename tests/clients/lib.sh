# shellcheck shell=bash
# Shared helpers for the client tests in this folder (sourced, not run).
#
# start_memento BINARY starts the daemon on a port the kernel picks (-p 0) with a fresh
# data directory, waits for its "listening on HOST:PORT" and "Ready to accept commands"
# log lines and sets MEMENTO_PORT, MEMENTO_PID and MEMENTO_LOG. An EXIT trap always
# kills it and removes the temporary directory, so a failing assertion never leaves a
# daemon behind.
# stop_memento sends SIGTERM and fails unless the daemon exits 0 within 10 s: under
# AddressSanitizer a memory error or leak found at shutdown makes that exit non-zero.

TEST_NAME=$(basename "$0")
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/memento-client-test.XXXXXX")
MEMENTO_PID=
MEMENTO_PORT=
MEMENTO_LOG=${TEST_TMP}/memento.log

cleanup() {
  if [[ -n "${MEMENTO_PID}" ]]; then
    kill -KILL "${MEMENTO_PID}" 2>/dev/null || true
    wait "${MEMENTO_PID}" 2>/dev/null || true
  fi
  rm -rf "${TEST_TMP}"
}
trap cleanup EXIT

fail() {
  echo "${TEST_NAME}: FAIL: $*" >&2
  if [[ -f "${MEMENTO_LOG}" ]]; then
    echo "---- memento log (last 30 lines) ----" >&2
    tail -n 30 "${MEMENTO_LOG}" >&2
  fi
  exit 1
}

pass() { echo "${TEST_NAME}: ok: $*"; }

# True while process $1 runs (an exited child stays a zombie until waited for, and
# kill -0 still succeeds on a zombie, so /proc is read instead).
running() {
  local state
  [[ -r /proc/$1/stat ]] || return 1
  state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "${state}" && "${state}" != Z ]]
}

# require_tool COMMAND PACKAGE: the tests fail (not skip) without their tool, since
# scripts/install-deps.sh installs it.
require_tool() {
  command -v "$1" >/dev/null 2>&1 ||
    fail "'$1' not found: run scripts/install-deps.sh (Debian package $2)"
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: expected [$2], got [$3]"
  pass "$1"
}

start_memento() {
  local binary=$1
  [[ -x "${binary}" ]] || fail "memento binary '${binary}' is not executable"
  : >"${MEMENTO_LOG}"  # exists before the daemon's redirection, for sed below
  "${binary}" -p 0 --data-dir "${TEST_TMP}/data" --log-level info 2>"${MEMENTO_LOG}" &
  MEMENTO_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    # The port is on the "listening on" line; commands run once the data is loaded.
    MEMENTO_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "${MEMENTO_LOG}" | head -n 1)
    [[ -n "${MEMENTO_PORT}" ]] && grep -q "Ready to accept commands" "${MEMENTO_LOG}" && return 0
    running "${MEMENTO_PID}" || fail "memento exited during start-up"
    sleep 0.05
  done
  fail "memento did not log 'listening on' and 'Ready to accept commands' within 10 s"
}

stop_memento() {
  running "${MEMENTO_PID}" || fail "memento died before the end of the test"
  kill -TERM "${MEMENTO_PID}"
  # A watchdog, because `wait` itself has no time-out.
  (sleep 10 && kill -KILL "${MEMENTO_PID}") >/dev/null 2>&1 &
  local watchdog=$! rc=0
  wait "${MEMENTO_PID}" || rc=$?
  kill "${watchdog}" 2>/dev/null || true
  wait "${watchdog}" 2>/dev/null || true
  MEMENTO_PID=
  [[ ${rc} -ne 137 ]] || fail "memento did not exit within 10 s of SIGTERM (killed)"
  [[ ${rc} -eq 0 ]] || fail "memento exited with status ${rc} after SIGTERM"
  pass "memento shut down cleanly"
}
