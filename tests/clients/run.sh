#!/usr/bin/env bash
# The real-client pass: redis-py (sync and asyncio, RESP2 and RESP3), redis-cli and redis-benchmark
# against a server this script starts on 127.0.0.1 and stops on exit.
#
# Usage: tests/clients/run.sh [--target llmcached|redis] [pytest args...]
#   --target llmcached (default)  target/release/llmcached, or $LLMCACHED_BIN; build it first
#   --target redis                Debian's redis-server: proves the tests themselves are right
#
# Each check appends `PASS|FAIL|SKIP name` to $TEST_RESULTS_FILE when set (scripts/test.sh counts
# them). Exits non-zero if any check failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

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
        sed -n '2,10p' "$0"
        exit 0
        ;;
    *)
        pytest_args+=("$1")
        shift
        ;;
    esac
done
case $target in
llmcached | redis) ;;
*)
    echo "run.sh: unknown target '$target' (llmcached or redis)" >&2
    exit 2
    ;;
esac

# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/clienttests.XXXXXX")
trap 'stop_servers; rm -rf -- "$work"' EXIT
results=${TEST_RESULTS_FILE:-$work/results}
touch "$results"
before=$(wc -l <"$results")

record() { # record PASS|FAIL|SKIP name
    echo "$1 clients[$target] $2" >>"$results"
    echo "  $1 $2"
}

# Runs a check function quietly; on failure prints what it printed.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        record PASS "$name"
    else
        record FAIL "$name"
        printf '%s\n' "$out" | sed 's/^/      /'
    fi
}

ensure_test_venv

if [[ $target == llmcached ]]; then
    start_llmcached || { record FAIL "start llmcached" && exit 1; }
    PORT=$LLMCACHED_PORT
else
    start_redis || { record FAIL "start redis-server" && exit 1; }
    PORT=$REDIS_PORT
fi
echo "target: $target on 127.0.0.1:$PORT"
CLI=(timeout 30 redis-cli -h 127.0.0.1 -p "$PORT")

# The checks below run in check's command substitution, a subshell: `fail` says why and ends it.
fail() {
    echo "$*"
    exit 1
}

cli_ping() {
    local out
    out=$("${CLI[@]}" ping) || fail "redis-cli exited $?"
    [[ $out == PONG ]] || fail "ping printed '$out', want PONG"
}

cli_set_get() {
    local out
    out=$("${CLI[@]}" set clitest:k "hello world") || fail "set: exit $?"
    [[ $out == OK ]] || fail "set printed '$out', want OK"
    out=$("${CLI[@]}" get clitest:k) || fail "get: exit $?"
    [[ $out == "hello world" ]] || fail "get printed '$out', want 'hello world'"
    out=$("${CLI[@]}" --no-raw get clitest:missing) || fail "get missing: exit $?"
    [[ $out == "(nil)" ]] || fail "get of a missing key printed '$out', want (nil)"
    out=$("${CLI[@]}" --raw incr clitest:ping) || fail "incr: exit $?"
    [[ $out == 1 ]] || fail "--raw incr printed '$out', want 1"
}

cli_pipe_10000() {
    local out
    # 10,000 SETs in RESP; redis-cli adds an ECHO of its own to find the last reply.
    awk 'BEGIN { for (i = 0; i < 10000; i++) {
        k = "clitest:pipe:" i; v = "value-" i
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' \
        >"$work/pipe.resp"
    out=$(timeout 60 redis-cli -h 127.0.0.1 -p "$PORT" --pipe <"$work/pipe.resp") ||
        fail "redis-cli --pipe exited $?: $out"
    echo "$out"
    grep -q '^errors: 0, replies: 10000$' <<<"$out" || fail "want 'errors: 0, replies: 10000'"
    out=$("${CLI[@]}" get clitest:pipe:9999) || fail "get: exit $?"
    [[ $out == value-9999 ]] || fail "get clitest:pipe:9999 printed '$out'"
}

