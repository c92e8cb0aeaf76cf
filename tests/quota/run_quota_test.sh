#!/usr/bin/env bash
# `warden run` with its quota limits in a real Redis (Debian's redis-server on loopback) and the
# sample stream on a mock cluster: Acme limited by its backup secret alone loses every event it
# sent with any token; at start-up without Redis, `--quota-startup wait` consumes nothing until
# the limits arrive and `open` consumes at once; credentials in the URL are refused unshown.
#   run_quota_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../cli/scratch.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../support/free_port.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
samples=$(grep -c . "$root/samples/events.jsonl")
acme_backup=phs_DemoBackupAcme000000000000000000000000000001

start_mock_cluster 2
"$warden" produce --brokers "$brokers" --topic events_plugin_ingestion --input "$root/samples/events.jsonl" \
    >/dev/null 2>"$work/produce.log"

redis_port=$(free_loopback_port)
start_redis() {
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
        --loglevel warning >/dev/null 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "redis-server did not start" >&2
    exit 1
}
limit_acme() {
    # An hour from now, on the backup secret only.
    redis-cli -p "$redis_port" zadd @posthog/quota-limits/events $(($(date +%s) + 3600)) "$acme_backup" >/dev/null
}

# start_worker NAME GROUP FLAGS...: `run` in the background, its log in $work/NAME.log.
start_worker() {
    local name=$1 group=$2
    shift 2
    "$warden" run --brokers "$brokers" --teams "$root/samples/teams.json" --group "$group" --threads 1 \
        --metrics-address "${metrics_address:-off}" --log-level debug --consumer-property session.timeout.ms=6000 \
        --quota-redis "redis://127.0.0.1:$redis_port" --quota-refresh-ms 200 "$@" \
        >"$work/$name.out" 2>"$work/$name.log" &
    worker_pid=$!
    pids+=("$worker_pid")
}
processed() {
    local n
    n=$(grep -c '"msg":"message processed"' "$work/$1.log" 2>/dev/null) || true
    echo "${n:-0}"
}
wait_processed() {
    for _ in $(seq 300); do [ "$(processed "$1")" -ge "$samples" ] && return 0; sleep 0.1; done
    return 1
}
# stop_worker NAME: SIGTERM (it must exit 0), then $limited is the summary's quota_limited count.
stop_worker() {
    local code=0
    kill -TERM "$worker_pid"
    wait "$worker_pid" || code=$?
    [ "$code" = 0 ] || fail "$1 exited $code"
    limited=$(tail -n 1 "$work/$1.out" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["dropped"].get("quota_limited", 0))')
}

# 1. Limited by the backup secret alone: Acme's 7 analytics and heatmap events are dropped, sent
#    with its public token, its secret or its backup.
start_redis
limit_acme
start_worker limited g-limited
wait_processed limited || fail "limited: $(processed limited) of $samples processed"
stop_worker limited
[ "$limited" = 7 ] || fail "limited: want 7 quota_limited: $(tail -n 1 "$work/limited.out")"
grep -q "$acme_backup" "$work/limited.log" && fail "limited: the backup secret reached the log"

# 2. Redis down at start-up, --quota-startup wait (the default): nothing consumed until it is back.
kill "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
metrics_address=127.0.0.1:0 start_worker waiting g-waiting
sleep 3
[ "$(processed waiting)" = 0 ] || fail "waiting: consumed before the limits were read"
grep -q "waiting for the quota limits" "$work/waiting.log" || fail "waiting: no word of the wait"
# /readyz says why (its JSON reason), /metrics that nothing was read.
port=$(grep -o '"msg":"serving /metrics[^}]*"port":"[0-9]*"' "$work/waiting.log" | grep -o '[0-9]*"$' | tr -d '"')
http_get() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    cat <&3
    exec 3<&-
}
readyz=$(http_get /readyz)
grep -q "503" <<<"$readyz" || fail "waiting: /readyz is not 503: $readyz"
grep -q "the quota limits were not read yet: Redis at 127.0.0.1:$redis_port" <<<"$readyz" ||
    fail "waiting: /readyz gives no reason: $readyz"
grep -q "^warden_quota_loaded 0" <<<"$(http_get /metrics)" || fail "waiting: /metrics has no warden_quota_loaded 0"
start_redis
limit_acme
wait_processed waiting || fail "waiting: $(processed waiting) of $samples processed after Redis came"
stop_worker waiting
[ "$limited" = 7 ] || fail "waiting: want 7 quota_limited: $(tail -n 1 "$work/waiting.out")"

# 3. --quota-startup open: consumes at once, nobody limited until a set arrives.
kill "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
start_worker open g-open --quota-startup open
wait_processed open || fail "open: $(processed open) of $samples processed"
stop_worker open
[ "$limited" = 0 ] || fail "open: want 0 quota_limited: $(tail -n 1 "$work/open.out")"

# 4. Credentials in the URL are refused, and not shown.
set +e
"$warden" run --brokers "$brokers" --teams "$root/samples/teams.json" \
    --quota-redis "redis://admin:hunter2-quota@127.0.0.1:$redis_port" >/dev/null 2>"$work/url.err"
code=$?
set -e
[ "$code" = 1 ] || fail "credentials in the URL: exit $code, want 1"
grep -q "credentials in the URL are refused" "$work/url.err" || fail "credentials in the URL: $(cat "$work/url.err")"
grep -q hunter2 "$work/url.err" && fail "credentials in the URL: the password was shown"

if ((failures > 0)); then exit 1; fi
echo "run with Redis quota limits OK"
