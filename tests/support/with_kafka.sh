#!/usr/bin/env bash
# Runs a command beside a throwaway Apache Kafka cluster (KRaft, every node a combined controller
# and broker) on free loopback ports, with warden's topics created, and removes the cluster
# afterwards, also when the command fails or this script is interrupted.
#   tests/support/with_kafka.sh [--nodes N] COMMAND [ARGS...]
# The command gets WARDEN_TEST_KAFKA (the bootstrap address of every node). The broker's jars
# (version pinned in tests/support/kafka/pom.xml) are fetched from Maven Central once into
# WARDEN_KAFKA_CACHE (default ~/.cache/warden/kafka-<version>); Java and Maven come from Debian
# when missing. Topics are never created on first use (auto.create.topics.enable=false), as in
# production.
#
# --nodes N (default 1): N nodes forming an N-voter controller quorum. Topics, consumer offsets and
# transaction state are replicated min(N, 3) times with min.insync.replicas one less (at least 1),
# so with 3 nodes any one can fail without losing an acknowledged (acks=all) write. For failover
# tests the command also gets
#   WARDEN_TEST_KAFKA_NODES_DIR  node-K/ per node (K = node.id, 1..N): pid, port, server.log
#   WARDEN_TEST_KAFKA_CONTROL    a shell command: `$WARDEN_TEST_KAFKA_CONTROL kill K` (SIGKILL),
#                                `stop K` (SIGTERM, a controlled shutdown), `start K` (same data and
#                                ports; returns once the node serves metadata again).
# WARDEN_TEST_KAFKA_PARTITIONS sets the partitions of each topic (default 4);
# WARDEN_TEST_KAFKA_OUTPUT_PARTITIONS those of the output topics (default the same).
#
# Heap: each node runs with -Xms128m -Xmx512m (WARDEN_TEST_KAFKA_HEAP overrides), which fits
# three nodes beside the tests on a 2-core, 24 GiB machine: a node idles at about 350 MB resident
# right after start (heap, metaspace, code cache) and held 0.4-0.53 GB under the failover test,
# about 1.5 GB for three. The cluster with its topics is ready in 12-25 s with one node and
# 19-50 s with three, mostly JVMs loading classes (measured on a shared 2-core VM under other
# builds' load).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pom="$root/tests/support/kafka/pom.xml"
version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$pom")
cache="${WARDEN_KAFKA_CACHE:-$HOME/.cache/warden/kafka-$version}"
read -r -a heap <<<"${WARDEN_TEST_KAFKA_HEAP:--Xms128m -Xmx512m}"
java_cmd=(java -Dlog4j2.level=WARN -cp "$cache/*")
node_cmd=("${java_cmd[@]}" "${heap[@]}" -XX:+UseG1GC)
# The tools run for seconds: the quick compiler alone starts them sooner on 2 cores.
tool_cmd=("${java_cmd[@]}" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)

# Whether a process runs; a zombie (killed, not yet reaped by its parent) does not.
alive() {
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ "$state" != Z* ]]
}

# Waits up to $2 tenths of a second for process $1 to end.
wait_gone() {
    for _ in $(seq 1 "$2"); do alive "$1" || return 0; sleep 0.1; done
    ! alive "$1"
}

# Starts node $1 from $dir/node-$1 in the background; its pid goes to the node's pid file. The
# subshell detaches it, so that a `start` from the control command outlives that command.
launch_node() {
    local node_dir="$dir/node-$1"
    ("${node_cmd[@]}" kafka.Kafka "$node_dir/server.properties" </dev/null >>"$node_dir/server.log" 2>&1 &
     echo $! >"$node_dir/pid")
}

# Waits until node $1 serves metadata that lists it, i.e. it is registered and unfenced. Fails
# when the node exits first (a port taken meanwhile) or after a minute.
wait_node_ready() {
    local node_dir="$dir/node-$1"
    local pid port
    pid=$(cat "$node_dir/pid")
    port=$(cat "$node_dir/port")
    for _ in $(seq 1 120); do
        alive "$pid" || return 1
        if kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q "broker $1 at "; then return 0; fi
        sleep 0.5
    done
    return 1
}

