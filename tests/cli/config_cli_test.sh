#!/usr/bin/env bash
# The command line as operators meet it: TOML config files, help, version, usage errors and exit
# statuses, Kafka credentials; and no secret (every test secret holds "hunter2") in any output.
#   config_cli_test.sh WARDEN ROOT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"
unset WARDEN_CONFIG WARDEN_BROKERS WARDEN_TEAMS WARDEN_BATCH_SIZE
teams="$root/samples/teams.json"
fail() { echo "FAIL: $*"; exit 1; }

# expect STATUS TEXT COMMAND...: runs COMMAND (stdout and stderr kept in $work/out, $work/err),
# checks its exit status, that TEXT (when not empty) is in its output, and that no secret is.
expect() {
    local want=$1 text=$2
    shift 2
    local code=0
    timeout 60 "$@" >"$work/out" 2>"$work/err" || code=$?
    [[ $code -eq $want ]] || fail "$* exited $code, want $want: $(cat "$work/err")"
    if [[ -n $text ]] && ! grep -qF -- "$text" "$work/out" "$work/err"; then
        fail "$*: no '$text' in: $(cat "$work/out" "$work/err")"
    fi
    if grep -qF hunter2 "$work/out" "$work/err"; then fail "$*: a secret reached the output: $(cat "$work/err")"; fi
}

# --version and help.
expect 0 "" "$warden" --version
grep -qE '^warden [0-9]+\.[0-9]+\.[0-9]+ \(librdkafka [0-9][0-9.]*\)$' "$work/out" || fail "--version printed: $(cat "$work/out")"
for command in run replay process demo mock-cluster; do
    expect 0 "warden $command" "$warden" help "$command"
    cp "$work/out" "$work/help"
    expect 0 "" "$warden" "$command" --help
    cmp -s "$work/help" "$work/out" || fail "warden help $command differs from warden $command --help"
done
expect 0 "Exit status" "$warden" help
expect 2 "did you mean run?" "$warden" help rn
echo "version and help OK"

# Unknown flags and numbers, in plain words; exit 2.
expect 2 "unknown option --brokerz for \`warden run\`; did you mean --brokers?" "$warden" run --brokerz x:1 --teams "$teams"
expect 2 "unknown option --sasl-password" "$warden" run --brokers x:1 --teams "$teams" --sasl-password hunter2
expect 2 "--batch-size must be a whole number of at least 1" "$warden" run --brokers x:1 --teams "$teams" --batch-size 0
expect 2 "--max-message-bytes must be a whole number of at least 1024" \
    "$warden" process --teams "$teams" --input - --output-dir "$work/o" --max-message-bytes 1000
expect 2 "--max-message-bytes must be a whole number of at least 1024" \
    "$warden" replay --brokers 127.0.0.1:1 --teams "$teams" --max-message-bytes 1023
expect 2 "--partitions must be a whole number from 1 to 256" "$warden" demo --partitions 0
expect 2 "a command is needed" "$warden"
echo "unknown flags and numbers OK"

# Replay usage errors exit 2, before any broker is contacted (none listens on port 1).
replay=("$warden" replay --brokers 127.0.0.1:1 --teams "$teams" --progress none)
expect 2 "--from must be" "${replay[@]}" --from yesterday
expect 2 "--to must be" "${replay[@]}" --to 2024-06-10T06:00:00
expect 2 "--partitions must be" "${replay[@]}" --partitions 1,x
expect 2 "is empty" "${replay[@]}" --from latest --to earliest
expect 2 "is inverted" "${replay[@]}" --from 10 --to 5
expect 2 "is inverted" "${replay[@]}" --from 2024-06-10T07:00:00Z --to 2024-06-10T06:00:00Z
echo "replay usage errors OK"

# Config files: TOML values arrive whole ('#' and quotes are text), end to end through `process`.
mkdir -p "$work/in#put \"x\""
cp "$root/samples/events.jsonl" "$work/in#put \"x\"/events.jsonl"
cat > "$work/process.toml" <<EOF
# the process settings, as TOML
teams = "$teams"
input = '$work/in#put "x"/events.jsonl'   # a comment after a value
output-dir = "$work/outputs#1"
analytics-topic = "analytics.blue"
dlq-topic = 'dead_letters'
max-message-bytes = 1000000
EOF
expect 0 '"consumed":12' "$warden" process --config "$work/process.toml"
[[ -s "$work/outputs#1/analytics.blue.jsonl" ]] || fail "no analytics.blue.jsonl: $(ls "$work/outputs#1")"
[[ -s "$work/outputs#1/dead_letters.jsonl" ]] || fail "no dead_letters.jsonl: $(ls "$work/outputs#1")"
# Flags win over the environment, which wins over the file.
WARDEN_ANALYTICS_TOPIC=from-env expect 0 "" "$warden" process --config "$work/process.toml" --output-dir "$work/env"
[[ -s "$work/env/from-env.jsonl" ]] || fail "the environment did not override the file: $(ls "$work/env")"
WARDEN_ANALYTICS_TOPIC=from-env expect 0 "" "$warden" process --config "$work/process.toml" --output-dir "$work/flag" \
    --analytics-topic from-flag
[[ -s "$work/flag/from-flag.jsonl" ]] || fail "the flag did not override the environment: $(ls "$work/flag")"

# Topic names: Kafka's, so that no output file lands outside --output-dir; no output on the input.
expect 2 "--analytics-topic must be a Kafka topic name" \
    "$warden" process --teams "$teams" --input - --output-dir "$work/o" --analytics-topic ../escaped
