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
[ "$(cat "$work/out"/*.jsonl | wc -l)" -eq 1 ] || { echo "FAIL: records of the earlier run left in $work/out"; exit 1; }

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
