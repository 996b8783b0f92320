#!/usr/bin/python3
"""Drives memento with redis-py (Debian's python3-redis), the way an application would.

Usage: python_client_test.py PORT   (python_client_test.sh starts memento and passes it)

Each check_* function is one scenario with its own key prefix, so that scenarios do
not depend on each other. All of them run; the exit status is 1 if any failed.
node/node_client_test.js runs the same scenarios with ioredis: keep the two in step.
"""

import sys
import time
import traceback

import redis

ALL_BYTES = bytes(range(256))


def expect(what, expected, got):
    if expected != got:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def check_ping(r):
    expect("PING", True, r.ping())
    expect("ECHO", b"hello", r.echo("hello"))


def check_set_get(r):
    expect("SET py:k v", True, r.set("py:k", "v"))
    expect("GET py:k", b"v", r.get("py:k"))
    expect("GET of a missing key", None, r.get("py:missing"))
    expect("SET NX on an existing key", None, r.set("py:k", "w", nx=True))
    expect("SET XX on an existing key", True, r.set("py:k", "w", xx=True))
    expect("SET XX on a missing key", None, r.set("py:missing", "w", xx=True))
    expect("GET py:k after SET XX", b"w", r.get("py:k"))
    expect("SET GET returns the old value", b"w", r.set("py:k", "x", get=True))
    expect("EXISTS", 1, r.exists("py:k", "py:missing"))
    expect("TYPE", b"string", r.type("py:k"))
    expect("DEL counts deleted keys", 1, r.delete("py:k", "py:missing"))
    expect("GET after DEL", None, r.get("py:k"))


def check_mget_mset(r):
    expect("MSET", True, r.mset({"py:m1": "1", "py:m2": "2", "py:m3": "3"}))
    expect("MGET with a missing key", [b"1", None, b"3"], r.mget("py:m1", "py:nope", "py:m3"))


def check_incr(r):
    expect("INCR on a new key", 1, r.incr("py:n"))
    expect("INCRBY 10", 11, r.incr("py:n", 10))
    expect("DECRBY 4", 7, r.decr("py:n", 4))
    expect("GET of a counter", b"7", r.get("py:n"))
    r.set("py:text", "abc")
    try:
        r.incr("py:text")
    except redis.ResponseError as e:
        if "not an integer" not in str(e):
            raise AssertionError(f"INCR on a non-integer: unexpected error text {e!r}")
    else:
        raise AssertionError("INCR on a non-integer: expected an error reply")


def check_expire_ttl(r):
    r.set("py:e", "v")
    expect("TTL of a key without expiry", -1, r.ttl("py:e"))
    expect("TTL of a missing key", -2, r.ttl("py:missing"))
    expect("EXPIRE 100", True, r.expire("py:e", 100))
    ttl = r.ttl("py:e")
    if ttl not in (99, 100):
        raise AssertionError(f"TTL after EXPIRE 100: expected 99 or 100, got {ttl!r}")
    pttl = r.pttl("py:e")
    if not 98000 < pttl <= 100000:
        raise AssertionError(f"PTTL after EXPIRE 100: expected (98000, 100000], got {pttl!r}")
    expect("PERSIST", True, r.persist("py:e"))
    expect("TTL after PERSIST", -1, r.ttl("py:e"))
    expect("EXPIRE of a missing key", False, r.expire("py:missing", 10))
    r.set("py:short", "v", px=100)
    time.sleep(0.3)
    expect("GET after a 100 ms PX expired", None, r.get("py:short"))
    expect("EXISTS after expiry", 0, r.exists("py:short"))


def check_binary(r):
    key = b"py:bin:\x00\xff\r\n key"
    expect("SET of all 256 byte values", True, r.set(key, ALL_BYTES))
    expect("GET of all 256 byte values", ALL_BYTES, r.get(key))
    expect("STRLEN", 256, r.strlen(key))
    expect("GETRANGE 10..19", ALL_BYTES[10:20], r.getrange(key, 10, 19))
    expect("APPEND returns the new length", 512, r.append(key, ALL_BYTES[::-1]))
    expect("GET after APPEND", ALL_BYTES + ALL_BYTES[::-1], r.get(key))
    big = ALL_BYTES * 4096  # 1 MiB
    r.set("py:big", big)
    expect("GET of a 1 MiB binary value", big, r.get("py:big"))


