#!/usr/bin/env bash
# LLMKEY against SHA-256 of the same bytes: runs `cargo bench --bench llmkey` ROUNDS times and
# prints, per body, the median time of cache_key and sha256 and their ratio (median of the
# rounds' ratios), read from criterion's own estimates (target/criterion/llmkey/...).
#
# Usage: scripts/bench-llmkey.sh            Environment: ROUNDS (3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bench-llmkey.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "command: cargo bench --bench llmkey   (x$ROUNDS rounds)"
for round in $(seq "$ROUNDS"); do
    cargo bench --quiet --bench llmkey -- 'llmkey/(sha256|cache_key)/' >/dev/null
    mkdir -p "$OUT/$round"
    cp -r target/criterion/llmkey "$OUT/$round/"
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, pathlib, statistics, sys

out, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])

def median_ns(round_, func, label):
    path = out / str(round_) / "llmkey" / func / label / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]

labels = ["1KB", "20KB", "200KB", "agent196KB", "anthropic100KB", "gemini100KB"]
print(f"{'body':<16}{'cache_key us':>14}{'sha256 us':>12}{'ratio':>8}   ratios per round")
for label in labels:
    keys = [median_ns(r, "cache_key", label) for r in range(1, rounds + 1)]
    shas = [median_ns(r, "sha256", label) for r in range(1, rounds + 1)]
    ratios = [k / s for k, s in zip(keys, shas)]
    print(f"{label:<16}{statistics.median(keys) / 1e3:>14.1f}{statistics.median(shas) / 1e3:>12.1f}"
          f"{statistics.median(ratios):>8.2f}   " + " ".join(f"{r:.2f}" for r in ratios))
PY
