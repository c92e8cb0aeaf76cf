#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz and fuzzes them one after the other, each for half of
# the time: fuzz_pipeline (decode → verify → route against the security invariants), then
# fuzz_differential (the single-pass renderer against the DOM path).
# Usage: scripts/fuzz.sh [SECONDS | --build-only]   (default 60, in all). Exits non-zero on a
# finding of either; crash inputs land in build-fuzz/artifacts/ (the differential target's with the
# prefix differential-). Needs clang-14 with libFuzzer; installs nothing.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
cd "$root"

if [[ "$seconds" != "--build-only" && ! "$seconds" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS | --build-only]" >&2
    exit 2
fi
if [[ ! -f "$build/build.ninja" ]]; then
    # System dependencies only: the wraps in subprojects/ are for other distributions.
    CC=clang-14 CXX=clang++-14 meson setup "$build" --wrap-mode=nodownload -Dfuzzing=true \
        -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 \
        -Dwerror=true -Dbenchmarks=false
fi
# Only the fuzzers: a broken unrelated target must not block fuzzing.
meson compile -C "$build" fuzz_pipeline fuzz_differential
[[ "$seconds" == "--build-only" ]] && exit 0

# Fuzz copies so the seed corpus in the repository only changes on purpose.
work="$(mktemp -d "${TMPDIR:-/tmp}/warden-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/scripts/ubsan.supp}"

# fuzz TARGET SECONDS LOG ARTIFACT_PREFIX: runs one target from the seed corpus; false on a finding.
fuzz() {
    local target=$1 time=$2 log=$3 prefix=$4
    mkdir -p "$work/$target"
    cp -r "$root/fuzz/corpus/." "$work/$target/"
    echo "$target (${time} s):"
    "$build/fuzz/$target" "$work/$target" \
        -dict="$root/fuzz/pipeline.dict" \
        -max_total_time="$time" \
        -max_len=8192 \
        -timeout=10 \
        -print_final_stats=1 \
        -artifact_prefix="$prefix" > "$log" 2>&1 || {
        echo "fuzzer finding (full log: $log):"
        tail -n 60 "$log"
        return 1
    }
    grep -E "^(Done|stat::)" "$log" || tail -n 5 "$log"
}

# Half each, at least a second each (0 would mean no limit).
first=$((seconds / 2 > 0 ? seconds / 2 : 1))
second=$((seconds - first > 0 ? seconds - first : 1))
status=0
fuzz fuzz_pipeline "$first" "$build/fuzz.log" "$build/artifacts/" || status=1
fuzz fuzz_differential "$second" "$build/fuzz_differential.log" "$build/artifacts/differential-" || status=1
exit "$status"
