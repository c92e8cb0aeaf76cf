#!/usr/bin/env bash
# Runs a command beside a throwaway Apache Kafka broker (KRaft, one combined controller and broker)
# on free loopback ports, with warden's topics created, and removes the broker afterwards.
#   tests/support/with_kafka.sh COMMAND [ARGS...]
# The command gets WARDEN_TEST_KAFKA (the bootstrap address). The broker's jars (version pinned in
# tests/support/kafka/pom.xml) are fetched from Maven Central once into WARDEN_KAFKA_CACHE
# (default ~/.cache/warden/kafka-<version>); Java and Maven come from Debian when missing.
# Topics are never created on first use (auto.create.topics.enable=false), as in production.
# WARDEN_TEST_KAFKA_PARTITIONS sets the partitions of each topic (default 4).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pom="$root/tests/support/kafka/pom.xml"
version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$pom")
cache="${WARDEN_KAFKA_CACHE:-$HOME/.cache/warden/kafka-$version}"

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
if ((${#missing[@]})); then
    echo "with_kafka: installing ${missing[*]}" >&2
    sudo_cmd=()
    [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [[ ! -f "$cache/.complete" ]]; then
    echo "with_kafka: fetching Apache Kafka $version into $cache" >&2
    rm -rf "$cache"
    mkdir -p "$cache"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$cache" -DincludeScope=runtime >&2 ||
        { echo "with_kafka: cannot fetch the broker's jars from Maven Central" >&2; exit 1; }
    touch "$cache/.complete"
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/warden-kafka.XXXXXX")"
broker_pid=""
cleanup() {
    if [[ -n "$broker_pid" ]]; then
        kill "$broker_pid" 2>/dev/null || true
        # A clean shutdown takes a few seconds; past that, the data goes anyway.
        for _ in $(seq 1 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

# Free loopback ports, as every server helper picks them.
source "$root/tests/support/free_port.sh"
java_cmd=(java -Xms256m -Xmx512m -XX:+UseG1GC -Dlog4j2.level=WARN -cp "$cache/*")

start_broker() {
    port=$(free_loopback_port)
    controller_port=$(free_loopback_port)
    [[ "$port" != "$controller_port" ]] || return 1
    rm -rf "$dir/data"
    cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)" \
        -c "$dir/server.properties" >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; return 1; }
    "${java_cmd[@]}" kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
    broker_pid=$!
    # Up when it answers metadata; a broker that exits (its port taken) is started again elsewhere.
    for _ in $(seq 1 120); do
        kill -0 "$broker_pid" 2>/dev/null || { broker_pid=""; return 1; }
        if kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q " 1 brokers:"; then return 0; fi
        sleep 0.5
    done
    return 1
}
started=""
for attempt in 1 2 3; do
    if start_broker; then started=1; break; fi
    echo "with_kafka: the broker did not start (attempt $attempt); the end of its log:" >&2
    tail -n 5 "$dir/broker.log" >&2 || true
    [[ -z "$broker_pid" ]] || { kill -9 "$broker_pid" 2>/dev/null || true; broker_pid=""; }
done
[[ -n "$started" ]] || { echo "with_kafka: no broker" >&2; exit 1; }

bootstrap="127.0.0.1:$port"
partitions="${WARDEN_TEST_KAFKA_PARTITIONS:-4}"
for topic in events_plugin_ingestion events_analytics events_error_tracking events_heatmaps events_dlq; do
    "${java_cmd[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --topic "$topic" \
        --partitions "$partitions" >"$dir/topics.log" 2>&1 || { cat "$dir/topics.log" >&2; exit 1; }
done
export WARDEN_TEST_KAFKA="$bootstrap"
"$@"
