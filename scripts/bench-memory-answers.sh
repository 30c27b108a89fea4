#!/usr/bin/env bash
# Bytes per cached LLM answer, llmcached against a real redis-server, and what reading
# compressed answers costs.
#
# Usage: scripts/bench-memory-answers.sh     (ROUNDS=5 ... for more rounds)
#
# memory  COUNT answers (100,000) shaped as the seed's `cached_call` stores them (JSON of
#         text, usage, model, stop_reason; about 2 KB; keys llmcache:v1:<sha256>; see
#         scripts/lib/answers.py) are written into a fresh server, one client, 64 in flight;
#         the figure is the growth of VmRSS from before the first write to after the last
#         reply, per answer. Modes: setex (what cached_call sends), set, llmsetnx (llmcached
#         only: Redis has no LLMSETNX; its ratio is against Redis's setex), hset.
# get     KEYED answers (10,000) stored under redis-benchmark's keys (key:000000000042), then
#         redis-benchmark GET over them, 50 clients, at -P 1 and -P 16: llmcached with
#         compression on, llmcached with --compression no, and redis-server.
#
# Servers alternate (llmcached, redis, llmcached, redis... and on, off, redis, on, off, redis
# for get) for ROUNDS rounds (3); the tables show medians and the ratios. Both servers run in
# memory only, maxmemory 4gb (nothing is evicted). Everything runs on 127.0.0.1; every server is
# stopped by PID on exit.
#
# Environment: ROUNDS (3), COUNT (100000), KEYED (10000), REQUESTS (redis-benchmark -n, 400000),
# MODES ("setex set llmsetnx hset"), PARTS ("memory get"), LLMCACHED_BIN (default
# target/release/llmcached, built if it is the default), LLMCACHED_ARGS (extra llmcached flags).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-100000}
KEYED=${KEYED:-10000}
REQUESTS=${REQUESTS:-400000}
MODES=${MODES:-setex set llmsetnx hset}
PARTS=${PARTS:-memory get}
read -r -a EXTRA <<<"${LLMCACHED_ARGS:-}"
DRIVER=(python3 "$ROOT/scripts/lib/bench_answers.py")

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-answers.XXXXXX")
trap 'stop_servers; rm -rf -- "$work"' EXIT
echo "==> generating $COUNT answers"
"${DRIVER[@]}" gen "$work/answers.txt" "$COUNT"

start() { # start SERVER [flags...]: sets PID and PORT
    local server=$1
    shift
    if [[ $server == redis ]]; then
        start_redis --maxmemory 4gb --maxmemory-policy allkeys-lru "$@"
        PID=$REDIS_PID PORT=$REDIS_PORT
    else
        start_llmcached --maxmemory 4gb "${EXTRA[@]}" "$@"
        PID=$LLMCACHED_PID PORT=$LLMCACHED_PORT
    fi
}

# memory MODE SERVER ROUND: one fresh server, every answer stored by MODE.
memory() {
    local mode=$1 server=$2 round=$3
    start "$server"
    timeout 900 "${DRIVER[@]}" fill "$PID" "$PORT" "$work/answers.txt" "$mode" |
        while read -r name value; do echo "memory $mode $server $round $name $value"; done >>"$work/rows"
    stop_servers
}

# get NAME ROUND [flags]: KEYED answers, then redis-benchmark GET at -P 1 and -P 16.
get() {
    local name=$1 round=$2 server=llmcached p rps
    shift 2
    [[ $name == redis ]] && server=redis
    start "$server" "$@"
    timeout 300 "${DRIVER[@]}" keyed "$PORT" "$work/answers.txt" "$KEYED"
    for p in 1 16; do
        rps=$(timeout 300 redis-benchmark -h 127.0.0.1 -p "$PORT" -t get -r "$KEYED" -n "$REQUESTS" \
            -c 50 -P "$p" --csv | awk -F'","' '/^"GET"/ { print $2 }')
        echo "get P$p $name $round rps $rps" >>"$work/rows"
    done
    stop_servers
}

for ((round = 1; round <= ROUNDS; round++)); do
    if [[ " $PARTS " == *" memory "* ]]; then
        for mode in $MODES; do
            echo "==> round $round of $ROUNDS: memory, $mode"
            memory "$mode" llmcached "$round"
            [[ $mode == llmsetnx ]] || memory "$mode" redis "$round"
        done
    fi
    if [[ " $PARTS " == *" get "* ]]; then
        echo "==> round $round of $ROUNDS: GET of compressed answers"
        get on "$round"
        get off "$round" --compression no
        get redis "$round"
    fi
done

python3 - "$work/rows" "$ROUNDS" <<'PY'
import statistics, sys
from collections import defaultdict

rows = defaultdict(list)
for line in open(sys.argv[1]):
    part, mode, server, _round, name, value = line.split()
    rows[(part, mode, server, name)].append(float(value))

def med(*key):
    v = rows.get(key)
    return statistics.median(v) if v else None

print(f"\nbytes of resident memory per stored answer (VmRSS growth / answers), median of {sys.argv[2]} rounds")
print(f"{'mode':<10} {'value B':>8} {'llmcached':>10} {'redis':>8} {'ratio':>6}")
for mode in ("setex", "set", "llmsetnx", "hset"):
    ours = med("memory", mode, "llmcached", "per_answer")
    if ours is None:
        continue
    size = med("memory", mode, "llmcached", "value_bytes")
    theirs = med("memory", mode if mode != "llmsetnx" else "setex", "redis", "per_answer")
    ratio = f"{ours / theirs:.2f}" if theirs else "-"
    print(f"{mode:<10} {size:>8.0f} {ours:>10.0f} {theirs or 0:>8.0f} {ratio:>6}")

print(f"\nredis-benchmark GET of ~2 KB answers, requests/s, median of {sys.argv[2]} rounds")
print(f"{'':<6} {'on':>10} {'off':>10} {'redis':>10} {'on/off':>7} {'on/redis':>9} {'off/redis':>10}")
for p in ("P1", "P16"):
    on, off, redis = (med("get", p, n, "rps") for n in ("on", "off", "redis"))
    if None in (on, off, redis):
        continue
    print(f"{'-' + p:<6} {on:>10.0f} {off:>10.0f} {redis:>10.0f} {on / off:>7.2f} {on / redis:>9.2f} {off / redis:>10.2f}")
PY
