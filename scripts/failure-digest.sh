#!/usr/bin/env bash
# Prints, from meson test logs, each failed test and each failed doctest assertion with its
# values and context, with only the last four lines of each worker log the tests attach (JSON
# lines). The test command prints this last, so the end of a failed run names what failed.
# Usage: scripts/failure-digest.sh TESTLOG...
set -uo pipefail
for log in "$@"; do
    [[ -f "$log" ]] || continue
    echo "--- $log"
    sed -n '/^Summary of Failures:/,/^Ok:/p' "$log" | grep -E '(FAIL|TIMEOUT|ERROR) ' || true
    # Failures of a case marked doctest::may_fail are held until the case ends and dropped when
    # doctest says "Allowed to fail": they did not fail the run.
    # Of each attached worker log, only its last lines (the ones before the failure) are kept.
    awk '
        function flush() { printf "%s", held; held = "" }
        function keep_log_tail(   i) {
            for (i = (logged > 4 ? logged - 3 : 1); i <= logged; i++) held = held log_line[i % 4] "\n"
            logged = 0
        }
        /^TEST CASE:/ { if ($0 != test_case) flush(); test_case = $0; next }
        /Allowed to fail so marking it as not failed/ { held = ""; context = 0; logged = 0; next }
        / ERROR: | FATAL ERROR: |^ERROR: AddressSanitizer|^SUMMARY: (Address|Undefined|Thread)Sanitizer/ {
            if (test_case != "") held = held test_case "\n"
            held = held $0 "\n"; context = 1; shown = 0; logged = 0; next
        }
        context && (/^====/ || /^\[doctest\]/ || shown >= 25) { keep_log_tail(); context = 0; held = held "\n"; next }
        context && /^ *\{"ts":/ { logged++; log_line[logged % 4] = $0; next }
        context && !/^ *$/ { keep_log_tail(); held = held $0 "\n"; shown++ }
        END { flush() }
    ' "$log" | head -n 200
done
