#!/usr/bin/env bash
# Server-side embeddings: LLMEMBED throughput and latency at 1 and 8 concurrent clients,
# against the same model in numpy in the client (tests/integrations/python/minilm.py) at 1 and
# 8 threads; see scripts/bench-embed.py. sentence-transformers itself needs torch, which is not
# installed here; minilm.py gives its vectors to within 1e-7.
# Usage: scripts/bench-embed.sh [--rounds 3] [--texts 200]
# Builds the release binary, runs with the integration venv's Python (redis-py, numpy, the model).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
cargo build --release --quiet
PY=${BENCH_PYTHON:-target/integrations-venv/bin/python}
exec timeout "${BENCH_TIMEOUT:-1800}" "$PY" scripts/bench-embed.py "$@"
