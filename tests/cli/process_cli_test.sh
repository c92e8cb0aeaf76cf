#!/usr/bin/env bash
# End-to-end check of `warden process`: outcomes of the sample, leaks, exit codes.
set -euo pipefail
warden=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3

summary=$("$warden" process --teams "$root/samples/teams.json" --input "$root/samples/events.jsonl" --output-dir "$work/out" | tail -n 1)
echo "summary: $summary"
"$py" - "$summary" "$work/out" <<'PY'
import json, sys, os
s = json.loads(sys.argv[1]); out = sys.argv[2]
def check(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)
check(s["consumed"] == 12, "12 consumed")
check(s["dropped"] == {"invalid_token": 2}, "unknown token and personal key dropped")
check(s["dlq"] == {"failed_parse_message": 1}, "truncated value dead-lettered")
check(s["verified"] == 3, "secret, backup and secret $exception verified")
check(s["stripped"] == 2, "two forged $verified stripped")
total = 0
for name in os.listdir(out):
    topic = name[:-len(".jsonl")]
    with open(os.path.join(out, name), "rb") as f:
        lines = f.read().splitlines()
    if topic == "events_security_audit":
        continue  # the audit trail, checked below
    check(len(lines) == s["produced"].get(topic, 0), f"{topic} line count matches the summary")
    total += len(lines)
    if topic == "events_dlq":
        continue
    for raw in lines:
        raw.decode("utf-8")  # raises on invalid UTF-8
        env = json.loads(raw)
        check(b"phs_" not in raw, f"no secret token in {topic}")
        ev = json.loads(env["payload"])
        props = ev["properties"]
        verified = dict(zip(env["headers"][::2], env["headers"][1::2]))["verified"]
        if verified == "false":
            check("$verified" not in props and "$verified" not in props.get("$set", {}), "forged $verified stripped")
        else:
            check(props["$verified"] is True, "verified events carry $verified: true")
check(total == sum(s["produced"].values()), "every produced record written")
print("process summary and outputs OK")
PY

# Standard input gives the same result as a file.
from_stdin=$("$warden" process --teams "$root/samples/teams.json" --input - --output-dir "$work/stdin" < "$root/samples/events.jsonl" | tail -n 1)
[ "$from_stdin" = "$summary" ] || { echo "FAIL: stdin summary differs: $from_stdin"; exit 1; }
cmp -s "$work/out/events_analytics.jsonl" "$work/stdin/events_analytics.jsonl" || { echo "FAIL: stdin outputs differ"; exit 1; }

# A directory reused from an earlier run holds this run's records only: every topic file is emptied.
head -n 1 "$root/samples/events.jsonl" > "$work/one.jsonl"
"$warden" process --teams "$root/samples/teams.json" --input "$work/one.jsonl" --output-dir "$work/out" >/dev/null
for topic in events_analytics events_error_tracking events_heatmaps events_dlq; do
    [ -f "$work/out/$topic.jsonl" ] || { echo "FAIL: $topic.jsonl missing"; exit 1; }
done
[ "$(cat "$work/out"/events_{analytics,error_tracking,heatmaps,dlq}.jsonl | wc -l)" -eq 1 ] ||
    { echo "FAIL: records of the earlier run left in $work/out"; exit 1; }
[ ! -s "$work/out/events_security_audit.jsonl" ] || { echo "FAIL: audit records of the earlier run left"; exit 1; }

# --quota-file: Acme over its events quota, the limit set on one of its tokens or its id; its
# events are dropped whichever token they were sent with (the sample uses all three), its error
# tracking (a resource of its own) goes on, Beta's events are untouched. An expired limit is none.
acme_public=phc_DemoPublicAcme0000000000000000000000000001
acme_secret=phs_DemoSecretAcme000000000000000000000000000001
acme_backup=phs_DemoBackupAcme000000000000000000000000000001
for member in "$acme_public" "$acme_secret" "$acme_backup" 2; do
    printf '{"events": {"%s": 4102444800}, "recordings": {"x": 1}}' "$member" > "$work/quota.json"
    limited=$("$warden" process --teams "$root/samples/teams.json" --input "$root/samples/events.jsonl" \
        --output-dir "$work/quota" --quota-file "$work/quota.json" | tail -n 1)
    "$py" - "$limited" "$work/quota" "${member:0:4}" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); out = sys.argv[2]; member = sys.argv[3]
def check(cond, what):
    if not cond:
        print("FAIL (limit on %s):" % member, what, s); sys.exit(1)
check(s["dropped"].get("quota_limited") == 7, "Acme's 7 analytics and heatmap events dropped")
check(s["produced"].get("events_error_tracking") == 1, "Acme's $exception goes on")
for topic in ("events_analytics", "events_heatmaps"):
    with open("%s/%s.jsonl" % (out, topic)) as f:
        for line in f:
            check(json.loads(json.loads(line)["payload"])["team_id"] != 2, "no Acme event in " + topic)
PY
done
printf '{"events": {"%s": 1}, "exceptions": {"2": 4102444800}}' "$acme_secret" > "$work/quota.json"
limited=$("$warden" process --teams "$root/samples/teams.json" --input "$root/samples/events.jsonl" \
    --output-dir "$work/quota" --quota-file "$work/quota.json" | tail -n 1)
