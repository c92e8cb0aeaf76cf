#!/usr/bin/env bash
# The PostgreSQL team store fails fast on what waiting cannot fix, gives up on an outage after the
# bounded wait, and never shows a password, whatever form it was given in. Runs under
# tests/support/with_postgres.sh.
#   store_fail_fast_test.sh WARDEN ROOT
set -euo pipefail
warden=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<< "$WARDEN_TEST_PG")
admin() { psql -q -v ON_ERROR_STOP=1 "$WARDEN_TEST_PG" -c "$1" >/dev/null; }
reader_password='Reader-Pass-31'
admin "ALTER ROLE warden_reader PASSWORD '$reader_password'"
# A table without a column warden reads, and one the reader may not read.
admin "DROP TABLE IF EXISTS team_missing_column; CREATE TABLE team_missing_column (id bigint, project_id bigint, name text, api_token text)"
admin "DROP TABLE IF EXISTS team_not_granted; CREATE TABLE team_not_granted (LIKE posthog_team)"
reader="host=127.0.0.1 port=$port dbname=warden user=warden_reader"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect NAME CODE MAX_SECONDS PATTERN SECRETS COMMAND...: the command exits with CODE within
# MAX_SECONDS, its stderr matches PATTERN (extended regex, case-insensitive), and none of the
# space-separated SECRETS appears in its stdout or stderr.
expect() {
    local name=$1 code=$2 max=$3 pattern=$4 secrets=$5
    shift 5
    local started=$SECONDS status=0
    timeout 30 "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
    local took=$((SECONDS - started))
    if [[ $status -ne $code ]]; then fail "$name: exit $status, want $code"; tail -n 3 "$work/err"; fi
    if [[ $took -gt $max ]]; then fail "$name: took ${took}s, want at most ${max}s"; fi
    if ! grep -qiE -- "$pattern" "$work/err"; then fail "$name: no message matching '$pattern'"; tail -n 3 "$work/err"; fi
    for secret in $secrets; do
        if grep -qF -- "$secret" "$work/out" "$work/err"; then
            fail "$name: '$secret' was shown"; grep -hF -- "$secret" "$work/out" "$work/err" | head -n 2
        fi
    done
    echo "$name: exit $status in ${took}s: $(grep -v '^{"ts"' "$work/err" | tail -n 1 | cut -c1-240)"
}
process=("$warden" process --input "$root/samples/events.jsonl" --output-dir "$work/o")

expect "wrong password" 1 10 'password.*--postgres|--postgres.*password' "Wrong-Pass-7" \
    "${process[@]}" --postgres "$reader password=Wrong-Pass-7"
echo "Wrong-File-Pass-8" > "$work/pgpass"
expect "wrong password from a file" 1 10 'password' "Wrong-File-Pass-8" \
    "${process[@]}" --postgres "$reader" --postgres-password-file "$work/pgpass"
expect "wrong PGPASSWORD" 1 10 'password' "Wrong-Env-Pass-9" \
    env PGPASSWORD=Wrong-Env-Pass-9 "$warden" process --postgres "$reader" --input "$root/samples/events.jsonl" --output-dir "$work/o"
expect "no password at all" 1 10 'password' "" \
    env -u PGPASSWORD "$warden" process --postgres "$reader" --input "$root/samples/events.jsonl" --output-dir "$work/o"
expect "unknown user" 1 10 'user|password' "$reader_password" \
    "${process[@]}" --postgres "host=127.0.0.1 port=$port dbname=warden user=no_such_user password=$reader_password"
expect "unknown database" 1 10 'database' "$reader_password" \
    "${process[@]}" --postgres "host=127.0.0.1 port=$port dbname=no_such_db user=warden_reader password=$reader_password"
expect "unknown table" 1 10 '--postgres-table' "$reader_password" \
    "${process[@]}" --postgres "$reader password=$reader_password" --postgres-table no_such_table
expect "missing column" 1 10 'column' "" \
    "${process[@]}" --postgres "$WARDEN_TEST_PG" --postgres-table team_missing_column
expect "SELECT not granted" 1 10 'permission|privilege' "$reader_password" \
    "${process[@]}" --postgres "$reader password=$reader_password" --postgres-table team_not_granted

# Unparseable connection URIs: libpq's own message would quote the password.
expect "raw % in a URI password" 1 5 '--postgres.*(percent|%25)' "pa%ss-Secret ss-Secret" \
    "${process[@]}" --postgres "postgresql://warden_reader:pa%ss-Secret@127.0.0.1:$port/warden"
