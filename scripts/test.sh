#!/usr/bin/env bash
# The whole test suite: unit, CLI, Kafka (mock cluster), PostgreSQL, Prometheus and deploy
# (Dockerfile) tests; the same again under ASan/UBSan (but the dashboard and Dockerfile checks);
# the tests that run threads under ThreadSanitizer; the fuzzer for FUZZ_SECONDS (default 60);
# and the lint (clang-format and clang-tidy). The integration tests start their own servers on
# loopback and mostly wait on them, so the other trees compile, and the lint runs, in the
# background meanwhile, one after another. Ends with the time of each stage, the failed
# assertions (scripts/failure-digest.sh) and one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
# Warnings are errors here (not for a user building on a newer compiler).
scripts/build.sh -Dwerror=true >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
build_seconds=$((SECONDS - started))

# Background stages, in this order; each leaves its output in $background/NAME.log and its exit
# status in $background/NAME.rc when done.
background=$(mktemp -d "${TMPDIR:-/tmp}/warden-test.XXXXXX")
trap 'rm -rf "$background"' EXIT
(
    for stage in "asan-build:scripts/sanitize.sh --build-only" "fuzz-build:scripts/fuzz.sh --build-only" \
        "tsan-build:scripts/tsan.sh --build-only" "lint:scripts/lint.sh"; do
        name=${stage%%:*}
        ${stage#*:} >"$background/$name.log" 2>&1
        echo $? >"$background/$name.rc"
    done
) &
background_pid=$!

passed=0
failed=0
times=()
failed_logs=()
# step NAME TESTLOG COMMAND...: runs one stage; TESTLOG (or -) is the meson log it leaves.
step() {
    local name=$1 testlog=$2
    shift 2
    local start=$SECONDS
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "*** $name FAILED"
        failed=$((failed + 1))
        [[ "$testlog" != - ]] && failed_logs+=("$testlog")
    fi
    times+=("$(printf '%5ds  %s' $((SECONDS - start)) "$name")")
}
# Waits for a background stage; true when it succeeded, else shows the end of its output.
wait_for() {
    local name=$1 start=$SECONDS
    while [[ ! -f "$background/$name.rc" ]]; do
        kill -0 "$background_pid" 2>/dev/null || break
        sleep 2
    done
    times+=("$(printf '%5ds  %s' $((SECONDS - start)) "waiting for $name")")
    [[ "$(cat "$background/$name.rc" 2>/dev/null)" == 0 ]] && return 0
    echo "*** $name failed:"
    tail -n 40 "$background/$name.log"
    return 1
}
lint_result() {
    cat "$background/lint.log"
    [[ "$(cat "$background/lint.rc")" == 0 ]]
}

step "all tests" build/meson-logs/testlog.txt meson test -C build --print-errorlogs --num-processes 4
if wait_for asan-build; then step "tests under ASan/UBSan" build-asan/meson-logs/testlog.txt scripts/sanitize.sh; else failed=$((failed + 1)); fi
if wait_for fuzz-build; then step "fuzzer (${FUZZ_SECONDS:-60} s)" - scripts/fuzz.sh "${FUZZ_SECONDS:-60}"; else failed=$((failed + 1)); fi
if wait_for tsan-build; then step "threaded tests under TSan" build-tsan/meson-logs/testlog.txt scripts/tsan.sh; else failed=$((failed + 1)); fi
wait_for lint >/dev/null
step "lint (clang-format, clang-tidy)" - lint_result
wait "$background_pid"

cases=$(build/tests/unit_tests --no-intro 2>&1 | sed -n 's/^\[doctest\] test cases: *\([0-9]*\) |.*/\1/p')
echo "unit test cases: ${cases:-?}"
echo "stage times:"
printf '%5ds  %s\n' "$build_seconds" "build (release)"
printf '%s\n' "${times[@]}"
printf '%5ds  %s\n' $((SECONDS - started)) "total"
if ((${#failed_logs[@]})); then
    echo "what failed:"
    scripts/failure-digest.sh "${failed_logs[@]}"
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
