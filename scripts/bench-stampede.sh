#!/usr/bin/env bash
# Cache stampede: N clients miss one key at once and the answer takes a slow model call.
# Compares llmcached's LLMGET/LLMSETNX with the lock-and-poll recipe on a real redis-server, and
# with redis PUBLISH to N subscribers as the floor (see benches/stampede.rs).
#
# Usage: scripts/bench-stampede.sh
# Environment: CLIENTS (100,1000), MODEL_MS (500), POLL_MS (100), LLMCACHED_BIN (default
# target/release/llmcached, built if it is the default).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

CLIENTS=${CLIENTS:-100,1000}
MODEL_MS=${MODEL_MS:-500}
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
if start_llmcached --maxclients $((largest + 100)); then
    args+=(--llmcached "127.0.0.1:$LLMCACHED_PORT")
else
    echo "llmcached did not start: running the redis scenarios only" >&2
fi
start_redis --maxclients $((2 * largest + 100))
args+=(--redis "127.0.0.1:$REDIS_PORT")

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "redis:   $(redis-server --version | cut -d' ' -f1-3)"
echo "command: cargo bench --bench stampede -- ${args[*]}"
echo
timeout 600 cargo bench --quiet --bench stampede -- "${args[@]}"
