#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the Rust tests, the release build, and the
# real-client pass (redis-py, redis-cli, redis-benchmark) against the built server.
#
# Usage: scripts/test.sh
# Installs what is missing first (redis-server and redis-tools through apt, a Python venv with the
# pinned client libraries at target/test-venv), so it runs on a fresh Debian machine with no stdin.
# Every stage runs even after an earlier one failed (except what needs the release binary); the last
# line is `N passed, N failed`, and the exit status is non-zero if anything failed.
#
# Environment:
#   CLIENT_TARGETS  servers for the client pass, default "llmcached"; "llmcached redis" also runs it
#                   against Debian's redis-server, which checks the tests themselves.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

export CARGO_TERM_COLOR=never
logs=$(mktemp -d "${TMPDIR:-/tmp}/llmcached-test.XXXXXX")
# One line per check: `PASS|FAIL|SKIP name`. Stages and the client pass append to it.
export TEST_RESULTS_FILE=$logs/results
: >"$TEST_RESULTS_FILE"

record() { # record PASS|FAIL|SKIP name
    echo "$1 $2" >>"$TEST_RESULTS_FILE"
}

# Prints the failures and the closing `N passed, N failed` line; exits non-zero on any failure.
summary() {
    local passed failed skipped
    echo
    echo "==> summary"
    passed=$(grep -c '^PASS ' "$TEST_RESULTS_FILE" || true)
    failed=$(grep -c '^FAIL ' "$TEST_RESULTS_FILE" || true)
    skipped=$(grep -c '^SKIP ' "$TEST_RESULTS_FILE" || true)
    if ((failed)); then
        echo "failed:"
        # Same-named failures (several from one external suite) are listed once, with a count.
        awk '/^FAIL / { name = substr($0, 6); if (!(name in n)) order[++k] = name; n[name]++ }
             END { for (i = 1; i <= k; i++) print "  " order[i] (n[order[i]] > 1 ? " (x" n[order[i]] ")" : "") }' \
            "$TEST_RESULTS_FILE"
    fi
    echo "$skipped skipped"
    echo "$passed passed, $failed failed"
    ((failed == 0))
}

# A stage that cannot go on (say, no network for apt or pip) still ends with the summary line.
summarised=0
on_exit() {
    local rc=$?
    if ((!summarised)); then
        record FAIL "stage '$stage_name' stopped the run (exit status $rc)"
        summary || true
        rc=1
    fi
    rm -rf -- "$logs"
    exit "$rc"
}
trap on_exit EXIT

