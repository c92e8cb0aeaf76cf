#!/usr/bin/env bash
# Builds warden and runs its main job on the embedded defaults: `warden demo`, the worker against
# an in-process mock Kafka cluster fed with generated capture traffic. Extra arguments go to the
# demo (e.g. --events 50000 --rate 0); `build/warden demo --help` lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
exec build/warden demo "$@"
