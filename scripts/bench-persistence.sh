#!/usr/bin/env bash
# Persistence cost of llmcached against a real redis-server: restart (load) time, disk size, and
# SET throughput under each appendfsync policy.
#
# Usage: scripts/bench-persistence.sh              (N=100000 for a quick run, ~1 minute)
#
# Part 1, load time and disk size. Fills N keys (2 KB text values) into three systems, once each:
#   llmcached      --appendonly yes --appendfsync everysec
#   redis AOF      --appendonly yes --appendfsync everysec --aof-use-rdb-preamble no (a plain AOF,
#                  in Redis 7's multi-part appendonlydir)
#   redis RDB      --appendonly no, then SAVE
# Each fill pipes one pre-generated file of RESP commands through `redis-cli --pipe`. Each server is
# then stopped with SHUTDOWN and its data directory measured (du -sb). llmcached is restarted once
# more to compact its log with BGREWRITEAOF (both sizes are reported; the load time of the raw log
# is measured by that restart). Then ROUNDS rounds restart llmcached / redis AOF / redis RDB in turn
# and time each from process start until DBSIZE answers N (not LOADING); DBSIZE == N and a sample
# GET are checked every time. The page cache is left alone: whether a file is still cached when its
# server restarts depends on the machine (the report prints the cache size after the restarts).
#
# Part 2, SET throughput per fsync policy. For each of always, everysec, no: a fresh llmcached
# --appendfsync P and a fresh redis-server --appendonly yes --appendfsync P, run alternately
# BENCH_ROUNDS times with the same redis-benchmark command.
#
# Prints medians, ratios llmcached / redis, the machine and the exact commands; a copy of the
# report goes to target/bench/.
#
# Environment: N (1000000 keys), VALUE_SIZE (2048), ROUNDS (3 restarts per system), BENCH_ROUNDS (3),
# SET_REQUESTS (100000 per redis-benchmark run), MAXMEMORY (4gb, llmcached's budget; must hold N
# values), LOAD_TIMEOUT (600 s, bounds every fill, load, save and rewrite), LLMCACHED_BIN (default
# target/release/llmcached, built if it is the default), TMPDIR (where the data sets go: about
# 4 x N x VALUE_SIZE bytes of disk; each server holds the data set in memory, one at a time).
# Servers and clients share this machine's cores and disk: compare the ratios, not the figures with
# those of another machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
started=$SECONDS
# Reused for free_port, stop_server and the EXIT-trap stop_servers (which stops every PID in
# _SERVER_PIDS). Its start_* functions do not fit: they pin --dir, --appendonly and --save, and
# llmcached refuses a flag given twice.
# shellcheck source=scripts/lib/server.sh
source "$ROOT/scripts/lib/server.sh"

N=${N:-1000000}
VALUE_SIZE=${VALUE_SIZE:-2048}
ROUNDS=${ROUNDS:-3}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
SET_REQUESTS=${SET_REQUESTS:-100000}
MAXMEMORY=${MAXMEMORY:-4gb}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}

LLM_FLAGS=(--bind 127.0.0.1 --maxmemory "$MAXMEMORY" --save "")
LLM_AOF=(--appendonly yes --appendfsync everysec)
REDIS_FLAGS=(--bind 127.0.0.1 --daemonize no --logfile "" --save "")
AOF_FLAGS=(--appendonly yes --appendfsync everysec --aof-use-rdb-preamble no)
RDB_FLAGS=(--appendonly no)
SET_BENCH=(-t set -d 2048 -c 50 -r 100000 -n "$SET_REQUESTS" -P 1 --csv)

if [[ $LLMCACHED_BIN == "$ROOT/target/release/llmcached" ]]; then
    echo "==> cargo build --release"
    cargo build --release --quiet
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-persistence.XXXXXX")
trap 'stop_servers; rm -rf -- "$work"' EXIT
mkdir -p "$work/logs"
rows=$work/rows # `part,system,metric,value` lines, summarised at the end

