#!/usr/bin/env bash
# `warden admin` against `warden run` (two members, a mock cluster, all on loopback): a signed
# invalidation (twice within a second) and a flush are answered 200 (exit 0), a request signed with
# another secret 401 (exit 1), usage errors exit 2; the worker logs and counts every call and never
# a secret. Before that, `run` refuses unusable admin settings, naming them but no secret.
#   admin_cli_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

fail() {
    echo "FAIL: $*"
    exit 1
}

secret="admin-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
wrong="wrong-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$secret" >"$work/admin-secret"
printf '%s\n' "$wrong" >"$work/wrong-secret"
chmod 600 "$work/admin-secret" "$work/wrong-secret"

# `run` refuses unusable admin settings before it connects to anything, naming the setting only.
short="short-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"  # 30 bytes
printf '%s\n' "$short" >"$work/short-secret"
expect_run_refusal() {
    local expected=$1 named=$2 status=0
    shift 2
    timeout 20 "$warden" run --brokers 127.0.0.1:1 --teams "$root/samples/teams.json" "$@" >/dev/null \
        2>"$work/refusal" || status=$?
    [[ $status -eq $expected ]] || { cat "$work/refusal"; fail "run $* exited $status, expected $expected"; }
    grep -qF -- "$named" "$work/refusal" || fail "run's refusal does not name $named: $(cat "$work/refusal")"
    if grep -qF -- "$short" "$work/refusal"; then fail "run's refusal quotes the secret"; fi
}
expect_run_refusal 2 "--admin-signing-secret-file: the admin signing secret must hold at least 32 bytes" \
    --admin-signing-secret-file "$work/short-secret"
expect_run_refusal 2 "--admin-signing-secret-previous-file: the admin signing secret must hold at least 32" \
    --admin-signing-secret-file "$work/admin-secret" --admin-signing-secret-previous-file "$work/short-secret"
expect_run_refusal 2 "--admin-signing-secret-previous-file needs --admin-signing-secret-file" \
    --admin-signing-secret-previous-file "$work/short-secret"
expect_run_refusal 2 "--admin-signing-secret-file needs the ops server" --metrics-address off \
    --admin-signing-secret-file "$work/short-secret"
expect_run_refusal 1 "the file given for --admin-signing-secret-file does not exist" \
    --admin-signing-secret-file "$short"
WARDEN_ADMIN_SIGNATURE_TOLERANCE_S=0 expect_run_refusal 2 "WARDEN_ADMIN_SIGNATURE_TOLERANCE_S"

start_mock_cluster 2
[[ -n "$brokers" ]] || fail "the mock cluster did not start within 10 s"

"$warden" run --brokers "$brokers" --teams "$root/samples/teams.json" --threads 2 \
    --metrics-address 127.0.0.1:0 --admin-signing-secret-file "$work/admin-secret" \
    --consumer-property fetch.wait.max.ms=10 >"$work/summary" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
wait_for_ops_port "$run_pid" "$work/run.log"
[[ -n "$port" ]] || { tail -n 5 "$work/run.log"; fail "the worker logged no ops port within 15 s"; }
grep -q '"msg":"serving the admin endpoints' "$work/run.log" || fail "the worker did not say it serves the admin endpoints"
address="127.0.0.1:$port"

# Runs `warden admin ARGS…` (at most 20 s) and checks its exit status; its output is in $work/out.
expect_admin() {
    local expected=$1 status=0
    shift
    timeout 20 "$warden" admin "$@" >"$work/out" 2>"$work/err" || status=$?
    if [[ $status -ne $expected ]]; then
        cat "$work/out" "$work/err"
        fail "warden admin $1 exited $status, expected $expected"
    fi
}

# Until the worker takes calls into its audit trail (it starts consuming), signed calls are refused
# with 503 and not acted on.
wait_until_admin_accepted() {  # ADDRESS
    for _ in $(seq 150); do
        timeout 20 "$warden" admin flush --address "$1" --signing-secret-file "$work/admin-secret" >"$work/out" \
            2>"$work/err" && return 0
        grep -q "audit trail" "$work/out" || { cat "$work/out" "$work/err"; fail "a signed flush was refused"; }
        sleep 0.1
    done
    fail "the worker did not take admin calls within 15 s"
}
wait_until_admin_accepted "$address"

expect_admin 0 invalidate --team 2 --address "$address" --signing-secret-file "$work/admin-secret"
grep -q '"status":"ok"' "$work/out" || fail "invalidate printed no ok answer: $(cat "$work/out")"
grep -q '"team_id":2' "$work/out" || fail "invalidate's answer names no team: $(cat "$work/out")"
# The same again at once, within the same second: a new signature, not a replay.
expect_admin 0 invalidate --team 2 --address "$address" --signing-secret-file "$work/admin-secret"

WARDEN_ADMIN_SIGNING_SECRET_FILE="$work/admin-secret" expect_admin 0 flush --address "$address"
grep -q '"action":"flush"' "$work/out" || fail "flush printed no answer: $(cat "$work/out")"

expect_admin 1 flush --address "$address" --signing-secret-file "$work/wrong-secret"
grep -q 'bad signature' "$work/out" || fail "the wrong secret's answer gives no reason: $(cat "$work/out")"
grep -q '401' "$work/err" || fail "the wrong secret's status is not named: $(cat "$work/err")"

