#!/usr/bin/env bash
# Starts memento and runs python_client_test.py (redis-py) against it.
#
# Debian's interpreter is named explicitly: python3-redis is installed for it, and a
# python3 earlier on PATH (pyenv, a virtualenv) would not see it.
#
# Usage: python_client_test.sh MEMENTO_BINARY     (ctest passes build/bin/memento)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 MEMENTO_BINARY"
python=/usr/bin/python3
[[ -x "${python}" ]] || fail "${python} not found: run scripts/install-deps.sh (Debian package python3)"
"${python}" -c 'import redis' 2>/dev/null ||
  fail "${python} cannot import redis: run scripts/install-deps.sh (Debian package python3-redis)"

start_memento "$1"
timeout 240 "${python}" "$(dirname "$0")/python_client_test.py" "${MEMENTO_PORT}" ||
  fail "python_client_test.py failed (status $?; 124 = timed out after 240 s)"
stop_memento
echo "${TEST_NAME}: all checks passed"
