#!/usr/bin/env bash
# `warden dlq inspect` against a mock cluster: counts by reason, step and source partition over a
# range, a few samples per reason with every secret key taken out (also one that a cut would
# split), binary payloads shown as valid JSON text; and over the dead letters `warden run`
# wrote for the sample stream, the same counts as run's summary.
#   dlq_inspect_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

start_mock_cluster 2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Hand-made dead letters (kcat -J envelopes, as `warden produce` sends them): 5 failed_parse_message
# from source partition 0, 3 invalid_uuid from partition 1 (one of them carrying a secret in its
# key, a header and its value, where the sample's cut falls inside it), 1 binary value, and one
# message no warden wrote.
secret="phs_InspectSecret0123456789abcdefghijklmnopqrstuv"
/usr/bin/python3 - "$work/dead_letters.jsonl" "$secret" <<'PY'
import json, sys
out, secret = open(sys.argv[1], "w"), sys.argv[2]
def dead(reason, step, partition, offset, key, payload, extra=()):
    headers = list(extra) + ["dlq_reason", reason, "dlq_step", step, "dlq_error", "why " + reason,
                             "dlq_timestamp", "1795168800000", "dlq_topic", "events_plugin_ingestion",
                             "dlq_partition", str(partition), "dlq_offset", str(offset)]
    out.write(json.dumps({"key": key, "headers": headers, "payload": payload}) + "\n")
for n in range(5):
    dead("failed_parse_message", "parse_message", 0, n, f"k{n}", "{not json " + str(n))
padding = "x" * 40
dead("invalid_uuid", "validate_event", 1, 10, "phc_Public:" + secret, padding + secret + " tail",
     ["token", secret, "now", "2026-11-20T10:00:01.000Z"])
dead("invalid_uuid", "validate_event", 1, 11, "k11", "{\"uuid\":\"no\"}")
dead("invalid_uuid", "validate_event", 1, 12, "k12", "{\"uuid\":\"no\"}")
out.write(json.dumps({"key": "other", "payload": "not a dead letter"}) + "\n")
PY
"$warden" produce --brokers "$brokers" --topic events_dlq --input "$work/dead_letters.jsonl" >/dev/null 2>"$work/produce.log"
# A binary value: kcat sends the bytes as they are.
printf 'bin\t\x01\xff\xfe{"a":"\xc3"}\n' | kcat -b "$brokers" -P -t events_dlq -K $'\t' \
    -H dlq_reason=failed_parse_message -H dlq_step=parse_message -H dlq_topic=events_plugin_ingestion \
    -H dlq_partition=0 -H dlq_offset=99

# inspect NAME ARGS...: runs inspect into $work/NAME.json, which must be one JSON document.
inspect() {
    local name=$1 status=0
    shift
    timeout 60 "$warden" dlq inspect --brokers "$brokers" "$@" >"$work/$name.json" 2>"$work/$name.err" || status=$?
    echo "$status" > "$work/$name.status"
    /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/$name.json" 2>/dev/null ||
        fail "$name: not one JSON document: $(head -c 300 "$work/$name.json")"
    if grep -qF -- "${secret#phs_}" "$work/$name.json" "$work/$name.err"; then fail "$name: the secret was shown"; fi
    if grep -qF -- "${secret:4:12}" "$work/$name.json"; then fail "$name: part of the secret was shown"; fi
}
# expect NAME PYTHON-EXPRESSION: over d, the JSON document of inspect NAME.
expect() {
    /usr/bin/python3 - "$work/$1.json" "$2" <<'PY' || fail "$1: $2"
import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print(json.dumps(d, indent=1)[:3000])
    sys.exit(1)
PY
}