# Ends node $1 with signal $2 and waits until it is gone.
end_node() {
    local pid_file="$dir/node-$1/pid"
    [[ -f "$pid_file" ]] || return 0
    local pid
    pid=$(cat "$pid_file")
    kill "-$2" "$pid" 2>/dev/null || true
    # A controlled shutdown hands leadership over first; past half a minute it is killed anyway.
    wait_gone "$pid" 300 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 100; }
    rm -f "$pid_file"
}

if [[ "${1:-}" == --control ]]; then
    # The failover commands exported as WARDEN_TEST_KAFKA_CONTROL: --control DIR kill|stop|start K.
    dir="$2"
    node="${4:-}"
    [[ "$node" =~ ^[0-9]+$ && -d "$dir/node-$node" ]] || { echo "with_kafka: no node '$node' in $dir" >&2; exit 2; }
    case "$3" in
    kill) end_node "$node" KILL ;;
    stop) end_node "$node" TERM ;;
    start)
        if [[ -f "$dir/node-$node/pid" ]] && alive "$(cat "$dir/node-$node/pid")"; then
            echo "with_kafka: node $node is running" >&2
            exit 1
        fi
        launch_node "$node"
        wait_node_ready "$node" || { echo "with_kafka: node $node did not come back; see $dir/node-$node/server.log" >&2; exit 1; }
        ;;
    *) echo "with_kafka: --control DIR kill|stop|start NODE" >&2; exit 2 ;;
    esac
    exit 0
fi

nodes=1
if [[ "${1:-}" == --nodes ]]; then
    nodes="${2:-}"
    shift 2 || true
    [[ "$nodes" =~ ^[1-9]$ ]] || { echo "with_kafka: --nodes takes 1 to 9" >&2; exit 2; }
