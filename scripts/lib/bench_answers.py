"""Driver of scripts/bench-memory-answers.sh: stores LLM answers into a running server and
reports its resident memory per answer.

    bench_answers.py gen FILE COUNT              writes COUNT answers (answers.py), one per line
    bench_answers.py fill PID PORT FILE MODE     stores every answer of FILE; prints name value lines
    bench_answers.py keyed PORT FILE COUNT       stores COUNT answers as key:%012d (redis-benchmark's keys)

MODE is how the answer is stored: setex (the seed's `cached_call`: SETEX key 86400 value), set,
llmsetnx (LLMSETNX key value EX 86400), hset (HSET key answer value). Raw RESP over one
socket, 64 commands in flight.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from answers import Answers  # noqa: E402

WINDOW = 64


def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for {pid}")


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise SystemExit("server closed the connection")
            self.buf += chunk
        at = self.buf.index(b"\r\n")
        line = bytes(self.buf[:at])
        del self.buf[: at + 2]
        return line

    def simple(self):
        """A one-line reply (status, integer or error)."""
        line = self.line()
        if line[:1] == b"-":
            raise SystemExit(f"error reply: {line[:200]!r}")
        return line

    def bulk(self):
        line = self.line()
        n = int(line[1:])
        while len(self.buf) < n + 2:
            self.buf += self.s.recv(1 << 16)
        body = bytes(self.buf[:n])
        del self.buf[: n + 2]
        return body

    def pipeline(self, commands):
        sent = done = 0
        pending = []
        for c in commands:
            pending.append(c)
            sent += 1
            if len(pending) == 16:
                self.s.sendall(b"".join(pending))
                pending = []
            while sent - done > WINDOW:
                self.simple()
                done += 1
        if pending:
            self.s.sendall(b"".join(pending))
        while done < sent:
            self.simple()
            done += 1


def store_cmd(mode, key, value):
    if mode == "setex":
        return command(b"SETEX", key, b"86400", value)
    if mode == "set":
        return command(b"SET", key, value)
    if mode == "llmsetnx":
        return command(b"LLMSETNX", key, value, b"EX", b"86400")
    if mode == "hset":
        return command(b"HSET", key, b"answer", value)
    raise SystemExit(f"unknown mode {mode}")


def answers(path):
    with open(path, "rb") as f:
        for line in f:
            key, value = line.rstrip(b"\n").split(b" ", 1)
            yield key, value


def main():
    what = sys.argv[1]
    if what == "gen":
        path, count = sys.argv[2], int(sys.argv[3])
        a = Answers()
        with open(path, "wb") as f:
            for i in range(count):
                k, v = a.answer(i)
                f.write(k + b" " + v + b"\n")
    elif what == "fill":
        pid, port, path, mode = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
        c = Conn(port)
        c.s.sendall(command(b"PING"))
        c.simple()
        base = status(pid, "VmRSS")
        n = 0
        values = 0

        def cmds():
            nonlocal n, values
            for k, v in answers(path):
                n += 1
                values += len(v)
                yield store_cmd(mode, k, v)

        c.pipeline(cmds())
        # The last reply came after the last write: RSS now holds every answer.
        after = status(pid, "VmRSS")
        c.s.sendall(command(b"DBSIZE"))
        keys = int(c.simple()[1:])
        if keys != n:
            raise SystemExit(f"{keys} keys after {n} writes")
        print("answers", n)
        print("value_bytes", values // n)
        print("per_answer", (after - base) * 1024 // n)
    elif what == "keyed":
        port, path, count = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        c = Conn(port)

        def cmds():
            for i, (_, v) in enumerate(answers(path)):
                if i == count:
                    return
                yield command(b"SET", b"key:%012d" % i, v)

        c.pipeline(cmds())
        c.s.sendall(command(b"GET", b"key:%012d" % (count - 1)))
        if not c.bulk():
            raise SystemExit("the last answer did not read back")
    else:
        raise SystemExit(f"unknown command {what}")


if __name__ == "__main__":
    main()
