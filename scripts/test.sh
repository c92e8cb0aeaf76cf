#!/usr/bin/env bash
# The whole test suite: unit, CLI, Kafka (mock cluster), PostgreSQL and Prometheus tests; the same
# again under ASan/UBSan (but the dashboard check); and the fuzzer for FUZZ_SECONDS (default 60).
# The integration tests start their own servers on loopback and mostly wait on them, so the
# sanitizer and fuzz trees compile in the background meanwhile. Ends with the time of each stage
# and one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
# Warnings are errors here (not for a user building on a newer compiler).
scripts/build.sh -Dwerror=true >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
build_seconds=$((SECONDS - started))

# The other trees build while the release tests wait on their servers.
background_log=$(mktemp "${TMPDIR:-/tmp}/warden-test-builds.XXXXXX")
(scripts/sanitize.sh --build-only && scripts/fuzz.sh --build-only) >"$background_log" 2>&1 &
background=$!

passed=0
failed=0
times=()
step() {
    local name=$1
    shift
    local start=$SECONDS
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "*** $name FAILED"
        failed=$((failed + 1))
    fi
    times+=("$(printf '%5ds  %s' $((SECONDS - start)) "$name")")
}
wait_for_builds() {
    local start=$SECONDS
    wait "$background" || { echo "sanitizer or fuzz build failed:"; tail -n 40 "$background_log"; return 1; }
    times+=("$(printf '%5ds  %s' $((SECONDS - start)) "waiting for the sanitizer and fuzz builds")")
}

step "all tests" meson test -C build --print-errorlogs --num-processes 4
if wait_for_builds; then
    step "tests under ASan/UBSan" scripts/sanitize.sh
    step "fuzzer (${FUZZ_SECONDS:-60} s)" scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
else
    failed=$((failed + 2))
fi
rm -f "$background_log"

cases=$(build/tests/unit_tests --no-intro 2>&1 | sed -n 's/^\[doctest\] test cases: *\([0-9]*\) |.*/\1/p')
echo "unit test cases: ${cases:-?}"
echo "stage times:"
printf '%5ds  %s\n' "$build_seconds" "build (release)"
printf '%s\n' "${times[@]}"
printf '%5ds  %s\n' $((SECONDS - started)) "total"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
