#!/usr/bin/env bash
# Vector search benchmark (FLAT and HNSW, clustered data): see scripts/bench-semantic.py.
# Usage: scripts/bench-semantic.sh [--sizes 384:100000,1536:20000] [--queries 2000] [...]
# Builds the release binary, runs with the integration venv's Python (redis-py, numpy).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
cargo build --release --quiet
PY=${BENCH_PYTHON:-target/integrations-venv/bin/python}
exec timeout "${BENCH_TIMEOUT:-3600}" "$PY" scripts/bench-semantic.py "$@"
