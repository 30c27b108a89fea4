#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/, cargo-fuzz on the nightly toolchain) and runs each one briefly:
# first every input under fuzz/regressions/<target>/ (inputs that once failed must pass), then
# libFuzzer from the seeds under fuzz/corpus/<target>/ for FUZZ_SECONDS.
#
# Usage: scripts/fuzz-smoke.sh [target...]      (default: every target in fuzz/fuzz_targets/)
# The last line is `N passed, N failed, N skipped`, one count per target; a target that crashes
# fails, and the path of the input that crashed it (under fuzz/artifacts/<target>/) is printed.
# Without a nightly toolchain every target is skipped and the exit status is 0 (cargo-fuzz needs
# nightly's sanitizer flags); cargo-fuzz itself is installed with cargo if it is missing.
#
# Environment:
#   FUZZ_SECONDS   how long libFuzzer runs each target, default 30
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang, default 10
#   FUZZ_STRICT    1: known, tolerated divergences fail too (sets LLMCACHED_FUZZ_STRICT)
#   FUZZ_ARGS      extra libFuzzer flags, e.g. "-max_len=8192"
#   FUZZ_SANITIZER cargo-fuzz's --sanitizer for the build, default none (the smoke run keeps the
#                  test command's time down; long runs use address, cargo-fuzz's default)
#
# Longer runs: `cargo +nightly fuzz run <target> fuzz/corpus-work/<target> fuzz/corpus/<target>
# -- -max_total_time=3600` from the repository root; fuzz/corpus-work/ (ignored by git) keeps
# what a run learned for the next one.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-30}
TIMEOUT=${FUZZ_TIMEOUT:-10}
if [[ -n ${FUZZ_STRICT:-} && ${FUZZ_STRICT} != 0 ]]; then
    export LLMCACHED_FUZZ_STRICT=1
fi

if (($# > 0)); then
    targets=("$@")
else
    targets=()
    for f in fuzz/fuzz_targets/*.rs; do
        t=${f##*/}
        targets+=("${t%.rs}")
    done
fi

passed=0
failed=0
skipped=0
failures=()

summary() {
    echo
    if ((failed)); then
        echo "failed:"
        printf '  %s\n' "${failures[@]}"
    fi
    echo "$passed passed, $failed failed, $skipped skipped"
}

# Every target gets one result; without the tools none can run.
skip_all() { # skip_all REASON
    echo "$1"
    for t in "${targets[@]}"; do
        echo "SKIP $t"
        skipped=$((skipped + 1))
    done
    summary
    exit 0
}

fail_all() { # fail_all REASON
    echo "$1" >&2
    for t in "${targets[@]}"; do
        echo "FAIL $t"
        failures+=("$t: $1")
        failed=$((failed + 1))
    done
    summary
    exit 1
}

if ! command -v rustup >/dev/null; then
    skip_all "no rustup: the fuzz targets need a nightly toolchain; skipping them"
fi
if ! rustup toolchain list | grep -q '^nightly'; then
    skip_all "no nightly toolchain (rustup toolchain list shows none): cargo-fuzz needs nightly's sanitizer flags; skipping the fuzz targets"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked </dev/null || fail_all "cargo install cargo-fuzz --locked failed"
fi

SANITIZER=${FUZZ_SANITIZER:-none}
echo "==> cargo +nightly fuzz build --sanitizer $SANITIZER ($(cargo fuzz --version), $(rustc +nightly --version))"
cargo +nightly fuzz build --sanitizer "$SANITIZER" </dev/null || fail_all "cargo +nightly fuzz build failed"
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir=fuzz/target/$triple/release

logs=$(mktemp -d "${TMPDIR:-/tmp}/llmcached-fuzz.XXXXXX")
trap 'rm -rf -- "$logs"' EXIT

# libFuzzer flags a target needs beyond the common ones.
target_args() { # target_args TARGET
    case $1 in
    # Command sequences need room from the start: with libFuzzer's slowly growing length limit
    # a short run never gets past a few commands.
    dispatch) echo "-max_len=600 -len_control=0" ;;
    esac
}

# One line of figures from libFuzzer's log: runs, coverage, features, corpus size.
figures() { # figures LOG
    local runs cov ft corp
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+' "$1" | tail -n1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$1" | tail -n1 | cut -d' ' -f2)
    corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$1" | tail -n1 | cut -d' ' -f2)
    echo "${runs:-?} runs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
}

for t in "${targets[@]}"; do
    bin=$bin_dir/$t
    echo
    echo "==> $t"
    if [[ ! -x $bin ]]; then
        echo "FAIL $t: no fuzz target binary at $bin"
        failures+=("$t: not built")
        failed=$((failed + 1))
        continue
    fi
    artifacts=fuzz/artifacts/$t
    work=fuzz/corpus-work/$t
    mkdir -p "$artifacts" "$work" "fuzz/corpus/$t"
    log=$logs/$t.log
    ok=1

    shopt -s nullglob
    regressions=(fuzz/regressions/"$t"/*)
    shopt -u nullglob
    if ((${#regressions[@]})); then
        echo "replaying ${#regressions[@]} regression inputs"
        if ! "$bin" -timeout="$TIMEOUT" -artifact_prefix="$artifacts/" "${regressions[@]}" \
            >"$log.replay" 2>&1 </dev/null; then
            ok=0
            grep -E -A12 'panicked at|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)' "$log.replay" | head -n 40
            failures+=("$t: a regression input fails again ($(grep -oE 'Running: [^ ]+' "$log.replay" | tail -n1))")
        fi
    fi

    if ((ok)); then
        # The first corpus directory receives what this run finds; the seeds stay as committed.
        "$bin" "$work" "fuzz/corpus/$t" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" \
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
            $(target_args "$t") ${FUZZ_ARGS:-} >"$log" 2>&1 </dev/null
        rc=$?
        if ((rc != 0)); then
            ok=0
            grep -E -A30 'panicked at|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)' "$log" | head -n 60
            artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
            failures+=("$t: crashed (exit $rc); input: ${artifact:-none written, see the log above}")
            echo "crashing input: ${artifact:-none written}"
        fi
        echo "$(figures "$log")"
    fi

    if ((ok)); then
        echo "PASS $t"
        passed=$((passed + 1))
    else
        echo "FAIL $t"
        failed=$((failed + 1))
    fi
done

summary
((failed == 0))
