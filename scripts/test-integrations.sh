#!/usr/bin/env bash
# Runs third-party clients and frameworks against a real server: redis-py (RESP2 and RESP3),
# LangChain's Redis caches, LiteLLM's Redis cache, ioredis 6/5 and node-redis 6/4, and the
# examples under examples/.
#
# Usage: scripts/test-integrations.sh [--against llmcached|redis]
#   llmcached (default): the binary in $LLMCACHED_BIN, else target/release/llmcached.
#   redis: Debian's redis-server, to check that the tests themselves are right.
#
# Installs what it needs on first use and reuses it after: a Python virtual environment in
# $INTEGRATIONS_VENV (default target/integrations-venv), rebuilt when
# tests/integrations/requirements.txt or requirements-model.txt changes, and node_modules in
# tests/integrations/node and examples/node, from their package-lock.json through `npm ci`.
# INTEGRATIONS_SKIP_RUST_EXAMPLE=1 skips running the Rust example.
#
# These are the `integrations/*` suites of the test harness:
# scripts/test.sh --only integrations --target T. Ends with `N passed, N failed, N skipped`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
against=llmcached

while (($#)); do
    case $1 in
    --against)
        against=${2:?--against needs llmcached or redis}
        shift 2
        ;;
    --against=*)
        against=${1#--against=}
        shift
        ;;
    -h | --help)
        sed -n '2,/^set /{/^#/p}' "$0"
        exit 0
        ;;
    *)
        echo "unknown argument: $1" >&2
        exit 2
        ;;
    esac
done

exec "$ROOT/scripts/test.sh" --only integrations --target "$against"
