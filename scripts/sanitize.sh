#!/usr/bin/env bash
# Builds warden with g++ under AddressSanitizer + UBSan in build-asan and runs the test suite
# there (all but the dashboard test, which checks Prometheus expressions, not warden's memory, and
# the real-broker tier, whose cases the same binaries run against the mock cluster here).
# Usage: scripts/sanitize.sh [--build-only]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-asan"
cd "$root"

if [[ ! -f "$build/build.ninja" ]]; then
    # System dependencies only: the wraps in subprojects/ are for other distributions.
    # Only what the tests run: no benchmarks. -O1 -g1 (line tables, enough for the reports' stack
    # traces) compiles in 40 % of the CPU time of -O2 -g.
    CC=gcc CXX=g++ meson setup "$build" --wrap-mode=nodownload -Db_sanitize=address,undefined \
        -Db_lundef=false -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 -Dwerror=true -Dbenchmarks=false
fi
# UB must fail the run, not only print.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/scripts/ubsan.supp}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# Time bounds in the tests stretch by this much (tests/support/slowdown.hpp): the instrumented
# code runs about twice as slow, and the other trees compile meanwhile in the test command.
export WARDEN_TEST_SLOWDOWN="${WARDEN_TEST_SLOWDOWN:-2}"
meson compile -C "$build" >/dev/null
[[ "${1:-}" == "--build-only" ]] && exit 0
# The dashboard suite checks Prometheus expressions and the deploy suite the image's files, not
# warden's memory (and a sanitized binary links libraries the image does not carry).
meson test -C "$build" --print-errorlogs --num-processes 4 --no-suite prometheus --no-suite kafka-real \
    --no-suite deploy
