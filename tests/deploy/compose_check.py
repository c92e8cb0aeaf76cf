#!/usr/bin/env python3
"""What deploy/compose.yaml promises, without a Docker engine:

- the file is valid against the Compose Specification's JSON schema, and the Compose loader
  (compose-go, which docker compose uses) loads it without an error or a warning (merge keys,
  `$$` escapes, relative paths); the checks below read the model it prints;
- every image is pinned to a version; warden's is built from deploy/Dockerfile with its version;
- the warden replicas are static members of one group (distinct group instance ids), share
  their settings, run read-only and non-root with the image's health check, start after Kafka,
  the topics and PostgreSQL, and stop within their grace period; every WARDEN_* variable and
  flag they (and the load generator) use is one `warden run --help` / `loadgen --help` lists;
- the topics service creates every topic warden reads and writes (its command is run against a
  stand-in kafka-topics.sh), with at least as many input partitions as group members;
- Kafka runs KRaft, is reached at warden's brokers from containers and at localhost from the host;
- PostgreSQL runs exactly deploy/sql/*.sql, then the seeded teams (as many as loadgen sends
  events for) and the reader's password from the secret warden reads;
- Prometheus's config passes `promtool check config` as the container sees it (its mounts laid
  out in a scratch directory), loads dashboards/alerts.yaml (`promtool check rules`) and scrapes
  every replica as the job the alerts name;
- Grafana provisions Prometheus as its default data source and dashboards/warden.json from where
  it is mounted;
- every mounted file exists in the repository; ports are published on 127.0.0.1 only; no
  credential is given as a literal value, and the secret files hold local development values.

With --stack (under tests/support/with_postgres.sh), the warden side of the stack instead, on
loopback: the stack's own init scripts after deploy/sql, warden_reader logging in with the
secret's password, both replicas with their compose environment against a mock cluster (health
check, Prometheus scraping them with the stack's config and rules, loadgen's command, the seeded
teams resolving, exit 0 on SIGTERM).

Usage: compose_check.py WARDEN ROOT --loader COMPOSE_LOADER --schema COMPOSE_SPEC_JSON [--stack] [COMPOSE_FILE]
(prints one line per check; exit 1 when one fails). COMPOSE_FILE defaults to ROOT/deploy/compose.yaml;
its relative paths resolve against ROOT/deploy, as `docker compose -f deploy/compose.yaml` does.
Needs PyYAML, python3-jsonschema, promtool; --stack also psql and prometheus.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path, PurePosixPath

import jsonschema
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from free_port import free_loopback_port  # noqa: E402

failures = []
# Leaving the group after the drain: the final commit and LeaveGroup (as tests/deploy/k8s_check.py).
leave_margin_seconds = 10
warden_topics = ("input-topic", "analytics-topic", "error-tracking-topic", "heatmaps-topic", "dlq-topic", "audit-topic")


def check(ok, what):
    print(("ok     " if ok else "FAILED ") + what)
    if not ok:
        failures.append(what)
    return ok


def seconds(text):
    """A Compose duration (1m30s, 45s, 500ms) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(text))
    return sum(float(n) * units[u] for n, u in parts) if parts else float(text)


def pinned(image):
    """An image named by digest, or by a tag that names a version (not `latest`, not a bare major)."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and re.match(r"^v?\d+\.\d+(\.\d+)?([.-][\w.-]+)?$", tag) is not None


class Help:
    """A warden command's settings, read from its --help: flags, their variables and defaults."""

    def __init__(self, warden, command):
        text = subprocess.run([warden, command, "--help"], capture_output=True, text=True, check=True).stdout
        self.flags, self.env, self.defaults = set(), {}, {}
        for line in text.splitlines():
            m = re.match(r"^  (?:-\w,)?(--[a-z0-9-]+)(.*)$", line)
            if m:
                flag, rest = m.group(1)[2:], m.group(2)
                self.flags.add(flag)
                default = re.match(r"^ \S*?=(\S+)", rest)
                if default:
                    self.defaults[flag] = default.group(1)
                var = re.search(r"\(Env:(WARDEN_[A-Z0-9_]+)\)", rest)
                if var:
                    self.env[var.group(1)] = flag
            # The credential variables, listed after the options.
            m = re.match(r"^  (WARDEN_KAFKA_[A-Z_]+)\s", line)
            if m:
                self.env[m.group(1)] = None
        self.env["WARDEN_CONFIG"] = "config"

    def settings(self, service, args):
        """The service's settings by flag name: flags in its command over WARDEN_* over defaults."""
        values = dict(self.defaults)
        for name, value in (service.get("environment") or {}).items():
            if self.env.get(name):
                values[self.env[name]] = str(value)
        i = 0
        while i < len(args):
            if args[i].startswith("--"):
                flag, eq, value = args[i][2:].partition("=")
                if not eq and i + 1 < len(args) and not args[i + 1].startswith("--"):
                    value, i = args[i + 1], i + 1
                values[flag] = value
            i += 1
        return values

    def unknown(self, service, args):
        """The WARDEN_* variables and flags of the service this command does not have."""
        names = [n for n in (service.get("environment") or {}) if n.startswith("WARDEN_") and n not in self.env]
        flags = [a.split("=")[0] for a in args if a.startswith("--") and a[2:].split("=")[0] not in self.flags]
        return names + flags


