#!/usr/bin/env python3
"""Copies the Kubernetes JSON schemas of the kubernetes-validate package into a form kubeconform
compiles offline: references to the shared definitions become relative to the schema files, and
the `$id`s (kubernetes.io URLs, which kubeconform would try to fetch) go.

Usage: standalone_schemas.py SOURCE_DIR TARGET_DIR
"""

import json
import sys
from pathlib import Path


def standalone(node):
    if isinstance(node, dict):
        return {key: (value.replace("/api/_definitions.json#", "_definitions.json#")
                      if key == "$ref" and isinstance(value, str) else standalone(value))
                for key, value in node.items() if key != "$id"}
    if isinstance(node, list):
        return [standalone(value) for value in node]
    return node


def main(source, target):
    source, target = Path(source), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.glob("*.json")):
        (target / path.name).write_text(json.dumps(standalone(json.loads(path.read_text()))))
        count += 1
    if count == 0:
        print(f"no schema in {source}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
