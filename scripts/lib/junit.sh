# shellcheck shell=bash
# JUnit XML for a shell script's checks, read by the test harness (scripts/test.sh); the XML
# itself is written by scripts/harness/junit.py.
#
# Source this file, then:
#   junit_record passed|failed|skipped NAME [OUTPUT_FILE]   one case (OUTPUT_FILE is attached)
#   junit_write SUITE                                       writes $JUNIT_XML, once, at the end
# Without $JUNIT_XML in the environment both do nothing.

JUNIT_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_JUNIT_RECORDS=
_JUNIT_COUNT=0

junit_record() {
    [ -n "${JUNIT_XML:-}" ] || return 0
    [ -n "$_JUNIT_RECORDS" ] || _JUNIT_RECORDS=$(mktemp -d "${TMPDIR:-/tmp}/junit.XXXXXX")
    _JUNIT_COUNT=$((_JUNIT_COUNT + 1))
    local record
    record=$(printf '%s/%05d' "$_JUNIT_RECORDS" "$_JUNIT_COUNT")
    printf '%s\n%s\n' "$1" "$2" >"$record"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then cat -- "$3" >>"$record"; fi
}

junit_write() {
    [ -n "${JUNIT_XML:-}" ] || return 0
    python3 "$JUNIT_LIB_ROOT/scripts/harness/junit.py" write "$JUNIT_XML" "$1" "${_JUNIT_RECORDS:-/nonexistent}"
    [ -z "$_JUNIT_RECORDS" ] || rm -rf -- "$_JUNIT_RECORDS"
}
