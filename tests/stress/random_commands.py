#!/usr/bin/env python3
"""Random-command stress for memento nodes (one node or a cluster), for sanitizer builds.

Sends, for SECONDS, requests made of a random command name (from the server's own
COMMAND LIST, minus the ones that stop or reconfigure it) and 0-6 random arguments
(keys with and without hash tags, the empty key, a long key, numbers out of range,
option words, SCAN cursors of other cluster nodes) over connections in both protocols
to every PORT, reading and discarding replies. It checks nothing itself: run it against
ASan/UBSan or TSan builds of memento (see tests/stress/README.md) and look at whether
every node is still alive and what the sanitizers logged.

Usage: random_commands.py --seconds 60 --seed 1 PORT [PORT ...]
"""
import argparse
import random
import socket
import time

SKIPPED = {b"quit", b"exit", b"shutdown", b"save", b"bgsave", b"config", b"auth",
           b"hello", b"client", b"flushall", b"flushdb", b"select"}


def resp(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(sock):
    """Reads one RESP reply (blocking); returns it flattened to a list of bytes."""
    buf = b""
    def line():
        nonlocal buf
        while b"\r\n" not in buf:
            buf += sock.recv(65536)
        head, _, rest = buf.partition(b"\r\n")
        buf = rest
        return head
    def value():
        nonlocal buf
        head = line()
        if head[:1] == b"$" and int(head[1:]) >= 0:
            n = int(head[1:])
            while len(buf) < n + 2:
                buf += sock.recv(65536)
            data, buf = buf[:n], buf[n + 2:]
            return [data]
        if head[:1] == b"*" and int(head[1:]) > 0:
            out = []
            for _ in range(int(head[1:])):
                out += value()
            return out
        return [head]
    return value()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("ports", type=int, nargs="+")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    probe = socket.create_connection(("127.0.0.1", args.ports[0]))
    probe.sendall(resp([b"COMMAND", b"LIST"]))
    names = [n for n in read_reply(probe) if n not in SKIPPED] + [b"flush"]
    probe.close()

    keys = [b"k%d" % i for i in range(40)] + [b"{t}a", b"{t}b", b"", b"x" * 600]
    words = [b"1", b"-1", b"0", b"9999999999999999999", b"EX", b"NX", b"XX", b"MATCH",
             b"*", b"COUNT", b"abc", b"281474976710656", b"562949953421312", b"1.5"]
    conns = []
    for port in args.ports:
        for dialect in ("resp", "text"):
            s = socket.create_connection(("127.0.0.1", port))
            s.setblocking(False)
            conns.append((s, dialect))

    sent = 0
    end = time.time() + args.seconds
    while time.time() < end:
        sock, dialect = rng.choice(conns)
        name = rng.choice(names)
        if rng.random() < 0.5:
            name = name.upper()
        request = [name] + [rng.choice(keys + words) for _ in range(rng.randint(0, 6))]
        if dialect == "resp":
            data = resp(request)
        elif all(request) and all(b" " not in a for a in request):
            data = b" ".join(request) + b"\r\n"
        else:
            continue
        try:
            sock.sendall(data)
            sent += 1
        except BlockingIOError:
            pass
        for s, _ in conns:
            try:
                while s.recv(65536):
                    pass
            except BlockingIOError:
                pass
    print("random_commands.py: sent %d requests to %s" % (sent, args.ports))


if __name__ == "__main__":
    main()
