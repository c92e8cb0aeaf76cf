#!/usr/bin/env bash
# `warden process` against a straightforward Python implementation of the same rules
# (bench/process_reference.py), on one generated corpus in one run: events per second of each,
# warden at one thread and at N, and the ratios. The outputs are compared record by record first
# (bench/compare_outputs.py), so the figures are for the same work.
# Usage: bench/process_bench.sh [BUILD_DIR] [EVENTS] [THREADS]   (defaults: build, 100000, the cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
events="${2:-100000}"
threads="${3:-$(nproc)}"
python=/usr/bin/python3  # Debian's, whatever a version manager puts first on PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/warden-process-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$build/bench/write_corpus" --dir "$work" --events "$events"
echo "corpus            $events events, $(du -m "$work/input.jsonl" | cut -f1) MB"

# seconds COMMAND...: runs it once, its stdout to $work/last.out; prints the wall seconds.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/last.out"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
warden_run() {  # THREADS OUTPUT_DIR
    "$build/warden" process --teams "$work/teams.json" --input "$work/input.jsonl" --output-dir "$2" --threads "$1"
}

python_s=$(seconds "$python" "$root/bench/process_reference.py" --teams "$work/teams.json" \
    --input "$work/input.jsonl" --output-dir "$work/python")
warden_run 1 "$work/warden" > /dev/null  # also warms the page cache
# The audit trail is beyond the reference's rules (and stamped with processing times): set aside.
mv "$work/warden/events_security_audit.jsonl" "$work/warden-audit.jsonl"
"$python" "$root/bench/compare_outputs.py" "$work/python" "$work/warden" > "$work/compare.txt" || {
    echo "process_bench: warden and the Python reference disagree:" >&2
    cat "$work/compare.txt" >&2
    exit 1
}
# Best of three for warden: its runs are short, so a moment of load elsewhere weighs on them most.
best() {
    local best_s="" s
    for _ in 1 2 3; do
        s=$(seconds warden_run "$1" "$work/warden-$1")
        best_s=$(awk -v a="$s" -v b="$best_s" 'BEGIN { print (b == "" || a < b) ? a : b }')
    done
    echo "$best_s"
}
one_s=$(best 1)
many_s=$(best "$threads")
without_stamps() { sed -E 's/"dlq_timestamp","[0-9]+"/"dlq_timestamp",""/' "$1"; }
for f in "$work/warden"/*.jsonl; do  # the same files whatever the thread count
    cmp -s <(without_stamps "$f") <(without_stamps "$work/warden-$threads/$(basename "$f")") || {
        echo "process_bench: --threads $threads wrote $(basename "$f") differently" >&2
        exit 1
    }
done

awk -v n="$events" -v py="$python_s" -v one="$one_s" -v many="$many_s" -v t="$threads" 'BEGIN {
    printf "python reference  %8.0f events/s (%.2f s)\n", n / py, py
    printf "warden, 1 thread  %8.0f events/s (%.2f s), %.1fx the Python reference\n", n / one, one, py / one
    printf "warden, %d threads %8.0f events/s (%.2f s), %.1fx the Python reference, %.2fx one thread\n",
        t, n / many, many, py / many, one / many
    printf "{\"events\":%d,\"python_events_per_s\":%.0f,\"warden_events_per_s\":%.0f,", n, n / py, n / one
    printf "\"threads\":%d,\"warden_threads_events_per_s\":%.0f,", t, n / many
    printf "\"ratio_to_python\":%.1f,\"threads_ratio_to_python\":%.1f,", py / one, py / many
    printf "\"threads_speedup\":%.2f}\n", one / many
}'
