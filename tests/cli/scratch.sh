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