"$py" -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["dropped"].get("quota_limited") == 1 and "events_error_tracking" not in s["produced"] and s["produced"]["events_analytics"] == 7, s' "$limited"
printf '{"events": {"%s": "soon"}}' "$acme_secret" > "$work/quota.json"
set +e
"$warden" process --teams "$root/samples/teams.json" --input "$root/samples/events.jsonl" --output-dir "$work/quota" \
    --quota-file "$work/quota.json" 2>"$work/err" >/dev/null; code=$?
set -e
[ "$code" -eq 1 ] || { echo "FAIL: bad quota file exit $code, want 1"; exit 1; }
grep -q "quota file $work/quota.json: resource \"events\", member #1" "$work/err" || { echo "FAIL: $(cat "$work/err")"; exit 1; }
if grep -q "phs_" "$work/err"; then echo "FAIL: the quota file error shows a token"; exit 1; fi
echo "quota file OK"

# The audit trail (events_security_audit.jsonl): one record per team and kind for the whole input
# (an attack of 100,000 forged events makes one record),
# counts matching the summary, fingerprints the HMAC-SHA256 of --audit-key-file's key, and never a
# token or a fragment of a payload. Teams 7 and 8 (wrongly) share a secret.
"$py" - "$root/samples/teams.json" "$work/audit_teams.json" <<'PY'
import json, sys
teams = json.load(open(sys.argv[1]))
teams.append({"id": 7, "project_id": 7, "name": "Seven", "api_token": "phc_Seven0000000000000000000000000000000007",
              "secret_api_token": "phs_SharedByTwo00000000000000000000000000000078"})
teams.append({"id": 8, "project_id": 8, "name": "Eight", "api_token": "phc_Eight0000000000000000000000000000000008",
              "secret_api_token_backup": "phs_SharedByTwo00000000000000000000000000000078"})
json.dump(teams, open(sys.argv[2], "w"))
PY
# 100,000 forged events; fewer under a sanitizer (WARDEN_TEST_SLOWDOWN), whose builds run slower.
attack=$((100000 / ${WARDEN_TEST_SLOWDOWN:-1}))
"$py" - "$work/audit_input.jsonl" "$attack" <<'PY'
import json, sys
acme, beta = "phc_DemoPublicAcme0000000000000000000000000001", "phc_DemoPublicBeta0000000000000000000000000002"
def line(token, props):
    data = {"token": token, "event": "$pageview", "distinct_id": "PayloadUserMarker", "properties": props}
    return json.dumps({"token": token, "uuid": "0190b6c8-4f5a-7cde-8f00-%012d" % len(lines),
                       "distinct_id": "PayloadUserMarker", "now": "2026-11-20T10:00:01.000Z", "data": json.dumps(data)})
lines = []
for _ in range(int(sys.argv[2])):  # an attack: forged $verified through the public token
    lines.append(line(acme, {"$verified": True, "$current_url": "https://payload.example/secretpath"}))
lines.append(line(beta, {"$set": {"$verified": True}}))
lines.append(line("phs_DemoBackupAcme000000000000000000000000000001", {}))
lines.append(line("phs_NeverIssued00000000000000000000000000000001", {}))
lines.append(line("phx_PersonalKeyMustNeverIngest000000000000000", {}))
lines.append(line("phs_SharedByTwo00000000000000000000000000000078", {}))
lines.append(line(beta, {"leak": "phs_DemoSecretAcme000000000000000000000000000001"}))
lines.append(line("phc_Seven0000000000000000000000000000000007", {}))  # over quota
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
printf 'audit-key-for-the-process-test-0123\n' > "$work/audit.key"
printf '{"events": {"7": 4102444800}}' > "$work/audit_quota.json"
audited=$("$warden" process --teams "$work/audit_teams.json" --input "$work/audit_input.jsonl" --output-dir "$work/audit" \
    --quota-file "$work/audit_quota.json" --audit-key-file "$work/audit.key" --threads 2 | tail -n 1)
"$py" - "$audited" "$work/audit/events_security_audit.jsonl" "$work/audit.key" "$attack" <<'PY'
import hashlib, hmac, json, sys
s = json.loads(sys.argv[1]); raw = open(sys.argv[2], "rb").read(); key = open(sys.argv[3], "rb").read().rstrip(b"\n")
attack = int(sys.argv[4])
def check(cond, what):
    if not cond:
        print("FAIL (audit):", what); print(raw.decode()); sys.exit(1)
for fragment in (b"phc_", b"phs_", b"phx_", b"PayloadUserMarker", b"payload.example", b"secretpath", b"leak"):
    check(fragment not in raw, "no token or payload fragment: %r" % fragment)
records = {}
for l in raw.splitlines():
    env = json.loads(l)
    r = json.loads(env["payload"])
    check((r["kind"], r["team_id"]) not in records, "one record per team and kind")
    records[(r["kind"], r["team_id"])] = r
    check(dict(zip(env["headers"][::2], env["headers"][1::2]))["audit_kind"] == r["kind"], "audit_kind header")
    check(env["key"] == (None if r["team_id"] is None else str(r["team_id"])), "keyed by team")