fail() {
    echo "bench-persistence: $*" >&2
    exit 1
}

now_ns() { date +%s%N; }

# Milliseconds between two now_ns readings.
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }

cli() { # cli PORT ARGS...: one command, raw reply on stdout; never fails
    timeout 30 redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>&1 || true
}

# Starts one server of SYSTEM (llm, aof, rdb) on DIR with extra flags; sets PID and PORT and T0
# (the start time in ns). Returns once the server accepts connections (it may still be loading).
launch() { # launch SYSTEM DIR [FLAGS...]
    local system=$1 dir=$2 log deadline reply
    shift 2
    log=$work/logs/$system.$(now_ns).log
    if [[ $system == llm ]]; then
        T0=$(now_ns)
        NO_COLOR=1 "$LLMCACHED_BIN" --port 0 --dir "$dir" "${LLM_FLAGS[@]}" "$@" </dev/null >"$log" 2>&1 &
        PID=$!
        _SERVER_PIDS+=("$PID")
        deadline=$((SECONDS + LOAD_TIMEOUT))
        until grep -q 'listening on' "$log" 2>/dev/null; do
            kill -0 "$PID" 2>/dev/null || { sed 's/^/    /' "$log" >&2; fail "llmcached exited"; }
            ((SECONDS < deadline)) || fail "llmcached not listening after ${LOAD_TIMEOUT}s"
            sleep 0.01
        done
        PORT=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -Eo 'listening on[^0-9]*[0-9.]+:[0-9]+' |
            head -n1 | grep -Eo '[0-9]+$')
    else
        local mode=("${AOF_FLAGS[@]}")
        [[ $system == rdb ]] && mode=("${RDB_FLAGS[@]}")
        PORT=$(free_port)
        T0=$(now_ns)
        redis-server --port "$PORT" --dir "$dir" "${REDIS_FLAGS[@]}" "${mode[@]}" "$@" </dev/null >"$log" 2>&1 &
        PID=$!
        _SERVER_PIDS+=("$PID")
        # Redis 7 accepts connections while it loads (replying -LOADING), so this returns early.
        deadline=$((SECONDS + LOAD_TIMEOUT))
        while :; do
            reply=$(cli "$PORT" PING)
            [[ $reply == PONG || $reply == LOADING* ]] && break
            kill -0 "$PID" 2>/dev/null || { sed 's/^/    /' "$log" >&2; fail "redis-server ($system) exited"; }
            ((SECONDS < deadline)) || fail "redis-server ($system) not up after ${LOAD_TIMEOUT}s"
            sleep 0.01
        done
    fi
    LOG=$log
}

# Waits until DBSIZE answers N (not LOADING, not a smaller count); prints the ms since T0.
wait_loaded() { # wait_loaded NAME
    local reply last="" since=$SECONDS deadline=$((SECONDS + LOAD_TIMEOUT))
    while :; do
        reply=$(cli "$PORT" DBSIZE)
        [[ $reply == "$N" ]] && break
        kill -0 "$PID" 2>/dev/null || { sed 's/^/    /' "$LOG" >&2; fail "$1 exited while loading (log above)"; }
        if ((SECONDS >= deadline)); then
            fail "$1: DBSIZE is '$reply' after ${LOAD_TIMEOUT}s, expected $N (log: $LOG)"
        fi
        # A count other than N that stays put for 2 s (no LOADING) means a wrong data set.
        if [[ $reply =~ ^[0-9]+$ && $reply == "$last" ]]; then
            ((SECONDS < since + 2)) || fail "$1: DBSIZE stays at $reply after loading, expected $N (log: $LOG)"
        else
            last=$reply since=$SECONDS
        fi
        sleep 0.01
    done
    ms_since "$T0"
}

