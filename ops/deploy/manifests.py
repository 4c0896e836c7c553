"""What no schema says about Vigil's deployment files (ops/deploy/check.sh runs it).

  manifests.py ALL.yaml                 rendered manifests: grace period > shutdown_timeout,
                                        /health and /ready probes, non-root read-only
                                        containers, replicas <= partitions, references
  manifests.py --unit UNIT TOPOLOGY     systemd unit: SIGTERM stop, SIGHUP reload,
                                        TimeoutStopSec > shutdown_timeout
  manifests.py --dashboard-rules DASH   the dashboard's queries as a Prometheus rule file
                                        (recording rules), for promtool to parse
  manifests.py --metrics METRICS.md FILE...
                                        every vigil_* name in the files is in METRICS.md

Prints each problem and exits 1 if there is any.
"""
import json
import re
import sys

import yaml

problems = []


def problem(text):
    problems.append(text)


def seconds(duration):
    """A topology duration (500ms, 30s, 5m, 1h, 1d) in seconds."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", str(duration))
    if not m:
        raise ValueError(f"not a duration: {duration}")
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def containers(pod):
    return pod.get("containers", []) + [c for c in pod.get("initContainers", []) if c.get("restartPolicy") == "Always"]


def check_manifests(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    topology_map = by_kind.get("ConfigMap", {}).get("vigil-topology")
    if not topology_map:
        problem("no ConfigMap vigil-topology")
        return
    topology = yaml.safe_load(topology_map["data"]["topology.yaml"])
    shutdown = seconds(topology["limits"]["shutdown_timeout"])
    partitions = topology["topics"]["repartition"]["partitions"]
    deployments = by_kind.get("Deployment", {})
    for stage in ("ingest", "detect"):
        if f"vigil-{stage}" not in deployments:
            problem(f"no Deployment vigil-{stage}")
    for name, d in deployments.items():
        pod = d["spec"]["template"]["spec"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        if d["spec"]["selector"]["matchLabels"].items() - labels.items():
            problem(f"{name}: the selector does not match the pod's labels")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if grace <= shutdown:
            problem(f"{name}: terminationGracePeriodSeconds {grace} must exceed limits.shutdown_timeout ({shutdown:g} s)")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problem(f"{name}: the pod must set runAsNonRoot")
        vigil = next((c for c in pod["containers"] if c["name"] == "vigil"), None)
        if vigil is None:
            problem(f"{name}: no container named vigil")
            continue
        args = vigil.get("args", [])
        stage = args[args.index("--stage") + 1] if "--stage" in args else "all"
        if name != f"vigil-{stage}":
            problem(f"{name}: runs --stage {stage}")
        if "--topology" not in args or not args[args.index("--topology") + 1].startswith("/etc/vigil/topology/"):
            problem(f"{name}: --topology must name the file of the vigil-topology ConfigMap volume")
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready"), ("startupProbe", "/health")):
            got = vigil.get(probe, {}).get("httpGet", {}).get("path")
            if got != path:
                problem(f"{name}: {probe} must GET {path}, not {got}")
        for c in containers(pod):
            sc = c.get("securityContext", {})
            if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
                    and "ALL" in sc.get("capabilities", {}).get("drop", [])):
                problem(f"{name}/{c['name']}: needs readOnlyRootFilesystem, no privilege escalation, capabilities dropped")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= res.get(kind, {}).keys():
                    problem(f"{name}/{c['name']}: resources.{kind} needs cpu and memory")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod["containers"] + pod.get("initContainers", []):
            for m in c.get("volumeMounts", []):
                if m["name"] not in volumes:
                    problem(f"{name}/{c['name']}: mounts unknown volume {m['name']}")
        writable = [m["mountPath"] for m in vigil.get("volumeMounts", []) if not m.get("readOnly")]
        if sorted(writable) != ["/tmp", "/var/lib/vigil/state"]:
            problem(f"{name}: vigil may write only /tmp and /var/lib/vigil/state, not {writable}")
        config = [v["configMap"]["name"] for v in volumes.values() if "configMap" in v]
        for needed in ("vigil-topology", "vigil-rules"):
            if needed not in config:
                problem(f"{name}: no volume from the ConfigMap {needed}")
            elif needed not in by_kind.get("ConfigMap", {}):
                problem(f"{name}: the ConfigMap {needed} is not rendered")
        for c in containers(pod):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] not in by_kind.get("Secret", {}).get(ref["name"], {}).get("stringData", {}):
                    problem(f"{name}/{c['name']}: env {e['name']} reads {ref['name']}/{ref['key']}, which the example Secret lacks")
        if name == "vigil-detect" and d["spec"].get("replicas", 1) > partitions:
            problem(f"{name}: {d['spec']['replicas']} replicas > {partitions} repartition partitions")
        if not d["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/scrape") == "true":
            problem(f"{name}: no prometheus.io/scrape annotation")
    for name, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        sel = pdb["spec"]["selector"]["matchLabels"]
        if not any(sel.items() <= d["spec"]["template"]["metadata"]["labels"].items() for d in deployments.values()):
            problem(f"PodDisruptionBudget {name}: selects no Deployment's pods")
    for name, so in by_kind.get("ScaledObject", {}).items():
        target = so["spec"]["scaleTargetRef"]["name"]
        if target not in deployments:
            problem(f"ScaledObject {name}: no Deployment {target}")
        for t in so["spec"]["triggers"]:
            meta = t["metadata"]
            group = topology["kafka"]["groups"]["ingest" if target.endswith("ingest") else "detect"]
            if meta.get("consumerGroup") != group:
                problem(f"ScaledObject {name}: consumerGroup {meta.get('consumerGroup')} is not the topology's {group}")
            auth = t.get("authenticationRef", {}).get("name")
            if auth and auth not in by_kind.get("TriggerAuthentication", {}):
                problem(f"ScaledObject {name}: no TriggerAuthentication {auth}")
        if target == "vigil-detect" and so["spec"]["maxReplicaCount"] > partitions:
            problem(f"ScaledObject {name}: maxReplicaCount > {partitions} repartition partitions")
    if topology["topics"]["changelog"]["partitions"] != partitions:
        problem("topology: the changelog needs as many partitions as the repartition topic")


def check_unit(unit_path, topology_path):
    unit = {}
    for line in open(unit_path):
        if "=" in line and not line.startswith("#"):
            key, value = line.rstrip("\n").split("=", 1)
            unit.setdefault(key, value)
    shutdown = seconds(yaml.safe_load(open(topology_path))["limits"]["shutdown_timeout"])
    if unit.get("KillSignal") != "SIGTERM":
        problem(f"{unit_path}: KillSignal must be SIGTERM")
    if "-HUP $MAINPID" not in unit.get("ExecReload", ""):
        problem(f"{unit_path}: ExecReload must send SIGHUP to $MAINPID")
    if seconds(unit.get("TimeoutStopSec", "90") + ("" if not unit.get("TimeoutStopSec", "90").isdigit() else "s")) <= shutdown:
        problem(f"{unit_path}: TimeoutStopSec must exceed limits.shutdown_timeout ({shutdown:g} s)")
    if "--stage %i" not in unit.get("ExecStart", ""):
        problem(f"{unit_path}: ExecStart must run the instance's stage (--stage %i)")


def dashboard_rules(path):
    dash = json.load(open(path))
    rules = []
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "5m").replace('"$job"', '".*"')
            rules.append({"record": f"dashboard:panel_{panel['id']}_{t['refId'].lower()}", "expr": expr})
    print(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False))


def check_metrics(metrics_md, files):
    known = set(re.findall(r"^\| `(vigil_[a-z0-9_]+)` \| (?:\w+) \|", open(metrics_md).read(), re.M))
    histograms = set(re.findall(r"^\| `(vigil_[a-z0-9_]+)` \| histogram \|", open(metrics_md).read(), re.M))
    allowed = known | {h + s for h in histograms for s in ("_bucket", "_sum", "_count")}
    if len(known) < 10:
        problem(f"{metrics_md}: found only {len(known)} metric names")
    for path in files:
        text = open(path).read()
        for name in sorted(set(re.findall(r"\bvigil_[a-z0-9_]+", text))):
            if name not in allowed:
                problem(f"{path}: {name} is not in {metrics_md}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[0] == "--unit":
        check_unit(args[1], args[2])
    elif args[0] == "--dashboard-rules":
        dashboard_rules(args[1])
    elif args[0] == "--metrics":
        check_metrics(args[1], args[2:])
    else:
        check_manifests(args[0])
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
