#!/usr/bin/env bash
# Memory of llmcached against a real redis-server under the same loads: resident set size (VmRSS)
# and its peak (VmHWM) from /proc/<pid>/status.
#
# Usage: scripts/bench-memory.sh        (ROUNDS=5 scripts/bench-memory.sh for more rounds)
# Each scenario starts a fresh server, so VmHWM is that scenario's peak. Servers alternate
# llmcached, redis, llmcached, redis... (ROUNDS rounds, default 3); the table shows medians and
# the ratio llmcached / redis. Scenarios (both servers get the same maxmemory, redis with
# allkeys-lru so that it evicts rather than refuses):
#   big    maxmemory 1gb: SET of one 400 MB value, GET of it, DEL; peak, RSS after the SET and
#          RSS SETTLE seconds after the DEL.
#   many   maxmemory 1gb: 2,000 SETs of distinct 1 MB values (2 GB into a 1 GB budget), one
#          client, 8 in flight; peak and RSS SETTLE seconds after the last reply, in MB and as
#          a multiple of maxmemory.
#   idle   10,000 connections, each answers one PING, then idle for SETTLE seconds: RSS over
#          the server's RSS before the first connection, per connection.
#   flood, flood64k, flood1k
#          maxmemory 64mb: 640 MB of redis-benchmark SETs of random keys from several
#          clients: 40,960 values of 16 KB (8 clients, -P 16), 10,240 of 64 KB (8 clients,
#          -P 4), 655,360 of 1 KB (50 clients, -P 16); peak as a multiple of maxmemory.
#
# Environment: ROUNDS (3), SETTLE (seconds to wait before a resting figure, 5), SCENARIOS
# ("big many idle flood flood64k flood1k"), LLMCACHED_BIN (default target/release/llmcached, built if it is the
# default), LLMCACHED_ARGS (extra llmcached flags). Everything runs on 127.0.0.1 and is bounded:
# each client step has a timeout, and every server is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

ROUNDS=${ROUNDS:-3}
SETTLE=${SETTLE:-5}
SCENARIOS=${SCENARIOS:-big many idle flood flood64k flood1k}
IDLE_CLIENTS=10000
FLOOD_COMMON=(-t set -r 100000000 -q)
declare -A FLOOD=(
    [flood]="-d 16384 -n 40960 -c 8 -P 16"
    [flood64k]="-d 65536 -n 10240 -c 8 -P 4"
    [flood1k]="-d 1024 -n 655360 -c 50 -P 16"
)

# The client needs a descriptor per idle connection; the servers raise their own limits.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE_CLIENTS + 100)); then
    echo "bench-memory.sh: the open files limit is $(ulimit -n); the idle scenario needs $((IDLE_CLIENTS + 100))" >&2
    exit 1
fi

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-memory.XXXXXX")
trap 'stop_servers; rm -rf -- "$work"' EXIT

# The load generator: raw RESP over blocking sockets. Prints `name value` lines (kB or counts).
cat >"$work/load.py" <<'EOF'
import socket, sys, time

def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for {pid}")

def report(name, value):
    print(name, value, flush=True)

def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n" % len(a))
        out.append(a)
        out.append(b"\r\n")
    return out

class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, bytearray()
        self.scratch = bytearray(1 << 20)

    def fill(self):
        n = self.sock.recv_into(self.scratch)
        if n == 0:
            raise SystemExit("server closed the connection")
        self.buf += memoryview(self.scratch)[:n]

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        at = self.buf.index(b"\r\n")
        line = bytes(self.buf[:at])
        del self.buf[:at + 2]
        return line

    def reply(self):
        """One reply; a bulk's bytes are counted, not kept."""
        line = self.line()
        if line[:1] == b"-":
            raise SystemExit(f"error reply: {line[:200]!r}")
        if line[:1] != b"$" or line == b"$-1":
            return line
        left = int(line[1:]) + 2
        take = min(left, len(self.buf))
        del self.buf[:take]
        left -= take
        while left > 0:
            n = self.sock.recv_into(self.scratch, min(left, len(self.scratch)))
            if n == 0:
                raise SystemExit("server closed the connection")
            left -= n
        return line