cli_resp3() {
    local out
    out=$("${CLI[@]}" -3 --no-raw HELLO 3) || fail "HELLO 3: exit $?"
    echo "$out"
    grep -q '"server" => "redis"' <<<"$out" || fail 'no "server" => "redis"'
    grep -q '"proto" => (integer) 3' <<<"$out" || fail 'no "proto" => (integer) 3'
    grep -q '"mode" => "standalone"' <<<"$out" || fail 'no "mode" => "standalone"'
    grep -q '"modules" => (empty array)' <<<"$out" || fail 'no "modules" => (empty array)'
    out=$("${CLI[@]}" -3 PING) || fail "-3 PING: exit $?"
    [[ $out == PONG ]] || fail "-3 PING printed '$out', want PONG"
    out=$("${CLI[@]}" -3 SET clitest:r3 v3) || fail "-3 SET: exit $?"
    [[ $out == OK ]] || fail "-3 SET printed '$out'"
    out=$("${CLI[@]}" -3 GET clitest:r3) || fail "-3 GET: exit $?"
    [[ $out == v3 ]] || fail "-3 GET printed '$out'"
    out=$("${CLI[@]}" -3 --no-raw GET clitest:missing) || fail "-3 GET missing: exit $?"
    [[ $out == "(nil)" ]] || fail "-3 GET of a missing key printed '$out', want (nil)"
}

benchmark() {
    local out rc=0 t
    out=$(timeout 300 redis-benchmark -h 127.0.0.1 -p "$PORT" -t ping,set,get,incr -n 20000 -q 2>&1) || rc=$?
    # -q redraws a progress line with \r; keep the final figures only.
    out=$(tr '\r' '\n' <<<"$out" | grep -v 'rps=' | sed '/^ *$/d')
    echo "$out"
    ((rc == 0)) || fail "redis-benchmark exited $rc"
    ! grep -qi 'error' <<<"$out" || fail "redis-benchmark reported an error"
    for t in PING_INLINE PING_MBULK SET GET INCR; do
        grep -Eq "^ *$t: [0-9.]+ requests per second" <<<"$out" || fail "no result line for $t"
    done
}

echo "==> redis-py (pytest)"
pytest_rc=0
fails_before=$(grep -c '^FAIL' "$results" || true)
PYTHONDONTWRITEBYTECODE=1 CLIENT_TEST_HOST=127.0.0.1 CLIENT_TEST_PORT=$PORT CLIENT_TEST_TARGET=$target \
    TEST_RESULTS_FILE=$results timeout 600 "$TEST_PYTHON" -m pytest "$ROOT/tests/clients" \
    -p no:cacheprovider -q -rfEs "${pytest_args[@]}" </dev/null || pytest_rc=$?
fails_after=$(grep -c '^FAIL' "$results" || true)
# 0: all passed; 1: some failed (already recorded per test); 5: nothing collected (a filter).
# Anything else, or 1 with no failing test recorded (a collection error), is a failure of its own.
if ((pytest_rc != 0 && pytest_rc != 5)) && ((pytest_rc != 1 || fails_after == fails_before)); then
    record FAIL "pytest exited with status $pytest_rc"
fi

echo "==> redis-cli"
check "redis-cli ping prints PONG" cli_ping
check "redis-cli set/get/incr" cli_set_get
check "redis-cli --pipe of 10000 commands" cli_pipe_10000
check "redis-cli -3 (RESP3) HELLO/PING/SET/GET" cli_resp3

echo "==> redis-benchmark"
check "redis-benchmark -t ping,set,get,incr -n 20000" benchmark

if [[ $target == llmcached ]]; then pid=$LLMCACHED_PID log=$LLMCACHED_LOG; else pid=$REDIS_PID log=$REDIS_LOG; fi
if ! kill -0 "$pid" 2>/dev/null; then
    record FAIL "the $target server stopped during the pass"
    tail -n 40 "$log" | sed 's/^/      /'
fi

passed=$(tail -n +$((before + 1)) "$results" | grep -c '^PASS' || true)
failed=$(tail -n +$((before + 1)) "$results" | grep -c '^FAIL' || true)
skipped=$(tail -n +$((before + 1)) "$results" | grep -c '^SKIP' || true)
echo "clients[$target]: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
