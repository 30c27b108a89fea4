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
# tests/integrations/requirements.txt changes, and node_modules in tests/integrations/node and
# examples/node, from their package-lock.json through `npm ci`.
# INTEGRATIONS_SKIP_RUST_EXAMPLE=1 skips compiling the Rust example.
#
# Ends with the line `N passed, N failed, N skipped`; exits non-zero on a failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INTEG="$ROOT/tests/integrations"
VENV=${INTEGRATIONS_VENV:-$ROOT/target/integrations-venv}
OUT="$ROOT/target/integrations-out"
AGAINST=llmcached

while [ $# -gt 0 ]; do
    case "$1" in
        --against) AGAINST=${2:?--against needs llmcached or redis}; shift 2 ;;
        --against=*) AGAINST=${1#--against=}; shift ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$AGAINST" in llmcached|redis) ;; *) echo "--against must be llmcached or redis" >&2; exit 2 ;; esac

mkdir -p "$OUT"
rm -f "$OUT"/*.xml "$OUT"/*.result

log() { printf '==> %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Installation (idempotent; a stamp file records what was installed)
# ---------------------------------------------------------------------------------------------

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

ensure_venv() {
    local want stamp="$VENV/.requirements.sha256"
    want=$(sha_of "$INTEG/requirements.txt")
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    local start=$SECONDS
    log "creating Python environment in $VENV"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>"$OUT/venv.err"; then
        # Debian's python3 ships venv/ensurepip in a separate package.
        log "python3 -m venv failed; installing python3-venv"
        rm -rf "$VENV"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2; }
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$INTEG/requirements.txt" >&2
    echo "$want" >"$stamp"
    log "Python environment ready in $((SECONDS - start)) s"
}

# ensure_node_modules DIR: `npm ci` in DIR unless its node_modules matches package-lock.json.
ensure_node_modules() {
    local dir=$1 want stamp
    stamp="$dir/node_modules/.package-lock.sha256"
    want=$(sha_of "$dir/package-lock.json")
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "node and npm (Node.js 20 or later) are required" >&2
        return 1
    fi
    local start=$SECONDS
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" >"$stamp"
    log "node_modules ready in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------------------------
# Server under test
# ---------------------------------------------------------------------------------------------

SERVER_PID=
SERVER_LOG="$OUT/server.log"
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_log PATTERN: polls the server log (bounded) until PATTERN appears; fails if the
# server exits first.
wait_for_log() {
    local pattern=$1 i
    for ((i = 0; i < 200; i++)); do
        if grep -q -- "$pattern" "$SERVER_LOG" 2>/dev/null; then return 0; fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited before it was ready; its log:" >&2
            cat "$SERVER_LOG" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "server not ready after 10 s; its log:" >&2
    cat "$SERVER_LOG" >&2
    return 1
}

start_server() {
    : >"$SERVER_LOG"
    if [ "$AGAINST" = redis ]; then
        PORT=$(free_port)
        redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no >"$SERVER_LOG" 2>&1 &
        SERVER_PID=$!
        wait_for_log "Ready to accept connections"
    else
        local bin=${LLMCACHED_BIN:-$ROOT/target/release/llmcached}
        [ -x "$bin" ] || { echo "no server binary at $bin (build with cargo build --release)" >&2; exit 1; }
        "$bin" --port 0 --bind 127.0.0.1 --appendonly no --save "" >"$SERVER_LOG" 2>&1 &
        SERVER_PID=$!
        wait_for_log "listening on 127.0.0.1:"
        PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$SERVER_LOG" | head -1 | sed 's/.*://')
    fi
    export INTEGRATION_HOST=127.0.0.1 INTEGRATION_PORT=$PORT INTEGRATION_TARGET=$AGAINST
    log "$AGAINST listening on 127.0.0.1:$PORT (pid $SERVER_PID)"
}

# ---------------------------------------------------------------------------------------------
# Suites. Each leaves a JUnit XML file or a one-line .result file (pass/fail/skip) in $OUT.
# Every test has its own time limit; `timeout` around each suite is the backstop for a hang.
# ---------------------------------------------------------------------------------------------

SUITE_ERRORS=0

run_python_suite() {
    log "Python suites (redis-py, LangChain, LiteLLM)"
    local rc=0
    (cd "$INTEG/python" && LITELLM_LOCAL_MODEL_COST_MAP=True \
        timeout 600 "$VENV/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$OUT/python.xml" .) || rc=$?
    # 0 = all passed, 1 = some failed (counted from the XML); anything else is a broken run.
    if [ "$rc" -gt 1 ]; then
        echo "pytest exited with $rc" >&2
        SUITE_ERRORS=$((SUITE_ERRORS + 1))
    fi
}

run_node_suite() {
    log "Node suites (ioredis 6/5, node-redis 6/4)"
    local rc=0
    (cd "$INTEG/node" && timeout 300 node --test \
        --test-reporter=spec --test-reporter-destination=stderr \
        --test-reporter=junit --test-reporter-destination="$OUT/node.xml" \
        clients.test.js) || rc=$?
    if [ ! -s "$OUT/node.xml" ]; then
        echo "node --test wrote no results (exit $rc)" >&2
        SUITE_ERRORS=$((SUITE_ERRORS + 1))
    fi
}

# run_example NAME SECONDS CMD...: an example is one test; exit 0 = pass, 77 = skipped, else
# failed (124: it ran out of time).
run_example() {
    local name=$1 limit=$2 rc=0
    shift 2
    log "example: $name"
    timeout "$limit" "$@" >&2 || rc=$?
    case "$rc" in
        0) echo pass >"$OUT/example-$name.result" ;;
        77) echo skip >"$OUT/example-$name.result" ;;
        *) echo fail >"$OUT/example-$name.result"; echo "example $name failed (exit $rc)" >&2 ;;
    esac
}

run_examples() {
    run_example python 120 "$VENV/bin/python" "$ROOT/examples/python/llm_cache.py" \
        --host "$INTEGRATION_HOST" --port "$INTEGRATION_PORT"
    run_example node 120 node "$ROOT/examples/node/llm-cache.js" --host "$INTEGRATION_HOST" --port "$INTEGRATION_PORT"
    if [ "${INTEGRATIONS_SKIP_RUST_EXAMPLE:-0}" = 1 ]; then
        echo skip >"$OUT/example-rust.result"
    else
        run_example rust 600 cargo run --quiet --manifest-path "$ROOT/Cargo.toml" \
            --example rust_llm_cache -- --host "$INTEGRATION_HOST" --port "$INTEGRATION_PORT"
    fi
}

summarise() {
    python3 - "$OUT" "$SUITE_ERRORS" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET

out, broken = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
failures = []
def cases(node, trail):
    """Yields (name, testcase) pairs, naming each case by its file and enclosing suites."""
    for child in node:
        if child.tag == "testcase":
            # pytest puts the module in classname; node's runner puts a constant "test" there.
            cls = child.get("classname", "")
            leaf = f"{cls}::{child.get('name')}" if cls and cls != "test" else child.get("name")
            yield " > ".join(trail + [leaf]), child
        elif child.tag == "testsuite":
            # pytest names its one suite "pytest"; node names one suite per describe() block.
            suite = child.get("name", "")
            yield from cases(child, trail + ([suite] if suite and suite != "pytest" else []))
        else:
            yield from cases(child, trail)

for path in sorted(glob.glob(os.path.join(out, "*.xml"))):
    for name, case in cases(ET.parse(path).getroot(), [os.path.basename(path)[:-4]]):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
for path in sorted(glob.glob(os.path.join(out, "*.result"))):
    result = open(path).read().strip()
    name = os.path.basename(path)[: -len(".result")]
    if result == "pass":
        passed += 1
    elif result == "skip":
        skipped += 1
    else:
        failed += 1
        failures.append(name)
failed += broken
for name in failures:
    print(f"FAILED {name}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
EOF
}

# A server that died under the clients fails the run even if every client coped.
check_server_alive() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        echo pass >"$OUT/server-alive.result"
    else
        echo fail >"$OUT/server-alive.result"
        echo "the server exited during the run; the end of its log:" >&2
        tail -n 30 "$SERVER_LOG" >&2
    fi
}

ensure_venv
ensure_node_modules "$INTEG/node"
ensure_node_modules "$ROOT/examples/node"
start_server
run_python_suite
run_node_suite
run_examples
check_server_alive
summarise