def send(sock, parts):
    for p in parts:
        sock.sendall(p)

def settle(pid, seconds):
    time.sleep(seconds)
    return status(pid, "VmRSS")

def big(pid, port, settle_s):
    s, r = connect(port), None
    r = Reader(s)
    value = b"v" * (400 << 20)
    report("base_rss", status(pid, "VmRSS"))
    send(s, command(b"SET", b"big", value))
    assert r.reply() == b"+OK"
    report("set_peak", status(pid, "VmHWM"))
    report("set_rss", status(pid, "VmRSS"))
    send(s, command(b"GET", b"big"))
    assert r.reply() == b"$%d" % len(value)
    report("peak", status(pid, "VmHWM"))
    send(s, command(b"DEL", b"big"))
    assert r.reply() == b":1"
    report("after_del_rss", settle(pid, settle_s))

def many(pid, port, settle_s):
    s = connect(port)
    r = Reader(s)
    value = b"m" * (1 << 20)
    report("base_rss", status(pid, "VmRSS"))
    window, sent, done = 8, 0, 0
    while done < 2000:
        while sent < 2000 and sent - done < window:
            send(s, command(b"SET", b"key:%d" % sent, value))
            sent += 1
        assert r.reply() == b"+OK"
        done += 1
    report("peak", status(pid, "VmHWM"))
    report("rest_rss", settle(pid, settle_s))

