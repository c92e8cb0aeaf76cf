#!/usr/bin/env bash
# Builds warden with g++ under AddressSanitizer + UBSan in build-asan and runs the test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-asan"
cd "$root"

if [[ ! -f "$build/build.ninja" ]]; then
    CC=gcc CXX=g++ meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized
fi
# UB must fail the run, not only print.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/scripts/ubsan.supp}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
meson test -C "$build" --print-errorlogs