[[ ! -e "$work/escaped.jsonl" ]] || fail "an output file escaped --output-dir"
expect 2 "--topic must be a Kafka topic name" "$warden" replay --brokers 127.0.0.1:1 --teams "$teams" --topic ""
expect 2 "--dlq-topic names the same topic as --input-topic" \
    "$warden" run --brokers 127.0.0.1:1 --teams "$teams" --metrics-address off --input-topic loopin --dlq-topic loopin
expect 2 "--metrics-address must be host:port" "$warden" run --brokers 127.0.0.1:1 --teams "$teams" --metrics-address hunter2
echo "topics and addresses OK"

printf 'teams = "a.json"\ninput = "-"\nteams = "b.json"\n' > "$work/duplicate.toml"
expect 2 "$work/duplicate.toml:3: setting 'teams': given twice" "$warden" process --config "$work/duplicate.toml"
printf 'Teams = "a.json"\n' > "$work/case.toml"
expect 2 "did you mean teams?" "$warden" process --config "$work/case.toml"
expect 2 "is a directory" "$warden" run --config "$work"
expect 2 "cannot read the config file" "$warden" run --config "$work/missing.toml"
head -c 4096 /dev/urandom > "$work/binary.toml"
expect 2 "$work/binary.toml:" "$warden" run --config "$work/binary.toml"
echo "config files OK"

# Secrets in config errors: the issue's examples, and their neighbours.
printf 'brokers = "x:1"\npostgres: postgresql://reader:hunter2@db/posthog\n' > "$work/old-format.toml"
expect 2 "$work/old-format.toml:2" "$warden" run --config "$work/old-format.toml"
printf 'postgres = "postgresql://reader:hunter2@db/posthog"\nbrokerz = "x:1"\n' > "$work/typo.toml"
expect 2 "$work/typo.toml:2: unknown setting 'brokerz'" "$warden" run --config "$work/typo.toml"
printf 'brokers = "x:1"\nteams = "t.json"\nkafka-property = ["sasl.password:hunter2"]\n' > "$work/property.toml"
expect 2 "$work/property.toml:3: setting 'kafka-property'" "$warden" run --config "$work/property.toml"
printf 'brokers = "x:1"\npostgres = "postgresql://reader:hunter2#x@db/posthog\n' > "$work/unterminated.toml"
expect 2 "$work/unterminated.toml:2: setting 'postgres'" "$warden" run --config "$work/unterminated.toml"
expect 2 "--kafka-property" "$warden" run --brokers x:1 --teams "$teams" --kafka-property 'sasl.password:hunter2'
expect 2 "security.protocol" "$warden" run --brokers x:1 --teams "$teams" --kafka-property 'security.protocol=hunter2'
expect 2 "librdkafka refuses the consumer settings" "$warden" run --brokers 127.0.0.1:1 --teams "$teams" \
    --metrics-address off --kafka-property security.protocol=SASL_PLAINTEXT --kafka-property sasl.mechanism=hunter2
printf 'teams = "%s"\n"hunter2-Sup3r" = 1\n' "$teams" > "$work/key.toml"
expect 2 "$work/key.toml:2: unknown setting for \`warden process\`" "$warden" process --config "$work/key.toml"
WARDEN_BATCH_SIZE=hunter2 expect 2 "WARDEN_BATCH_SIZE must be" "$warden" run --brokers x:1 --teams "$teams"
echo "no secret in usage errors OK"

# Kafka credentials: --kafka-property and WARDEN_KAFKA_* reach the consumer and the producer, the
# per-client property wins, and with every debug switch on no credential is logged.
printf 'pass-hunter2#="%%\n' > "$work/kafka-password"
WARDEN_KAFKA_SASL_USERNAME=user-hunter2 WARDEN_KAFKA_SASL_PASSWORD_FILE="$work/kafka-password" \
"$warden" run --brokers 127.0.0.1:1 --teams "$teams" --metrics-address off --log-level debug \
    --kafka-property security.protocol=SASL_PLAINTEXT --kafka-property sasl.mechanism=PLAIN \
    --kafka-property client.id=probe-both --consumer-property client.id=probe-consumer \
    --kafka-property debug=all >"$work/run.out" 2>"$work/run.log" &
run_pid=$!
pids+=("$run_pid")
for _ in $(seq 100); do
    grep -q 'probe-both#producer' "$work/run.log" && grep -q 'probe-consumer#consumer' "$work/run.log" && break
    sleep 0.1
done
sleep 1
kill -TERM "$run_pid"
code=0
wait "$run_pid" || code=$?
[[ $code -eq 0 ]] || fail "run exited $code after SIGTERM: $(tail -3 "$work/run.log")"
grep -q '"client":"probe-both#producer' "$work/run.log" || fail "the producer did not get --kafka-property client.id"
grep -q '"client":"probe-consumer#consumer' "$work/run.log" || fail "--consumer-property did not win for the consumer"
grep -q 'sasl_plaintext://127.0.0.1:1' "$work/run.log" || fail "the clients did not use security.protocol from --kafka-property"
lines=$(wc -l < "$work/run.log")
[[ $lines -gt 100 ]] || fail "expected a debug log, got $lines lines"
if grep -qF hunter2 "$work/run.log" "$work/run.out"; then
    fail "a credential reached the log: $(grep -F hunter2 "$work/run.log" | head -3)"
fi
echo "kafka credentials OK ($lines debug lines, no credential)"
