#!/usr/bin/env bash
# Installs ioredis (the exact versions in node/package-lock.json, with `npm ci`) into
# WORK_DIR, starts memento and runs node/node_client_test.js against it.
#
# The package is copied to WORK_DIR (ctest gives one in the build tree) so that the
# source tree gets no node_modules/ and two build trees never share one. `npm ci` runs
# only when WORK_DIR's installed lock differs from the source's: later runs reuse
# node_modules/.
#
# Usage: node_client_test.sh MEMENTO_BINARY [WORK_DIR]
#        (WORK_DIR defaults to $TMPDIR/memento-node-client-test)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 || $# -eq 2 ]] || fail "usage: $0 MEMENTO_BINARY [WORK_DIR]"
require_tool node nodejs
require_tool npm npm
source_dir="$(cd "$(dirname "$0")/node" && pwd)"
work_dir="${2:-${TMPDIR:-/tmp}/memento-node-client-test}"

mkdir -p "${work_dir}"
cp "${source_dir}/package.json" "${source_dir}/package-lock.json" \
  "${source_dir}/node_client_test.js" "${work_dir}/"
stamp="${work_dir}/node_modules/.memento-installed-lock.json"
if ! cmp -s "${source_dir}/package-lock.json" "${stamp}"; then
  echo "${TEST_NAME}: npm ci in ${work_dir}"
  (cd "${work_dir}" && timeout 240 npm ci --no-audit --no-fund --loglevel=error) ||
    fail "npm ci failed in ${work_dir} (is the npm registry reachable?)"
  cp "${source_dir}/package-lock.json" "${stamp}"
fi

start_memento "$1"
(cd "${work_dir}" && timeout 240 node node_client_test.js "${MEMENTO_PORT}") ||
  fail "node_client_test.js failed (status $?; 124 = timed out after 240 s)"
stop_memento
echo "${TEST_NAME}: all checks passed"