inspect all --samples 2 --sample-bytes 60
[[ $(cat "$work/all.status") -eq 0 ]] || fail "all: exit $(cat "$work/all.status")"
expect all 'd["messages"] == 10 and d["complete"] is True'
expect all 'd["by_reason"] == {"failed_parse_message": 6, "invalid_uuid": 3, "(none)": 1}'
expect all 'd["by_step"] == {"parse_message": 6, "validate_event": 3, "(none)": 1}'
expect all 'd["by_source"] == {"events_plugin_ingestion/0": 6, "events_plugin_ingestion/1": 3, "(none)/(none)": 1}'
expect all 'sorted(s["reason"] for s in d["samples"]) == ["(none)", "failed_parse_message", "failed_parse_message", "invalid_uuid", "invalid_uuid"]'
expect all 'any(s["value"].startswith("x" * 40 + "phs_[redacted]") or s["value"] == "x" * 40 + "phs_[redact..." for s in d["samples"])'
expect all 'all(s["value_bytes"] >= len(s["value"].rstrip(".")) or "\\x" in s["value"] for s in d["samples"])'
expect all 'any(s["key"] == "phc_Public:phs_[redacted]" and s["headers"] == ["token", "now"] and s["source"] == "events_plugin_ingestion/1@10" for s in d["samples"])'
expect all 'sum(d["ranges"][p][1] - d["ranges"][p][0] for p in d["ranges"]) == 10'

# The binary value, among more samples.
inspect binary --samples 10
expect binary 'any(s["key"] == "bin" and s["value"] == "\\x01\\xff\\xfe{\"a\":\"\\xc3\"}" for s in d["samples"])'

# A range: only offsets from 1 on of each partition.
inspect range --from 1 --to latest
expect range 'd["messages"] == 10 - len(d["ranges"]) and all(r[0] == 1 for r in d["ranges"].values())'

# No samples at all, and a topic that does not exist.
inspect none --samples 0
expect none 'd["samples"] == [] and d["messages"] == 10'
status=0
timeout 60 "$warden" dlq inspect --brokers "$brokers" --dlq-topic events_dql >/dev/null 2>"$work/missing.err" || status=$?
[[ $status -eq 1 ]] || fail "missing topic: exit $status, want 1"
grep -q 'topic events_dql (--dlq-topic) does not exist' "$work/missing.err" || fail "missing topic: $(cat "$work/missing.err")"

# A flood of distinct sources: each count keeps at most 1,000 names, the rest as "(other)".
/usr/bin/python3 -c '
import json
for n in range(1005):
    print(json.dumps({"key": "f", "headers": ["dlq_reason", "flood", "dlq_topic", "t%d" % n, "dlq_partition", "0"],
                      "payload": "x"}))' > "$work/flood.jsonl"
"$warden" produce --brokers "$brokers" --topic events_dlq --input "$work/flood.jsonl" >/dev/null 2>"$work/flood.log"
inspect flood --samples 1
expect flood 'd["by_reason"]["flood"] == 1005 and len(d["by_source"]) == 1001 and d["by_source"]["(other)"] >= 5'
expect flood 'sum(d["by_source"].values()) == d["messages"] == 1015'

# The dead letters `warden run` writes for the sample stream, against its own summary.
start_mock_cluster 2
"$warden" produce --brokers "$brokers" --input "$root/samples/events.jsonl" >/dev/null 2>"$work/produce2.log"
consumed=$(grep -c . "$root/samples/events.jsonl")
"$warden" run --brokers "$brokers" --teams "$root/samples/teams.json" --metrics-address off --threads 1 \
    --log-level debug --consumer-property fetch.wait.max.ms=10 >"$work/summary" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
for _ in $(seq 600); do
    [[ $(grep -c '"msg":"message processed"' "$work/run.log" 2>/dev/null) -ge $consumed ]] && break
    sleep 0.1
done
kill -TERM "$run_pid"
wait "$run_pid" || fail "run: exit $?"
inspect pipeline
/usr/bin/python3 - "$work/summary" "$work/pipeline.json" <<'PY' || fail "pipeline: dead letters differ from run's summary"
import json, sys
summary = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
d = json.load(open(sys.argv[2]))
print("run's dead letters:", summary["dlq"], "inspect:", d["by_reason"], "sources:", d["by_source"])
assert summary["dlq"] and d["by_reason"] == summary["dlq"], "by reason"
assert d["messages"] == sum(summary["dlq"].values())
assert set(d["by_source"]) <= {"events_plugin_ingestion/0", "events_plugin_ingestion/1"}
PY

[[ $failures -eq 0 ]] || { echo "$failures failure(s)"; exit 1; }
echo "dlq inspect: all cases passed"
