#!/usr/bin/env bash
# Builds warden with g++ under ThreadSanitizer in build-tsan and runs the tests whose code runs
# threads: the unit suite (the ops HTTP server, the producer's delivery callbacks), the CLI suite
# (signals, the demo's threads) and the Kafka runtime suite (`warden run` with its lag watch and
# ops server). Only the targets those need are compiled.
# Usage: scripts/tsan.sh [--build-only]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-tsan"
cd "$root"

if [[ ! -f "$build/build.ninja" ]]; then
    # System dependencies only; -O1 -g1 as in the ASan tree (see sanitize.sh).
    CC=gcc CXX=g++ meson setup "$build" --wrap-mode=nodownload -Db_sanitize=thread -Db_lundef=false \
        -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 -Dwerror=true -Dbenchmarks=false
fi
if ! ninja -C "$build" warden tests/unit_tests tests/kafka_runtime_tests >"$build/build.log" 2>&1; then
    grep -v '^\[' "$build/build.log" | tail -n 40
    echo "tsan: the build failed"
    exit 1
fi
[[ "${1:-}" == "--build-only" ]] && exit 0
# A race fails the run; the suppressions name code outside warden (uninstrumented libraries).
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp}"
# Time bounds in the tests stretch by this much (tests/support/slowdown.hpp).
export WARDEN_TEST_SLOWDOWN="${WARDEN_TEST_SLOWDOWN:-6}"
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 4 \
    unit process_cli config_cli log_redaction stop_signal kafka_runtime kafka_runtime_threads
