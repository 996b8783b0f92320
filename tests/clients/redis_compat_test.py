#!/usr/bin/python3
"""Compares memento's connection and server commands with a real redis-server 7.0.

Usage: redis_compat_test.py MEMENTO_PORT   (redis_compat_test.sh starts memento)

It starts its own redis-server (no persistence, a free port) and sends the same
requests, as raw RESP, to both. Where the reply is deterministic the bytes must be
equal; where values differ (ids, addresses, times, buffer sizes) the shape must be:
CLIENT LIST's field names and order, MONITOR's line format with the time and port
masked. Finally redis-cli --stat against memento must print sane numbers.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FAILURES = []


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, *cmds):
        self.sock.sendall(b"".join(enc(*c) for c in cmds))

    def drain(self, wait=0.3):
        """Everything the server sends within `wait` seconds; b"<EOF>" marks a close."""
        deadline = time.time() + wait
        data = self.buf
        self.buf = b""
        while True:
            left = deadline - time.time()
            if left <= 0:
                return data
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return data
            except ConnectionResetError:
                return data + b"<EOF>"
            if not chunk:
                return data + b"<EOF>"
            data += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self.sock.settimeout(5)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed while reading a line")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """One reply: a line, or a bulk's body (nested arrays are not needed here)."""
        line = self.line()
        if line.startswith(b"$") and line != b"$-1":
            n = int(line[1:])
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            body, self.buf = self.buf[:n], self.buf[n + 2:]
            return body
        return line

    def call(self, *args):
        self.send(args)
        return self.reply()

    def close(self):
        self.sock.close()