check_sample() { # check_sample NAME: GET of a few keys equals the generated values
    local i got
    for i in 0 $((N / 2)) $((N - 1)); do
        got=$(cli "$PORT" GET "key:$i")
        [[ $got == "$(python3 "$work/gen.py" value "$i" "$VALUE_SIZE")" ]] ||
            fail "$1: GET key:$i does not match the value written (got ${#got} bytes: ${got:0:60}...)"
    done
}

# SHUTDOWN, then waits (bounded) for the process to exit; a server that hangs is reported.
shutdown_server() { # shutdown_server NAME
    local deadline=$((SECONDS + LOAD_TIMEOUT)) rc
    cli "$PORT" SHUTDOWN >/dev/null
    while kill -0 "$PID" 2>/dev/null; do
        ((SECONDS < deadline)) || { stop_server "$PID"; fail "$1 did not exit ${LOAD_TIMEOUT}s after SHUTDOWN"; }
        sleep 0.01
    done
    rc=0
    wait "$PID" 2>/dev/null || rc=$?
    ((rc == 0)) || echo "warning: $1 exited with status $rc after SHUTDOWN (log: $LOG)" >&2
}

aof_field() { cli "$PORT" INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }

wait_rewrite_done() { # wait_rewrite_done NAME REWRITES_BEFORE
    local deadline=$((SECONDS + LOAD_TIMEOUT)) info
    while :; do
        info=$(cli "$PORT" INFO persistence | tr -d '\r')
        if grep -q '^aof_rewrite_in_progress:0' <<<"$info" &&
            (($(sed -n 's/^aof_rewrites://p' <<<"$info") > $2)); then
            break
        fi
        ((SECONDS < deadline)) || fail "$1: rewrite still in progress after ${LOAD_TIMEOUT}s"
        sleep 0.05
    done
    grep -q '^aof_last_bgrewrite_status:ok' <<<"$info" || fail "$1: BGREWRITEAOF failed: $(grep aof_last <<<"$info")"
}

disk() { du -sb "$1" | cut -f1; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
row() { echo "$1,$2,$3,$4" >>"$rows"; }
files() { (cd "$1" && find . -type f -printf '%P %s\n' | sort | tr '\n' ';'); }

# The data generator: `gen.py resp N SIZE` writes SET commands in RESP, `gen.py value I SIZE` prints
# the value of key I. Values are word-like text cut from one pseudo-random pool (so RDB's LZF
# compression sees text, not repeats of one string), prefixed by the key number.
cat >"$work/gen.py" <<'EOF'
import random, sys

rng = random.Random(1)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(5000)]
parts = []
for i in range(200000):
    parts.append(rng.choice(words))
    if i % 13 == 12:
        parts.append(". ")
    else:
        parts.append(" ")
pool = "".join(parts)

def value(i, size):
    head = f"{i}:"
    off = (i * 104729) % (len(pool) - size)
    return head + pool[off:off + size - len(head)]

mode, arg, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if mode == "value":
    sys.stdout.write(value(arg, size) + "\n")
else:
    out = sys.stdout.buffer
    batch = []
    for i in range(arg):
        k, v = f"key:{i}".encode(), value(i, size).encode()
        batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        if len(batch) == 10000:
            out.write(b"".join(batch))
            batch = []
    out.write(b"".join(batch))
EOF

echo "==> generating $N SET commands ($VALUE_SIZE-byte values)"
t=$(now_ns)
python3 "$work/gen.py" resp "$N" "$VALUE_SIZE" >"$work/fill.resp"
echo "    $(disk "$work/fill.resp") bytes in $(ms_since "$t") ms"

