#!/usr/bin/env bash
# Cache stampede: N clients miss one key at once and the answer takes a slow model call.
# Compares llmcached's LLMGET/LLMSETNX with the lock-and-poll recipe on a real redis-server, and
# with redis PUBLISH to N subscribers as the floor (see benches/stampede.rs).
#
# Usage: scripts/bench-stampede.sh
# Environment: ROUNDS (3), CLIENTS (100,1000), MODEL_MS (500), POLL_MS (100), LLMCACHED_BIN (default
# target/release/llmcached, built if it is the default), LLMCACHED_ARGS (extra llmcached flags).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

CLIENTS=${CLIENTS:-100,1000}
MODEL_MS=${MODEL_MS:-500}
ROUNDS=${ROUNDS:-3}
POLL_MS=${POLL_MS:-100}

if ! grep -q '^name = "stampede"' Cargo.toml; then
    echo "Cargo.toml has no [[bench]] entry for benches/stampede.rs; it needs:" >&2
    printf '[[bench]]\nname = "stampede"\nharness = false\n' >&2
    exit 1
fi

# Each client is a connection, on both ends: raise the descriptor limit before starting anything.
largest=$(python3 -c "print(max(int(x) for x in '$CLIENTS'.split(',')))")
want=$((2 * largest + 256))
if (($(ulimit -n) < want)); then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if (($(ulimit -n) < want)); then
    echo "warning: open files limit $(ulimit -n) is below the $want that $largest clients need" >&2
fi

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi
echo "==> cargo bench --bench stampede --no-run"
cargo bench --quiet --bench stampede --no-run

trap stop_servers EXIT
args=(--clients "$CLIENTS" --model-ms "$MODEL_MS" --poll-ms "$POLL_MS")
# shellcheck disable=SC2086 # LLMCACHED_ARGS is a list of flags
if start_llmcached --maxclients $((largest + 100)) ${LLMCACHED_ARGS:-}; then
    args+=(--llmcached "127.0.0.1:$LLMCACHED_PORT")
else
    echo "llmcached did not start: running the redis scenarios only" >&2
fi
start_redis --maxclients $((2 * largest + 100))
args+=(--redis "127.0.0.1:$REDIS_PORT")

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "redis:   $(redis-server --version | cut -d' ' -f1-3)"
echo "command: cargo bench --bench stampede -- ${args[*]}   (x$ROUNDS rounds)"
echo
# Each run goes through every scenario in turn (llmcached, lock+poll, pubsub floor) per client
# count; ROUNDS runs make A B C A B C..., and the medians of the rounds are printed at the end.
rows=$(mktemp)
for ((round = 1; round <= ROUNDS; round++)); do
    echo "==> round $round of $ROUNDS"
    timeout 600 cargo bench --quiet --bench stampede -- "${args[@]}" | tee -a "$rows"
done
echo
echo "median of $ROUNDS rounds (ms; model_calls and errors are the worst round's)"
awk '
    # scenario words, then: clients model_calls followers p50 p99 max wall commands errors
    NF >= 10 && $(NF) ~ /^[0-9]+$/ && $(NF-6) ~ /^[0-9]+$/ && $(NF-5) ~ /^[0-9.]+$/ {
        name = $1; for (i = 2; i <= NF - 9; i++) name = name " " $i
        key = sprintf("%-22s %7s", name, $(NF-8))
        if (!(key in seen)) { order[++k] = key; seen[key] = 1 }
        n[key]++
        p50[key, n[key]] = $(NF-5); p99[key, n[key]] = $(NF-4); mx[key, n[key]] = $(NF-3); wall[key, n[key]] = $(NF-2)
        if (n[key] == 1 || $(NF-7) + 0 > calls[key] + 0) calls[key] = $(NF-7)
        if (n[key] == 1 || $(NF) + 0 > errs[key] + 0) errs[key] = $(NF)
    }
    function median(a, key, c,   i, j, t, v) {
        for (i = 1; i <= c; i++) v[i] = a[key, i]
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
        return v[int((c + 1) / 2)]
    }
    END {
        printf "%-22s %7s %11s %9s %9s %9s %9s %6s\n", "scenario", "clients", "model_calls", "p50_ms", "p99_ms", "max_ms", "wall_ms", "errors"
        for (i = 1; i <= k; i++) {
            key = order[i]
            printf "%s %11s %9s %9s %9s %9s %6s\n", key, calls[key], median(p50, key, n[key]), median(p99, key, n[key]), median(mx, key, n[key]), median(wall, key, n[key]), errs[key]
        }
    }' "$rows"
rm -f "$rows"
