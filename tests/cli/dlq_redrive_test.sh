#!/usr/bin/env bash
# `warden dlq redrive` against a mock cluster: dead letters go through the pipeline again as the
# inputs they were (original key and headers, the dlq_* ones dropped); what fails again returns
# to the dead-letter topic with dlq_attempts one higher and its original source; a dead letter out
# of attempts, cut to fit, or holding a refused output is kept back and counted; repeated redrives
# end at --max-attempts.
#   dlq_redrive_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

start_mock_cluster 2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The sample stream as dead letters of input partition 3 (as if a size limit had refused them),
# plus one dead-lettered three times already, one cut to fit and one refused output.
/usr/bin/python3 - "$root/samples/events.jsonl" "$work/dead_letters.jsonl" <<'PY'
import json, sys
out = open(sys.argv[2], "w")
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def dead(e, offset, extra=()):
    headers = list(e.get("headers") or []) + ["dlq_reason", "message_too_large", "dlq_step", "check_size",
        "dlq_error", "an output event exceeds the size limit", "dlq_timestamp", "1795168800000",
        "dlq_topic", "events_plugin_ingestion", "dlq_partition", "3", "dlq_offset", str(offset)] + list(extra)
    out.write(json.dumps({"key": e.get("key"), "headers": headers, "payload": e["payload"]}) + "\n")
for n, e in enumerate(lines):
    dead(e, 1000 + n)
dead(lines[0], 2000, ["dlq_attempts", "3"])
dead(lines[0], 2003, ["dlq_attempts", "99999999999999999999999"])  # too large to hold: used up too
dead(lines[0], 2001, ["dlq_truncated", "true", "dlq_original_bytes", "2000000"])
# An enriched output the brokers refused: not an input, so never sent through the pipeline.
dead(lines[0], 2002, ["dlq_output_topic", "events_analytics"])
PY
"$warden" produce --brokers "$brokers" --topic events_dlq --input "$work/dead_letters.jsonl" >/dev/null 2>"$work/produce.log"
samples=$(grep -c . "$root/samples/events.jsonl")

# redrive NAME ARGS...: runs `dlq redrive` into $work/NAME.summary, which must exit 0.
redrive() {
    local name=$1 status=0
    shift
    timeout 120 "$warden" dlq redrive --brokers "$brokers" --teams "$root/samples/teams.json" --progress none \
        "$@" >"$work/$name.summary" 2>"$work/$name.err" || status=$?
    [[ $status -eq 0 ]] || { fail "$name: exit $status"; tail -n 5 "$work/$name.err"; }
}
# dead_letters FROM: the dead letters from offset FROM of each partition, as JSON lines of
# {"key", "headers": {name: [values]}}.
dead_letters() {
    kcat -b "$brokers" -C -t events_dlq -o "$1" -e -q -J 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    h = {}
    pairs = m.get("headers") or []
    for i in range(0, len(pairs), 2): h.setdefault(pairs[i], []).append(pairs[i + 1])
    print(json.dumps({"key": m.get("key"), "headers": h, "partition": m["partition"], "offset": m["offset"]}))'
}

# 1. The samples go through; the one dead letter of their own (a malformed value) comes back.
before_first=$(date +%s%3N)
sleep 0.05
redrive first
/usr/bin/python3 - "$work/first.summary" "$samples" <<'PY' || fail "first: summary"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("first redrive:", json.dumps(s))
assert s["kept_back"] == {"attempts_used_up": 2, "truncated": 1, "outputs": 1}, s["kept_back"]
assert s["consumed"] == int(sys.argv[2]), s["consumed"]
assert s["dlq"] == {"failed_parse_message": 1}, s["dlq"]
assert s["produced"]["events_analytics"] > 0
PY
kcat -b "$brokers" -C -t events_dlq -o beginning -e -q -J 2>/dev/null | wc -l > "$work/dlq_count"
[[ $(cat "$work/dlq_count") -eq $((samples + 5)) ]] || fail "first: $(cat "$work/dlq_count") dead letters, want $((samples + 5))"
dead_letters beginning | /usr/bin/python3 -c '
import json, sys
again = [m for m in map(json.loads, sys.stdin) if m["headers"].get("dlq_attempts") == ["2"]]
assert len(again) == 1, again
h = again[0]["headers"]
for name in ("dlq_reason", "dlq_step", "dlq_topic", "dlq_partition", "dlq_offset", "dlq_attempts"):
    assert len(h[name]) == 1, (name, h[name])          # the old dlq_* headers were dropped
assert h["dlq_reason"] == ["failed_parse_message"], h
assert h["dlq_topic"] == ["events_plugin_ingestion"] and h["dlq_partition"] == ["3"], h  # its original source
assert 1000 <= int(h["dlq_offset"][0]) < 1100, h
assert "token" in h and "replayed" in h, h             # original headers kept, marked as a replay
' || fail "first: the dead letter that failed again"

# The outputs: the samples' keys, marked replayed, without a dlq_* header.
kcat -b "$brokers" -C -t events_analytics -o beginning -e -q -J 2>/dev/null | /usr/bin/python3 -c '
import json, sys
out = [json.loads(l) for l in sys.stdin]
assert out, "no outputs"
for m in out:
    names = (m.get("headers") or [])[0::2]
    assert "replayed" in names and not any(n.startswith("dlq_") for n in names), names
    assert ":" in m["key"] and not m["key"].startswith("phc_"), m["key"]   # team id:distinct id
' || fail "first: analytics outputs"

# 2. Again over the new dead letter only (the range from a time after the first ones were
# written): dlq_attempts 3. 3. Then it is kept back.
[[ $before_first -gt 0 ]]
before_second=$(date +%s%3N)
sleep 0.05
redrive second --from "$before_first" --to "$before_second"
/usr/bin/python3 - "$work/second.summary" <<'PY' || fail "second: summary"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("second redrive:", json.dumps(s))
assert s["dlq"] == {"failed_parse_message": 1}, s
PY
dead_letters beginning | grep '"dlq_attempts": \["3"\]' >/dev/null || fail "second: no dead letter with dlq_attempts 3"
redrive third --max-attempts 3 --from "$before_second"
/usr/bin/python3 - "$work/third.summary" <<'PY' || fail "third: summary"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("third redrive:", json.dumps(s))
assert s["kept_back"]["attempts_used_up"] == 1 and s["consumed"] == 0 and s.get("dlq", {}) == {}, s
PY

[[ $failures -eq 0 ]] || { echo "$failures failure(s)"; exit 1; }
echo "dlq redrive: all cases passed"
