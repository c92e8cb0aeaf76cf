#!/usr/bin/env bash
# Installs missing dependencies, then configures (once) and builds build/warden.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
