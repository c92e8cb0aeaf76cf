#!/usr/bin/env bash
# With every debug switch on (warden's and librdkafka's), no secret token of the sample stream
# reaches the log, although the messages carry them in keys, headers and values: neither the
# phs_ ones, which the log's shape rule would catch anyway, nor the same secrets rewritten into a
# shape no rule knows.
#   log_redaction_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

start_mock_cluster 2

# The sample stream as kcat input: key|value, headers dropped by kcat -P, so the token also sits
# in the key (as capture writes it) and in the value.
# Half the stream again with the secrets rewritten as `odd-…`, for a teams file that has both forms.
/usr/bin/python3 - "$root/samples/events.jsonl" "$root/samples/teams.json" "$work/teams.json" > "$work/input" <<'PY'
import json, sys
teams = json.load(open(sys.argv[2]))
odd = {}
for t in teams:
    for k in ("secret_api_token", "secret_api_token_backup"):
        if t.get(k): odd[t[k]] = "odd-" + t[k][len("phs_"):][::-1]
twins = []
for t in teams:
    twin = dict(t, id=t["id"] + 1000, api_token="phc_Twin" + t["api_token"][4:])
    for k in ("secret_api_token", "secret_api_token_backup"):
        if t.get(k): twin[k] = odd[t[k]]
    twins.append(twin)
json.dump(teams + twins, open(sys.argv[3], "w"))
for line in open(sys.argv[1]):
    e = json.loads(line)
    payload = e["payload"] if isinstance(e.get("payload"), str) else json.dumps(e.get("payload"))
    key = e.get("key") or ""
    print(key + "\t" + payload)
    for secret, other in odd.items():
        if secret in key or secret in payload:
            print(key.replace(secret, other) + "\t" + payload.replace(secret, other))
PY
kcat -b "$brokers" -P -t events_plugin_ingestion -K $'\t' -l "$work/input"

"$warden" run --brokers "$brokers" --teams "$work/teams.json" --metrics-address off --log-level debug \
    --consumer-property debug=all --producer-property debug=all --consumer-property fetch.wait.max.ms=10 \
    --consumer-property session.timeout.ms=6000 \
    >"$work/summary" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
# Stopped once every message was processed. Two members (one per core) may take a few seconds
# more: when both join at once, librdkafka's mock cluster can refuse one's SyncGroup and then
# wait out its join timer (the session timeout less a second) before the second assignment.
consumed=$(wc -l < "$work/input")
for _ in $(seq 600); do
    [[ $(grep -c '"msg":"message processed"' "$work/run.log" 2>/dev/null) -ge $consumed ]] && break
    sleep 0.1
done
kill -TERM "$run_pid"
wait "$run_pid"

lines=$(wc -l < "$work/run.log")
[[ $lines -gt 100 ]] || { echo "FAIL: expected a debug log, got $lines lines"; exit 1; }
grep -q "\"consumed\":$consumed" "$work/summary" || { echo "FAIL: the stream was not processed: $(cat "$work/summary")"; exit 1; }
secrets=$(/usr/bin/python3 -c '
import json, sys
for t in json.load(open(sys.argv[1])):
    for k in ("secret_api_token", "secret_api_token_backup"):
        if t.get(k): print(t[k])' "$work/teams.json")
[[ -n "$secrets" ]] || { echo "FAIL: no secrets in the sample teams"; exit 1; }
grep -q "$(head -n 1 <<< "$secrets")" "$work/input" || { echo "FAIL: the input carries no secret"; exit 1; }
grep -q "odd-" "$work/input" || { echo "FAIL: the input carries no secret of the odd shape"; exit 1; }
while read -r secret; do
    if grep -qF -- "${secret#*[_-]}" "$work/run.log"; then
        echo "FAIL: a secret token reached the log:"; grep -F -- "${secret#phs_}" "$work/run.log" | head -3; exit 1
    fi
done <<< "$secrets"
if grep -v '^{.*}$' "$work/run.log" | grep -q .; then echo "FAIL: a log line is not a JSON object"; exit 1; fi
# Per-message lines name the output key (team id and distinct id), never the input key, which
# starts with the sender's token.
keyed=$(grep -c '"output_key":"[0-9]*:' "$work/run.log" || true)
[[ $keyed -gt 0 ]] || { echo "FAIL: no per-message debug line with its output key"; exit 1; }
if grep -q '"key":"ph[cs]_' "$work/run.log"; then echo "FAIL: an input key reached the log"; exit 1; fi
echo "log redaction: $lines debug lines, no secret token of either shape; $keyed per-message lines"