def load(loader, compose, deploy):
    """The model as compose-go loads it (interpolated, merged, paths resolved), with a clean
    environment so nothing of this machine's leaks in, from deploy/ as docker compose would."""
    env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()}
    run = subprocess.run([loader, "--format", "json", str(compose)], cwd=deploy, env=env,
                         capture_output=True, text=True)
    warnings = [line for line in run.stderr.splitlines() if line.strip()]
    check(run.returncode == 0 and not warnings,
          "the Compose loader (compose-go) loads the file without an error or a warning"
          + "".join("\n         " + w for w in warnings[:5]))
    return json.loads(run.stdout) if run.returncode == 0 else None


def bind_mounts(service):
    return [v for v in service.get("volumes") or [] if v.get("type") == "bind"]


def conninfo(text):
    return dict(re.findall(r"(\w+)=(\S+)", text))


def check_topics(service, settings, members, work):
    """Runs the topics service's command with a stand-in kafka-topics.sh that records its arguments."""
    stub = Path(work) / "kafka-topics.sh"
    calls = Path(work) / "kafka-topics.calls"
    stub.write_text('#!/bin/bash\nprintf "%s\\n" "$*" >> "' + str(calls) + '"\n')
    stub.chmod(0o755)
    argv = [a.replace("/opt/kafka/bin/kafka-topics.sh", str(stub)) for a in
            (service.get("entrypoint") or []) + (service.get("command") or [])]
    env = {"PATH": "/usr/bin:/bin", **{k: str(v) for k, v in (service.get("environment") or {}).items()}}
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    created = {}
    for line in calls.read_text().splitlines() if calls.exists() else []:
        words = line.split()
        opt = {words[i]: words[i + 1] if i + 1 < len(words) else "" for i in range(len(words))}
        if "--create" in words and "--if-not-exists" in words and opt.get("--replication-factor") == "1":
            created[opt.get("--topic")] = int(opt.get("--partitions", "0"))
    check(run.returncode == 0 and created, "the topics service's command runs (kafka-topics.sh stood in) and creates "
          "topics idempotently (--if-not-exists), one replica each")
    wanted = {settings[t] for t in warden_topics}
    missing = sorted(wanted - set(created))
    check(not missing, "it creates every topic warden uses" + (f" ({', '.join(missing)} missing)" if missing else ""))
    partitions = created.get(settings["input-topic"], 0)
    check(members <= partitions, f"{members} group members for {partitions} input partitions: none idles")
    return created