stage_started=0
stage_name=setup
stage() {
    stage_started=$SECONDS
    stage_name=$*
    echo
    echo "==> $*"
}
stage_done() {
    echo "    ($((SECONDS - stage_started))s)"
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

# --- dependencies ----------------------------------------------------------------------------------
stage "dependencies"
apt_updated=0
apt_install() { # apt_install PACKAGE... (runs apt-get update once per run)
    echo "installing: $*"
    if ((!apt_updated)); then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null
}
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
{ command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; } || missing+=(redis-tools)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
((${#missing[@]} == 0)) || apt_install "${missing[@]}"
if ! command -v cargo >/dev/null; then
    echo "cargo is not installed: install a Rust toolchain (https://rustup.rs) with clippy and rustfmt" >&2
    exit 1
fi
if ! ensure_test_venv; then
    # Debian's python3 leaves venv's pip bootstrap (ensurepip) to the python3-venv package.
    rm -rf -- "$TEST_VENV"
    apt_install python3-venv
    ensure_test_venv
fi
echo "cargo: $(cargo --version); redis-server: $(redis-server --version | cut -d' ' -f3)"
echo "python: $("$TEST_PYTHON" --version); $("$TEST_PYTHON" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
stage_done

# --- formatting and lints --------------------------------------------------------------------------
stage "cargo fmt --all -- --check"
if cargo fmt --all -- --check; then record PASS "cargo fmt"; else record FAIL "cargo fmt (run: cargo fmt --all)"; fi
stage_done

stage "cargo clippy --all-targets -- -D warnings"
if cargo clippy --all-targets -- -D warnings; then record PASS "cargo clippy"; else record FAIL "cargo clippy"; fi
stage_done

# --- Rust tests ------------------------------------------------------------------------------------
stage "cargo test"
rc=0
cargo test --no-fail-fast 2>&1 </dev/null | tee "$logs/cargo-test.log" || rc=$?
# One result per test: `test name ... ok|FAILED|ignored` lines from every test binary and doctest.
sed -nE 's/^test (.+) \.\.\. (ok|FAILED|ignored)( .*)?$/\2 \1/p' "$logs/cargo-test.log" |
    sed -E 's/^ok /PASS cargo-test /; s/^FAILED /FAIL cargo-test /; s/^ignored /SKIP cargo-test /' \
        >>"$TEST_RESULTS_FILE"
if ((rc != 0)) && ! grep -q '^FAIL cargo-test ' "$TEST_RESULTS_FILE"; then
    record FAIL "cargo test exited with status $rc (build error?)"
fi
stage_done

# --- release build ---------------------------------------------------------------------------------
stage "cargo build --release"
built=0
if cargo build --release </dev/null; then
    record PASS "cargo build --release"
    built=1
else
    record FAIL "cargo build --release"
fi
stage_done

# --- real clients against the built server ---------------------------------------------------------
for client_target in ${CLIENT_TARGETS:-llmcached}; do
    stage "real clients against $client_target (tests/clients/run.sh --target $client_target)"
    if [[ $client_target == llmcached && $built == 0 ]]; then
        record FAIL "clients[llmcached]: not run, the release build failed"
    else
        # run.sh records each check itself; a failure it could not record (it stopped early) is
        # recorded here.
        fails_before=$(grep -c '^FAIL ' "$TEST_RESULTS_FILE" || true)
        rc=0
        tests/clients/run.sh --target "$client_target" </dev/null || rc=$?
        if ((rc != 0)) && (($(grep -c '^FAIL ' "$TEST_RESULTS_FILE" || true) == fails_before)); then
            record FAIL "clients[$client_target]: tests/clients/run.sh exited with status $rc"
        fi
    fi
    stage_done
done

# --- integrations and deployment checks ----------------------------------------------------------
# External suites: scripts/test-integrations.sh (third-party clients, frameworks and the examples,
# against the release binary) and scripts/check-deploy.sh (the Dockerfile, compose file and
# Kubernetes manifests, checked offline). Each one's closing `N passed, N failed[, N skipped]` line
# is added to the totals; without one, its exit status counts as one check.
run_suite() { # run_suite SCRIPT NAME
    local script=$1 name=$2 rc=0 counts n_pass n_fail n_skip k
    stage "$name ($script)"
    if [[ $built == 0 ]]; then
        record FAIL "$name: not run, the release build failed"
        stage_done
        return
    fi
    env -u TEST_RESULTS_FILE LLMCACHED_BIN="$ROOT/target/release/llmcached" \
        bash "$script" </dev/null 2>&1 | tee "$logs/$name.log" || rc=$?
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/$name.log" | tail -n1 || true)
    if [[ -n $counts ]]; then
        read -r n_pass n_fail n_skip < <(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$counts")
        for ((k = 0; k < n_pass; k++)); do record PASS "$name"; done
        for ((k = 0; k < n_fail; k++)); do record FAIL "$name (see $script output above)"; done
        for ((k = 0; k < ${n_skip:-0}; k++)); do record SKIP "$name"; done
    fi
    if ((rc != 0)) && [[ -z $counts || ${n_fail:-0} == 0 ]]; then
        record FAIL "$name: $script exited with status $rc"
    elif ((rc == 0)) && [[ -z $counts ]]; then
        record PASS "$name ($script)"
    fi
    stage_done
}

run_suite scripts/test-integrations.sh integrations
run_suite scripts/check-deploy.sh deploy

# --- summary ---------------------------------------------------------------------------------------
summarised=1
summary
