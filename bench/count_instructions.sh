#!/usr/bin/env bash
# Instructions per event of the core (BatchProcessor over pipeline_bench's corpus) and of the
# floor pipeline_bench measures beside it (parse both JSON levels and copy), counted by callgrind:
# repeatable on a shared, noisy machine where timings are not.
# Usage: bench/count_instructions.sh [BUILD_DIR] [EVENTS] [PIPELINE_BENCH_FLAGS...]
#   (defaults: build, 20000); e.g. `--single-pass 0` counts the core with the DOM path only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
events="${2:-20000}"
shift $(($# < 2 ? $# : 2))
command -v valgrind >/dev/null || { echo "count_instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
out=$(mktemp "${TMPDIR:-/tmp}/warden-callgrind.XXXXXX")
trap 'rm -f "$out"' EXIT
# One warm-up pass and one measured pass of each: 2 x EVENTS events through each function.
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*run_pass*' \
    --toggle-collect='*run_floor_pass*' "$build/bench/pipeline_bench" --events "$events" --passes 1 "$@" >/dev/null 2>&1
inclusive() {
    callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -F "$1(" | head -n 1 | awk '{gsub(",", "", $1); print $1}'
}
core=$(inclusive "::run_pass")
floor=$(inclusive "::run_floor_pass")
[[ -n "$core" && -n "$floor" ]] || { echo "count_instructions: no counts for run_pass/run_floor_pass" >&2; exit 1; }
awk -v core="$core" -v floor="$floor" -v n="$((2 * events))" 'BEGIN {
    printf "core   %.1fk instructions/event\nfloor  %.1fk instructions/event (parse both levels and copy)\nratio  %.2f\n",
        core / n / 1000, floor / n / 1000, core / floor
    printf "{\"core_instructions_per_event\":%.0f,\"floor_instructions_per_event\":%.0f,\"ratio\":%.2f}\n",
        core / n, floor / n, core / floor
}'
