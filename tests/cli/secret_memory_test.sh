#!/usr/bin/env bash
# "No plaintext secrets held in memory longer than a lookup": a running `warden run` worker's
# memory must not hold any team secret that was not in a message it processed. Three teams get
# fresh random secrets and backups; the worker processes one event sent with team A's secret and
# a few sent with team B's public token (team C is never mentioned); then every readable mapping
# of the live worker is read through /proc/PID/mem and searched. Team A's secret may be there
# (it was in a message); team A's backup and all of team B's and C's secrets must not be: neither
# kept by the team store or cache, nor left behind in freed memory (the teams file's text, its
# parse) where a core dump would show them.
#
# With --postgres (run under tests/support/with_postgres.sh, as production runs: suite
# 'postgres'), the teams are rows of posthog_team, read by the least-privilege login
# warden_reader, and a fourth team D joins them: its secret is not key-shaped (no phs_ prefix; the
# store reads such a secret once, to fingerprint it, then wipes it) and its backup is. One more
# event, sent last, has team D's public token, so that its row is fetched. Team D's secret and
# backup must not be in the worker's memory either. The PostgreSQL server is a process of its own:
# only the worker's memory is scanned. The lookup's parameters hold the batch's tokens, team A's
# secret among them (allowed: it was in a message), never a token of a team's row.
#   secret_memory_test.sh [--postgres] WARDEN ROOT
set -euo pipefail
store=file
if [[ ${1-} == --postgres ]]; then
    store=postgres
    shift
    [[ -n ${WARDEN_TEST_PG-} ]] || { echo "FAIL: --postgres runs under tests/support/with_postgres.sh (no WARDEN_TEST_PG)"; exit 1; }
fi
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
# meson test sets MALLOC_PERTURB_, with which glibc overwrites freed memory: a worker in production
# runs without it, so copies left in freed memory must count here too.
unset MALLOC_PERTURB_
# The check is about the release build, the one that runs in production. A sanitizer build maps
# terabytes of shadow memory, which no scan reads in bounded time, and allocates differently.
if grep -aqE "__(asan|tsan|msan)_init" "$warden"; then
    echo "SKIP: $warden is a sanitizer build; the memory scan runs against the release build"
    exit 77
fi

# Stops the worker within a bounded time (SIGCONT first: the scan stops it while it reads), then
# scratch.sh's cleanup stops the mock cluster and removes $work.
worker_pid=
stop_worker() {
    [[ -n $worker_pid ]] || return 0
    kill -CONT "$worker_pid" 2>/dev/null || true
    kill -TERM "$worker_pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true
    worker_pid=
}
trap 'stop_worker; cleanup' EXIT

# Per run: the teams (a teams file, or with --postgres the SQL that inserts them), the events (kcat
# -J envelopes for `warden produce`) and the needles (role, rule, prefix, value) the scan looks
# for. The secrets are random, so that nothing but this run's teams can have put them in memory;
# the scan looks for the 40 random characters after the prefix (`phs_`, or team D's `legacy-`), so
# that a secret kept without its prefix counts too. The input topic has a random name as well: the
# worker must keep it, so finding it proves the scan reads the heap (the test cannot pass vacuously).
/usr/bin/python3 - "$work" "$store" <<'PY'
import json, secrets, string, sys, uuid
work, store = sys.argv[1], sys.argv[2]
alnum = string.ascii_letters + string.digits
rand = lambda n: "".join(secrets.choice(alnum) for _ in range(n))
teams, needles = [], []
for i, letter in enumerate("ABCD" if store == "postgres" else "ABC"):
    # Team D (PostgreSQL only): a legacy secret that is not a phs_ key; its backup is one.
    secret_prefix = "legacy-" if letter == "D" else "phs_"
    team = {"id": 101 + i, "project_id": 101 + i, "name": f"secret memory team {letter}",
            "api_token": "phc_" + rand(40), "secret_api_token": secret_prefix + rand(40),
            "secret_api_token_backup": "phs_" + rand(40), "anonymize_ips": False, "heatmaps_opt_in": None}
    teams.append(team)
    role = f"team {letter} secret" + (" (not key-shaped)" if letter == "D" else "")
    needles.append((role, "allowed" if letter == "A" else "forbidden", secret_prefix, team["secret_api_token"][-40:]))
    needles.append((f"team {letter} backup secret", "forbidden", "phs_", team["secret_api_token_backup"][-40:]))
