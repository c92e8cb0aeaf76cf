"""Evaluates every expression of dashboards/warden.json and dashboards/alerts.yaml through a real
Prometheus server scraping a running `warden demo`, and runs `promtool check rules`.

Fails on an expression that errors, on a dashboard expression that returns nothing, and on an alert
expression whose metrics return nothing (an alert that is not firing legitimately returns nothing).
Everything listens on 127.0.0.1 and every wait has a deadline.

    dashboard_test.py WARDEN ROOT
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from free_port import free_loopback_port  # noqa: E402

warden, root = sys.argv[1], os.path.abspath(sys.argv[2])
failures = []


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def query(prom, expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        return get_json(url)
    except urllib.error.HTTPError as e:  # 400 carries the error as JSON
        return json.load(e)


def wait_until(what, check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        # Not answering yet, or answering 503 with a plain-text body while its storage starts.
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("timed out waiting for " + what)


def dashboard_exprs():
    dash = json.load(open(os.path.join(root, "dashboards", "warden.json")))
    return [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]]


def alert_exprs():
    rules = []
    name = None
    for line in open(os.path.join(root, "dashboards", "alerts.yaml")):
        m = re.match(r"\s*- alert:\s*(\S+)", line)
        if m:
            name = m.group(1)
        m = re.match(r"\s*expr:\s*(.+)$", line)
        if m:
            rules.append((name, m.group(1).strip()))
    return rules


def metric_names(expr):
    words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b\s*(?=[{\[)\s]|$)", expr))
    return sorted(w for w in words if w.startswith("warden_") or w == "up")


work = tempfile.mkdtemp(prefix="warden-prom-")
processes = []
try:
    metrics_port, prom_port = free_loopback_port(), free_loopback_port()
    demo = subprocess.Popen([warden, "demo", "--events", "100000000", "--rate", "2000", "--partitions", "4",
                             "--cache-ttl-ms", "2000", "--metrics-address", "127.0.0.1:%d" % metrics_port],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "demo.log"), "w"))
    processes.append(demo)

    promtool = subprocess.run(["promtool", "check", "rules", os.path.join(root, "dashboards", "alerts.yaml")],
                              capture_output=True, text=True)
    if promtool.returncode != 0:
        failures.append("promtool check rules: " + promtool.stdout + promtool.stderr)

    with open(os.path.join(work, "prometheus.yml"), "w") as config:
        config.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "rule_files:\n  - %s\n"
                     "scrape_configs:\n  - job_name: warden\n    static_configs:\n"
                     "      - targets: ['127.0.0.1:%d']\n" % (os.path.join(root, "dashboards", "alerts.yaml"), metrics_port))
    prometheus = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(work, "prometheus.yml"),
                                   "--storage.tsdb.path=" + os.path.join(work, "data"),
                                   "--web.listen-address=127.0.0.1:%d" % prom_port],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w"))
    processes.append(prometheus)
    prom = "http://127.0.0.1:%d" % prom_port

    # The first sample is queryable only some seconds after start: poll. Rates need a few samples
    # of a moving counter, and the demo's first batches come after its ~3 s group join.
    wait_until("warden samples in Prometheus",
               lambda: query(prom, "warden_events_consumed_total > 1000")["data"]["result"], 60)
    wait_until("enough samples for rates",
               lambda: query(prom, "rate(warden_events_consumed_total[1m]) > 0")["data"]["result"]
               and query(prom, "count_over_time(warden_events_consumed_total[1m]) > 8")["data"]["result"], 60)

    for source, exprs, need_result in (("dashboard", dashboard_exprs(), True), ("alert", alert_exprs(), False)):
        for title, expr in exprs:
            answer = query(prom, expr)
            if answer.get("status") != "success":
                failures.append("%s %r: %s: %s" % (source, title, expr, answer.get("error")))
                continue
            values = [sample["value"][1] for sample in answer["data"]["result"]]
            if need_result and not [v for v in values if v not in ("NaN", "+Inf", "-Inf")]:
                failures.append("%s %r returned no number: %s -> %s" % (source, title, expr, values))
            for name in metric_names(expr):
                if not query(prom, name)["data"]["result"]:
                    failures.append("%s %r uses %s, which has no data" % (source, title, name))
            print("ok  %-9s %-38s %d series" % (source, title[:38], len(answer["data"]["result"])))

    # The health endpoints of the same process.
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (metrics_port, path), timeout=5) as response:
            body = json.load(response)
            if response.status != 200 or body.get("status") != "ok":
                failures.append("%s answered %d %s" % (path, response.status, body))

    rules = get_json(prom + "/api/v1/rules")["data"]["groups"]
    loaded = [r for g in rules for r in g["rules"]]
    if len(loaded) != len(alert_exprs()):
        failures.append("Prometheus loaded %d rules, the file has %d" % (len(loaded), len(alert_exprs())))
    for rule in loaded:
        if rule.get("health") not in ("ok", "unknown"):
            failures.append("rule %s: health %s: %s" % (rule["name"], rule.get("health"), rule.get("lastError")))
finally:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    if failures:
        for name in ("demo.log", "prometheus.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                print("--- last lines of " + name)
                print("".join(open(path).readlines()[-15:]))
    shutil.rmtree(work, ignore_errors=True)

if failures:
    print("\n".join("FAIL " + f for f in failures))
    sys.exit(1)
print("every dashboard and alert expression evaluated against a live Prometheus")
