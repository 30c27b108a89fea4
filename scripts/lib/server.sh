# shellcheck shell=bash
# Start and stop the servers that the client tests and the benchmarks talk to.
#
# Source this file, then:
#   start_llmcached [extra flags...]  sets LLMCACHED_PID, LLMCACHED_PORT, LLMCACHED_LOG
#   start_redis [extra flags...]      sets REDIS_PID, REDIS_PORT, REDIS_LOG
#   stop_servers                      stops every server this shell started (use it in an EXIT trap)
#
# Both bind 127.0.0.1 only, keep nothing on disk (persistence off, data dir in a fresh temp dir) and
# are stopped by PID. llmcached binds port 0 and reports the port it got in its log; redis-server
# cannot listen on port 0 (0 disables TCP), so it gets a port the OS just handed out.
#
# LLMCACHED_BIN overrides the binary (default: target/release/llmcached under the repository).
# SERVER_START_TIMEOUT bounds each wait for a server to come up (seconds, default 30).

SERVER_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${LLMCACHED_BIN:=$SERVER_LIB_ROOT/target/release/llmcached}"
: "${SERVER_START_TIMEOUT:=30}"

# PIDs and temporary directories owned by this shell, released by stop_servers.
_SERVER_PIDS=()
_SERVER_DIRS=()

_server_fail() {
    echo "server.sh: $*" >&2
    return 1
}

# Prints a TCP port that was free a moment ago (the OS picked it for a socket we then closed).
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Waits until the file $2 has a line matching the extended regex $3, or process $1 exits, or the
# timeout passes. Polls the log file: the event we wait for is the server writing that line.
_wait_for_log() {
    local pid=$1 log=$2 pattern=$3
    local deadline=$((SECONDS + SERVER_START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if grep -Eq "$pattern" "$log" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            _server_fail "process $pid exited before logging /$pattern/; log $log:"
            sed 's/^/    /' "$log" >&2
            return 1
        fi
        sleep 0.05
    done
    _server_fail "no /$pattern/ in $log after ${SERVER_START_TIMEOUT}s; log:"
    sed 's/^/    /' "$log" >&2
    return 1
}

# Starts llmcached on 127.0.0.1, port 0, and waits for its `listening on 127.0.0.1:PORT` line.
# shellcheck disable=SC2120 # extra flags are optional
start_llmcached() {
    [[ -x $LLMCACHED_BIN ]] || _server_fail "no executable at $LLMCACHED_BIN (run cargo build --release)" || return 1
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/llmcached.XXXXXX")
    _SERVER_DIRS+=("$dir")
    LLMCACHED_LOG=$dir/llmcached.log
    # NO_COLOR: the log is parsed, so keep ANSI escapes out of it.
    NO_COLOR=1 "$LLMCACHED_BIN" --port 0 --bind 127.0.0.1 --appendonly no --save "" --dir "$dir" "$@" \
        </dev/null >"$LLMCACHED_LOG" 2>&1 &
    LLMCACHED_PID=$!
    _SERVER_PIDS+=("$LLMCACHED_PID")
    _wait_for_log "$LLMCACHED_PID" "$LLMCACHED_LOG" 'listening on' || return 1
    # Strip any ANSI escapes, then take the port from the first `listening on ...:PORT`.
    LLMCACHED_PORT=$(sed -E 's/\x1b\[[0-9;]*m//g' "$LLMCACHED_LOG" |
        grep -Eo 'listening on[^0-9]*[0-9.]+:[0-9]+' | head -n1 | grep -Eo '[0-9]+$')
    [[ -n $LLMCACHED_PORT ]] || _server_fail "cannot read the port from: $(grep 'listening on' "$LLMCACHED_LOG")" || return 1
    export LLMCACHED_PID LLMCACHED_PORT LLMCACHED_LOG
}

# Starts Debian's redis-server on 127.0.0.1 with persistence off and waits until it accepts.
# shellcheck disable=SC2120 # extra flags are optional
start_redis() {
    command -v redis-server >/dev/null || _server_fail "redis-server is not installed" || return 1
    local dir attempt
    dir=$(mktemp -d "${TMPDIR:-/tmp}/redis.XXXXXX")
    _SERVER_DIRS+=("$dir")
    REDIS_LOG=$dir/redis.log
    # The port can be taken between free_port and bind; retry with a new one if so.
    for attempt in 1 2 3; do
        REDIS_PORT=$(free_port)
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
            --dir "$dir" --daemonize no --logfile "" "$@" </dev/null >"$REDIS_LOG" 2>&1 &
        REDIS_PID=$!
        _SERVER_PIDS+=("$REDIS_PID")
        if _wait_for_log "$REDIS_PID" "$REDIS_LOG" 'Ready to accept connections' 2>/dev/null; then
            export REDIS_PID REDIS_PORT REDIS_LOG
            return 0
        fi
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        echo "server.sh: redis-server on port $REDIS_PORT did not start (attempt $attempt)" >&2
    done
    sed 's/^/    /' "$REDIS_LOG" >&2
    return 1
}

# Stops one server by PID: TERM, then KILL if it is still there after 10 s.
stop_server() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "server.sh: $pid ignored SIGTERM for 10s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Stops every server started through this file and removes their temporary directories.
stop_servers() {
    local pid dir
    for pid in "${_SERVER_PIDS[@]}"; do
        stop_server "$pid"
    done
    _SERVER_PIDS=()
    for dir in "${_SERVER_DIRS[@]}"; do
        [[ -n ${KEEP_SERVER_LOGS:-} ]] || rm -rf -- "$dir"
    done
    _SERVER_DIRS=()
}