topic = "secret_memory_" + rand(24).lower()
needles.append(("input topic name", "required", "", topic))
needles.append(("team B public token", "info", "", teams[1]["api_token"]))
if store == "postgres":
    needles.append(("team D public token", "info", "", teams[3]["api_token"]))
    def lit(v):
        if v is None: return "NULL"
        if isinstance(v, bool): return "true" if v else "false"
        if isinstance(v, int): return str(v)
        return "'" + str(v).replace("'", "''") + "'"
    cols = ["id", "project_id", "name", "api_token", "secret_api_token", "secret_api_token_backup",
            "anonymize_ips", "heatmaps_opt_in"]
    with open(f"{work}/teams.sql", "w") as f:
        for t in teams:
            f.write("INSERT INTO posthog_team (%s) VALUES (%s);\n" % (", ".join(cols), ", ".join(lit(t[c]) for c in cols)))
else:
    json.dump(teams, open(f"{work}/teams.json", "w"), indent=2)

def envelope(token, n):
    distinct, event, ts = f"user-{n}", "$pageview", "2026-11-20T10:00:00.000Z"
    u = str(uuid.uuid4())
    data = {"event": event, "distinct_id": distinct, "properties": {"$current_url": "https://example.com/"},
            "timestamp": ts}
    value = {"uuid": u, "distinct_id": distinct, "ip": "198.51.100.7", "data": json.dumps(data),
             "now": ts, "sent_at": ts, "token": token, "event": event, "timestamp": ts}
    return {"topic": topic, "key": f"{token}:{distinct}", "payload": json.dumps(value),
            "headers": ["token", token, "distinct_id", distinct, "event", event, "uuid", u,
                        "timestamp", "1795168800000"]}
# One event with team A's secret, three with team B's public token, none for team C. With
# --postgres, then one with team D's public token, sent once the others are processed: its lookup
# is then the worker's latest, as in a worker quiet since, so that no copy the next lookup would
# overwrite goes unseen (the outcome would otherwise hang on which member happened to query last).
events = [envelope(teams[0]["secret_api_token"], 0)] + [envelope(teams[1]["api_token"], n) for n in (1, 2, 3)]
with open(f"{work}/events.jsonl", "w") as f:
    for e in events: f.write(json.dumps(e) + "\n")
if store == "postgres":
    with open(f"{work}/events_late.jsonl", "w") as f:
        f.write(json.dumps(envelope(teams[3]["api_token"], 4)) + "\n")
with open(f"{work}/needles.tsv", "w") as f:
    for role, rule, prefix, value in needles: f.write(f"{role}\t{rule}\t{prefix}\t{value}\n")
open(f"{work}/topic", "w").write(topic)
PY
topic=$(cat "$work/topic")
events=$(grep -c . "$work/events.jsonl")

# The team store: the teams file, or the rows inserted into posthog_team and read as production
# reads them, by warden_reader with a random password from a file (so that it is on no command line).
if [[ $store == postgres ]]; then
    reader_password=$(/usr/bin/python3 -c 'import secrets; print("reader-" + secrets.token_hex(16))')
    psql -q -v ON_ERROR_STOP=1 "$WARDEN_TEST_PG" -c "ALTER ROLE warden_reader PASSWORD '$reader_password'" \
        -c "TRUNCATE posthog_team" -f "$work/teams.sql" >/dev/null
    rm -f "$work/teams.sql"
    printf '%s\n' "$reader_password" > "$work/pgpass"
    pg_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<< "$WARDEN_TEST_PG")
    store_args=(--postgres "host=127.0.0.1 port=$pg_port dbname=warden user=warden_reader"
        --postgres-password-file "$work/pgpass")
else
    store_args=(--teams "$work/teams.json")
fi

# Loopback only: the mock cluster (a process of its own, so the brokers' copies of the messages
# are not in the worker's memory) and the worker's ops port.
# (scratch.sh's start_mock_cluster creates only the default input topic.)
"$warden" mock-cluster --partitions 2 --input-topic "$topic" --bootstrap-file "$work/bootstrap.topic" \
    >/dev/null 2>>"$work/mock.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/bootstrap.topic" ]] && break; sleep 0.1; done
brokers=$(cat "$work/bootstrap.topic")
[[ $brokers == 127.0.0.1:* ]] || { echo "FAIL: the mock cluster did not start on loopback: '$brokers'"; exit 1; }
produce() {  # produce FILE: its events onto the input topic
    timeout 60 "$warden" produce --brokers "$brokers" --topic "$topic" --input "$1" \
        >/dev/null 2>"$work/produce.log" || { echo "FAIL: produce failed:"; tail -n 5 "$work/produce.log"; exit 1; }
}
produce "$work/events.jsonl"