def check(what, expected, got):
    if expected != got:
        FAILURES.append(what)
        print(f"FAIL: {what}:\n  redis:   {expected!r}\n  memento: {got!r}")
    else:
        print(f"ok: {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(workdir):
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            c = Conn(port)
            if c.call("PING") == b"+PONG":
                c.close()
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


# Each case: requests sent on a fresh connection, everything received compared.
SAME_BYTES = [
    [("CLIENT", "REPLY", "OFF"), ("PING",), ("CLIENT", "REPLY", "ON"), ("PING",)],
    [("CLIENT", "REPLY", "SKIP"), ("PING",), ("ECHO", "a")],
    [("CLIENT", "REPLY"), ("CLIENT", "REPLY", "maybe")],
    [("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "off"), ("CLIENT", "NO-EVICT", "x"),
     ("CLIENT", "NO-EVICT")],
    [("CLIENT", "KILL",), ("CLIENT", "KILL", "ID", "0"), ("CLIENT", "KILL", "ID", "abc"),
     ("CLIENT", "KILL", "ID", "999999"), ("CLIENT", "KILL", "1.2.3.4:5"),
     ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME"), ("CLIENT", "KILL", "SKIPME", "maybe"),
     ("CLIENT", "KILL", "FOO", "bar"), ("CLIENT", "KILL", "USER", "nobody"),
     ("CLIENT", "KILL", "TYPE", "foo"), ("CLIENT", "KILL", "TYPE", "pubsub"),
     ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "USER", "default")],
    [("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "ID", "abc"), ("CLIENT", "LIST", "ID"),
     ("CLIENT", "LIST", "TYPE", "normal", "ID", "5"), ("CLIENT", "LIST", "ID", "999999"),
     ("CLIENT", "LIST", "TYPE", "pubsub"), ("CLIENT", "LIST", "x")],
    [("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "app"),
     ("CLIENT", "GETNAME"), ("CLIENT", "ID", "x"), ("CLIENT", "INFO", "x")],
    [("SELECT", "0"), ("SELECT", "16"), ("SELECT", "x")],
    [("SHUTDOWN", "ABORT"), ("SHUTDOWN", "ABORT", "NOW"), ("SHUTDOWN", "NOSAVE", "SAVE"),
     ("SHUTDOWN", "LATER")],
    [("MONITOR", "extra")],
    # A monitor may not read or write keys (Redis 7 treats it as a replica); refused
    # commands are not fed to monitors, so nothing here carries a time stamp.
    [("MONITOR",), ("GET", "k"), ("SET", "k", "v"), ("DBSIZE",), ("KEYS", "*")],
]


def compare_bytes(redis_port, memento_port):
    for case in SAME_BYTES:
        got = []
        for port in (redis_port, memento_port):
            c = Conn(port)
            c.send(*case)
            got.append(c.drain())
            c.close()
        check(" ; ".join(" ".join(cmd) for cmd in case), got[0], got[1])


def compare_self_kill(redis_port, memento_port):
    for form in ("old", "new"):
        got = []
        for port in (redis_port, memento_port):
            c = Conn(port)
            info = c.call("CLIENT", "INFO").decode()
            fields = dict(f.split("=", 1) for f in info.split())
            if form == "old":
                c.send(("CLIENT", "KILL", fields["addr"]))
            else:
                c.send(("CLIENT", "KILL", "ID", fields["id"], "SKIPME", "no"))
            got.append(c.drain(0.5))
            c.close()
        check(f"CLIENT KILL of the caller ({form} form): reply, then close", got[0], got[1])


def field_names(line):
    return [pair.split("=", 1)[0] for pair in line.split(" ")]


def compare_client_list(redis_port, memento_port):
    shapes = []
    for port in (redis_port, memento_port):
        other = Conn(port)
        other.call("CLIENT", "SETNAME", "other")
        c = Conn(port)
        listing = c.call("CLIENT", "LIST").decode()
        info = c.call("CLIENT", "INFO").decode()
        lines = listing.split("\n")
        shapes.append({
            "ends with a newline": listing.endswith("\n") and info.endswith("\n"),
            "field names": [field_names(l) for l in lines if l],
            "info field names": field_names(info.rstrip("\n")),
            "flags": sorted(re.search(r" flags=(\S*)", l).group(1) for l in lines if l),
            "cmds": sorted(re.search(r" cmd=(\S*)", l).group(1) for l in lines if l),
            "names": sorted(re.search(r" name=(\S*)", l).group(1) for l in lines if l),
        })
        c.close()
        other.close()
    for key in shapes[0]:
        check(f"CLIENT LIST/INFO: {key}", shapes[0][key], shapes[1][key])


MONITOR_MASK = re.compile(rb"^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] ")


def compare_monitor(redis_port, memento_port):
    seen = []
    for port in (redis_port, memento_port):
        m = Conn(port)
        m.send(("MONITOR",))
        first = m.line()
        c = Conn(port)
        c.send(("SET", b"k\x00\x01\xff\"\\\n\r\t\x07\x08 a", "v"), ("AUTH", "pw"),
               ("AUTH", "user", "pw"), ("HELLO", "2", "AUTH", "default", "pw"),
               ("CONFIG", "GET", "maxclients"), ("NOSUCH",), ("GET",), ("GET", "k"),
               ("CLIENT", "LIST"), ("CLIENT", "SETNAME", "x"), ("SELECT", "0"), ("PING",),
               ("ECHO", "x"), ("CLIENT", "ID"), ("CLIENT", "INFO"), ("HELLO",),
               ("COMMAND", "COUNT"), ("INFO", "server"), ("LASTSAVE",), ("DBSIZE",), ("TIME",),
               ("SHUTDOWN", "ABORT"), ("QUIT",))
        c.drain(0.3)
        lines = []
        for line in m.drain(0.3).split(b"\r\n"):
            if not line:
                continue
            if not MONITOR_MASK.match(line):
                lines.append(b"UNEXPECTED SHAPE: " + line)
            lines.append(MONITOR_MASK.sub(b"+<time> [0 <addr>] ", line))
        seen.append([first] + lines)
        m.close()
        c.close()
    check("MONITOR lines (time and port masked)", seen[0], seen[1])


def read_array(conn):
    """A flat array of bulks (CONFIG GET's reply)."""
    header = conn.line()
    assert header.startswith(b"*"), header
    return [conn.reply() for _ in range(int(header[1:]))]


def compare_config_get(redis_port, memento_port):
    # Redis 7 answers several patterns at once, each setting once, a literal name as
    # sent; the order is its dictionary's, so names are compared sorted.
    for patterns in (["maxclients", "TIMEOUT", "port"], ["maxclient*", "tim?out"],
                     ["port", "p?rt", "maxc*"]):
        names = []
        for port in (redis_port, memento_port):
            c = Conn(port)
            c.send(("CONFIG", "GET", *patterns))
            flat = read_array(c)
            names.append(sorted(flat[0::2]))
            c.close()
        check("CONFIG GET " + " ".join(patterns) + ": names", names[0], names[1])
    c = Conn(memento_port)
    c.send(("CONFIG", "GET", "*"))
    everything = read_array(c)
    check("CONFIG GET * is a flat array of name, value pairs",
          True, len(everything) >= 30 and len(everything) % 2 == 0)
    c.close()


def info_fields(conn):
    text = conn.call("INFO").decode()
    return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l and not l.startswith("#"))


def compare_info(redis_port, memento_port):
    redis_info = info_fields(Conn(redis_port))
    c = Conn(memento_port)
    info = info_fields(c)
    check("INFO redis_version", redis_info["redis_version"], info.get("redis_version"))
    check("INFO redis_mode", redis_info["redis_mode"], info.get("redis_mode"))
    check("INFO blocked_clients", redis_info["blocked_clients"], info.get("blocked_clients"))
    lastsave = c.call("LASTSAVE").decode()
    check("INFO rdb_last_save_time is LASTSAVE", ":" + info.get("rdb_last_save_time", "?"),
          lastsave)
    for name in ("memento_version", "connected_clients", "used_memory",
                 "total_commands_processed", "total_connections_received"):
        check(f"INFO has {name}", True, name in info)
    c.close()


def check_redis_cli_monitor(memento_port):
    proc = subprocess.Popen(["stdbuf", "-oL", "redis-cli", "-p", str(memento_port), "monitor"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline().rstrip("\n")
        c = Conn(memento_port)
        c.call("SET", "cli-monitor", "v 1")
        c.close()
        second = proc.stdout.readline().rstrip("\n")
    finally:
        proc.kill()
        proc.wait()
    check("redis-cli monitor: OK", "OK", first)
    check("redis-cli monitor: the line", True, re.fullmatch(
        r'\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "cli-monitor" "v 1"', second) is not None)


def check_redis_cli_stat(memento_port):
    # stdbuf: redis-cli does not flush its --stat lines when stdout is a pipe.
    proc = subprocess.Popen(
        ["stdbuf", "-oL", "redis-cli", "-p", str(memento_port), "--stat", "-i", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.time() + 10
        while len(lines) < 4 and time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
    finally:
        proc.kill()
        proc.wait()
    print("\n".join(lines))
    check("redis-cli --stat header", True, len(lines) >= 3 and lines[1].split()[:4] ==
          ["keys", "mem", "clients", "blocked"])
    for line in lines[2:]:
        cols = line.split()
        sane = (len(cols) >= 6 and all(re.fullmatch(r"\d+", cols[i]) for i in (0, 2, 3, 4))
                and cols[3] == "0" and "-" not in line)
        check(f"redis-cli --stat numbers are sane: {line.strip()}", True, sane)


def main():
    memento_port = int(sys.argv[1])
    workdir = tempfile.mkdtemp(prefix="memento-redis-compat.")
    redis, redis_port = start_redis(workdir)
    try:
        compare_bytes(redis_port, memento_port)
        compare_self_kill(redis_port, memento_port)
        compare_client_list(redis_port, memento_port)
        compare_monitor(redis_port, memento_port)
        compare_config_get(redis_port, memento_port)
        compare_info(redis_port, memento_port)
        check_redis_cli_monitor(memento_port)
        check_redis_cli_stat(memento_port)
    finally:
        redis.kill()
        redis.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {FAILURES}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
