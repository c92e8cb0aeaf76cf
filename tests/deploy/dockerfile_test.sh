#!/usr/bin/env bash
# deploy/Dockerfile without a Docker engine:
# 1. hadolint (tests/deploy/deploy_tools.sh) with deploy/.hadolint.yaml: no finding;
# 2. tests/deploy/dockerfile_check.py: the stages, the runtime packages against `ldd` of the
#    binary, the build packages and meson options against this tree; and the same checks against
#    broken copies of the Dockerfile, which must fail;
# 3. the runtime stage's steps another way: the binary, copied as the image copies it, runs as
#    the image's uid and gid from a directory of its own, and the HEALTHCHECK command (on this
#    run's port instead of 9464) passes against it and fails once it is gone.
# Usage: dockerfile_test.sh WARDEN_BINARY SOURCE_ROOT
set -euo pipefail
warden=$1
root=$2
source "$root/tests/support/free_port.sh"
source "$root/tests/deploy/deploy_tools.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/warden-docker.XXXXXX")
chmod 0755 "$work"  # the image's user reaches the binary and its directory
demo_pid=
cleanup() {
    [[ -n "$demo_pid" ]] && kill "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "--- hadolint $hadolint_version"
hadolint=$(hadolint_path)
"$hadolint" --no-color --config "$root/deploy/.hadolint.yaml" "$root/deploy/Dockerfile"
echo "no finding"
# The settings are live: a Dockerfile that runs as root is refused.
printf 'FROM debian:12-slim\nUSER root\n' >"$work/Dockerfile.root"
if "$hadolint" --no-color --config "$root/deploy/.hadolint.yaml" "$work/Dockerfile.root" >/dev/null; then
    echo "FAILED: hadolint accepted a Dockerfile that runs as root"
    exit 1
fi

echo "--- the Dockerfile against the binary and the tree"
/usr/bin/python3 "$root/tests/deploy/dockerfile_check.py" "$warden" "$root"

# Each broken copy must fail the check (without the meson step, which they do not change).
broken() {
    local what=$1 expression=$2
    sed -e "$expression" "$root/deploy/Dockerfile" >"$work/Dockerfile.broken"
    if cmp -s "$root/deploy/Dockerfile" "$work/Dockerfile.broken"; then
        echo "FAILED: the edit for '$what' changed nothing"
        exit 1
    fi
    if /usr/bin/python3 "$root/tests/deploy/dockerfile_check.py" "$warden" "$root" --no-configure \
        --dockerfile "$work/Dockerfile.broken" >"$work/broken.log"; then
        echo "FAILED: the check passed a Dockerfile with $what"
        exit 1
    fi
    echo "refused, as it should be: $what ($(grep -c '^FAILED' "$work/broken.log") failed)"
}
broken "librdkafka missing from the runtime" 's/ librdkafka1 / /'
broken "an HTTP client the binary does not link" 's/ libtomlplusplus3 / libtomlplusplus3 curl /'
broken "the root user" 's/^USER 10001:10001/USER 0/'
broken "another entrypoint" 's|^ENTRYPOINT .*|ENTRYPOINT ["/bin/sh"]|'
broken "a version label behind the project's" 's/^ARG WARDEN_VERSION=.*/ARG WARDEN_VERSION=0.0.1/'
broken "rdkafka's headers missing from the build" 's/ librdkafka-dev / /'

echo "--- the runtime stage's steps, run another way"
uid=$(sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\1/p' "$root/deploy/Dockerfile")
gid=$(sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\2/p' "$root/deploy/Dockerfile")
# As the image's user where this runs as root; otherwise as the current (non-root) user.
as_image_user=(setpriv --reuid "$uid" --regid "$gid" --clear-groups)
if (($(id -u) != 0)); then
    as_image_user=()
    uid=$(id -u) gid=$(id -g)
    echo "not root: warden runs as $uid:$gid instead of the image's user"
fi
install -d -m 0755 "$work/bin"
install -m 0755 "$warden" "$work/bin/warden"  # COPY --from=build
install -d -o "$uid" -g "$gid" -m 0750 "$work/home"  # the volume, the working directory
port=$(free_loopback_port)
(cd "$work/home" && exec "${as_image_user[@]}" env -i PATH=/usr/bin:/bin \
    "$work/bin/warden" demo --events 100000000 --rate 200 --metrics-address "127.0.0.1:$port" \
    >"$work/demo.out" 2>"$work/demo.err") &
demo_pid=$!
healthcheck=$(sed -n 's/^ *CMD \(\[.*\]\)$/\1/p' "$root/deploy/Dockerfile" | head -1)
mapfile -t probe < <(/usr/bin/python3 -c 'import json, sys; [print(w) for w in json.loads(sys.argv[1])]' "$healthcheck")
probe[-1]=${probe[-1]//\/9464/\/$port}
probe_once() { "${as_image_user[@]}" "${probe[@]}" 2>/dev/null; }
healthy=0
for _ in $(seq 1 100); do
    if probe_once; then healthy=1; break; fi
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.2
done
if ((!healthy)); then
    echo "FAILED: the HEALTHCHECK never passed against warden running as $uid:$gid"
    tail -n 20 "$work/demo.err"
    exit 1
fi
echo "HEALTHCHECK passes against warden running as $uid:$gid in a directory of its own"
if [[ -n "$(find "$work/bin" -newer "$work/bin/warden" -print -quit)" ]]; then
    echo "FAILED: warden wrote beside its binary"
    exit 1
fi
kill "$demo_pid"
wait "$demo_pid" 2>/dev/null || true
demo_pid=
if probe_once; then
    echo "FAILED: the HEALTHCHECK passed with nothing listening"
    exit 1
fi
echo "HEALTHCHECK fails once warden is gone"
echo "dockerfile checks passed"