def idle(pid, port, settle_s, n):
    base = status(pid, "VmRSS")
    report("base_rss", base)
    socks, batch = [], 250
    while len(socks) < n:
        group = [connect(port) for _ in range(min(batch, n - len(socks)))]
        for s in group:
            s.sendall(b"PING\r\n")
        for s in group:
            got = b""
            while not got.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    raise SystemExit(f"connection {len(socks)} closed: {got!r}")
                got += chunk
            if got != b"+PONG\r\n":
                raise SystemExit(f"connection {len(socks)}: {got!r}")
        socks.extend(group)
    rss = settle(pid, settle_s)
    report("rss", rss)
    report("per_conn_bytes", (rss - base) * 1024 // n)
    report("peak", status(pid, "VmHWM"))
    for s in socks:
        s.close()

if __name__ == "__main__":
    scenario, pid, port, settle_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    if scenario == "big":
        big(pid, port, settle_s)
    elif scenario == "many":
        many(pid, port, settle_s)
    elif scenario == "idle":
        idle(pid, port, settle_s, int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
EOF

vm() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# run SCENARIO SERVER: one fresh server, one scenario; rows go to $work/rows as
# `scenario,server,name,value`.
run() {
    local scenario=$1 server=$2 pid port maxmem=1gb out rc=0
    [[ $scenario == flood* ]] && maxmem=64mb
    if [[ $server == llmcached ]]; then
        # shellcheck disable=SC2086 # LLMCACHED_ARGS is a list of flags
        start_llmcached --maxmemory "$maxmem" --maxclients $((IDLE_CLIENTS + 100)) ${LLMCACHED_ARGS:-}
        pid=$LLMCACHED_PID port=$LLMCACHED_PORT
    else
        start_redis --maxmemory "$maxmem" --maxmemory-policy allkeys-lru --maxclients $((IDLE_CLIENTS + 100))
        pid=$REDIS_PID port=$REDIS_PORT
    fi
    if [[ $scenario == flood* ]]; then
        echo "base_rss $(vm "$pid" VmRSS)" >"$work/out"
        # shellcheck disable=SC2086 # the scenario's flags are a list
        timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" "${FLOOD_COMMON[@]}" ${FLOOD[$scenario]} \
            >"$work/bench.out" 2>&1 || rc=$?
        if ((rc != 0)) || grep -qi error "$work/bench.out"; then
            echo "redis-benchmark against $server failed (exit $rc):" >&2
            sed 's/^/    /' "$work/bench.out" >&2
            exit 1
        fi
        echo "peak $(vm "$pid" VmHWM)" >>"$work/out"
        sleep "$SETTLE"
        echo "rest_rss $(vm "$pid" VmRSS)" >>"$work/out"
    else
        timeout 600 python3 "$work/load.py" "$scenario" "$pid" "$port" "$SETTLE" "$IDLE_CLIENTS" >"$work/out" || {
            echo "$scenario against $server failed" >&2
            exit 1
        }
    fi
    awk -v s="$scenario" -v v="$server" '{ print s "," v "," $1 "," $2 }' "$work/out" >>"$work/rows"
    stop_server "$pid"
}

started=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
    for scenario in $SCENARIOS; do
        echo "==> round $round of $ROUNDS: $scenario"
        run "$scenario" llmcached
        run "$scenario" redis
    done
done

report=$(
    echo "llmcached vs redis-server memory (VmRSS / VmHWM), median of $ROUNDS rounds (servers run alternately)"
    echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
    echo "llmcached: $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)" \
        "(commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- 2>/dev/null || echo " with uncommitted changes")) --appendonly no --save \"\" --maxmemory M ${LLMCACHED_ARGS:-}"
    echo "redis:     $(redis-server --version | cut -d' ' -f1-3) --save \"\" --appendonly no --maxmemory M --maxmemory-policy allkeys-lru"
    echo "settle:    resting figures taken ${SETTLE}s after the load"
    for f in flood flood64k flood1k; do
        echo "$f: redis-benchmark -h 127.0.0.1 -p PORT ${FLOOD_COMMON[*]} ${FLOOD[$f]}"
    done
    echo
    python3 - "$work/rows" <<'EOF'
import statistics, sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    scenario, server, name, value = line.strip().split(",")
    runs[(scenario, name, server)].append(int(value))

MB = 1024
rows = [
    ("big", "set_peak", "400 MB value: peak during SET", MB, "MB"),
    ("big", "peak", "400 MB value: peak SET+GET", MB, "MB"),
    ("big", "set_rss", "400 MB value: RSS after SET", MB, "MB"),
    ("big", "after_del_rss", "400 MB value: RSS after DEL", MB, "MB"),
    ("many", "peak", "2,000 x 1 MB: peak", MB, "MB"),
    ("many", "rest_rss", "2,000 x 1 MB: at rest", MB, "MB"),
    ("many", "peak", "2,000 x 1 MB: peak / maxmemory", 1024 * MB, "x"),
    ("many", "rest_rss", "2,000 x 1 MB: rest / maxmemory", 1024 * MB, "x"),
    ("idle", "per_conn_bytes", "10,000 idle: per connection", 1024, "KB"),
    ("idle", "rss", "10,000 idle: RSS", MB, "MB"),
]
for scenario, size in (("flood", "16 KB"), ("flood64k", "64 KB"), ("flood1k", "1 KB")):
    rows += [
        (scenario, "peak", f"640 MB flood, {size}: peak", MB, "MB"),
        (scenario, "peak", f"640 MB flood, {size}: peak / maxmem", 64 * MB, "x"),
        (scenario, "rest_rss", f"640 MB flood, {size}: at rest", MB, "MB"),
    ]
print(f"{'figure':<34} {'llmcached':>10} {'redis':>10} {'ratio':>6}   (min-max llmcached | redis)")
for scenario, name, label, div, unit in rows:
    a, b = runs.get((scenario, name, "llmcached"), []), runs.get((scenario, name, "redis"), [])
    if not a or not b:
        continue
    fmt = (lambda v: f"{v / div:.2f}") if unit == "x" else (lambda v: f"{v / div:,.1f}")
    ma, mb = statistics.median(a), statistics.median(b)
    ratio = f"{ma / mb:.2f}" if mb else "-"
    print(f"{label:<34} {fmt(ma) + ' ' + unit:>10} {fmt(mb) + ' ' + unit:>10} {ratio:>6}   "
          f"({fmt(min(a))}-{fmt(max(a))} | {fmt(min(b))}-{fmt(max(b))})")
EOF
)
echo
echo "$report"
echo "($((SECONDS - started))s)"
mkdir -p target/bench
out=target/bench/bench-memory-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "$report" >"$out"
echo "saved to $out"
