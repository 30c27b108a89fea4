#!/usr/bin/env bash
# Scripts: EVAL and EVALSHA throughput of llmcached against a real redis-server, with
# redis-benchmark, the servers run alternately (A B A B), ROUNDS rounds (default 3); prints the
# median requests per second of each server and the ratio llmcached / redis.
#
# Usage: scripts/bench-script.sh      (ROUNDS=5 N=100000 scripts/bench-script.sh)
# Environment: ROUNDS (3), N (50000 requests per test), LLMCACHED_BIN (default
# target/release/llmcached, built if it is the default).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"
ROUNDS=${ROUNDS:-3}
N=${N:-50000}
BODY="return redis.call('incr', KEYS[1])"
SHA=$(printf '%s' "$BODY" | sha1sum | cut -d' ' -f1)
if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-script.XXXXXX")
trap 'stop_servers; rm -rf -- "$work"' EXIT
start_llmcached
start_redis

bench() { # bench SERVER PORT TEST ARGS...
    local server=$1 port=$2 test=$3 rps
    shift 3
    rps=$(redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$N" --csv "$@" 2>/dev/null |
        tail -n1 | awk -F'","' '{ print $2 }' | tr -d '"')
    [[ $rps =~ ^[0-9.]+$ ]] || { echo "redis-benchmark $test against $server failed" >&2; exit 1; }
    echo "$server,$test,$rps" >>"$work/rows"
}

for ((round = 1; round <= ROUNDS; round++)); do
    echo "==> round $round of $ROUNDS"
    for server in llmcached redis; do
        if [[ $server == llmcached ]]; then port=$LLMCACHED_PORT; else port=$REDIS_PORT; fi
        redis-cli -h 127.0.0.1 -p "$port" SCRIPT LOAD "$BODY" >/dev/null
        bench "$server" "$port" EVAL EVAL "$BODY" 1 counter
        bench "$server" "$port" EVALSHA EVALSHA "$SHA" 1 counter
    done
done

echo "llmcached vs redis-server, median of $ROUNDS alternating rounds, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(uname -sr); commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo "command (PORT = each server's): redis-benchmark -h 127.0.0.1 -p PORT -c 50 -n $N EVAL \"$BODY\" 1 counter (and EVALSHA $SHA 1 counter)"
python3 - "$work/rows" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    server, test, rps = line.strip().split(",")
    runs[(server, test)].append(float(rps))
print("| test | llmcached rps | redis rps | llmcached / redis |")
print("|---|---:|---:|---:|")
for test in ("EVAL", "EVALSHA"):
    a = statistics.median(runs[("llmcached", test)])
    b = statistics.median(runs[("redis", test)])
    print(f"| {test} | {a:,.0f} | {b:,.0f} | {a / b:.2f} |")
PY
