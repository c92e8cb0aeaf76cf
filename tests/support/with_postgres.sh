#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server on a free loopback port, with deploy/sql
# applied to a fresh database, and removes the server afterwards.
#   tests/support/with_postgres.sh COMMAND [ARGS...]
# The command gets WARDEN_TEST_PG (conninfo of a superuser), WARDEN_TEST_PG_STOP and
# WARDEN_TEST_PG_START (shell commands that stop and start the same server, for outage tests).
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x "$bindir/initdb" ]] || { echo "with_postgres: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }

as_server=()
if [[ "$(id -u)" -eq 0 ]]; then as_server=(runuser -u postgres --); fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/warden-pg.XXXXXX")"
chmod 755 "$dir"
[[ "$(id -u)" -eq 0 ]] && chown postgres: "$dir"

# Free loopback ports, as every server helper picks them.
source "$root/tests/support/free_port.sh"

pg_ctl=("${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log")
cleanup() {
    "${pg_ctl[@]}" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

# Password authentication over TCP, so tests can check that a wrong password is refused.
password="warden-test-$RANDOM$RANDOM"
echo "$password" > "$dir/pwfile"
[[ "$(id -u)" -eq 0 ]] && chown postgres: "$dir/pwfile"
"${as_server[@]}" "$bindir/initdb" -D "$dir/data" --no-sync --auth-local=trust --auth-host=scram-sha-256 \
    -U postgres --pwfile="$dir/pwfile" >/dev/null
# A port can still be taken between the check and the bind: start on another one, a few times.
for attempt in 1 2 3 4 5; do
    port=$(free_loopback_port)
    server_options="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c full_page_writes=off"
    if "${pg_ctl[@]}" -o "$server_options" -w -t 30 start >/dev/null; then break; fi
    if [[ $attempt -eq 5 ]]; then
        echo "with_postgres: the server did not start; the end of its log:" >&2
        tail -n 20 "$dir/server.log" >&2
        exit 1
    fi
    echo "with_postgres: the server did not start on port $port (attempt $attempt); trying another" >&2
    grep -E 'FATAL|ERROR|LOG:  could not' "$dir/server.log" | tail -n 3 >&2 || true
done

export PGPASSWORD="$password"
psql_cmd=(psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
"${psql_cmd[@]}" -d postgres -c "CREATE DATABASE warden" >/dev/null
for sql in "$root"/deploy/sql/*.sql; do
    PGOPTIONS="-c client_min_messages=warning" "${psql_cmd[@]}" -d warden -f "$sql" >/dev/null
done

printf -v stop_cmd '%q ' "${pg_ctl[@]}" stop -m fast -w
printf -v start_cmd '%q ' "${pg_ctl[@]}" -o "$server_options" -w -t 30 start
unset PGPASSWORD
export WARDEN_TEST_PG="host=127.0.0.1 port=$port dbname=warden user=postgres password=$password"
export WARDEN_TEST_PG_STOP="$stop_cmd >/dev/null"
export WARDEN_TEST_PG_START="$start_cmd >/dev/null"
"$@"
