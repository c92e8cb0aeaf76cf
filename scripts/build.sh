#!/usr/bin/env bash
# Installs missing dependencies, then configures (once) and builds build/warden.
# Usage: scripts/build.sh [meson options...], e.g. -Dwerror=true (the test command's choice);
# options given to an already configured build are applied to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ -f build/build.ninja ]; then
    [ $# -eq 0 ] || meson configure build "$@" >/dev/null
else
    # System dependencies only: the wraps in subprojects/ are for other distributions.
    meson setup build --wrap-mode=nodownload "$@" >/dev/null
fi
ninja -C build
