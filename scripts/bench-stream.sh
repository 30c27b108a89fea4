#!/usr/bin/env bash
# Streamed fan-out: one leader streams chunks to N followers. llmcached's LLMAPPEND / LLMREAD
# against a real redis-server's PUBLISH to N SUBSCRIBEd connections, measured by the same client in
# the same run, alternating A B A B (see benches/stream.rs), then the wake-up micro-benchmark
# (broadcast vs a oneshot per reader, benches/stream_wake.rs).
#
# Usage: scripts/bench-stream.sh
# Environment: ROUNDS (3), FOLLOWERS (1000), CHUNKS (500), CHUNK_BYTES (64), INTERVAL_US (2000),
# LLMCACHED_BIN (default target/release/llmcached, built if it is the default).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

ROUNDS=${ROUNDS:-3}
FOLLOWERS=${FOLLOWERS:-1000}
CHUNKS=${CHUNKS:-500}
CHUNK_BYTES=${CHUNK_BYTES:-64}
INTERVAL_US=${INTERVAL_US:-2000}

want=$((2 * FOLLOWERS + 256))
if (($(ulimit -n) < want)); then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi
echo "==> cargo bench --bench stream --bench stream_wake --no-run"
cargo bench --quiet --bench stream --bench stream_wake --no-run

trap stop_servers EXIT
start_llmcached --maxclients $((FOLLOWERS + 100))
start_redis --maxclients $((FOLLOWERS + 100))
args=(--llmcached "127.0.0.1:$LLMCACHED_PORT" --llmcached-pid "$LLMCACHED_PID"
      --redis "127.0.0.1:$REDIS_PORT" --redis-pid "$REDIS_PID"
      --followers "$FOLLOWERS" --chunks "$CHUNKS" --chunk-bytes "$CHUNK_BYTES"
      --interval-us "$INTERVAL_US" --rounds "$ROUNDS")

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis:   $(redis-server --version | cut -d' ' -f1-3)"
echo "command: cargo bench --bench stream -- ${args[*]}"
echo
timeout 900 cargo bench --quiet --bench stream -- "${args[@]}"
echo
echo "==> wake-ups per append: one broadcast vs a oneshot per blocked reader"
timeout 600 cargo bench --quiet --bench stream_wake -- --readers 1000,5000 --appends 200
