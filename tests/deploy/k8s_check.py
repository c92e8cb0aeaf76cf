#!/usr/bin/env python3
"""What deploy/k8s promises beyond the API schemas (kubeconform checks those), on a rendered
overlay (`kustomize build`):

- each pod is a static group member named after itself, stops within its grace period, runs
  non-root with no privilege escalation, no capabilities and a read-only root filesystem, mounts
  no service account token, and is probed on /healthz and /readyz at the port warden serves;
- its memory limit holds the peak the benchmarks measured for its member count;
- no Secret is rendered and no credential is given as a literal value;
- the Service, PodDisruptionBudget and ServiceMonitor select the pods and the metrics port;
- the ScaledObject scales the StatefulSet on warden's group and input topic at its brokers,
  with at most as many members as the input has partitions;
- the config file of the ConfigMap is the one the StatefulSet reads.

Usage: k8s_check.py RENDERED.yaml  (prints one line per check; exit 1 when one fails; needs PyYAML)
"""

import re
import sys
import tomllib

import yaml

failures = []

# Peak RSS under a 2,000,000-event backlog (README, Throughput), by members per process.
measured_peak_mib = {1: 321 * 1000**2 / 2**20, 2: 503.4 * 1000**2 / 2**20}
# Leaving the group after the drain: the final commit and LeaveGroup (measured well under 1 s).
leave_margin_seconds = 10


def check(ok, what):
    print(("ok     " if ok else "FAILED ") + what)
    if not ok:
        failures.append(what)


def quantity(text, unit):
    """A Kubernetes quantity in `unit` ("cpu": cores, "mem": MiB)."""
    text = str(text)
    if unit == "cpu":
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    factors = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1000 / 2**20, "M": 1000**2 / 2**20, "G": 1000**3 / 2**20}
    for suffix, factor in factors.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / 2**20


