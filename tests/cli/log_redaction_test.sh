#!/usr/bin/env bash
# With every debug switch on (warden's and librdkafka's), no secret token of the sample stream
# reaches the log, although the messages carry them in keys, headers and values.
#   log_redaction_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

"$warden" mock-cluster --partitions 2 --bootstrap-file "$work/bootstrap" >/dev/null 2>"$work/mock.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/bootstrap" ]] && break; sleep 0.1; done
brokers=$(cat "$work/bootstrap")

# The sample stream as kcat input: key|value, headers dropped by kcat -P, so the token also sits
# in the key (as capture writes it) and in the value.
/usr/bin/python3 - "$root/samples/events.jsonl" > "$work/input" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    payload = e["payload"] if isinstance(e.get("payload"), str) else json.dumps(e.get("payload"))
    print((e.get("key") or "") + "\t" + payload)
PY
kcat -b "$brokers" -P -t events_plugin_ingestion -K $'\t' -l "$work/input"

"$warden" run --brokers "$brokers" --teams "$root/samples/teams.json" --metrics-address off --log-level debug \
    --consumer-property debug=all --producer-property debug=all --consumer-property fetch.wait.max.ms=10 \
    >"$work/summary" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
for _ in $(seq 200); do grep -q '"msg":"partitions assigned"' "$work/run.log" && break; sleep 0.1; done
sleep 2
kill -TERM "$run_pid"
wait "$run_pid"

lines=$(wc -l < "$work/run.log")
[[ $lines -gt 100 ]] || { echo "FAIL: expected a debug log, got $lines lines"; exit 1; }
grep -q '"consumed":12' "$work/summary" || { echo "FAIL: the stream was not processed: $(cat "$work/summary")"; exit 1; }
secrets=$(/usr/bin/python3 -c '
import json, sys
for t in json.load(open(sys.argv[1])):
    for k in ("secret_api_token", "secret_api_token_backup"):
        if t.get(k): print(t[k])' "$root/samples/teams.json")
[[ -n "$secrets" ]] || { echo "FAIL: no secrets in the sample teams"; exit 1; }
grep -q "$(head -n 1 <<< "$secrets")" "$work/input" || { echo "FAIL: the input carries no secret"; exit 1; }
while read -r secret; do
    if grep -qF -- "${secret#phs_}" "$work/run.log"; then
        echo "FAIL: a secret token reached the log:"; grep -F -- "${secret#phs_}" "$work/run.log" | head -3; exit 1
    fi
done <<< "$secrets"
if grep -v '^{.*}$' "$work/run.log" | grep -q .; then echo "FAIL: a log line is not a JSON object"; exit 1; fi
# Message keys start with the sender's token: the per-message debug lines carry secret ones, redacted.
redacted=$(grep -c '"key":"phs_\[redacted\]' "$work/run.log" || true)
[[ $redacted -gt 0 ]] || { echo "FAIL: no redacted secret key in the debug log: the test no longer exercises redaction"; exit 1; }
public=$(grep -c '"key":"phc_Demo' "$work/run.log" || true)
[[ $public -gt 0 ]] || { echo "FAIL: public tokens are not secrets and should stay readable"; exit 1; }
echo "log redaction: $lines debug lines, no secret token; $redacted keys redacted, $public public keys kept"
