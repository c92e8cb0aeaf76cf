#!/usr/bin/env bash
# deploy/compose.yaml without a Docker engine:
# 1. the generated seed teams are loadgen's (deploy/compose/generate.py --check);
# 2. tests/deploy/compose_check.py: the Compose Specification's JSON schema and compose-go's loader
#    (tests/deploy/deploy_tools.sh), then what the stack promises beyond them (static members of
#    one group, pinned images, known settings, mounted files, promtool on Prometheus's config and
#    rules, Grafana's provisioning, health checks, dependencies, no literal credentials);
# 3. broken copies of the stack's files (compose.yaml and what it mounts) must fail that check;
# 4. the warden side run on loopback: a throwaway PostgreSQL set up by deploy/sql and the stack's
#    own init scripts and secrets, a mock cluster, both replicas with their compose environment,
#    the compose file's Prometheus config and the load generator's command (compose_check.py --stack).
# Usage: compose_test.sh WARDEN_BINARY SOURCE_ROOT
set -euo pipefail
warden=$(realpath "$1")
root=$(realpath "$2")
source "$root/tests/deploy/deploy_tools.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/warden-compose.XXXXXX")
trap 'rm -rf "$work"' EXIT

loader=$(compose_loader_path)
schema=$(compose_schema_path)
echo "compose-go $compose_go_version (loader and JSON schema)"
check() { /usr/bin/python3 "$root/tests/deploy/compose_check.py" "$warden" "$1" --loader "$loader" --schema "$schema"; }

echo "--- generated files"
/usr/bin/python3 "$root/deploy/compose/generate.py" "$warden" --check

echo "--- deploy/compose.yaml"
check "$root" | grep -v '^ok '

echo "--- broken copies are refused"
# must_fail WHAT FILE SED-EXPRESSION: FILE (relative to the root) edited in a copy of the files
# the stack reads (deploy/, dashboards/), which must then fail the check.
must_fail() {
    local what=$1 file=$2 expression=$3 tree="$work/tree"
    rm -rf "$tree"
    mkdir -p "$tree"
    cp -r "$root/deploy" "$root/dashboards" "$tree/"
    sed -i -e "$expression" "$tree/$file"
    if cmp -s "$root/$file" "$tree/$file"; then
        echo "FAILED: the edit for '$what' changed nothing"
        exit 1
    fi
    if check "$tree" >"$work/broken.log" 2>&1; then
        echo "FAILED: $what passed"
        cat "$work/broken.log"
        exit 1
    fi
    echo "refused, as it should be: $what ($(grep -c '^FAILED' "$work/broken.log") failed)"
}
compose=deploy/compose.yaml
must_fail "a replica without a group instance id" $compose '/WARDEN_GROUP_INSTANCE_ID: warden-2/d'
must_fail "two replicas with one instance id" $compose 's/WARDEN_GROUP_INSTANCE_ID: warden-2/WARDEN_GROUP_INSTANCE_ID: warden-1/'
must_fail "a replica in another group" $compose 's/^\( *\)WARDEN_GROUP_INSTANCE_ID: warden-2/&\n\1WARDEN_GROUP: warden-b/'
must_fail "an unknown WARDEN_ variable" $compose 's/^  WARDEN_LOG_LEVEL: info/&\n  WARDEN_LOGLEVEL: debug/'
must_fail "an unknown loadgen flag" $compose 's/"--rate", "1000"/"--ratee", "1000"/'
must_fail "an unpinned image" $compose 's|image: grafana/grafana:12.1.1|image: grafana/grafana:latest|'
must_fail "an image on a floating major tag" $compose 's|image: postgres:16.10|image: postgres:16|'
must_fail "a missing mounted file" $compose 's|\.\./dashboards/warden.json:|../dashboards/warden-overview.json:|'
must_fail "a file of deploy/sql left out" $compose '/003_reader_role.sql:/d'
must_fail "replicas that start before the topics exist" $compose '/^x-warden-replica:/,/^services:/{/^    topics:$/,/condition:/d}'
must_fail "a dependency on a service that does not exist" $compose 's/^      topics:$/      topicz:/'
must_fail "a field the specification does not have" $compose 's/^    hostname: kafka$/&\n    hostnames: kafka/'
# shellcheck disable=SC2016 # a sed expression: the $ are the file's
must_fail 'an unescaped $ in the health check' $compose 's/\$\$status/$status/'
must_fail "a health check on another port" $compose 's|/dev/tcp/127.0.0.1/9464|/dev/tcp/127.0.0.1/9465|'
must_fail "a writable root filesystem" $compose 's/read_only: true/read_only: false/'
must_fail "a port published on every interface" $compose 's/"127.0.0.1:3000:3000"/"3000:3000"/'
must_fail "the broker's container listener published to the host" $compose 's/"127.0.0.1:9092:19092"/"127.0.0.1:9092:9092"/'
must_fail "a literal password" $compose 's/^      POSTGRES_USER: postgres$/&\n      POSTGRES_PASSWORD: postgres/'
must_fail "events for teams that are not seeded" $compose 's/"--teams", "20"/"--teams", "30"/'
must_fail "more members than input partitions" $compose 's/events_plugin_ingestion:4/events_plugin_ingestion:1/'
must_fail "an output topic not created" $compose 's/ events_heatmaps:2//'
must_fail "Prometheus scraping one replica" deploy/compose/prometheus.yml 's/, "warden-2:9464"//'
must_fail "rule files that match nothing" deploy/compose/prometheus.yml 's|rules/\*.yaml|alerts/*.yaml|'
must_fail "an alert rule Prometheus refuses" dashboards/alerts.yaml 's/expr: up{job="warden"} == 0/expr: up{job="warden"} ==/'
must_fail "Grafana's data source elsewhere" deploy/compose/grafana/provisioning/datasources/prometheus.yaml 's|prometheus:9090|prometheus:9091|'
must_fail "a dashboard provider without the dashboard" deploy/compose/grafana/provisioning/dashboards/warden.yaml 's|path: /etc/grafana/dashboards|path: /var/lib/grafana/dashboards|'
# shellcheck disable=SC2016 # sed: delete the last line
must_fail "a dashboard that is not JSON" dashboards/warden.json '$d'
must_fail "a secret that is not a local development value" deploy/compose/secrets/postgres-password 's/.*/Zq8vT3rW9pLm/'

echo "--- the replicas on loopback, as the stack runs them"
"$root/tests/support/with_postgres.sh" /usr/bin/python3 "$root/tests/deploy/compose_check.py" "$warden" "$root" --stack \
    --loader "$loader" --schema "$schema"
echo "compose checks passed"
