#!/usr/bin/env bash
# The whole test suite: unit, CLI, Kafka (mock cluster), PostgreSQL and Prometheus tests; the same
# again under ASan/UBSan (but the dashboard check); and the fuzzer for FUZZ_SECONDS (default 60).
# The integration tests start their own servers on loopback. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
# Warnings are errors here (not for a user building on a newer compiler).
scripts/build.sh -Dwerror=true >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
step() {
    local name=$1
    shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "*** $name FAILED"
        failed=$((failed + 1))
    fi
}

step "all tests" meson test -C build --print-errorlogs
step "tests under ASan/UBSan" scripts/sanitize.sh
step "fuzzer (${FUZZ_SECONDS:-60} s)" scripts/fuzz.sh "${FUZZ_SECONDS:-60}"

cases=$(build/tests/unit_tests --no-intro 2>&1 | sed -n 's/^\[doctest\] test cases: *\([0-9]*\) |.*/\1/p')
echo "unit test cases: ${cases:-?}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
