# shellcheck shell=bash
# The Python environment of the real-client tests: target/test-venv, created once and reused.
#
# ensure_test_venv   creates it if absent and (re)installs tests/clients/requirements.txt when that
#                    file changed since the last install; sets TEST_PYTHON to its interpreter.

VENV_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_VENV=$VENV_LIB_ROOT/target/test-venv
TEST_REQUIREMENTS=$VENV_LIB_ROOT/tests/clients/requirements.txt

ensure_test_venv() {
    local stamp=$TEST_VENV/.requirements.sha256 want
    if [[ ! -x $TEST_VENV/bin/python ]]; then
        echo "creating $TEST_VENV"
        mkdir -p "$(dirname "$TEST_VENV")"
        python3 -m venv "$TEST_VENV" || return 1
    fi
    want=$(sha256sum "$TEST_REQUIREMENTS" | cut -d' ' -f1)
    if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
        echo "installing $TEST_REQUIREMENTS into $TEST_VENV"
        "$TEST_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-input -r "$TEST_REQUIREMENTS" </dev/null || return 1
        echo "$want" >"$stamp"
    fi
    TEST_PYTHON=$TEST_VENV/bin/python
    export TEST_PYTHON
}
