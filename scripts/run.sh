#!/usr/bin/env bash
# Builds warden and runs its main job on the shipped sample: the offline pipeline over
# samples/events.jsonl with samples/teams.json, writing one JSONL file per topic to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
out=${1:-out}
build/warden process --teams samples/teams.json --input samples/events.jsonl --output-dir "$out"
echo "outputs in $out/:" >&2
wc -l "$out"/*.jsonl >&2