# ---- Part 1: fill each system once ----
declare -A NAME=([llm]="llmcached" [aof]="redis AOF" [rdb]="redis RDB")
declare -A DIR
for sys in llm aof rdb; do
    DIR[$sys]=$work/data-$sys
    mkdir -p "${DIR[$sys]}"
    echo "==> fill ${NAME[$sys]}"
    if [[ $sys == llm ]]; then launch llm "${DIR[llm]}" "${LLM_AOF[@]}"; else launch "$sys" "${DIR[$sys]}"; fi
    t=$(now_ns)
    out=$(timeout "$LOAD_TIMEOUT" redis-cli -h 127.0.0.1 -p "$PORT" --pipe <"$work/fill.resp" 2>&1) || true
    ms=$(ms_since "$t")
    grep -q "errors: 0, replies: $N" <<<"$out" || fail "${NAME[$sys]} fill: $(tail -n 3 <<<"$out")"
    [[ $(cli "$PORT" DBSIZE) == "$N" ]] || fail "${NAME[$sys]}: DBSIZE is $(cli "$PORT" DBSIZE) after the fill, expected $N"
    row fill "$sys" fill_ms "$ms"
    echo "    $N SETs in $ms ms"
    if [[ $sys == rdb ]]; then
        t=$(now_ns)
        [[ $(cli "$PORT" SAVE) == OK ]] || fail "redis SAVE failed"
        row fill rdb save_ms "$(ms_since "$t")"
    fi
    shutdown_server "${NAME[$sys]}"
    row fill "$sys" disk_after_fill "$(disk "${DIR[$sys]}")"
    echo "    disk after fill + SHUTDOWN: $(disk "${DIR[$sys]}") bytes: $(files "${DIR[$sys]}")"
    echo "${NAME[$sys]}: $(files "${DIR[$sys]}")" >>"$work/files-after-fill"
done
rm -f -- "$work/fill.resp"

# llmcached: load the log as written, then compact it.
echo "==> llmcached: restart on the raw log, BGREWRITEAOF"
launch llm "${DIR[llm]}" "${LLM_AOF[@]}"
ms=$(wait_loaded llmcached)
check_sample llmcached
row fill llm load_raw_log_ms "$ms"
echo "    loaded the raw log in $ms ms"
rewrites=$(aof_field aof_rewrites)
t=$(now_ns)
reply=$(cli "$PORT" BGREWRITEAOF)
[[ $reply == *"rewriting"* || $reply == *"started"* || $reply == OK ]] || fail "BGREWRITEAOF answered: $reply"
wait_rewrite_done llmcached "$rewrites"
row fill llm rewrite_ms "$(ms_since "$t")"
shutdown_server llmcached
row fill llm disk_after_rewrite "$(disk "${DIR[llm]}")"
echo "    disk after BGREWRITEAOF + SHUTDOWN: $(disk "${DIR[llm]}") bytes: $(files "${DIR[llm]}")"

# ---- Part 1: restarts, alternating ----
for ((round = 1; round <= ROUNDS; round++)); do
    echo "==> restart round $round of $ROUNDS"
    for sys in llm aof rdb; do
        if [[ $sys == llm ]]; then launch llm "${DIR[llm]}" "${LLM_AOF[@]}"; else launch "$sys" "${DIR[$sys]}"; fi
        ms=$(wait_loaded "${NAME[$sys]}")
        check_sample "${NAME[$sys]}"
        row load "$sys" load_ms "$ms"
        row load "$sys" rss_kb "$(rss_kb)"
        echo "    ${NAME[$sys]}: DBSIZE $N after $ms ms, RSS $(rss_kb) kB"
        shutdown_server "${NAME[$sys]}"
    done
done
for sys in llm aof rdb; do
    row load "$sys" disk_after_rounds "$(disk "${DIR[$sys]}")"
