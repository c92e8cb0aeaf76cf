# Sourced by the CLI tests (TEST WARDEN ROOT): sets $warden and $root from the arguments, makes a
# scratch directory $work, and on exit stops the background processes listed in $pids and
# removes $work.
warden=$1
root=$2
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Starts `warden mock-cluster --partitions N` (stopped on exit) and sets $brokers to its address.
start_mock_cluster() {
    local bootstrap="$work/bootstrap.${#pids[@]}"
    "$warden" mock-cluster --partitions "$1" --bootstrap-file "$bootstrap" >/dev/null 2>>"$work/mock.log" &
    pids+=($!)
    for _ in $(seq 100); do [[ -s "$bootstrap" ]] && break; sleep 0.1; done
    brokers=$(cat "$bootstrap")
}

# Sets $port to the ops port the worker PID logged in LOG ("serving /metrics ..."), waiting up to
# 15 s; empty when the worker stopped first or logged none.
wait_for_ops_port() {
    local pid=$1 log=$2
    port=
    for _ in $(seq 150); do
        port=$(grep -o '"msg":"serving /metrics[^}]*"port":"[0-9]*"' "$log" 2>/dev/null |
            grep -o '[0-9]*"$' | tr -d '"') || true
        [[ -n $port ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}
