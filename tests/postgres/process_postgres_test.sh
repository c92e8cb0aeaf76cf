#!/usr/bin/env bash
# `warden process --postgres` gives the same outcomes as `--teams` for the same teams, and the
# store flags are checked. Runs under tests/support/with_postgres.sh.
#   process_postgres_test.sh WARDEN ROOT
set -euo pipefail
warden=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The sample teams, loaded into the table.
/usr/bin/python3 - "$root/samples/teams.json" > "$work/teams.sql" <<'PY'
import json, sys
def lit(v):
    if v is None: return "NULL"
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, int): return str(v)
    return "'" + str(v).replace("'", "''") + "'"
cols = ["id", "project_id", "name", "api_token", "secret_api_token", "secret_api_token_backup",
        "anonymize_ips", "heatmaps_opt_in"]
for t in json.load(open(sys.argv[1])):
    print("INSERT INTO posthog_team (%s) VALUES (%s);" % (", ".join(cols), ", ".join(lit(t.get(c)) for c in cols)))
PY
psql -q -v ON_ERROR_STOP=1 "$WARDEN_TEST_PG" -c "TRUNCATE posthog_team" -f "$work/teams.sql" >/dev/null

# One audit key for both runs, so their audit records' fingerprints compare.
echo "process-postgres-audit-key-0123456789" > "$work/audit.key"
from_file=$("$warden" process --teams "$root/samples/teams.json" --input "$root/samples/events.jsonl" --output-dir "$work/file" \
    --audit-key-file "$work/audit.key" | tail -n 1)
# The password travels in a file, not on the command line.
password=$(sed -n 's/.*password=\([^ ]*\).*/\1/p' <<< "$WARDEN_TEST_PG")
echo "$password" > "$work/pgpass"
conninfo=$(sed 's/ password=[^ ]*//' <<< "$WARDEN_TEST_PG")
from_pg=$("$warden" process --postgres "$conninfo" --postgres-password-file "$work/pgpass" \
    --input "$root/samples/events.jsonl" --output-dir "$work/pg" --audit-key-file "$work/audit.key" 2>"$work/pg.log" |
    tail -n 1)
[[ "$from_pg" == "$from_file" ]] || { echo "FAIL: postgres summary $from_pg, file summary $from_file"; exit 1; }
# Dead letters carry the time they were written, audit records the times they count; everything
# else must match byte for byte.
timeless() { grep -v dlq_timestamp "$1" | sed -E 's/(first|last)_seen[^,]*,//g'; }
for f in "$work"/file/*.jsonl; do
    if ! diff <(timeless "$f") <(timeless "$work/pg/$(basename "$f")") >/dev/null; then
        echo "FAIL: $(basename "$f") differs between the file and the postgres store"; exit 1
    fi
done
if grep -q -- "$password" "$work/pg.log"; then echo "FAIL: the password reached the log"; exit 1; fi

code=0; "$warden" process --input - --output-dir "$work/x" < /dev/null 2>/dev/null || code=$?
[[ $code -eq 2 ]] || { echo "FAIL: no store: exit $code, want 2"; exit 1; }
code=0; "$warden" process --teams a --postgres b --input - --output-dir "$work/x" < /dev/null 2>/dev/null || code=$?
[[ $code -eq 2 ]] || { echo "FAIL: two stores: exit $code, want 2"; exit 1; }
code=0; "$warden" process --postgres "$conninfo" --postgres-password-file "$work/none" --input - --output-dir "$work/x" \
    < /dev/null 2>/dev/null || code=$?
[[ $code -eq 1 ]] || { echo "FAIL: missing password file: exit $code, want 1"; exit 1; }
echo "process with postgres: same outcomes as the teams file: $from_pg"