done
cached_mb=$(awk '/^Cached:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
rm -rf -- "${DIR[llm]}" "${DIR[aof]}" "${DIR[rdb]}"

# ---- Part 2: SET throughput per appendfsync policy ----
set_bench() { # set_bench SYSTEM POLICY
    local system=$1 policy=$2 dir out rc=0 rps
    dir=$(mktemp -d "$work/set-$system.XXXXXX")
    if [[ $system == llm ]]; then
        launch llm "$dir" --appendonly yes --appendfsync "$policy"
    else
        launch aof "$dir" --appendfsync "$policy"
    fi
    out=$(timeout "$LOAD_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$PORT" "${SET_BENCH[@]}" 2>&1) || rc=$?
    rps=$(tr -d '"' <<<"$out" | awk -F, '$1 == "SET" { print $2 }')
    if ((rc != 0)) || grep -qi error <<<"$out" || [[ -z $rps ]]; then
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        fail "redis-benchmark against $system (appendfsync $policy) failed (exit $rc)"
    fi
    row "set-$policy" "$system" rps "$rps"
    echo "    ${NAME[$system]} appendfsync $policy: $rps SET/s"
    shutdown_server "${NAME[$system]}"
    rm -rf -- "$dir"
}
for policy in always everysec no; do
    for ((round = 1; round <= BENCH_ROUNDS; round++)); do
        echo "==> SET appendfsync $policy, round $round of $BENCH_ROUNDS"
        set_bench llm "$policy"
        set_bench aof "$policy"
    done
done

# ---- Report ----
disk_dev=$(df --output=source "${TMPDIR:-/tmp}" | tail -n1)
disk_name=$(basename "$(readlink -f "$disk_dev")")
disk_kind=$(lsblk -dno NAME,SIZE,ROTA,MODEL "/dev/${disk_name%%[0-9]*}" 2>/dev/null |
    awk '{ printf "lsblk: %s %s, ROTA=%s", $1, $2, $3; if ($4 != "") printf " %s", $4 }' || true)
q() { printf '%q ' "$@"; } # a flag list as it would be typed in a shell
report=$(
    echo "llmcached vs redis-server: persistence (N = $N keys of $VALUE_SIZE-byte text values)"
    echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)," \
        "$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "disk:    ${TMPDIR:-/tmp} on $disk_dev, $(df --output=fstype "${TMPDIR:-/tmp}" | tail -n1) (${disk_kind:-lsblk: unknown})"
    echo "llmcached: $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)" \
        "(commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo " with uncommitted changes"))"
    echo "redis:     $(redis-server --version | cut -d' ' -f1-3)"
    echo "run:       N=$N VALUE_SIZE=$VALUE_SIZE ROUNDS=$ROUNDS BENCH_ROUNDS=$BENCH_ROUNDS SET_REQUESTS=$SET_REQUESTS scripts/bench-persistence.sh"
    echo "commands (DIR, PORT = each server's):"
    echo "  llmcached --port 0 --dir DIR $(q "${LLM_FLAGS[@]}") $(q "${LLM_AOF[@]}")   (--appendfsync P in part 2)"
    echo "  redis-server --port PORT --dir DIR $(q "${REDIS_FLAGS[@]}") $(q "${AOF_FLAGS[@]}")   (redis AOF; --appendfsync P in part 2)"
    echo "  redis-server --port PORT --dir DIR $(q "${REDIS_FLAGS[@]}") $(q "${RDB_FLAGS[@]}")   (redis RDB, then SAVE)"
    echo "  fill:  redis-cli -p PORT --pipe < fill.resp   ($N x SET key:I <$VALUE_SIZE bytes>, checked: errors: 0)"
    echo "  load:  time from process start until redis-cli DBSIZE answers $N (polled every 10 ms); then GET"
    echo "         of 3 keys checked; RSS after load; stopped with SHUTDOWN. Page cache not dropped: Cached"
    echo "         was $cached_mb MB after the restarts (data sets of ~$((N * (VALUE_SIZE + 40) / 1000000)) MB each)"
    echo "  files after the fill (name size;):"
    sed 's/^/    /' "$work/files-after-fill"
    echo "  SET:   redis-benchmark -h 127.0.0.1 -p PORT $(q "${SET_BENCH[@]}")   (fresh empty server per run)"
    echo
    python3 - "$rows" "$ROUNDS" "$BENCH_ROUNDS" <<'EOF'
import statistics, sys
from collections import defaultdict

vals = defaultdict(list)
for line in open(sys.argv[1]):
    part, system, metric, value = line.strip().split(",")
    vals[(part, system, metric)].append(float(value))
rounds, bench_rounds = sys.argv[2], sys.argv[3]

def get(part, system, metric):
    v = vals.get((part, system, metric))
    return statistics.median(v) if v else None

def paired(a, b):
    """Median of the ratios a[i] / b[i] of runs made in the same round (robust to drift)."""
    return statistics.median(x / y for x, y in zip(a, b)) if a and b else float("nan")

def mb(b):
    return f"{b / 1e6:,.1f} MB" if b is not None else "-"

def ms(m):
    return f"{m:,.0f} ms" if m is not None else "-"

names = {"llm": "llmcached", "aof": "redis AOF", "rdb": "redis RDB"}
print(f"Load and disk (load: median of {rounds} restarts, alternating)")
print(f"{'system':<11} {'fill':>10} {'disk':>11} {'load':>10} {'min-max load':>17} {'RSS loaded':>11}  llmcached/this: load (paired), disk")
llm_load, llm_disk = get("load", "llm", "load_ms"), get("fill", "llm", "disk_after_rewrite")
for s in ("llm", "aof", "rdb"):
    load = vals.get(("load", s, "load_ms"), [])
    disk = get("fill", s, "disk_after_rewrite") if s == "llm" else get("fill", s, "disk_after_fill")
    rss = get("load", s, "rss_kb")
    spread = f"{min(load):,.0f}-{max(load):,.0f} ms" if load else "-"
    llm_runs = vals.get(("load", "llm", "load_ms"), [])
    ratio = "" if s == "llm" else \
        f"{llm_load / statistics.median(load):.2f} ({paired(llm_runs, load):.2f}), {llm_disk / disk:.2f}"
    print(f"{names[s]:<11} {ms(get('fill', s, 'fill_ms')):>10} {mb(disk):>11} {ms(statistics.median(load)):>10} "
          f"{spread:>17} {mb(rss * 1024 if rss else None):>11}  {ratio}")
print(f"llmcached disk: {mb(get('fill', 'llm', 'disk_after_fill'))} as written (log), "
      f"{mb(get('fill', 'llm', 'disk_after_rewrite'))} after BGREWRITEAOF ({ms(get('fill', 'llm', 'rewrite_ms'))}); "
      f"load of the raw log: {ms(get('fill', 'llm', 'load_raw_log_ms'))} (once)")
print(f"redis RDB SAVE: {ms(get('fill', 'rdb', 'save_ms'))}; disk after the restart rounds: "
      + ", ".join(f"{names[s]} {mb(get('load', s, 'disk_after_rounds'))}" for s in ("llm", "aof", "rdb")))
print("ratio = ratio of the medians; paired = median of the per-round ratios (same round, back to back)")
print()
print(f"SET throughput, appendonly yes (median of {bench_rounds} runs, alternating)")
print(f"{'appendfsync':<12} {'llmcached rps':>14} {'redis rps':>14} {'ratio':>7} {'paired':>7}   (min-max llmcached | redis)")
for p in ("always", "everysec", "no"):
    a, b = vals.get((f"set-{p}", "llm", "rps"), []), vals.get((f"set-{p}", "aof", "rps"), [])
    if not a or not b:
        continue
    ma, mb_ = statistics.median(a), statistics.median(b)
    print(f"{p:<12} {ma:>14,.0f} {mb_:>14,.0f} {ma / mb_:>7.2f} {paired(a, b):>7.2f}   "
          f"({min(a):,.0f}-{max(a):,.0f} | {min(b):,.0f}-{max(b):,.0f})")
EOF
)
echo
echo "$report"
echo "(total $((SECONDS - started))s)"
mkdir -p target/bench
out=target/bench/bench-persistence-$(date -u +%Y%m%dT%H%M%SZ).txt
echo "$report" >"$out"
echo "saved to $out"