# Two group members (one team cache each), as a worker on two cores runs. Not wrapped in
# `timeout`: $worker_pid must be warden itself, whose memory is scanned.
"$warden" run --brokers "$brokers" "${store_args[@]}" --input-topic "$topic" --group secret-memory \
    --threads 2 --metrics-address 127.0.0.1:0 --consumer-property session.timeout.ms=6000 \
    --consumer-property fetch.wait.max.ms=10 >"$work/run.out" 2>"$work/run.log" &
worker_pid=$!

metric() {  # metric NAME_WITH_LABELS: its value on the worker's /metrics (0 when absent)
    /usr/bin/python3 - "$port" "$1" 2>/dev/null <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=3).read().decode()
print(next((int(float(l.split()[-1])) for l in text.splitlines() if l.startswith(sys.argv[2] + " ")), 0))
PY
}
wait_for_ops_port "$worker_pid" "$work/run.log"
[[ -n $port ]] || { echo "FAIL: the worker did not serve /metrics:"; tail -n 5 "$work/run.log"; exit 1; }
# Processed: every event consumed and produced, team A's verified (so the worker did look its
# secret up, and team B's public token, in the teams it loaded; with --postgres team D's as well:
# an event of an unknown token is not produced, so team D's row, unshaped secret and all, was fetched).
wait_processed() {  # wait_processed N: N events processed in all
    local want=$1 consumed=0 verified=0 produced=0
    for _ in $(seq 600); do
        kill -0 "$worker_pid" 2>/dev/null || { echo "FAIL: the worker exited:"; tail -n 5 "$work/run.log"; exit 1; }
        consumed=$(metric "warden_events_consumed_total{topic=\"$topic\"}" || echo 0)
        verified=$(metric 'warden_verified_property_total{action="verified"}' || echo 0)
        produced=$(metric 'warden_events_produced_total{topic="events_analytics"}' || echo 0)
        ((consumed >= want && verified >= 1 && produced >= want)) && break
        sleep 0.1
    done
    ((consumed == want && verified == 1 && produced == want)) || {
        echo "FAIL: want $want events consumed and produced, 1 verified; got $consumed consumed," \
            "$produced produced, $verified verified"
        tail -n 5 "$work/run.log"
        exit 1
    }
}
wait_processed "$events"
if [[ -f $work/events_late.jsonl ]]; then
    produce "$work/events_late.jsonl"
    events=$((events + $(grep -c . "$work/events_late.jsonl")))
    wait_processed "$events"
fi

# The scan: the worker is stopped (SIGSTOP) so that it reads as one snapshot, as a core dump
# would; every readable mapping is read through /proc/PID/mem. Never prints a needle's value.
kill -STOP "$worker_pid"
set +e
timeout 120 /usr/bin/python3 - "$worker_pid" "$(readlink -f "$warden")" "$work/needles.tsv" <<'PY'
import os, sys, time
pid, exe, needles_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
needles = [line.rstrip("\n").split("\t") for line in open(needles_file)]
needles = [(role, rule, prefix.encode(), value.encode()) for role, rule, prefix, value in needles]
longest = max(len(p) + len(v) for _, _, p, v in needles)
# The process's binary, " (deleted)" dropped: the build may replace the file while the test runs.
running = lambda: os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
try:
    if running() != exe:
        print(f"FAIL: process {pid} is not {exe}"); sys.exit(1)
    # SIGSTOP is asynchronous: wait until every thread has stopped, for a snapshot.
    for _ in range(250):
        tasks = os.listdir(f"/proc/{pid}/task")
        if all(open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()[0] in "Tt" for t in tasks): break
        time.sleep(0.02)
    else:
        print(f"FAIL: the worker's threads did not stop for the scan"); sys.exit(1)
    maps = open(f"/proc/{pid}/maps").read().splitlines()
    mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
except FileNotFoundError:
    print(f"FAIL: the worker (pid {pid}) is gone before the scan"); sys.exit(1)
except PermissionError as e:
    # Reading another process's memory takes root or the same user without a ptrace restriction.
    print(f"SKIP: cannot read the worker's memory ({e.strerror}): run as root or the worker's user"); sys.exit(77)