def check_prometheus(service, replicas, port_of, work, root):
    """promtool against the config as the container sees it: each bind mount copied to its target."""
    view = Path(work) / "prometheus-root"
    for mount in bind_mounts(service):
        target = view / mount["target"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(mount["source"]).is_dir():
            shutil.copytree(mount["source"], target, dirs_exist_ok=True)
        elif Path(mount["source"]).is_file():
            shutil.copy(mount["source"], target)
    args = service.get("command") or []
    config_path = next((a.split("=", 1)[1] for a in args if a.startswith("--config.file=")),
                       "/etc/prometheus/prometheus.yml")
    config_file = view / config_path.lstrip("/")
    if not check(config_file.is_file(), f"Prometheus's config {config_path} is mounted"):
        return {}
    run = subprocess.run(["promtool", "check", "config", str(config_file)], capture_output=True, text=True)
    check(run.returncode == 0,
          "promtool check config passes" + ("" if run.returncode == 0 else ":\n" + run.stdout + run.stderr))
    config = yaml.safe_load(config_file.read_text())
    rule_files = sorted({p for pattern in config.get("rule_files") or [] for p in config_file.parent.glob(pattern)})
    alerts_targets = [m["target"] for m in bind_mounts(service)
                      if Path(m["source"]) == root / "dashboards" / "alerts.yaml"]
    loaded = [view / t.lstrip("/") for t in alerts_targets]
    check(bool(loaded) and all(p in rule_files for p in loaded), "its rule_files load dashboards/alerts.yaml")
    for path in rule_files:
        run = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
        check(run.returncode == 0, f"promtool check rules {path.relative_to(view)} passes"
              + ("" if run.returncode == 0 else ":\n" + run.stdout + run.stderr))
    # The alerts name the job: up{job="warden"}.
    jobs = {job.get("job_name"): job for job in config.get("scrape_configs") or []}
    job = jobs.get("warden", {})
    targets = sorted(t for sc in job.get("static_configs") or [] for t in sc.get("targets") or [])
    wanted = sorted(f"{name}:{port_of[name]}" for name in replicas)
    check(targets == wanted and job.get("metrics_path", "/metrics") == "/metrics",
          f"job warden scrapes /metrics of every replica ({', '.join(targets)}; want {', '.join(wanted)})")
    return config


def check_grafana(service, model, prometheus_config):
    environment = service.get("environment") or {}
    provisioning = environment.get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
    mounts = bind_mounts(service)
    source = next((Path(m["source"]) for m in mounts if m["target"] == provisioning), None)
    if not check(source is not None and source.is_dir(), f"Grafana's provisioning directory {provisioning} is mounted"):
        return
    datasources = [d for f in sorted(source.glob("datasources/*.y*ml"))
                   for d in yaml.safe_load(f.read_text()).get("datasources", [])]
    prometheus = [n for n, s in model["services"].items() if s.get("image", "").startswith("prom/prometheus:")]
    default = [d for d in datasources if d.get("isDefault")]
    check(len(default) == 1 and default[0].get("type") == "prometheus"
          and default[0].get("url") in [f"http://{n}:9090" for n in prometheus],
          "the default data source is the stack's Prometheus (http://SERVICE:9090)")
    interval = (default[0].get("jsonData") or {}).get("timeInterval") if default else None
    scrape = ((prometheus_config or {}).get("global") or {}).get("scrape_interval", "1m")
    check(interval is not None and seconds(interval) == seconds(scrape),
          f"its timeInterval ({interval}) is Prometheus's scrape_interval ({scrape})")
    providers = [p for f in sorted(source.glob("dashboards/*.y*ml"))
                 for p in yaml.safe_load(f.read_text()).get("providers", [])]
    paths = [PurePosixPath((p.get("options") or {}).get("path", ""))
             for p in providers if p.get("type", "file") == "file"]
    dashboards = [m for m in mounts if PurePosixPath(m["target"]).suffix == ".json"
                  and any(PurePosixPath(m["target"]).is_relative_to(p) for p in paths)]
    check(any(m["source"].endswith("/dashboards/warden.json") for m in dashboards),
          "a dashboard provider's path holds the mounted dashboards/warden.json")
    for m in dashboards:
        try:
            dashboard = json.loads(Path(m["source"]).read_text())
        except (OSError, ValueError) as e:
            check(False, f"{m['source']} parses as JSON ({e})")
            continue
        variables = [v for v in (dashboard.get("templating") or {}).get("list", []) if v.get("type") == "datasource"]
        check(dashboard.get("uid") and dashboard.get("panels")
              and all(v.get("query") == "prometheus" for v in variables),
              f"{Path(m['source']).name} parses, has a uid and panels, and picks a Prometheus data source")
    home = environment.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    check(home is None or home in [m["target"] for m in dashboards], "the home dashboard is a mounted dashboard")
    check(str(environment.get("GF_AUTH_ANONYMOUS_ENABLED")).lower() == "true"
          and environment.get("GF_AUTH_ANONYMOUS_ORG_ROLE") == "Viewer", "anonymous users may view, and only view")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = {argv[i][2:]: argv[i + 1] for i in range(len(argv) - 1) if argv[i] in ("--loader", "--schema")}
    args = [a for a in args if a not in opts.values()]
    warden, root = str(Path(args[0]).resolve()), Path(args[1]).resolve()
    compose = Path(args[2]).resolve() if len(args) > 2 else root / "deploy" / "compose.yaml"
    deploy = root / "deploy"
    work = tempfile.mkdtemp(prefix="warden-compose-check.")
    try:
        if "--stack" in argv:
            return stack(warden, root, compose, deploy, opts, Path(work))
        return checks(warden, root, compose, deploy, opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def checks(warden, root, compose, deploy, opts, work):
    raw = yaml.safe_load(compose.read_text())
    schema = json.loads(Path(opts["schema"]).read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.absolute_path))
    check(not errors, "valid against the Compose Specification's JSON schema"
          + "".join(f"\n         {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]))
    model = load(opts["loader"], compose, deploy)
    if model is None:
        print(f"{len(failures)} failed")
        return 1
    services = model["services"]
    run_help, loadgen_help = Help(warden, "run"), Help(warden, "loadgen")

    # Images.
    for name, service in sorted(services.items()):
        check(pinned(service.get("image", "")), f"{name}: image {service.get('image')} is pinned to a version")
    dockerfile = (root / "deploy" / "Dockerfile").read_text()
    version = re.search(r"^ARG WARDEN_VERSION=(\S+)$", dockerfile, re.M).group(1)
    built = {n: s for n, s in services.items() if s.get("build")}
    for name, service in built.items():
        build = service["build"]
        check(Path(build.get("context", "")) == root and build.get("dockerfile") == "deploy/Dockerfile"
              and service.get("image") == f"warden:{version}",
              f"{name}: built from deploy/Dockerfile at the repository's root as warden:{version}")

    warden_services = {n: s for n, s in services.items() if s.get("image", "").startswith("warden:")}
    replicas = {n: s for n, s in warden_services.items() if (s.get("command") or ["run"])[0] == "run"}
    loadgens = {n: s for n, s in warden_services.items() if (s.get("command") or [""])[0] == "loadgen"}
    check(len(replicas) >= 2 and len(loadgens) == 1,
          f"{len(replicas)} warden replicas (at least 2) and one load generator")
    if failures:
        print(f"{len(failures)} failed")
        return 1

    # The replicas: one group, static members, the same settings otherwise.
    settings = {}
    for name, service in sorted(replicas.items()):
        command = service.get("command") or ["run"]
        unknown = run_help.unknown(service, command[1:])
        check(not unknown, f"{name}: every WARDEN_* variable and flag is one of `warden run --help`"
              + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
        settings[name] = run_help.settings(service, command[1:])
    ids = [settings[n].get("group-instance-id") for n in sorted(replicas)]
    check(all(ids), "every replica has a static group instance id (WARDEN_GROUP_INSTANCE_ID)")
    check(len(set(ids)) == len(ids), f"the group instance ids are distinct ({', '.join(map(str, ids))})")
    shared = ("group", "brokers", "postgres", "teams", "threads") + warden_topics
    differing = [k for k in shared if len({s.get(k) for s in settings.values()}) > 1]
    check(not differing, "the replicas share one group, brokers, team store, topics and thread count"
          + (f" (they differ in {', '.join(differing)})" if differing else ""))
    first = settings[min(replicas)]
    threads = int(first.get("threads", "0") or 0)
    check(threads > 0, f"the members per replica are fixed (WARDEN_THREADS {threads}), not the host's CPU count")
    members = len(replicas) * max(threads, 1)

    # How the replicas run.
    healthcheck = json.loads(re.search(r"^ *CMD (\[.*\])$", dockerfile, re.M).group(1))
    for name, service in sorted(replicas.items()):
        s = settings[name]
        port = s.get("metrics-address", "0.0.0.0:9464").rpartition(":")[2]
        test = (service.get("healthcheck") or {}).get("test") or []
        check(test == ["CMD"] + [w.replace("/9464", f"/{port}") for w in healthcheck],
              f"{name}: the health check is the image's HEALTHCHECK on /healthz, port {port}")
        check(service.get("read_only") is True, f"{name}: a read-only root filesystem")
        check("ALL" in (service.get("cap_drop") or []) and not service.get("cap_add")
              and not service.get("privileged") and "no-new-privileges:true" in (service.get("security_opt") or []),
              f"{name}: no capabilities, no privilege escalation")
        check(str(service.get("user", "10001")).split(":")[0] not in ("0", "root"),
              f"{name}: runs as the image's non-root user")
        writable = [m["target"] for m in service.get("volumes") or [] if not m.get("read_only")]
        check(all(t == "/var/lib/warden" for t in writable),
              f"{name}: writes only to /var/lib/warden ({writable or 'the image volume'})")
        grace = seconds(service.get("stop_grace_period", "10s"))
        drain = int(s.get("shutdown-timeout-ms", "30000")) / 1000
        check(grace >= drain + leave_margin_seconds,
              f"{name}: stop_grace_period ({grace:g} s) outlasts the drain ({drain:g} s)"
              f" plus {leave_margin_seconds} s to leave")
        check(service.get("restart") in ("always", "unless-stopped", "on-failure"), f"{name}: restarted when it fails")
        depends = service.get("depends_on") or {}
        wanted = {"kafka": "service_healthy", "topics": "service_completed_successfully"}
        if s.get("postgres"):
            wanted["postgres"] = "service_healthy"
        check(all((depends.get(k) or {}).get("condition") == v for k, v in wanted.items()),
              f"{name}: starts once "
              + ", ".join(f"{k} is {'healthy' if v == 'service_healthy' else 'done'}" for k, v in wanted.items()))
    port_of = {n: settings[n].get("metrics-address", "0.0.0.0:9464").rpartition(":")[2] for n in replicas}

    # Kafka: KRaft, reached at warden's brokers and from the host.
    kafka = services.get("kafka", {})
    env = {k: str(v) for k, v in (kafka.get("environment") or {}).items()}
    major = re.match(r"apache/kafka:(\d+)", kafka.get("image", ""))
    roles = set(env.get("KAFKA_PROCESS_ROLES", "").split(","))
    check(major is not None and int(major.group(1)) >= 4 and roles == {"broker", "controller"},
          "Kafka is apache/kafka 4.x in KRaft mode, one combined broker and controller")
    # NAME://HOST:PORT lists, as {HOST:PORT: NAME}.
    def endpoints(variable):
        return dict(reversed(e.split("://", 1)) for e in env.get(variable, "").split(",") if "://" in e)
    advertised = endpoints("KAFKA_ADVERTISED_LISTENERS")
    brokers = first.get("brokers", "").split(",")
    check(all(b in advertised and b.split(":")[0] in ("kafka", kafka.get("hostname")) for b in brokers),
          f"warden's brokers ({','.join(brokers)}) are the broker's advertised container listener")
    listening = {name: int(address.rpartition(":")[2]) for address, name in endpoints("KAFKA_LISTENERS").items()}
    published = {str(p.get("published")): p.get("target") for p in kafka.get("ports") or []}
    check(any(published.get(address.split(":")[1]) == listening.get(name)
              for address, name in advertised.items() if address.startswith("localhost:")),
          "the host reaches the broker at localhost:PORT, published to the listener advertised there")
    check(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", "topics are never created on first use")

    # Topics.
    topics = services.get("topics", {})
    check(topics.get("restart") == "no"
          and (topics.get("depends_on") or {}).get("kafka", {}).get("condition") == "service_healthy",
          "the topics service runs once, after the broker is healthy")
    check_topics(topics, first, members, work)

    # The load generator.
    name, loadgen = next(iter(loadgens.items()))
    command = loadgen.get("command") or []
    unknown = loadgen_help.unknown(loadgen, command[1:])
    check(not unknown, f"{name}: every WARDEN_* variable and flag is one of `warden loadgen --help`"
          + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    traffic = loadgen_help.settings(loadgen, command[1:])
    check(traffic.get("brokers") == first.get("brokers") and traffic.get("topic") == first.get("input-topic"),
          f"{name}: writes to the replicas' input topic at their brokers")
    check((loadgen.get("depends_on") or {}).get("topics", {}).get("condition") == "service_completed_successfully"
          and loadgen.get("restart") == "no", f"{name}: runs once the topics exist, and is not restarted")
    seed = (deploy / "compose" / "postgres" / "010_seed_teams.sql")
    seeded = len(re.findall(r"^    \(\d+, ", seed.read_text(), re.M)) if seed.exists() else 0
    check(str(seeded) == traffic.get("teams"),
          f"{name}: sends events for the {seeded} seeded teams (--teams {traffic.get('teams')})")

    # PostgreSQL.
    postgres = services.get("postgres", {})
    penv = postgres.get("environment") or {}
    store = conninfo(first.get("postgres", ""))
    check(store.get("host") == "postgres" and store.get("dbname") == penv.get("POSTGRES_DB")
          and store.get("user") == "warden_reader" and "password" not in store,
          "warden connects to the postgres service's database as warden_reader, with no password in the string")
    init = [m for m in bind_mounts(postgres) if m["target"].startswith("/docker-entrypoint-initdb.d/")]
    sources = {Path(m["source"]) for m in init}
    sql_dir, own_dir = root / "deploy" / "sql", deploy / "compose" / "postgres"
    check({p for p in sources if p.parent == sql_dir} == set(sql_dir.glob("*.sql")),
          "the init scripts include every file of deploy/sql, and only those of it")
    check({p for p in sources if p.parent == own_dir} == set(own_dir.glob("*.sql"))
          and sources <= set(sql_dir.glob("*.sql")) | set(own_dir.glob("*.sql")),
          "the rest are deploy/compose/postgres/*.sql")
    order = [Path(m["source"]).parent for m in sorted(init, key=lambda m: PurePosixPath(m["target"]).name)]
    check(all(m["read_only"] and PurePosixPath(m["target"]).name == Path(m["source"]).name for m in init)
          and order == sorted(order, key=lambda d: d != sql_dir),
          "they run read-only, under their own names, deploy/sql first (the table before the teams)")
    password_file = first.get("postgres-password-file", "")
    secret_targets = {n: {s.get("target") for s in svc.get("secrets") or []} for n, svc in services.items()}
    check(all(password_file in secret_targets[n] for n in replicas),
          f"the replicas' password file {password_file} is a mounted secret")
    reader_sql = "\n".join(Path(m["source"]).read_text() for m in init if m["source"].startswith(str(own_dir)))
    check(password_file and password_file in reader_sql and password_file in secret_targets.get("postgres", set()),
          "warden_reader's password is set from the same secret, mounted into postgres")
    check(penv.get("POSTGRES_PASSWORD_FILE") in secret_targets.get("postgres", set())
          and "POSTGRES_PASSWORD" not in penv,
          "the superuser's password comes from a secret too")

    # Prometheus and Grafana.
    prometheus = next((s for s in services.values() if s.get("image", "").startswith("prom/prometheus:")), {})
    prometheus_config = check_prometheus(prometheus, replicas, port_of, work, root)
    grafana = next((s for s in services.values() if s.get("image", "").startswith("grafana/grafana")), {})
    check_grafana(grafana, model, prometheus_config)

    # Every service: health, dependencies, mounts, ports.
    for name, service in sorted(services.items()):
        one_shot = service.get("restart") == "no"
        health = service.get("healthcheck") or {}
        check(one_shot or (health.get("test") and health.get("test")[0] != "NONE" and not health.get("disable")),
              f"{name}: " + ("runs once" if one_shot else "has a health check"))
        for target, dep in (service.get("depends_on") or {}).items():
            other = services.get(target)
            condition = dep.get("condition")
            ok = other is not None and (
                condition == "service_started"
                or (condition == "service_healthy" and (other.get("healthcheck") or {}).get("test"))
                or (condition == "service_completed_successfully" and other.get("restart") == "no"))
            check(ok, f"{name}: depends on {target} ({condition}), which can reach that state")
        for mount in bind_mounts(service):
            source = Path(mount["source"])
            shown = source.relative_to(root) if source.is_relative_to(root) else source
            check(source.exists() and source.resolve().is_relative_to(root) and mount.get("read_only"),
                  f"{name}: mounts {shown} read-only from the repository")
        for secret in service.get("secrets") or []:
            check(secret.get("source") in (model.get("secrets") or {}),
                  f"{name}: reads the declared secret {secret.get('source')}")
        for port in service.get("ports") or []:
            check(port.get("host_ip") == "127.0.0.1", f"{name}: publishes {port.get('published')} on 127.0.0.1 only")

    # Credentials: files of local values, never literals.
    secrets_dir = deploy / "compose" / "secrets"
    declared = {n: Path(s.get("file", "")) for n, s in (model.get("secrets") or {}).items()}
    for secret, path in sorted(declared.items()):
        value = path.read_text() if path.is_file() else ""
        check(path.parent == secrets_dir and re.fullmatch(r"local-dev-only-[a-z-]+\n?", value) is not None,
              f"secret {secret}: a local development value (local-dev-only-…) in deploy/compose/secrets")
    stray = sorted(p.name for p in secrets_dir.iterdir() if p.name != "README.md" and p not in declared.values())
    check(not stray, "every file in deploy/compose/secrets is a declared secret"
          + (f" ({', '.join(stray)} is not)" if stray else ""))
    for name, service in sorted(services.items()):
        for var, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_KEY|PRIVATE", var) and not var.endswith("_FILE"):
                check(False, f"{name}: {var} gives a credential as a literal value (use a secret file)")
            if re.search(r"password=|://[^/@\s]+:[^/@\s]+@", str(value), re.I):
                check(False, f"{name}: {var} carries a password in a connection string")
        for arg in (service.get("command") or []) + (service.get("entrypoint") or []):
            if re.search(r"password=|://[^/@\s]+:[^/@\s]+@|--\S*password(?!-file)\S*[= ]", str(arg), re.I):
                check(False, f"{name}: its command carries a password")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


# --stack: the stack's warden side run on loopback, under tests/support/with_postgres.sh.

def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def wait_for(what, ready, seconds_, processes=()):
    deadline = time.monotonic() + seconds_
    while time.monotonic() < deadline:
        try:
            if ready():
                return True
        except (OSError, ValueError, KeyError):
            pass
        if any(p.poll() is not None for p in processes):
            break
        time.sleep(0.3)
    return check(False, f"{what} (gave up)")


def metric(port, name):
    return sum(float(line.split()[-1]) for line in get(f"http://127.0.0.1:{port}/metrics").splitlines()
               if re.match(name + r"[ {]", line))


def stack(warden, root, compose, deploy, opts, work):
    """The replicas, with the compose file's environment, against the PostgreSQL of
    WARDEN_TEST_PG (deploy/sql applied) set up by the compose file's own init scripts and secrets,
    and a mock cluster with the topics service's partitions: their health check passes, they
    share the input, resolve the seeded teams, are scraped by the compose file's Prometheus
    config, and stop with exit 0. Only the addresses change (loopback ports), and the consumer's
    session timeout: the mock's group coordinator waits one per membership change."""
    model = load(opts["loader"], compose, deploy)
    if model is None:
        return 1
    services = model["services"]
    replicas = {n: s for n, s in services.items()
                if s.get("image", "").startswith("warden:") and (s.get("command") or ["run"])[0] == "run"}
    loadgen = next(s for s in services.values() if (s.get("command") or [""])[0] == "loadgen")
    pg = conninfo(os.environ["WARDEN_TEST_PG"])

    # The secrets where the containers read them: /run/secrets/NAME -> WORK/secrets/NAME.
    (work / "secrets").mkdir()
    for name, secret in (model.get("secrets") or {}).items():
        shutil.copy(secret["file"], work / "secrets" / name)
    local = {f"/run/secrets/{name}": str(work / "secrets" / name) for name in model.get("secrets") or {}}

    def localise(text):
        for path, copy in local.items():
            text = text.replace(path, copy)
        return text

    # The init scripts after deploy/sql (which with_postgres.sh applied), in the entrypoint's order.
    init = sorted((m for m in bind_mounts(services["postgres"])
                   if m["target"].startswith("/docker-entrypoint-initdb.d/")
                   and Path(m["source"]).parent != root / "deploy" / "sql"), key=lambda m: m["target"])
    for mount in init:
        script = work / Path(mount["source"]).name
        script.write_text(localise(Path(mount["source"]).read_text()))
        run = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", os.environ["WARDEN_TEST_PG"], "-f", str(script)],
                             capture_output=True, text=True,
                             env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
        check(run.returncode == 0, f"psql runs {PurePosixPath(mount['target']).name}"
              + ("" if run.returncode == 0 else ": " + run.stderr.strip()))
    first = next(iter(replicas.values()))["environment"]
    store = conninfo(first["WARDEN_POSTGRES"])
    password = Path(localise(first["WARDEN_POSTGRES_PASSWORD_FILE"])).read_text().split("\n")[0]
    reader = f"host=127.0.0.1 port={pg['port']} dbname={pg['dbname']} user={store['user']}"
    run = subprocess.run(["psql", "-Atc", "SELECT count(*) FROM posthog_team", reader], capture_output=True, text=True,
                         env={**os.environ, "PGPASSWORD": password})
    teams = next((a for i, a in enumerate(loadgen["command"]) if loadgen["command"][i - 1] == "--teams"), "20")
    check(run.returncode == 0 and run.stdout.strip() == teams,
          f"{store['user']} logs in with the secret's password and reads"
          f" {run.stdout.strip() or run.stderr.strip()} teams (loadgen sends {teams})")

    topics = services["topics"]["environment"]["TOPICS"].split()
    input_topic = first.get("WARDEN_INPUT_TOPIC", "events_plugin_ingestion")
    partitions = next(int(t.split(":")[1]) for t in topics if t.split(":")[0] == input_topic)
    processes, logs, summaries, events = [], {}, {}, 20000
    try:
        bootstrap = work / "bootstrap"
        mock = subprocess.Popen([warden, "mock-cluster", "--partitions", str(partitions),
                                 "--bootstrap-file", str(bootstrap), "--log-level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(mock)
        if not wait_for("the mock cluster starts", lambda: bootstrap.read_text().strip(), 10, [mock]):
            return 1
        brokers = bootstrap.read_text().strip()

        ports = {}
        for name, service in sorted(replicas.items()):
            ports[name] = free_loopback_port()
            env = {"PATH": "/usr/bin:/bin", **{k: localise(str(v)) for k, v in service["environment"].items()}}
            env.update(WARDEN_BROKERS=brokers, WARDEN_METRICS_ADDRESS=f"127.0.0.1:{ports[name]}",
                       WARDEN_POSTGRES=f"host=127.0.0.1 port={pg['port']} dbname={pg['dbname']} user={store['user']}")
            home = work / name
            home.mkdir()
            logs[name] = home / "stderr"
            processes.append(subprocess.Popen(
                [warden] + (service.get("command") or ["run"]) + ["--consumer-property", "session.timeout.ms=6000"],
                cwd=home, env=env, stdout=open(home / "stdout", "w"), stderr=open(logs[name], "w")))
        replica_processes = processes[1:]

        # The compose health check, on each replica's port.
        for name, service in sorted(replicas.items()):
            probe = [w.replace("/9464", f"/{ports[name]}") for w in service["healthcheck"]["test"][1:]]
            wait_for(f"{name}: the health check passes",
                     lambda: subprocess.run(probe, capture_output=True).returncode == 0,
                     30, replica_processes) and check(True, f"{name}: the compose health check passes")

        # Prometheus with the compose file's config and rules, the replicas at their loopback ports.
        prometheus = next(s for s in services.values() if s.get("image", "").startswith("prom/prometheus:"))
        view = work / "prometheus-root"
        for mount in bind_mounts(prometheus):
            target = view / mount["target"].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(mount["source"], target)
        config_file = view / "etc/prometheus/prometheus.yml"
        config = yaml.safe_load(config_file.read_text())
        config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = "1s"
        for job in config["scrape_configs"]:
            for static in job.get("static_configs", []):
                static["targets"] = [f"127.0.0.1:{ports[t.rpartition(':')[0]]}" for t in static["targets"]]
        config_file.write_text(yaml.safe_dump(config))
        prom_port = free_loopback_port()
        processes.append(subprocess.Popen(["prometheus", f"--config.file={config_file}",
                                           f"--storage.tsdb.path={work / 'tsdb'}",
                                           f"--web.listen-address=127.0.0.1:{prom_port}"],
                                          stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "w")))
        prom = f"http://127.0.0.1:{prom_port}"

        def scraped():
            targets = json.loads(get(prom + "/api/v1/targets"))["data"]["activeTargets"]
            return len(targets) == len(replicas) and all(t["health"] == "up" and t["labels"]["job"] == "warden"
                                                         for t in targets)
        wait_for("Prometheus scrapes every replica", scraped, 30) and check(
            True, f"Prometheus scrapes all {len(replicas)} replicas as job warden")
        rules = [r for g in json.loads(get(prom + "/api/v1/rules"))["data"]["groups"] for r in g["rules"]]
        check(len(rules) > 0 and all(r.get("health") in ("ok", "unknown") for r in rules),
              f"it loaded the {len(rules)} alert rules")

        # Every replica holds input partitions before the traffic starts: both take part.
        wait_for("the replicas share the input's partitions",
                 lambda: all(metric(p, "warden_assigned_partitions") > 0 for p in ports.values())
                 and sum(metric(p, "warden_assigned_partitions") for p in ports.values()) == partitions,
                 60, replica_processes) and check(True, f"the replicas share the {partitions} input partitions")

        # The load generator's command, against the mock, as fast as it goes.
        command = list(loadgen["command"])
        for flag, value in (("--brokers", brokers), ("--rate", "0"), ("--events", str(events))):
            command[command.index(flag) + 1] = value
        run = subprocess.run([warden] + command, capture_output=True, text=True, timeout=60, cwd=work)
        check(run.returncode == 0,
              f"loadgen sends {events} events" + ("" if run.returncode == 0 else ": " + run.stderr[-300:]))
        wait_for(f"the replicas consume all {events} events",
                 lambda: sum(metric(p, "warden_events_consumed_total") for p in ports.values()) >= events,
                 60, replica_processes) and check(True, f"the replicas consume all {events} events")
    finally:
        for p in processes[1:]:
            p.terminate()
        for name, p in zip(sorted(replicas), processes[1:1 + len(replicas)]):
            try:
                status = p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                status = "killed"
            out = (work / name / "stdout").read_text().strip().splitlines()
            summaries[name] = json.loads(out[-1]) if out and out[-1].startswith("{") else {}
            check(status == 0, f"{name}: stops on SIGTERM with exit 0 ({status})")
        for p in processes:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if failures:
            for name, path in logs.items():
                print(f"--- last lines of {name}'s log")
                print("".join(path.read_text().splitlines(keepends=True)[-10:]))

    total = sum(s.get("consumed", 0) for s in summaries.values())
    verified = sum(s.get("verified", 0) for s in summaries.values())
    invalid = sum((s.get("dropped") or {}).get("invalid_token", 0) for s in summaries.values())
    check(all(s.get("consumed", 0) > 0 for s in summaries.values()),
          "both replicas took part: " + ", ".join(f"{n} consumed {s.get('consumed')}" for n, s in summaries.items()))
    # The generator gives 1 % of its events a token no team owns, and 25 % a secret one.
    check(total >= events and invalid <= total * 0.03 and verified >= total * 0.15,
          f"the seeded teams resolve: {verified} of {total} events verified by secret token,"
          f" {invalid} dropped as invalid_token")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
