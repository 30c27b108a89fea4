#!/usr/bin/env bash
# The real-client pass alone: redis-py (sync and asyncio, RESP2 and RESP3), redis-cli and
# redis-benchmark against a server started on 127.0.0.1 and stopped after.
#
# Usage: tests/clients/run.sh [--target llmcached|redis] [pytest args...]
#   --target llmcached (default)  target/release/llmcached, or $LLMCACHED_BIN; build it first
#   --target redis                Debian's redis-server: proves the tests themselves are right
#
# This is the `clients` suite of the test harness: scripts/test.sh --only clients --target T -- ARGS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

target=llmcached
pytest_args=()
while (($#)); do
    case $1 in
    --target)
        target=${2:?--target needs llmcached or redis}
        shift 2
        ;;
    --target=*)
        target=${1#--target=}
        shift
        ;;
    -h | --help)
        sed -n '2,9p' "$0"
        exit 0
        ;;
    *)
        pytest_args+=("$1")
        shift
        ;;
    esac
done

exec "$ROOT/scripts/test.sh" --only clients --target "$target" -- "${pytest_args[@]}"