want = {("forged_verified_stripped", 2): attack, ("forged_verified_stripped", 3): 1, ("verified_with_backup_secret", 2): 1,
        ("unknown_secret_token", None): 1, ("personal_key_as_token", None): 1, ("token_owned_by_two_teams", None): 1,
        ("secret_redacted", 3): 1, ("quota_limited", 7): 1}
check({k: r["count"] for k, r in records.items()} == want, "kinds, teams and counts")
check(sum(r["count"] for (k, _), r in records.items() if k == "forged_verified_stripped") == s["stripped"], "stripped matches the summary")
check(records[("secret_redacted", 3)]["count"] == s["redacted"], "redacted matches the summary")
check(records[("quota_limited", 7)]["count"] == s["dropped"]["quota_limited"], "quota drops match the summary")
check(records[("forged_verified_stripped", 2)]["found_in"] == ["properties"], "found in properties")
check(records[("forged_verified_stripped", 3)]["found_in"] == ["person_properties"], "found in person properties")
check(records[("forged_verified_stripped", 2)]["sample"] == {"topic": "events_plugin_ingestion", "partition": 0, "offset": 0},
      "the first occurrence is the sample")
def fingerprint(token):
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:16]
check(records[("unknown_secret_token", None)]["token_fingerprint"] == fingerprint("phs_NeverIssued00000000000000000000000000000001"), "keyed fingerprint")
check(records[("verified_with_backup_secret", 2)]["token_fingerprint"] == fingerprint("phs_DemoBackupAcme000000000000000000000000000001"), "backup fingerprint")
check(len({r["fingerprint_key_id"] for r in records.values()}) == 1, "one key id")
print("audit trail of process OK:", len(records), "records for", sum(want.values()), "occurrences")
PY
"$warden" process --teams "$work/audit_teams.json" --input "$work/audit_input.jsonl" --output-dir "$work/noaudit" --no-audit >/dev/null
[ ! -e "$work/noaudit/events_security_audit.jsonl" ] || { echo "FAIL: --no-audit wrote an audit file"; exit 1; }
set +e
"$warden" process --teams "$work/audit_teams.json" --input "$work/audit_input.jsonl" --output-dir "$work/a2" \
    --audit-topic events_dlq >/dev/null 2>"$work/err"; code=$?
[ "$code" -eq 2 ] && grep -q -- "--audit-topic names the same topic as --dlq-topic" "$work/err" ||
    { echo "FAIL: audit topic shared with dead letters: exit $code, $(cat "$work/err")"; exit 1; }
printf 'tooShortKey\n' > "$work/short.key"
"$warden" process --teams "$work/audit_teams.json" --input "$work/audit_input.jsonl" --output-dir "$work/a2" \
    --audit-key-file "$work/short.key" >/dev/null 2>"$work/err"; code=$?
set -e
[ "$code" -eq 2 ] && grep -q "at least 16 bytes" "$work/err" && ! grep -q tooShortKey "$work/err" ||
    { echo "FAIL: short audit key: exit $code, $(cat "$work/err")"; exit 1; }
echo "audit options OK"

# Exit codes: 2 for wrong usage, 1 for I/O failure, 0 for hostile but readable input.
set +e
"$warden" process --input x >/dev/null 2>&1; code=$?
[ "$code" -eq 2 ] || { echo "FAIL: missing flags exit $code, want 2"; exit 1; }
"$warden" bogus >/dev/null 2>&1; code=$?
[ "$code" -eq 2 ] || { echo "FAIL: unknown subcommand exit $code, want 2"; exit 1; }
"$warden" process --teams "$root/samples/teams.json" --input "$work/missing.jsonl" --output-dir "$work/o2" 2>"$work/err"; code=$?
[ "$code" -eq 1 ] || { echo "FAIL: missing input exit $code, want 1"; exit 1; }
grep -q "missing.jsonl" "$work/err" || { echo "FAIL: error does not name the file"; exit 1; }
"$warden" process --teams "$work/none.json" --input "$root/samples/events.jsonl" --output-dir "$work/o3" 2>/dev/null; code=$?
[ "$code" -eq 1 ] || { echo "FAIL: missing teams exit $code, want 1"; exit 1; }
printf '\xff\xfe\n{"payload":5}\n[[[[[[\n\n{}\n' > "$work/hostile.jsonl"
head -c 100000 /dev/zero | tr '\0' '[' >> "$work/hostile.jsonl"; echo >> "$work/hostile.jsonl"
"$warden" process --teams "$root/samples/teams.json" --input "$work/hostile.jsonl" --output-dir "$work/o4" > "$work/hostile.out"; code=$?
[ "$code" -eq 0 ] || { echo "FAIL: hostile input exit $code, want 0"; exit 1; }
set -e
tail -n 1 "$work/hostile.out" | "$py" -c 'import json,sys; s=json.load(sys.stdin); assert s["consumed"]==5 and sum(s["dlq"].values())+sum(s["dropped"].values())==5, s'
echo "exit codes and hostile input OK"
