#!/usr/bin/env python3
"""Writes the files of deploy/k8s that are derived from others; --check only compares.

- base/prometheusrule.yaml: dashboards/alerts.yaml's groups as a Prometheus operator
  PrometheusRule (the alert rules have one source);
- with --schemas CRD.yaml...: schemas/GROUP/KIND_VERSION.json, the JSON schema kubeconform reads
  for each version of each CustomResourceDefinition given (needs PyYAML; the CRDs come from the
  projects' releases, see schemas/README.md).

Usage: generate.py [--check] [--schemas CRD.yaml...]
"""

import json
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent))
from generated_files import write_or_check  # noqa: E402
root = here.parent.parent


def prometheus_rule():
    alerts = (root / "dashboards" / "alerts.yaml").read_text().splitlines()
    body = alerts[next(i for i, line in enumerate(alerts) if line.startswith("groups:")):]
    lines = [
        "# Generated from dashboards/alerts.yaml by deploy/k8s/generate.py: edit the alerts there.",
        "apiVersion: monitoring.coreos.com/v1",
        "kind: PrometheusRule",
        "metadata:",
        "  name: warden",
        "spec:",
    ] + [("  " + line).rstrip() for line in body]
    return "\n".join(lines) + "\n"


def strict(schema):
    """kubeconform's strict mode: objects with declared properties take no others; int-or-string."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def crd_schemas(paths):
    import yaml  # only for --schemas

    written = {}
    for path in paths:
        for crd in yaml.safe_load_all(Path(path).read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"].lower()
            for version in crd["spec"]["versions"]:
                schema = strict(version["schema"]["openAPIV3Schema"])
                # apiVersion, kind and metadata are checked by the API server, not the CRD.
                schema.setdefault("properties", {}).update(
                    {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}})
                written[f"schemas/{group}/{kind}_{version['name']}.json"] = json.dumps(schema, indent=1, sort_keys=True) + "\n"
    return written


def main(args):
    check = "--check" in args
    files = {"base/prometheusrule.yaml": prometheus_rule()}
    if "--schemas" in args:
        files.update(crd_schemas(args[args.index("--schemas") + 1:]))
    return write_or_check(here, files, check, "deploy/k8s/generate.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
