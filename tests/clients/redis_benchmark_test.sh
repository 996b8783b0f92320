#!/usr/bin/env bash
# Runs Redis's load generator, redis-benchmark (Debian redis-tools), against memento:
# SET, GET, INCR and MSET, 100000 requests each, 16 pipelined per connection. It must
# exit 0, print no error (redis-benchmark reports error replies, and a failed
# CONFIG GET at start-up, on its output but still exits 0), and print a
# "requests per second" line for every test. Then INCR's counter must hold exactly
# the number of INCRs sent: no request was lost or run twice.
#
# This is a correctness test under load, not a measurement: bench/compare.sh measures.
#
# Usage: redis_benchmark_test.sh MEMENTO_BINARY     (ctest passes build/bin/memento)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 MEMENTO_BINARY"
require_tool redis-benchmark redis-tools
require_tool redis-cli redis-tools

start_memento "$1"

requests=100000
rc=0
timeout 240 redis-benchmark -p "${MEMENTO_PORT}" -t set,get,incr,mset -n "${requests}" -P 16 -q \
  >"${TEST_TMP}/bench.out" 2>&1 || rc=$?
# -q still redraws a progress line with '\r'; keep only the final lines.
tr '\r' '\n' <"${TEST_TMP}/bench.out" | sed 's/^ *//' | grep -v '^$' | grep -v 'rps=' \
  >"${TEST_TMP}/bench.txt" || true
echo "---- redis-benchmark output ----"
cat "${TEST_TMP}/bench.txt"
echo "--------------------------------"

[[ ${rc} -eq 0 ]] || fail "redis-benchmark exited with status ${rc} (124 = timed out after 240 s)"
pass "redis-benchmark exited 0"
if grep -E "ERR|[Ee]rror|WARN" "${TEST_TMP}/bench.out"; then
  fail "redis-benchmark printed the error line(s) above"
fi
pass "no error lines"
for test in "SET" "GET" "INCR" "MSET (10 keys)"; do
  grep -qE "^${test//[()]/.}: [0-9]+(\.[0-9]+)? requests per second" "${TEST_TMP}/bench.txt" ||
    fail "no '${test}: N requests per second' line in redis-benchmark's output"
  pass "${test} reports requests per second"
done

# Without -r every INCR hits the same key, so it counts the INCRs that ran.
counter=$(timeout 20 redis-cli -p "${MEMENTO_PORT}" GET 'counter:__rand_int__' 2>&1)
expect_eq "GET counter:__rand_int__ after ${requests} INCRs" "${requests}" "${counter}"

stop_memento
echo "${TEST_NAME}: all checks passed"