fi
(($#)) || { echo "usage: with_kafka.sh [--nodes N] COMMAND [ARGS...]" >&2; exit 2; }

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v kcat >/dev/null || missing+=(kcat)
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
stop_cluster() {
    local node
    # The data is removed next, so there is nothing to shut down cleanly for.
    for node in $(seq 1 "$nodes"); do end_node "$node" KILL; done
}
# shellcheck disable=SC2317 # called by the traps
cleanup() {
    stop_cluster
    rm -rf "$dir"
}
trap cleanup EXIT
# An interrupted run ends through the EXIT trap too, and takes the command with it: the command
# gets SIGTERM, since a command run in the background ignores SIGINT.
command_pid=""
# shellcheck disable=SC2317 # called by the traps
interrupted() {
    [[ -z "$command_pid" ]] || kill -TERM "$command_pid" 2>/dev/null || true
    exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM
trap 'interrupted 129' HUP

replication=$((nodes < 3 ? nodes : 3))
min_insync=$((replication > 1 ? replication - 1 : 1))

# Free loopback ports, as every server helper picks them.
source "$root/tests/support/free_port.sh"

# Writes every node's configuration on fresh ports, formats its storage and starts it; succeeds
# once each node serves metadata listing itself.
start_cluster() {
    local node ports=() voters="" bootstrap_list="" cluster_id
    stop_cluster
    rm -rf "${dir:?}"/node-*
    # A broker and a controller port per node, all different.
    while ((${#ports[@]} < 2 * nodes)); do
        local port
        port=$(free_loopback_port)
        [[ " ${ports[*]} " == *" $port "* ]] || ports+=("$port")
    done
    for node in $(seq 1 "$nodes"); do
        voters+="${voters:+,}$node@127.0.0.1:${ports[2 * node - 1]}"
        bootstrap_list+="${bootstrap_list:+,}127.0.0.1:${ports[2 * node - 2]}"
    done
    # What `kafka-storage random-uuid` prints: 16 random bytes in URL-safe base64, not starting with
    # a dash (it would read as an option).
    cluster_id=-
    while [[ "$cluster_id" == -* ]]; do
        cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    local formats=()
    for node in $(seq 1 "$nodes"); do
        local node_dir="$dir/node-$node" port="${ports[2 * node - 2]}" controller_port="${ports[2 * node - 1]}"
        mkdir -p "$node_dir"
        echo "$port" >"$node_dir/port"
        cat >"$node_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$node_dir/data
auto.create.topics.enable=false
default.replication.factor=$replication
min.insync.replicas=$min_insync
unclean.leader.election.enable=false
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_insync
group.initial.rebalance.delay.ms=0
# A node that stops heartbeating is fenced, and leaves the ISRs, after 6 s instead of 9 s.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
PROPS
        "${tool_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$node_dir/server.properties" \
            >"$node_dir/format.log" 2>&1 &
        formats+=($!)
    done
    for node in $(seq 1 "$nodes"); do
        wait "${formats[node - 1]}" || { cat "$dir/node-$node/format.log" >&2; return 1; }
    done
    for node in $(seq 1 "$nodes"); do launch_node "$node"; done
    for node in $(seq 1 "$nodes"); do
        wait_node_ready "$node" || { echo "with_kafka: node $node did not start; the end of its log:" >&2;
                                     tail -n 5 "$dir/node-$node/server.log" >&2; return 1; }
    done
    bootstrap="$bootstrap_list"
}

started_at=$SECONDS
started=""
# A port can be taken between the check and the bind: start again on other ports.
for attempt in 1 2 3; do
    if start_cluster; then started=1; break; fi
    echo "with_kafka: the cluster did not start (attempt $attempt)" >&2
done
[[ -n "$started" ]] || { echo "with_kafka: no cluster" >&2; exit 1; }

partitions="${WARDEN_TEST_KAFKA_PARTITIONS:-4}"
output_partitions="${WARDEN_TEST_KAFKA_OUTPUT_PARTITIONS:-$partitions}"
create_topic() {
    "${tool_cmd[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --topic "$1" \
        --partitions "$2" --replication-factor "$replication" --config "min.insync.replicas=$min_insync" \
        >"$dir/topic-$1.log" 2>&1 || { cat "$dir/topic-$1.log" >&2; return 1; }
}
# Side by side: each is mostly a JVM starting.
creations=()
create_topic events_plugin_ingestion "$partitions" &
creations+=($!)
for topic in events_analytics events_error_tracking events_heatmaps events_dlq events_security_audit; do
    create_topic "$topic" "$output_partitions" &
    creations+=($!)
done
for creation in "${creations[@]}"; do wait "$creation" || { echo "with_kafka: cannot create the topics" >&2; exit 1; }; done
# Every node learns of a new topic from the controller a moment later; a client asking that node
# meanwhile would find the topic missing.
for node in $(seq 1 "$nodes"); do
    for _ in $(seq 1 60); do
        listed=$(kcat -b "127.0.0.1:$(cat "$dir/node-$node/port")" -L -m 2 2>/dev/null |
            grep -cE '^  topic "events_(plugin_ingestion|analytics|error_tracking|heatmaps|dlq)"') || true
        [[ "$listed" -lt 5 ]] || continue 2
        sleep 0.5
    done
    echo "with_kafka: node $node does not list the topics" >&2
    exit 1
done
echo "with_kafka: $nodes node(s) with topics ready in $((SECONDS - started_at)) s" >&2

export WARDEN_TEST_KAFKA="$bootstrap"
export WARDEN_TEST_KAFKA_NODES_DIR="$dir"
printf -v WARDEN_TEST_KAFKA_CONTROL '%q ' bash "$root/tests/support/with_kafka.sh" --control "$dir"
export WARDEN_TEST_KAFKA_CONTROL
# In the background, so that a signal is handled at once: bash runs a trap only after the
# foreground command ends, but interrupts `wait`.
"$@" <&0 &
command_pid=$!
status=0
wait "$command_pid" || status=$?
exit "$status"
