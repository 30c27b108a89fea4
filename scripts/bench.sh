#!/usr/bin/env bash
# Throughput of llmcached against a real redis-server, measured the same way with redis-benchmark.
#
# Usage: scripts/bench.sh            (ROUNDS=5 scripts/bench.sh for more rounds)
# Builds llmcached (release), starts it and redis-server on 127.0.0.1, and runs the same
# redis-benchmark commands against each in turn, A B A B..., ROUNDS rounds (default 3). Prints the
# median requests per second of each test for each server, the ratio llmcached / redis, the
# machine and the exact commands; a copy goes to target/bench/.
#
# Environment: TESTS (redis-benchmark -t list, default set,get,ping_mbulk), ROUNDS (3), N_P1 (100000 requests per test at -P 1), N_P16 (1000000 at -P 16),
# LLMCACHED_BIN (default target/release/llmcached, built if it is the default), BASE_BIN (a
# second llmcached, an earlier build, run in the same rounds and compared), LLMCACHED_ARGS
# (extra llmcached flags, e.g. "--io-threads 2"), DBNUM (the database the clients select).
# Both servers and redis-benchmark share this machine's cores: compare the ratio, not the figures
# with those of another machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

ROUNDS=${ROUNDS:-3}
N_P1=${N_P1:-100000}
N_P16=${N_P16:-1000000}
# Same flags for both servers: 2 KB values, 50 clients, keys drawn from 10,000.
TESTS=${TESTS:-set,get,ping_mbulk}
COMMON=(-c 50 -d 2048 -r 10000 -t "$TESTS" --csv)
# DBNUM: run every server's clients in that database (SELECT n) instead of database 0.
[[ -z ${DBNUM:-} ]] || COMMON+=(--dbnum "$DBNUM")

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
trap 'stop_servers; rm -rf -- "$work"' EXIT

# shellcheck disable=SC2086 # LLMCACHED_ARGS is a list of flags
start_llmcached --maxmemory 512mb ${LLMCACHED_ARGS:-}
SERVERS=(llmcached)
PORT_llmcached=$LLMCACHED_PORT
if [[ -n ${BASE_BIN:-} ]]; then
    # A base build (an earlier commit) measured in the same rounds, to show what a change costs.
    # shellcheck disable=SC2086
    LLMCACHED_BIN=$BASE_BIN start_llmcached --maxmemory 512mb ${LLMCACHED_ARGS:-}
    SERVERS+=(base)
    PORT_base=$LLMCACHED_PORT
    echo "base: $BASE_BIN on 127.0.0.1:$PORT_base"
fi
start_redis
SERVERS+=(redis)
PORT_redis=$REDIS_PORT
echo "llmcached: 127.0.0.1:$PORT_llmcached; redis-server: 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"

# One redis-benchmark run; its CSV rows go to $work/rows as `server,pipeline,test,rps`.
bench() { # bench SERVER PORT PIPELINE N
    local server=$1 port=$2 pipeline=$3 n=$4 out rc=0
    out=$(timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" "${COMMON[@]}" -P "$pipeline" -n "$n" 2>&1) || rc=$?
    if ((rc != 0)) || grep -qi error <<<"$out"; then
        echo "redis-benchmark against $server (-P $pipeline) failed (exit $rc):" >&2
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        exit 1
    fi
    # Rows look like "GET","101010.10",... after the header line.
    tr -d '"' <<<"$out" | awk -F, -v s="$server" -v p="$pipeline" 'NR > 1 && $2 ~ /^[0-9.]+$/ { print s "," p "," $1 "," $2 }' >>"$work/rows"
}

started=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
    echo "==> round $round of $ROUNDS"
    for server in "${SERVERS[@]}"; do
        port_var=PORT_$server
        port=${!port_var}
        bench "$server" "$port" 1 "$N_P1"
        bench "$server" "$port" 16 "$N_P16"
    done
done

report=$(
    echo "llmcached vs redis-server, redis-benchmark, median of $ROUNDS rounds (servers run alternately)"
    echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
    echo "llmcached: $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)" \
        "(commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- 2>/dev/null || echo " with uncommitted changes")) --maxmemory 512mb --appendonly no --save \"\" ${LLMCACHED_ARGS:-}"
    echo "redis:     $(redis-server --version | cut -d' ' -f1-3) --save \"\" --appendonly no"
    echo "commands (PORT = each server's):"
    echo "  redis-benchmark -h 127.0.0.1 -p PORT ${COMMON[*]} -P 1 -n $N_P1"
    echo "  redis-benchmark -h 127.0.0.1 -p PORT ${COMMON[*]} -P 16 -n $N_P16"
    echo
    python3 - "$work/rows" <<'EOF'
import statistics, sys
from collections import defaultdict

runs = defaultdict(list)
tests = []
for line in open(sys.argv[1]):
    server, pipeline, test, rps = line.strip().split(",")
    runs[(test, int(pipeline), server)].append(float(rps))
    if test not in tests:
        tests.append(test)

def table(other):
    """llmcached against `other` (redis, or the base build), median rps and their ratio."""
    print(f"{'test':<16} {'llmcached rps':>14} {other + ' rps':>14} {'ratio':>7}   (min-max llmcached | {other})")
    for pipeline in (1, 16):
        for test in tests:
            a, b = runs.get((test, pipeline, "llmcached"), []), runs.get((test, pipeline, other), [])
            if not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            name = f"{test} -P {pipeline}"
            print(f"{name:<16} {ma:>14,.0f} {mb:>14,.0f} {ma / mb:>7.2f}   "
                  f"({min(a):,.0f}-{max(a):,.0f} | {min(b):,.0f}-{max(b):,.0f})")


table("redis")
if any(server == "base" for (_, _, server) in runs):
    print()
    table("base")
EOF
)
echo
echo "$report"
echo "($((SECONDS - started))s)"
mkdir -p target/bench
out=target/bench/bench-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "$report" >"$out"
echo "saved to $out"
