#!/usr/bin/env bash
# deploy/k8s without a cluster, for the base and every overlay:
# 1. the PrometheusRule is dashboards/alerts.yaml's (deploy/k8s/generate.py --check);
# 2. `kustomize build`, then kubeconform in strict mode against the Kubernetes API's schemas and
#    the KEDA and Prometheus operator CRD schemas the repository carries (deploy/k8s/schemas);
# 3. tests/deploy/k8s_check.py: what the manifests promise beyond the schemas;
# 4. broken renderings (an unknown field, a wrong type in a CRD field, a grace period shorter than
#    the drain, privilege escalation, more members than partitions, too little memory) must fail;
# 5. warden accepts the ConfigMap's config file with the container's environment: it starts and
#    stops on SIGTERM with exit 0 (brokers and PostgreSQL moved to closed loopback ports).
# Usage: k8s_test.sh WARDEN_BINARY SOURCE_ROOT
set -euo pipefail
warden=$(realpath "$1")
root=$2
source "$root/tests/deploy/deploy_tools.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/warden-k8s.XXXXXX")
warden_pid=
cleanup() {
    [[ -n "$warden_pid" ]] && kill "$warden_pid" 2>/dev/null && wait "$warden_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

kustomize=$(kustomize_path)
kubeconform=$(kubeconform_path)
schemas=$(kubernetes_schemas_path)
echo "kustomize $kustomize_version, kubeconform $kubeconform_version, Kubernetes $kubernetes_version schemas"

echo "--- generated files"
/usr/bin/python3 "$root/deploy/k8s/generate.py" --check

validate() {
    "$kubeconform" -strict -summary -kubernetes-version "$kubernetes_version" \
        -schema-location "$schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
        -schema-location "$root/deploy/k8s/schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" "$@"
}

layouts=(base)
for overlay in "$root"/deploy/k8s/overlays/*/; do layouts+=("overlays/$(basename "$overlay")"); done
for layout in "${layouts[@]}"; do
    echo "--- $layout"
    rendered="$work/$(basename "$layout").yaml"
    "$kustomize" build "$root/deploy/k8s/$layout" >"$rendered"
    validate "$rendered"
    /usr/bin/python3 "$root/tests/deploy/k8s_check.py" "$rendered" | grep -v '^ok '
done

echo "--- broken renderings are refused"
production="$work/production.yaml"
# must_fail WHAT CHECKER SED-EXPRESSION
must_fail() {
    local what=$1 checker=$2 expression=$3
    sed -e "$expression" "$production" >"$work/broken.yaml"
    if cmp -s "$production" "$work/broken.yaml"; then
        echo "FAILED: the edit for '$what' changed nothing"
        exit 1
    fi
    if $checker "$work/broken.yaml" >"$work/broken.log" 2>&1; then
        echo "FAILED: $what passed"
        cat "$work/broken.log"
        exit 1
    fi
    echo "refused, as it should be: $what"
}
policy() { /usr/bin/python3 "$root/tests/deploy/k8s_check.py" "$1"; }
must_fail "an unknown StatefulSet field" validate 's/^  podManagementPolicy: Parallel/  podManagementPolicy: Parallel\n  replicaz: 3/'
must_fail "a text where KEDA wants a number" validate 's/^  maxReplicaCount: 32/  maxReplicaCount: many/'
must_fail "an unknown ServiceMonitor field" validate 's/^\( *\)- interval: 15s$/&\n\1  intervall: 15s/'
must_fail "a grace period shorter than the drain" policy 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 20/'
must_fail "privilege escalation" policy 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/'
must_fail "more members than partitions" policy 's/^  maxReplicaCount: 32/  maxReplicaCount: 40/'
must_fail "a memory limit under the measured peak" policy 's/memory: 768Mi/memory: 256Mi/'
must_fail "a PodDisruptionBudget that selects nothing" policy '/^kind: PodDisruptionBudget/,/^---/{/app.kubernetes.io\/name: warden/d;/app.kubernetes.io\/part-of: ingestion/d}'

echo "--- warden accepts the ConfigMap's config file"
mkdir -p "$work/secrets"
echo "not-a-real-password" >"$work/secrets/postgres-password"
echo "not-a-real-audit-fingerprint-key" >"$work/secrets/audit-fingerprint-key"
echo "not-a-real-admin-signing-secret-0123456789" >"$work/secrets/admin-signing-secret"
/usr/bin/python3 - "$production" "$work" <<'PY'
import re, sys, yaml
rendered, work = sys.argv[1], sys.argv[2]
config = next(o for o in yaml.safe_load_all(open(rendered)) if o and o["kind"] == "ConfigMap")["data"]["warden.toml"]
# Loopback only: the brokers and PostgreSQL become closed ports; secrets come from the test's files.
config, brokers = re.subn(r'(?m)^brokers = ".*"$', 'brokers = "127.0.0.1:1"', config)
config, postgres = re.subn(r'(?m)^postgres = "host=[^ "]*', 'postgres = "host=127.0.0.1 port=1', config)
config = config.replace("/run/secrets/warden/", work + "/secrets/")
assert brokers == 1 and postgres == 1, "the config file names no brokers or PostgreSQL"
open(work + "/warden.toml", "w").write(config)
PY
# runs_with CONFIG: true when warden runs with CONFIG and the container's environment until
# SIGTERM, then exits 0; otherwise says why.
runs_with() {
    (cd "$work" && exec env -i PATH=/usr/bin:/bin POD_NAME=warden-0 WARDEN_GROUP_INSTANCE_ID=warden-0 \
        "$warden" run --config "$1" --metrics-address 127.0.0.1:0 >"$work/run.out" 2>"$work/run.err") &
    warden_pid=$!
    sleep 3
    local status
    if ! kill -0 "$warden_pid" 2>/dev/null; then
        set +e; wait "$warden_pid"; status=$?; set -e
        warden_pid=
        echo "warden exited ($status) with $1:"
        tail -n 5 "$work/run.err"
        return 1
    fi
    kill -TERM "$warden_pid"
    set +e; wait "$warden_pid"; status=$?; set -e
    warden_pid=
    if ((status != 0)); then
        echo "warden exited $status on SIGTERM"
        tail -n 5 "$work/run.err"
        return 1
    fi
}
runs_with "$work/warden.toml" || { echo "FAILED: warden refused the ConfigMap's config file"; exit 1; }
echo "warden ran with it and stopped on SIGTERM with exit 0"
sed 's/^group = /grup = /' "$work/warden.toml" >"$work/typo.toml"
if runs_with "$work/typo.toml" >/dev/null; then
    echo "FAILED: warden ran with a misspelt setting"
    exit 1
fi
echo "refused, as it should be: a misspelt setting in the config file"
echo "kubernetes checks passed"
