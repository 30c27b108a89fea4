#!/usr/bin/env bash
# Runs every test of the project and ends with the line `N passed, N failed, N skipped`; the exit
# status is non-zero if anything failed. `scripts/test.sh --list` names the suites, `--help` says
# how to run some of them.
#
# The work is done by the test harness, scripts/harness/ (Python, standard library only), which
# installs what is missing on a fresh Debian machine. This wrapper only makes sure python3 is there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! command -v python3 >/dev/null; then
    echo "installing python3 with apt-get" >&2
    sudo=()
    ((EUID == 0)) || sudo=(sudo -n)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 </dev/null
fi
exec python3 "$ROOT/scripts/testsuite.py" "$@"
