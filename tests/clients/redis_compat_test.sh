#!/usr/bin/env bash
# Starts memento and runs redis_compat_test.py, which starts a redis-server of its own
# and compares the two: reply bytes of CLIENT/SELECT/SHUTDOWN/MONITOR errors and
# replies, CLIENT LIST's fields, MONITOR's lines, INFO's Redis fields; then
# redis-cli --stat against memento.
#
# Usage: redis_compat_test.sh MEMENTO_BINARY     (ctest passes build/bin/memento)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 MEMENTO_BINARY"
python=/usr/bin/python3
[[ -x "${python}" ]] || fail "${python} not found: run scripts/install-deps.sh (Debian package python3)"
require_tool redis-server redis-server
require_tool redis-cli redis-tools
require_tool stdbuf coreutils

start_memento "$1"
timeout 120 "${python}" "$(dirname "$0")/redis_compat_test.py" "${MEMENTO_PORT}" ||
  fail "redis_compat_test.py failed (status $?; 124 = timed out after 120 s)"
stop_memento
echo "${TEST_NAME}: all checks passed"
