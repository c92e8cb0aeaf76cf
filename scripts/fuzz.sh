#!/usr/bin/env bash
# Builds the libFuzzer target in build-fuzz and fuzzes decode → verify → route.
# Usage: scripts/fuzz.sh [SECONDS | --build-only]   (default 60). Exits non-zero on a finding;
# crash inputs land in build-fuzz/artifacts/. Needs clang-14 with libFuzzer; installs nothing.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
cd "$root"

if [[ ! -f "$build/build.ninja" ]]; then
    # System dependencies only: the wraps in subprojects/ are for other distributions.
    CC=clang-14 CXX=clang++-14 meson setup "$build" --wrap-mode=nodownload -Dfuzzing=true \
        -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 \
        -Dwerror=true -Dbenchmarks=false
fi
# Only the fuzzer: a broken unrelated target must not block fuzzing.
meson compile -C "$build" fuzz_pipeline
[[ "$seconds" == "--build-only" ]] && exit 0

# Fuzz a copy so the seed corpus in the repository only changes on purpose.
work="$(mktemp -d "${TMPDIR:-/tmp}/warden-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$root/fuzz/corpus/." "$work/"
mkdir -p "$build/artifacts"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/scripts/ubsan.supp}"
"$build/fuzz/fuzz_pipeline" "$work" \
    -dict="$root/fuzz/pipeline.dict" \
    -max_total_time="$seconds" \
    -max_len=8192 \
    -timeout=10 \
    -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/" > "$build/fuzz.log" 2>&1 || {
    echo "fuzzer finding (full log: $build/fuzz.log):"
    tail -n 60 "$build/fuzz.log"
    exit 1
}
grep -E "^(Done|stat::)" "$build/fuzz.log" || tail -n 5 "$build/fuzz.log"
