#!/usr/bin/env bash
# Scale-out: a stampede of CLIENTS callers spread over three llmcached nodes sharing one
# redis-server as their tier, against the same stampede on one llmcached without a tier (model
# calls and follower wake-up, see benches/fleet.rs); then the throughput of hits served from a
# node's copy of a shared answer (GET on the node) against GET on the shared Redis itself
# (redis-benchmark, 2 KB value, 50 clients). Rounds alternate the scenarios (A B A B ...);
# medians are printed at the end.
#
# Usage: scripts/bench-fleet.sh
# Environment: ROUNDS (3), CLIENTS (1000), MODEL_MS (500), REQUESTS (200000).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-1000}
MODEL_MS=${MODEL_MS:-500}
REQUESTS=${REQUESTS:-200000}

want=$((2 * CLIENTS + 512))
if (($(ulimit -n) < want)); then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

echo "==> cargo build --release; cargo bench --bench fleet --no-run"
cargo build --release --quiet
cargo bench --quiet --bench fleet --no-run
trap stop_servers EXIT

start_redis --maxclients $((CLIENTS + 1000))
tier="redis://127.0.0.1:$REDIS_PORT"
redis_port=$REDIS_PORT
nodes=()
for _ in 1 2 3; do
    start_llmcached --maxclients $((CLIENTS + 100)) --shared-tier "$tier"
    nodes+=("127.0.0.1:$LLMCACHED_PORT")
done
start_llmcached --maxclients $((CLIENTS + 100))
single="127.0.0.1:$LLMCACHED_PORT"
fleet=$(IFS=,; echo "${nodes[*]}")
first_port=${nodes[0]##*:}

# Every node reports the tier up before the first round.
for n in "${nodes[@]}"; do
    for _ in $(seq 200); do
        redis-cli -p "${n##*:}" INFO shared | grep -q 'shared_tier_status:up' && break
        sleep 0.05
    done
done

value=$(head -c 2048 /dev/zero | tr '\0' 'a')
results=$(mktemp)
for round in $(seq "$ROUNDS"); do
    echo "==> round $round"
    for scenario in fleet single; do
        addrs=$fleet
        [[ $scenario == single ]] && addrs=$single
        line=$(cargo bench --quiet --bench fleet -- --nodes "$addrs" --clients "$CLIENTS" \
            --model-ms "$MODEL_MS" --key "bench:stampede:$round:$scenario")
        echo "  $scenario: $line"
        echo "$scenario $line" >>"$results"
    done
    # A 2 KB answer stored through node 1, copied into node 2 by a read.
    key="bench:near:$round"
    redis-cli -p "$first_port" LLMGET "$key" >/dev/null
    redis-cli -p "$first_port" LLMSETNX "$key" "$value" EX 3600 >/dev/null
    redis-cli -p "${nodes[1]##*:}" LLMGET "$key" >/dev/null
    redis-cli -p "$redis_port" SET "$key:plain" "$value" >/dev/null
    for target in near redis; do
        if [[ $target == near ]]; then
            rps=$(redis-benchmark -p "${nodes[1]##*:}" -c 50 -n "$REQUESTS" -q GET "$key" | grep -Eo '[0-9.]+ requests per second' | grep -Eo '^[0-9.]+')
        else
            rps=$(redis-benchmark -p "$redis_port" -c 50 -n "$REQUESTS" -q GET "$key:plain" | grep -Eo '[0-9.]+ requests per second' | grep -Eo '^[0-9.]+')
        fi
        echo "  GET $target: $rps requests/s"
        echo "get-$target rps=$rps" >>"$results"
    done
done

python3 - "$results" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    for k, v in re.findall(r"(\w+)=([0-9.]+)", rest):
        rows.setdefault(name, {}).setdefault(k, []).append(float(v))
med = {n: {k: statistics.median(v) for k, v in d.items()} for n, d in rows.items()}
print("\nmedians over rounds")
for n in ("fleet", "single"):
    d = med.get(n, {})
    print(f"  stampede {n:6}: nodes={d.get('nodes',0):.0f} model_calls={d.get('model_calls',0):.0f} "
          f"errors={d.get('errors',0):.0f} wake p50 {d.get('wake_p50_ms',0):.2f} ms, p99 {d.get('wake_p99_ms',0):.2f} ms")
if "fleet" in med and "single" in med and med["single"].get("wake_p99_ms"):
    print(f"  fleet / single wake p99: {med['fleet']['wake_p99_ms'] / med['single']['wake_p99_ms']:.2f}")
near, direct = med.get("get-near", {}).get("rps"), med.get("get-redis", {}).get("rps")
if near and direct:
    print(f"  GET near copy {near:,.0f}/s, GET on the shared Redis {direct:,.0f}/s: {near / direct:.2f}x")
PY
rm -f "$results"
