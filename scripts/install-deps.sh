#!/usr/bin/env bash
# Installs warden's build and test dependencies from Debian's packages.
# A no-op when everything is already present.
set -euo pipefail
packages=(meson ninja-build g++ pkg-config rapidjson-dev libssl-dev libcli11-dev doctest-dev
          clang-14 libclang-rt-14-dev libfuzzer-14-dev clang-format-14 clang-tidy-14
          librdkafka-dev kcat libpq-dev libtomlplusplus-dev postgresql prometheus-cpp-dev prometheus
          libhiredis-dev redis-server python3-yaml python3-jsonschema)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
