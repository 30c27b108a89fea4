#!/usr/bin/env bash
# Does keying a large body stall other clients? Ten clients send 1 MB LLMKEY bodies in a loop
# while one more client sends PING after PING; prints the PING round trip (p50, p99, max) and
# the LLMKEY rate with the off-loop path on (llm-key-offload-bytes 64kb) and off (0), phases
# alternating, ROUNDS of each, on one release server started on port 0.
#
# Usage: scripts/bench-llmkey-stall.sh
# Environment: ROUNDS (3), SECONDS_PER_PHASE (5), CLIENTS (10), BODY_BYTES (1000000),
# LLMCACHED_BIN (default target/release/llmcached, built if it is the default).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

ROUNDS=${ROUNDS:-3}
SECONDS_PER_PHASE=${SECONDS_PER_PHASE:-5}
CLIENTS=${CLIENTS:-10}
BODY_BYTES=${BODY_BYTES:-1000000}

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi
trap stop_servers EXIT
start_llmcached

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "command: scripts/bench-llmkey-stall.sh   (ROUNDS=$ROUNDS SECONDS_PER_PHASE=$SECONDS_PER_PHASE CLIENTS=$CLIENTS BODY_BYTES=$BODY_BYTES)"
echo

# Every phase is bounded by SECONDS_PER_PHASE; the whole run by this.
timeout $((ROUNDS * 2 * (SECONDS_PER_PHASE + 30) + 30)) python3 - "$LLMCACHED_PORT" "$ROUNDS" \
    "$SECONDS_PER_PHASE" "$CLIENTS" "$BODY_BYTES" <<'PY'
import json, multiprocessing as mp, socket, statistics, sys, time

port, rounds, seconds, clients, body_bytes = (int(a) for a in sys.argv[1:])

def agent_body(target):
    """An OpenAI Chat agent transcript of about `target` bytes, keyable (temperature 0)."""
    messages, size, turn = [{"role": "system", "content": "You are a coding agent."}], 0, 0
    while size < target:
        args = json.dumps({"path": f"src/m{turn % 13}/f{turn}.rs", "limit": turn % 90})
        for m in (
            {"role": "user", "content": f"Step {turn}: look at the failing test, café 東京 😀"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": f"call_{turn}",
             "type": "function", "function": {"name": f"tool_{turn % 20}", "arguments": args}}]},
            {"role": "tool", "tool_call_id": f"call_{turn}",
             "content": "fn main() {\n    println!(\"hello\\tworld\");\n}\n" * 2},
        ):
            size += len(json.dumps(m, ensure_ascii=False).encode())
            messages.append(m)
        turn += 1
    return json.dumps({"model": "gpt-4.1", "temperature": 0, "messages": messages},
                      ensure_ascii=False).encode()

def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def read_reply(s, buf):
    """Reads one simple, error or bulk reply; returns (reply, rest of the buffer)."""
    while True:
        end = buf.find(b"\r\n")
        if end >= 0:
            if buf[:1] in (b"+", b"-"):
                return buf[:end], buf[end + 2:]
            if buf[:1] == b"$":
                n = int(buf[1:end])
                if len(buf) >= end + 2 + n + 2:
                    return buf[end + 2:end + 2 + n], buf[end + 4 + n:]
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk

def loader(request, started, stop, done):
    s, buf, n = connect(), b"", 0
    while not stop.is_set():
        s.sendall(request)
        reply, buf = read_reply(s, buf)
        if not reply.startswith(b"llm:v1:"):
            raise RuntimeError(reply[:200])
        n += 1
        if n == 1:
            started.release()
    done.put(n)

def phase(threshold, request):
    admin = connect()
    admin.sendall(command(b"CONFIG", b"SET", b"llm-key-offload-bytes", threshold))
    reply, _ = read_reply(admin, b"")
    assert reply == b"+OK", reply
    started, stop, done = mp.Semaphore(0), mp.Event(), mp.Queue()
    procs = [mp.Process(target=loader, args=(request, started, stop, done)) for _ in range(clients)]
    for p in procs:
        p.start()
    for _ in range(clients):  # every loader has had one answer: the load is on
        if not started.acquire(timeout=60):
            raise RuntimeError("a loader got no answer within 60 s")
    s, buf, rtts = connect(), b"", []
    t0 = time.monotonic()
    deadline = t0 + seconds
    while time.monotonic() < deadline:
        t = time.perf_counter_ns()
        s.sendall(b"PING\r\n")
        reply, buf = read_reply(s, buf)
        rtts.append((time.perf_counter_ns() - t) / 1e6)
        assert reply == b"+PONG", reply
    elapsed = time.monotonic() - t0
    stop.set()
    keyed = sum(done.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    rtts.sort()
    q = lambda f: rtts[min(len(rtts) - 1, int(f * len(rtts)))]
    return {"p50": q(0.50), "p99": q(0.99), "max": rtts[-1], "pings": len(rtts),
            "llmkey_per_s": keyed / elapsed}

body = agent_body(body_bytes)
request = command(b"LLMKEY", body)
print(f"body: {len(body)} bytes (OpenAI Chat agent transcript), {clients} LLMKEY clients, 1 PING client")
results = {"on": [], "off": []}
for r in range(rounds):
    for name, threshold in (("on", b"64kb"), ("off", b"0")):
        res = phase(threshold, request)
        results[name].append(res)
        print(f"round {r + 1} off-loop {name:<3}  PING p50 {res['p50']:.3f} ms  p99 {res['p99']:.3f} ms"
              f"  max {res['max']:.2f} ms  ({res['pings']} pings)  LLMKEY {res['llmkey_per_s']:.0f}/s",
              flush=True)
print()
for name in ("on", "off"):
    rs = results[name]
    med = lambda k: statistics.median(x[k] for x in rs)
    print(f"off-loop {name:<3} median of {rounds}: PING p50 {med('p50'):.3f} ms  p99 {med('p99'):.3f} ms"
          f"  max {med('max'):.2f} ms  LLMKEY {med('llmkey_per_s'):.0f}/s")
PY