def check_pipeline(r):
    n = 1000
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"py:p:{i}", ALL_BYTES[i % 256:] + str(i).encode())
    results = pipe.execute()
    expect("1000 pipelined SET replies", [True] * n, results)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.get(f"py:p:{i}")
    results = pipe.execute()
    for i in range(n):
        expect(f"pipelined GET py:p:{i}", ALL_BYTES[i % 256:] + str(i).encode(), results[i])
    # A mixed pipeline: the replies come back in order, errors in their place.
    pipe = r.pipeline(transaction=False)
    pipe.incr("py:p:count")
    pipe.incr("py:p:0")  # not an integer
    pipe.incr("py:p:count")
    results = pipe.execute(raise_on_error=False)
    expect("mixed pipeline, first INCR", 1, results[0])
    if not isinstance(results[1], redis.ResponseError):
        raise AssertionError(f"mixed pipeline: expected an error reply in 2nd place, got {results[1]!r}")
    expect("mixed pipeline, third INCR", 2, results[2])


def check_transaction_pipeline(r):
    # redis-py's default pipeline wraps the commands in MULTI/EXEC (issue 14).
    r.delete("py:txn", "py:txncount")
    p = r.pipeline()
    p.set("py:txn", "x")
    p.incr("py:txncount")
    p.get("py:txn")
    expect("MULTI/EXEC pipeline", [True, 1, b"x"], p.execute())
    # A runtime error stays in its slot; redis-py raises it after the EXEC ran.
    p = r.pipeline()
    p.incr("py:txn")
    p.incr("py:txncount")
    try:
        p.execute()
        raise AssertionError("INCR of a string inside MULTI did not raise")
    except redis.ResponseError as e:
        expect("the runtime error", True, "not an integer" in str(e))
    expect("the rest of the transaction ran", b"2", r.get("py:txncount"))
    # An unknown command queued aborts the whole transaction.
    p = r.pipeline()
    p.set("py:txn", "y")
    p.execute_command("NOSUCHCOMMAND")
    try:
        p.execute()
        raise AssertionError("EXECABORT was not raised")
    except redis.ResponseError as e:
        expect("EXECABORT", True, "EXECABORT" in str(e) or "unknown command" in str(e))
    expect("nothing of the aborted transaction ran", b"x", r.get("py:txn"))


def check_watch(r):
    # Optimistic locking as redis-py documents it: WATCH, read, MULTI, write, EXEC.
    r.set("py:w", "10")

    def add_five(pipe):
        current = int(pipe.get("py:w"))
        pipe.multi()
        pipe.set("py:w", current + 5)

    expect("transaction() with WATCH", [True], r.transaction(add_five, "py:w"))
    expect("the watched value", b"15", r.get("py:w"))
    other = redis.Redis(connection_pool=r.connection_pool)
    with r.pipeline() as pipe:
        pipe.watch("py:w")
        other.set("py:w", "changed")
        pipe.multi()
        pipe.set("py:w", "mine")
        try:
            pipe.execute()
            raise AssertionError("WatchError was not raised")
        except redis.WatchError:
            pass
    expect("the other client's write stays", b"changed", r.get("py:w"))


def check_getdel(r):
    r.set("py:gd", "v")
    expect("GETDEL", b"v", r.getdel("py:gd"))
    expect("GET after GETDEL", None, r.get("py:gd"))
    expect("GETDEL of a missing key", None, r.getdel("py:gd"))


def scan_all(r, **kwargs):
    """SCAN from cursor 0 until it comes back to 0; the keys in the order returned.

    Calls SCAN itself rather than using scan_iter, so that a cursor that never comes
    back to 0 fails the test instead of hanging it.
    """
    keys, cursor = [], 0
    for _ in range(10000):
        cursor, batch = r.scan(cursor, **kwargs)
        keys.extend(batch)
        if cursor == 0:
            return keys
    raise AssertionError("SCAN did not end after 10000 calls")


def check_scan(r):
    n = 500
    expected = {f"py:scan:{i}".encode() for i in range(n)}
    r.mset({k: b"x" for k in expected})
    got = scan_all(r, match="py:scan:*", count=50)
    if len(got) < n:
        raise AssertionError(f"SCAN MATCH py:scan:*: {len(got)} keys returned, {n} expected")
    expect("SCAN MATCH py:scan:* returns every key set", expected, set(got))
    every = set(scan_all(r, count=100))
    if not expected <= every:
        raise AssertionError(f"SCAN without MATCH misses {len(expected - every)} keys")
    expect("SCAN without MATCH returns DBSIZE keys", r.dbsize(), len(every))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python_client_test.py PORT")
    r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=20)
    print(f"redis-py {redis.__version__}")
    failed = 0
    checks = [v for k, v in globals().items() if k.startswith("check_")]
    for check in checks:
        try:
            check(r)
            print(f"ok: {check.__name__}")
        except Exception:  # pylint: disable=broad-except
            failed += 1
            print(f"FAIL: {check.__name__}", file=sys.stderr)
            traceback.print_exc()
    print(f"{len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
