#!/usr/bin/env bash
# Runs Redis's load generator, redis-benchmark (Debian redis-tools), against memento.
#
# 1. PING_INLINE, PING_MBULK, SET, GET, INCR and MSET, 100000 requests each, 16
#    pipelined per connection. It must exit 0, print no error (redis-benchmark reports
#    error replies, and a failed CONFIG GET at start-up, on its output but still exits
#    0), and print a "requests per second" line for every test. Then INCR's counter
#    must hold exactly the number of INCRs sent: no request was lost or run twice.
#    PING_INLINE sends "PING\r\n" (Redis's inline protocol) and needs "+PONG".
# 2. The default test list (no -t), 2000 requests each: it must get through
#    PING_INLINE, PING_MBULK, SET, GET and INCR and stop at LPUSH, the first test
#    needing a data type Memento does not have yet (lists, sets, hashes, sorted sets):
#    redis-benchmark aborts the whole run, exit status 1, on the first error reply,
#    "Error from server: ERR unknown command 'LPUSH', ...". When those types come,
#    this check must be changed to expect the whole list.
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
timeout 240 redis-benchmark -p "${MEMENTO_PORT}" -t ping_inline,ping_mbulk,set,get,incr,mset \
  -n "${requests}" -P 16 -q \
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
for test in "PING_INLINE" "PING_MBULK" "SET" "GET" "INCR" "MSET (10 keys)"; do
  grep -qE "^${test//[()]/.}: [0-9]+(\.[0-9]+)? requests per second" "${TEST_TMP}/bench.txt" ||
    fail "no '${test}: N requests per second' line in redis-benchmark's output"
  pass "${test} reports requests per second"
done

# Without -r every INCR hits the same key, so it counts the INCRs that ran.
counter=$(timeout 20 redis-cli -p "${MEMENTO_PORT}" GET 'counter:__rand_int__' 2>&1)
expect_eq "GET counter:__rand_int__ after ${requests} INCRs" "${requests}" "${counter}"

# The default list, in redis-benchmark 7.0's order: PING_INLINE PING_MBULK SET GET INCR
# LPUSH RPUSH LPOP RPOP SADD HSET SPOP ZADD ZPOPMIN LPUSH LRANGE_* MSET.
rc=0
timeout 120 redis-benchmark -p "${MEMENTO_PORT}" -n 2000 -q >"${TEST_TMP}/default.out" 2>&1 ||
  rc=$?
tr '\r' '\n' <"${TEST_TMP}/default.out" | sed 's/^ *//' | grep -v '^$' | grep -v 'rps=' \
  >"${TEST_TMP}/default.txt" || true
echo "---- redis-benchmark (default tests) output ----"
cat "${TEST_TMP}/default.txt"
echo "------------------------------------------------"
for test in "PING_INLINE" "PING_MBULK" "SET" "GET" "INCR"; do
  grep -qE "^${test}: [0-9]+(\.[0-9]+)? requests per second" "${TEST_TMP}/default.txt" ||
    fail "default tests: no '${test}: N requests per second' line"
  pass "default tests: ${test} reports requests per second"
done
grep -q "^Error from server: ERR unknown command 'LPUSH'" "${TEST_TMP}/default.txt" ||
  fail "default tests: expected the run to stop at LPUSH (no lists yet)"
expect_eq "default tests: redis-benchmark's exit status after LPUSH's error" 1 "${rc}"
if grep -q "Protocol error" "${TEST_TMP}/default.txt"; then
  fail "default tests: redis-benchmark saw a protocol error"
fi
pass "default tests: no protocol error"

stop_memento
echo "${TEST_NAME}: all checks passed"
