#!/usr/bin/env bash
# `warden check` against a mock cluster and a throwaway PostgreSQL: it passes only when every
# dependency is as `run` needs it, names what to fix otherwise, says where each setting came
# from, and never shows a credential. Runs under tests/support/with_postgres.sh.
#   check_command_test.sh WARDEN ROOT
set -euo pipefail
warden=$1
root=$2
work=$(mktemp -d)
mock_pid=
cleanup() {
    [[ -n $mock_pid ]] && kill "$mock_pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$warden" mock-cluster --partitions 2 --bootstrap-file "$work/bootstrap" >/dev/null 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [[ -s "$work/bootstrap" ]] && break; sleep 0.1; done
brokers=$(cat "$work/bootstrap")

port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<< "$WARDEN_TEST_PG")
admin_password=$(sed -n 's/.*password=\([^ ]*\).*/\1/p' <<< "$WARDEN_TEST_PG")
admin() { PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$WARDEN_TEST_PG" -c "$1" >/dev/null; }
reader_password='Check-Reader-77'
admin "ALTER ROLE warden_reader PASSWORD '$reader_password'"
echo "$reader_password" > "$work/reader_password"
reader="host=127.0.0.1 port=$port dbname=warden user=warden_reader"
sasl_password='Sasl-Secret-4242'
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# check NAME CODE PATTERN... -- ARGS...: `warden check ARGS` exits with CODE, its stdout matches
# every PATTERN (extended regex), and no credential appears in its stdout or stderr.
check() {
    local name=$1 code=$2 status=0
    shift 2
    local patterns=()
    while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
    shift
    timeout 60 "$warden" check --brokers "$brokers" --timeout-ms 3000 "$@" >"$work/out" 2>"$work/err" </dev/null ||
        status=$?
    if [[ $status -ne $code ]]; then fail "$name: exit $status, want $code"; tail -n 12 "$work/out"; tail -n 3 "$work/err"; fi
    for pattern in "${patterns[@]}"; do
        grep -qE -- "$pattern" "$work/out" || { fail "$name: no line matching '$pattern'"; tail -n 12 "$work/out"; }
    done
    for secret in "$reader_password" "$admin_password" "$sasl_password"; do
        if grep -qF -- "$secret" "$work/out" "$work/err"; then fail "$name: a credential was shown"; fi
    done
    echo "$name: exit $status; $(tail -n 1 "$work/out")"
}

# Everything as `run` needs it: the reader role of deploy/sql/003, the triggers of 002.
check "reader" 0 '^  pass  team lookup' '^  pass  team store role: role warden_reader reads the lookup' \
    '^  pass  team change notifications' '^  pass  input topic events_plugin_ingestion: 2 partitions' \
    '^all 11 checks passed$' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password"

# Where each setting came from, and credentials masked wherever they were given.
printf 'group = "from-file"\nbatch-size = 10\n' > "$work/warden.toml"
WARDEN_CONFIG="$work/warden.toml" WARDEN_BATCH_SIZE=20 WARDEN_KAFKA_SASL_PASSWORD="$sasl_password" \
    check "origins" 0 "^  group = from-file  \[$work/warden.toml:1\]$" \
    '^  batch-size = 20  \[environment WARDEN_BATCH_SIZE\]$' '^  threads = 1  \[flag\]$' \
    '^  kafka-property = sasl.password=\(secret\)  \[environment WARDEN_KAFKA_SASL_PASSWORD\]$' \
    '^  input-topic = events_plugin_ingestion  \[default\]$' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password" --threads 1

# A superuser is more than warden needs; its password, given in the conninfo, is not shown.
check "superuser" 1 '^  FAIL  team store role: role postgres has more than it needs: SUPERUSER' \
    '^  postgres = .*password=' '^1 of 11 checks failed$' -- --postgres "$WARDEN_TEST_PG"

# A reader that may also write, and one that reads every column of a wider table.
admin "DROP ROLE IF EXISTS wide_reader; CREATE ROLE wide_reader LOGIN PASSWORD '$reader_password'"
admin "ALTER TABLE posthog_team ADD COLUMN IF NOT EXISTS api_query_key text"
admin "GRANT SELECT, INSERT ON posthog_team TO wide_reader"
check "wide reader" 1 \
    '^  FAIL  team store role: role wide_reader has more than it needs: INSERT, SELECT on api_query_key; run warden as a reader' \
    -- --postgres "host=127.0.0.1 port=$port dbname=warden user=wide_reader" \
    --postgres-password-file "$work/reader_password"

# A reader that lost a column the lookup reads.
admin "REVOKE SELECT (heatmaps_opt_in) ON posthog_team FROM warden_reader"
check "missing column" 1 '^  FAIL  team lookup: .*permission denied' \
    '^  FAIL  team store role: role warden_reader cannot read heatmaps_opt_in: grant SELECT' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password"
admin "GRANT SELECT (heatmaps_opt_in) ON posthog_team TO warden_reader"

# Without the notification triggers, rotations wait for the cache TTL.
admin "ALTER TABLE posthog_team DISABLE TRIGGER warden_team_truncate"
check "no triggers" 1 '^  FAIL  team change notifications: LISTEN warden_team_changed works, but posthog_team lacks' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password"
admin "ALTER TABLE posthog_team ENABLE TRIGGER warden_team_truncate"

# A misspelt topic is named with its setting; the rest still passes.
check "topic typo" 1 '^  FAIL  dead-letter topic events_dql: does not exist: create it, or correct --dlq-topic' \
    '^  pass  analytics topic' '^1 of 11 checks failed$' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password" --dlq-topic events_dql

# Unreachable brokers and a wrong password: each failure says what to check.
check "no brokers" 1 '^  FAIL  brokers 127.0.0.1:9: no answer within 3000 ms .*check --brokers' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password" --brokers 127.0.0.1:9
echo "not-the-password" > "$work/wrong_password"
check "wrong password" 1 '^  FAIL  team lookup: .*password authentication failed' \
    -- --postgres "$reader" --postgres-password-file "$work/wrong_password"

# A teams file instead of PostgreSQL.
check "teams file" 0 "^  pass  teams file: $root/samples/teams.json: 2 teams$" '^all 9 checks passed$' \
    -- --teams "$root/samples/teams.json"

# The key usage writer (deploy/sql/005): its role passes; the reader in its place is told what to grant.
usage_password='Check-Usage-5150'
admin "ALTER ROLE warden_key_usage PASSWORD '$usage_password'"
echo "$usage_password" > "$work/usage_password"
check "key usage role" 0 '^  pass  key usage write: the role may set last_used_at of posthog_projectsecretapikey$' \
    '^all 12 checks passed$' \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password" \
    --project-key-usage-postgres "host=127.0.0.1 port=$port dbname=warden user=warden_key_usage" \
    --project-key-usage-password-file "$work/usage_password"
check "key usage as the reader" 1 \
    "^  FAIL  key usage write: PostgreSQL refuses the write of keys' last use .*permission denied.*005_key_usage_role.sql" \
    -- --postgres "$reader" --postgres-password-file "$work/reader_password" \
    --project-key-usage-postgres "$reader" --project-key-usage-password-file "$work/reader_password"
if grep -qF -- "$usage_password" "$work/out" "$work/err"; then fail "key usage: its password was shown"; fi

# A usage error is refused as `run` refuses it (exit 2), before anything is checked.
check "usage error" 2 -- --teams "$root/samples/teams.json" --transactional-id t1

[[ $failures -eq 0 ]] || { echo "$failures failure(s)"; exit 1; }
echo "warden check: all cases passed"