# Usage errors: no team, a team that is no positive number, no secret file, an unknown action.
expect_admin 2 invalidate --address "$address" --signing-secret-file "$work/admin-secret"
expect_admin 2 invalidate --team 0 --address "$address" --signing-secret-file "$work/admin-secret"
expect_admin 2 invalidate --team two --address "$address" --signing-secret-file "$work/admin-secret"
expect_admin 2 flush --address "$address"
expect_admin 2 drop --address "$address" --signing-secret-file "$work/admin-secret"
# Nothing listens there: a failure, not a usage error.
expect_admin 1 flush --address 127.0.0.1:1 --signing-secret-file "$work/admin-secret"

metrics=$(timeout 10 /usr/bin/python3 -c '
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/metrics", timeout=5).read().decode())' "$port")
for series in 'action="invalidate",result="ok"} 2' 'action="flush",result="ok"} 2' \
    'action="flush",result="bad_signature"} 1'; do
    grep -qF "warden_admin_requests_total{$series" <<<"$metrics" || fail "no metric warden_admin_requests_total{$series"
done

# Every call that reached the worker is in the audit trail: four acted on (the first flush is the
# readiness wait's), the refusals (the wrong secret's, and any 503 of the wait). The worker takes them
# at its next turn; the records go out with the interval's (at the latest on stop).
for _ in $(seq 50); do
    metrics=$(curl -s --max-time 3 "http://127.0.0.1:$port/metrics")
    grep -qF 'warden_audit_occurrences_total{kind="admin_request"} 4' <<<"$metrics" && break
    sleep 0.1
done
grep -qF 'warden_audit_occurrences_total{kind="admin_request"} 4' <<<"$metrics" ||
    fail "want 4 admin_request occurrences: $(grep admin_request <<<"$metrics")"
grep -qE 'warden_audit_occurrences_total\{kind="admin_request_refused"\} [1-9]' <<<"$metrics" ||
    fail "no admin_request_refused occurrence: $(grep admin_request <<<"$metrics")"


kill -TERM "$run_pid"
for _ in $(seq 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$run_pid" 2>/dev/null && fail "the worker did not stop within 30 s of SIGTERM"
wait "$run_pid" || fail "the worker exited $?"

grep -q '"msg":"admin request".*"action":"invalidate","team_id":"2","result":"ok","peer":"127.0.0.1"' "$work/run.log" ||
    fail "the invalidation is not in the worker's log"
grep -q '"msg":"admin request".*"action":"flush","team_id":"all","result":"ok"' "$work/run.log" ||
    fail "the flush is not in the worker's log"
grep -q '"level":"warn".*"msg":"refused an admin request: bad_signature".*"action":"flush"' "$work/run.log" ||
    fail "the refused request is not in the worker's log"
for leaked in "$secret" "$wrong" "v1="; do
    if grep -qF -- "$leaked" "$work/run.log" "$work/summary"; then fail "the worker's log holds a secret or signature"; fi
done
# The records on the audit topic: team 2's two invalidations in one, the flushes, the refusals
# (counted by result).
timeout 60 "$warden" dlq inspect --brokers "$brokers" --dlq-topic events_security_audit --samples 10 \
    --sample-bytes 2000 >"$work/audit.json" 2>"$work/audit.log" || { cat "$work/audit.log"; fail "cannot read the audit topic"; }
for record in '\"kind\":\"admin_request\",\"team_id\":2,\"count\":2' \
    '\"kind\":\"admin_request\",\"team_id\":null,\"count\":' \
    '\"kind\":\"admin_request_refused\",\"team_id\":null,\"count\":' '\"bad_signature\":1'; do
    grep -qF -- "$record" "$work/audit.json" || { cat "$work/audit.json"; fail "no audit record $record"; }
done
if grep -qF -- "$secret" "$work/audit.json"; then fail "an audit record holds the signing secret"; fi

# Exactly-once, idle: no input opens a transaction, so the admin call's record goes out in one of
# its own, at the latest when the worker stops.
"$warden" run --brokers "$brokers" --teams "$root/samples/teams.json" --processing-guarantee exactly-once \
    --group admin-eos --metrics-address 127.0.0.1:0 --admin-signing-secret-file "$work/admin-secret" \
    >"$work/summary" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
wait_for_ops_port "$run_pid" "$work/run.log"
[[ -n "$port" ]] || { tail -n 5 "$work/run.log"; fail "the exactly-once worker logged no ops port"; }
wait_until_admin_accepted "127.0.0.1:$port"
expect_admin 0 invalidate --team 1 --address "127.0.0.1:$port" --signing-secret-file "$work/admin-secret"
sleep 0.5  # a turn of the loop takes the call
kill -TERM "$run_pid"
wait "$run_pid" || fail "the exactly-once worker exited $?"
timeout 60 "$warden" dlq inspect --brokers "$brokers" --dlq-topic events_security_audit --samples 10 \
    --sample-bytes 2000 --consumer-property isolation.level=read_committed >"$work/audit.json" 2>"$work/audit.log" ||
    { cat "$work/audit.log"; fail "cannot read the audit topic"; }
grep -qF -- '\"kind\":\"admin_request\",\"team_id\":1,' "$work/audit.json" ||
    { cat "$work/audit.json"; tail -n 5 "$work/run.log"; fail "no committed audit record of the exactly-once worker's call"; }

echo "admin cli: invalidate and flush answered 200, a wrong secret 401, usage errors 2; logged and counted, no secret"
