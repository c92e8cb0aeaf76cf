#!/usr/bin/env bash
# Prints, from meson test logs, each failed test and each failed doctest assertion with its
# values and context, without the worker logs the tests attach (JSON lines). The test command
# prints this last, so the end of a failed run names what failed.
# Usage: scripts/failure-digest.sh TESTLOG...
set -uo pipefail
for log in "$@"; do
    [[ -f "$log" ]] || continue
    echo "--- $log"
    sed -n '/^Summary of Failures:/,/^Ok:/p' "$log" | grep -E '(FAIL|TIMEOUT|ERROR) ' || true
    awk '
        /^TEST CASE:/ { test_case = $0; next }
        / ERROR: | FATAL ERROR: |^ERROR: AddressSanitizer|^SUMMARY: (Address|Undefined|Thread)Sanitizer/ {
            if (test_case != "") print test_case
            print; context = 1; shown = 0; next
        }
        context && (/^====/ || /^\[doctest\]/ || shown >= 25) { context = 0; print ""; next }
        context && !/^ *\{"ts":/ && !/^ *$/ { print; shown++ }
    ' "$log" | head -n 200
done