expect "%00 in a URI password" 1 5 '--postgres' "ab%00cd-Secret cd-Secret" \
    "${process[@]}" --postgres "postgresql://warden_reader:ab%00cd-Secret@127.0.0.1:$port/warden"
expect "unterminated quote" 1 5 '--postgres' "Quote-Secret" \
    "${process[@]}" --postgres "host=127.0.0.1 password='Quote-Secret"
expect "unknown setting" 1 10 '--postgres' "" \
    "${process[@]}" --postgres "host=127.0.0.1 port=$port sslmode=sometimes"

# A password that is part of the host name, refused: the host name is redacted rather than the
# password shown.
expect "password inside the host name" 1 10 'password' "ocalhos" \
    "${process[@]}" --postgres "host=localhost port=$port dbname=warden user=warden_reader password=ocalhos"

# Passwords full of URI and conninfo syntax work, in both forms, and are never shown.
for password in 'p%w 25%25' "q'uo\\te \"x\"" 'sp ace&amp=%00'; do
    escaped=${password//\'/\'\'}
    admin "ALTER ROLE warden_reader PASSWORD '$escaped'"
    encoded=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$password")
    quoted=$(/usr/bin/python3 -c 'import sys; print("\x27" + sys.argv[1].replace("\\", "\\\\").replace("\x27", "\\\x27") + "\x27")' "$password")
    expect "special password as a URI" 0 20 '"postgres connected"' "$encoded" \
        "${process[@]}" --postgres "postgresql://warden_reader:$encoded@127.0.0.1:$port/warden"
    expect "special password in a conninfo" 0 20 '"postgres connected"' "" \
        "${process[@]}" --postgres "$reader password=$quoted"
    grep -qF -- "$password" "$work/out" "$work/err" && fail "special password $password was shown"
    expect "special password, wrong, as a URI" 1 10 'password' "${encoded}x" \
        "${process[@]}" --postgres "postgresql://warden_reader:${encoded}x@127.0.0.1:$port/warden"
    grep -qF -- "${password}x" "$work/out" "$work/err" && fail "wrong special password ${password}x was shown"
done
admin "ALTER ROLE warden_reader PASSWORD '$reader_password'"

# The password file's first line is the password exactly: trailing spaces are part of it, only the
# line ending (\n or \r\n) goes.
admin "ALTER ROLE warden_reader PASSWORD 'Read3rPw#%''q '"
printf "Read3rPw#%%'q \r\nsecond line\n" > "$work/spaced"
expect "password file, trailing space kept" 0 20 '"postgres connected"' "" \
    "${process[@]}" --postgres "$reader" --postgres-password-file "$work/spaced"
printf "Read3rPw#%%'q\n" > "$work/unspaced"
expect "password file, without the trailing space" 1 10 'password' "" \
    "${process[@]}" --postgres "$reader" --postgres-password-file "$work/unspaced"
admin "ALTER ROLE warden_reader PASSWORD '$reader_password'"
# A password given where the name of its file belongs is not shown.
expect "password given as the file name" 1 5 'does not exist' "Sup3rS3cretPW" \
    "${process[@]}" --postgres "$reader" --postgres-password-file Sup3rS3cretPW
expect "password given as the file name, in the environment" 1 5 'does not exist' "Sup3rS3cretPW" \
    env WARDEN_POSTGRES_PASSWORD_FILE=Sup3rS3cretPW "${process[@]}" --postgres "$reader"

# run and replay check the store before they consume.
expect "run, wrong password" 1 10 'password' "Wrong-Pass-7" \
    "$warden" run --brokers 127.0.0.1:1 --postgres "$reader password=Wrong-Pass-7" --metrics-address off
expect "replay, unknown table" 1 10 '--postgres-table' "$reader_password" \
    "$warden" replay --brokers 127.0.0.1:1 --postgres "$reader password=$reader_password" --postgres-table nope

# An outage outlasting the bounded wait ends a one-shot command; the wait is not cut short.
eval "$WARDEN_TEST_PG_STOP"
started=$SECONDS
expect "server stopped" 1 15 'did not answer|unavailable' "$reader_password" \
    "${process[@]}" --postgres "$reader password=$reader_password" --store-wait-timeout-ms 3000
[[ $((SECONDS - started)) -ge 3 ]] || fail "server stopped: gave up before the 3 s wait"
eval "$WARDEN_TEST_PG_START"

[[ $failures -eq 0 ]] || { echo "$failures failures"; exit 1; }
echo "the store fails fast on permanent errors and never shows a password"
