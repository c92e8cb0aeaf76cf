#!/usr/bin/env bash
# `warden run --project-key-usage-postgres` end to end, under tests/support/with_postgres.sh: a
# worker reading teams as warden_reader and writing keys' last use as warden_key_usage (the roles
# of deploy/sql/003 and 005, each with a random password from a file) processes events sent with
# a scoped project key, an unscoped one and a public token. Both keys presented get last_used_at,
# the key never presented does not, the metrics count what was written, and no password reaches
# the logs. Then the option combinations that cannot write are refused, naming the option.
#   key_usage_run_test.sh WARDEN ROOT
set -euo pipefail
[[ -n ${WARDEN_TEST_PG-} ]] || { echo "FAIL: runs under tests/support/with_postgres.sh (no WARDEN_TEST_PG)"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/../cli/scratch.sh"
fail() { echo "FAIL: $*"; exit 1; }

scoped_key=phs_RunUsageScoped$RANDOM$RANDOM
unscoped_key=phs_RunUsageUnscoped$RANDOM$RANDOM
idle_key=phs_RunUsageIdle$RANDOM$RANDOM
hash() { printf 'sha256$%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"; }
reader_password=reader-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
usage_password=usage-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
psql -q -v ON_ERROR_STOP=1 "$WARDEN_TEST_PG" >/dev/null <<SQL
ALTER ROLE warden_reader PASSWORD '$reader_password';
ALTER ROLE warden_key_usage PASSWORD '$usage_password';
DELETE FROM posthog_projectsecretapikey WHERE team_id = 61;
DELETE FROM posthog_team WHERE id = 61;
INSERT INTO posthog_team (id, project_id, name, api_token) VALUES (61, 61, 'key usage', 'phc_RunUsagePublic61');
INSERT INTO posthog_projectsecretapikey (id, label, secure_value, scopes, team_id) VALUES
  ('u61a', 'scoped', '$(hash "$scoped_key")', ARRAY['event:write'], 61),
  ('u61b', 'unscoped', '$(hash "$unscoped_key")', ARRAY['feature_flag:read'], 61),
  ('u61c', 'idle', '$(hash "$idle_key")', ARRAY['event:write'], 61);
SQL
printf '%s\n' "$reader_password" > "$work/reader.pass"
printf '%s\n' "$usage_password" > "$work/usage.pass"
pg_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<< "$WARDEN_TEST_PG")
database="host=127.0.0.1 port=$pg_port dbname=warden"
last_used() {  # last_used ID: t when the key's last_used_at is set, f otherwise
    psql -qtA "$WARDEN_TEST_PG" -c "SELECT last_used_at IS NOT NULL FROM posthog_projectsecretapikey WHERE id = '$1'"
}

start_mock_cluster 2
/usr/bin/python3 - "$work/events.jsonl" "$scoped_key" "$unscoped_key" <<'PY'
import json, sys, uuid
out, scoped, unscoped = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w") as f:
    for n, token in enumerate([scoped, scoped, scoped, unscoped, "phc_RunUsagePublic61"]):
        ts, u = "2026-11-20T10:00:00.000Z", str(uuid.uuid4())
        data = {"event": "$pageview", "distinct_id": f"user-{n}", "properties": {}, "timestamp": ts}
        value = {"uuid": u, "distinct_id": f"user-{n}", "ip": "198.51.100.7", "data": json.dumps(data), "now": ts,
                 "sent_at": ts, "token": token, "event": "$pageview", "timestamp": ts}
        f.write(json.dumps({"topic": "events_plugin_ingestion", "key": f"{token}:user-{n}",
                            "payload": json.dumps(value),
                            "headers": ["token", token, "distinct_id", f"user-{n}", "uuid", u]}) + "\n")
PY
timeout 60 "$warden" produce --brokers "$brokers" --input "$work/events.jsonl" >/dev/null 2>"$work/produce.log" ||
    { tail -n 5 "$work/produce.log"; fail "produce failed"; }

"$warden" run --brokers "$brokers" --postgres "$database user=warden_reader" \
    --postgres-password-file "$work/reader.pass" \
    --project-key-usage-postgres "$database user=warden_key_usage" \
    --project-key-usage-password-file "$work/usage.pass" --project-key-usage-interval-ms 1000 \
    --group key-usage --metrics-address 127.0.0.1:0 --consumer-property fetch.wait.max.ms=10 \
    >"$work/run.out" 2>"$work/run.log" &
worker_pid=$!
pids+=("$worker_pid")
wait_for_ops_port "$worker_pid" "$work/run.log"
[[ -n $port ]] || { tail -n 20 "$work/run.log"; fail "the worker did not start"; }
metric() {  # metric NAME_WITH_LABELS: its value on the worker's /metrics (0 when absent)
    curl -s --max-time 3 "http://127.0.0.1:$port/metrics" |
        awk -v m="$1" 'index($0, m " ") == 1 { printf "%d\n", $NF; found = 1 } END { if (!found) print 0 }'
}

# Flushed every second (the interval): both keys' last use is written within seconds.
for _ in $(seq 150); do
    [[ $(last_used u61a) == t && $(last_used u61b) == t ]] && break
    sleep 0.2
done
[[ $(last_used u61a) == t ]] || { tail -n 20 "$work/run.log"; fail "the scoped key's last_used_at was not written"; }
[[ $(last_used u61b) == t ]] || fail "the unscoped key's last_used_at was not written (it was presented)"
[[ $(last_used u61c) == f ]] || fail "a key never presented got a last_used_at"
for _ in $(seq 50); do
    [[ $(metric 'warden_project_key_usage_keys_total{outcome="updated"}') == 2 ]] && break
    sleep 0.1
done
updated=$(metric 'warden_project_key_usage_keys_total{outcome="updated"}')
noted=$(metric 'warden_project_key_usage_keys_total{outcome="noted"}')
failures=$(metric 'warden_project_key_usage_write_failures_total')
[[ $updated == 2 && $noted == 2 && $failures == 0 ]] ||
    fail "metrics: want 2 updated, 2 noted, 0 failures; got $updated, $noted, $failures"
verified=$(metric 'warden_verified_property_total{action="verified"}')
kill -TERM "$worker_pid"
wait "$worker_pid" || fail "the worker did not stop cleanly"
for secret in "$reader_password" "$usage_password" "$scoped_key" "$unscoped_key"; do
    if grep -qF -- "$secret" "$work/run.log" "$work/run.out"; then fail "a password or key reached the worker's output"; fi
done
echo "key usage written by run: 2 keys updated, 1 left alone ($verified events verified)"

# What cannot write is refused before anything runs, naming the option.
refused() {  # refused WANT ARGS...: warden run ARGS exits 2 saying WANT
    local want=$1
    shift
    set +e
    timeout 30 "$warden" run --brokers "$brokers" --metrics-address off "$@" >/dev/null 2>"$work/refused.log"
    local rc=$?
    set -e
    [[ $rc == 2 ]] || { cat "$work/refused.log"; fail "want exit 2 for: $want; got $rc"; }
    grep -qF -- "$want" "$work/refused.log" || { cat "$work/refused.log"; fail "no '$want' in the refusal"; }
}
echo '[]' > "$work/teams.json"
refused "--project-key-usage-postgres needs --postgres" --teams "$work/teams.json" \
    --project-key-usage-postgres "$database user=warden_key_usage"
refused "needs the key table" --postgres "$database" --postgres-key-table "" \
    --project-key-usage-postgres "$database user=warden_key_usage"
refused "--project-key-usage-password-file needs --project-key-usage-postgres" --postgres "$database" \
    --project-key-usage-password-file "$work/usage.pass"
refused "--project-key-usage-interval-ms" --postgres "$database" \
    --project-key-usage-postgres "$database user=warden_key_usage" --project-key-usage-interval-ms 2592000001
echo "refused: without PostgreSQL, without a key table, a password file alone, an interval past 30 days"
