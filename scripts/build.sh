#!/usr/bin/env bash
# Installs missing dependencies, then configures (once) and builds build/warden.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# System dependencies only: the wraps in subprojects/ are for other distributions.
[ -f build/build.ninja ] || meson setup build --wrap-mode=nodownload >/dev/null
ninja -C build
