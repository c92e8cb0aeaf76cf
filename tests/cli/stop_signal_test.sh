#!/usr/bin/env bash
# A SIGTERM during start-up (waiting for the team store or the brokers) stops run, replay and the
# mock cluster cleanly, with their documented exit codes, instead of killing them.
set -uo pipefail
source "$(dirname "$0")/scratch.sh"
# Nothing listens on port 1: the store and the brokers stay unreachable (transient failures).
unreachable_store=(--postgres "host=127.0.0.1 port=1 dbname=warden user=reader connect_timeout=2")
failures=0

# Starts the command, sends SIGTERM after a second, and checks the exit status within 15 s.
expect_stop() {
    local what=$1 expected=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err" &
    local pid=$!
    sleep 1
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null && ((waited < 150)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        echo "FAIL: $what did not stop within 15 s of SIGTERM"
        failures=$((failures + 1))
        return
    fi
    wait "$pid"
    local status=$?
    if [[ $status -ne $expected ]]; then
        echo "FAIL: $what exited $status after SIGTERM, expected $expected"
        tail -n 5 "$work/err"
        failures=$((failures + 1))
    else
        echo "ok: $what stops on SIGTERM with status $status"
    fi
}

expect_stop "replay waiting for the team store" 3 \
    "$warden" replay --brokers 127.0.0.1:1 "${unreachable_store[@]}" --store-wait-timeout-ms 60000
expect_stop "run waiting for the brokers" 0 \
    "$warden" run --brokers 127.0.0.1:1 --teams "$root/samples/teams.json" --metrics-address off
expect_stop "mock-cluster" 0 "$warden" mock-cluster

[[ $failures -eq 0 ]]