def kind(path):
    if path == "[heap]": return "heap"
    if path.startswith("[stack"): return "stack"
    if path == "": return "anon"  # thread arenas and stacks, large malloc blocks
    if path.startswith("["): return path.strip("[]")
    return "file " + os.path.basename(path.split(" (deleted)")[0])

# Whether an occurrence starts a JSON string (`"phs_…`, or `"…` for the other needles), as in the
# teams file's text: said in the report, to tell a text left behind from a kept team record.
def in_json_text(buf, i, prefix):
    before = buf[max(0, i - 8 - len(prefix)):i]
    return before.endswith(b'"' + prefix) or before.endswith(b'"')

# Whether an occurrence is a whole length-prefixed field (its prefix, after a 4-byte big-endian
# length of the whole token), as in a PostgreSQL protocol message: a DataRow left in libpq's
# receive buffer, say (a Kafka string's 2-byte length after two zero bytes looks the same).
def in_wire_field(buf, i, prefix, value):
    start = i - len(prefix)
    return start >= 4 and buf[start:i] == prefix and buf[start - 4:start] == (len(prefix) + len(value)).to_bytes(4, "big")

found = {}  # role -> ["KIND RANGE (N copies[, M as JSON text])"]
scanned = regions = 0
chunk, keep = 8 << 20, longest + 16
for line in maps:
    fields = line.split(None, 5)
    span, perms, path = fields[0], fields[1], fields[5] if len(fields) > 5 else ""
    if not perms.startswith("r") or path in ("[vvar]", "[vsyscall]"): continue
    start, end = (int(x, 16) for x in span.split("-"))
    copies, as_json, as_wire = {}, {}, {}
    tail, pos = b"", start
    while pos < end:
        try:
            mem.seek(pos); data = mem.read(min(chunk, end - pos))
        except OSError:
            break  # a guard page or an unbacked device mapping: nothing there to read
        if not data: break
        buf = tail + data  # the previous chunk's end, for occurrences across the boundary
        for role, _, prefix, value in needles:
            i = buf.find(value)
            while i >= 0:
                if i + len(value) > len(tail):  # not already counted within the previous chunk
                    copies[role] = copies.get(role, 0) + 1
                    as_json[role] = as_json.get(role, 0) + in_json_text(buf, i, prefix)
                    as_wire[role] = as_wire.get(role, 0) + in_wire_field(buf, i, prefix, value)
                i = buf.find(value, i + 1)
        tail, pos = buf[-keep:], pos + len(data)
        scanned += len(data)
    regions += 1
    for role, n in copies.items():
        note = (f"{n} cop{'y' if n == 1 else 'ies'}" + (f", {as_json[role]} as JSON text" if as_json[role] else "") +
                (f", {as_wire[role]} as a length-prefixed wire field" if as_wire[role] else ""))
        found.setdefault(role, []).append(f"{kind(path)} {span} ({note})")
# Still the same live process after the scan (not a recycled pid).
if running() != exe:
    print(f"FAIL: process {pid} changed during the scan"); sys.exit(1)
print(f"scanned {scanned >> 20} MiB in {regions} readable mappings of the worker (pid {pid})")

failed = False
for role, rule, _, _ in needles:
    places = found.get(role, [])
    where = "; ".join(places[:4]) + (f"; and {len(places) - 4} more mappings" if len(places) > 4 else "")
    if rule == "forbidden" and where:
        print(f"FAIL: {role} (never in a processed message) is in the worker's memory: {where}"); failed = True
    elif rule == "forbidden":
        print(f"ok: {role} not found")
    elif rule == "required" and not any(p.startswith(("heap", "anon")) for p in places):
        print(f"FAIL: {role} not found on the heap: the scan does not see the worker's data"); failed = True
    elif rule == "required":
        print(f"ok: {role} found (the scan sees the worker's data): {where}")
    else:
        print(f"note: {role} ({rule}) {'found: ' + where if where else 'not found'}")
sys.exit(1 if failed else 0)
PY
status=$?
set -e
# The worker must have stayed up through the scan, and resume after it.
kill -CONT "$worker_pid" 2>/dev/null || true
kill -0 "$worker_pid" 2>/dev/null || { echo "FAIL: the worker was not alive after the scan"; exit 1; }
((status == 124)) && echo "FAIL: the memory scan did not finish within 120 s"
if ((status == 0)); then echo "secret memory: no secret outside the processed messages in the worker's memory"; fi
exit "$status"