def selects(selector, labels):
    """A selector that names labels, all of which `labels` has: an empty one would select nothing
    (a PodDisruptionBudget) or everything (a Service without selector selects no pod)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def dig(node, *keys):
    for key in keys:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node


def main(path):
    objects = [o for o in yaml.safe_load_all(open(path)) if o]
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    check("Secret" not in by_kind, "no Secret is rendered: credentials are created outside the repository")
    for kind in ("StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceMonitor", "ScaledObject",
                 "PrometheusRule", "ServiceAccount"):
        check(len(by_kind.get(kind, [])) == 1, f"one {kind}")
    if failures:
        return 1
    sts, = by_kind["StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    container, = pod["containers"]
    env = {e["name"]: e for e in container.get("env", [])}

    # The configuration the pod reads.
    config_map, = by_kind["ConfigMap"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    args = container.get("args", [])
    config_path = args[args.index("--config") + 1] if "--config" in args else ""
    config_dir, _, config_file = config_path.rpartition("/")
    mount = mounts.get(config_dir)
    source = volumes.get(mount["name"], {}).get("configMap", {}).get("name") if mount else None
    check(args[:1] == ["run"] and source == config_map["metadata"]["name"] and config_file in config_map["data"],
          f"the container runs `warden run --config {config_path}` from the ConfigMap {source}")
    config = tomllib.loads(config_map["data"].get(config_file, ""))

    # Static membership and shutdown.
    instance = env.get("WARDEN_GROUP_INSTANCE_ID", {}).get("value")
    pod_name = env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    check(instance == "$(POD_NAME)" and pod_name == "metadata.name",
          "the static member id (WARDEN_GROUP_INSTANCE_ID) is the pod's name")
    shutdown_ms = int(env.get("WARDEN_SHUTDOWN_TIMEOUT_MS", {}).get("value", config.get("shutdown-timeout-ms", 30000)))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(grace >= shutdown_ms / 1000 + leave_margin_seconds,
          f"the grace period ({grace} s) outlasts the drain ({shutdown_ms / 1000:g} s) plus {leave_margin_seconds} s to leave")

    # Security context.
    pod_security = pod.get("securityContext", {})
    security = container.get("securityContext", {})
    check(pod_security.get("runAsNonRoot") is True and pod_security.get("runAsUser", 0) != 0
          and security.get("runAsNonRoot", True) is not False, "the pod runs as a non-root user")
    check(security.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    check(security.get("readOnlyRootFilesystem") is True, "a read-only root filesystem")
    check("ALL" in security.get("capabilities", {}).get("drop", []) and not security.get("capabilities", {}).get("add"),
          "every capability dropped, none added")
    check(security.get("privileged", False) is False, "not privileged")
    check(pod.get("automountServiceAccountToken") is False, "no service account token mounted")
    writable = [m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")]
    check(writable == ["/var/lib/warden"], f"the only writable mount is the image's volume /var/lib/warden ({writable})")

    # Probes on the port warden serves.
    metrics_port = int(config.get("metrics-address", "0.0.0.0:9464").rpartition(":")[2])
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    check(ports.get("metrics") == metrics_port, f"the metrics port is warden's --metrics-address port {metrics_port}")
    for probe, endpoint in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http = container.get(probe, {}).get("httpGet", {})
        check(http.get("path") == endpoint and http.get("port") in ("metrics", metrics_port),
              f"{probe} asks {endpoint} on the metrics port")

    # Resources against the measured memory.
    resources = container.get("resources", {})
    limits, requests = resources.get("limits", {}), resources.get("requests", {})
    check(all(k in limits and k in requests for k in ("cpu", "memory")), "CPU and memory requests and limits are set")
    threads = int(env.get("WARDEN_THREADS", {}).get("value", config.get("threads", 0)))  # run's default
    members = threads if threads > 0 else max(1, int(-(-quantity(limits.get("cpu", "1"), "cpu") // 1)))
    memory = quantity(limits.get("memory", "0"), "mem")
    peak = measured_peak_mib.get(members)
    check(peak is not None and memory >= peak,
          f"the memory limit ({memory:.0f} MiB) holds the measured peak of {members} member(s) per pod"
          + (f" ({peak:.0f} MiB)" if peak else " (not measured)"))

    # No credential in the clear.
    for name, e in env.items():
        if re.search(r"PASSWORD|SECRET|TOKEN", name) and not name.endswith("_FILE"):
            check("value" not in e, f"{name} does not carry a literal value")
    for key in config:
        if re.search(r"password|secret|token", key) and not key.endswith("-file"):
            check(False, f"the config file sets {key} literally")

    # Selection.
    labels = sts["spec"]["template"]["metadata"].get("labels", {})
    check(selects(dig(sts, "spec", "selector", "matchLabels"), labels), "the StatefulSet selects its pods")
    service, = by_kind["Service"]
    check(sts["spec"].get("serviceName") == service["metadata"]["name"] and selects(dig(service, "spec", "selector"), labels),
          "the Service governs the StatefulSet and selects its pods")
    check(any(p["name"] == "metrics" for p in service["spec"]["ports"]), "the Service names the metrics port")
    pdb, = by_kind["PodDisruptionBudget"]
    check(selects(dig(pdb, "spec", "selector", "matchLabels"), labels) and dig(pdb, "spec").get("maxUnavailable") == 1,
          "the PodDisruptionBudget lets one pod go at a time")
    monitor, = by_kind["ServiceMonitor"]
    check(selects(dig(monitor, "spec", "selector", "matchLabels"), service["metadata"].get("labels", {}))
          and [e.get("port") for e in dig(monitor, "spec").get("endpoints", [])] == ["metrics"],
          "the ServiceMonitor scrapes the Service's metrics port")

    # Scaling.
    scaled, = by_kind["ScaledObject"]
    target = scaled["spec"]["scaleTargetRef"]
    check(target.get("kind") == "StatefulSet" and target.get("name") == sts["metadata"]["name"],
          "the ScaledObject scales the StatefulSet")
    trigger, = scaled["spec"]["triggers"]
    meta = trigger["metadata"]
    check(trigger["type"] == "kafka" and meta.get("consumerGroup") == config.get("group", "warden")
          and meta.get("topic") == config.get("input-topic", "events_plugin_ingestion")
          and meta.get("bootstrapServers") == config.get("brokers"),
          "it scales on the lag of warden's group and input topic at warden's brokers")
    low, high = scaled["spec"].get("minReplicaCount", 0), scaled["spec"]["maxReplicaCount"]
    check(1 <= low <= high, f"replicas from {low} to {high}")
    check(low <= sts["spec"]["replicas"] <= high, "the StatefulSet's replicas are within the scaling bounds")
    partitions = int(scaled["metadata"].get("annotations", {}).get("warden/input-partitions", 0))
    check(partitions > 0 and high * members <= partitions,
          f"at most {high} pods x {members} member(s) = {high * members} members for {partitions} partitions")
    check(meta.get("allowIdleConsumers") == "false", "KEDA never adds consumers beyond the partitions")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
