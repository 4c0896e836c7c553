#!/usr/bin/env bash
# Writes the demo's sample traffic: realistic multi-cloud Kubernetes audit records and
# container process events, with attacks inside, timed around the current hour.
#
#   ops/demo/generate.sh OUTDIR [--now EPOCH_SECONDS]
#
# One JSON-lines file per raw topic of topology/vigil.yaml, named after it:
#   eks-audit.jsonl   EKS audit events (bare audit.k8s.io Events, as CloudWatch holds them)
#   aks-audit.jsonl   Azure Monitor diagnostic records, category kube-audit
#   gke-audit.jsonl   Cloud Audit Log entries, serviceName k8s.io
#   proc-exec.jsonl   ECS process events (exec in containers)
# and expected.txt: "RULE_ID COUNT" per seed rule, the alerts (kind alert) the traffic must
# raise (VigilCLITests/DemoTrafficTests replays the files and checks them).
#
# What is inside (benign traffic from controllers, nodes and people on private addresses):
#   - 12 EKS requests denied (403) from one public IP with credentials that do not reach
#     -> Amazon.EKS.Audit.Multiple403 and Kubernetes.API.Multiple403.PublicIP
#   - 10 GKE requests denied (gRPC 7) from another public IP -> Kubernetes.API.Multiple403.PublicIP
#   - API requests from three Tor exits of geo/tor/torbulkexitlist-2024-03-12.txt, one per
#     cloud -> Kubernetes.API.IOC.Activity (x3)
#   - 8 unauthenticated probes (403) on AKS from a located public IP -> Kubernetes.Access.Scanning
#   - an interactive `kubectl get secrets -A` and a `curl` with the service-account token in a
#     container -> Kubernetes.Direct.Interactive.API.Request (x2)
#   - one malformed record (truncated JSON) in eks-audit -> the dead-letter topic
#
# Times. Scanning is an hourly, clock-aligned aggregate: its alert goes out when event time
# passes the hour's end plus the allowed lateness (10 min). So, with H the start of the
# current hour: the probes are at H-90s..H-60s, everything else at H+10s..H+8m, and the
# scanner's last probe at H+10m05s closes the window. Any two events of different keys are
# less than 10 minutes apart, so no arrival order makes one later than the allowed lateness.
# In the first ten minutes of an hour some events are a few minutes in the future.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,30p' "$0"; exit 2; }
OUT="$1"; shift
NOW=""
while [ $# -gt 0 ]; do
    case "$1" in
        --now) NOW="$2"; shift 2 ;;
        *) echo "generate.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"
exec python3 - "$OUT" "${NOW:-}" <<'PY'
import json, os, random, sys, time, uuid
from datetime import datetime, timezone

out, now = sys.argv[1], sys.argv[2]
now = int(now) if now else int(time.time())
H = now // 3600 * 3600
rng = random.Random(H)

def ts(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))

def k8s_event(t, ip, user, groups, verb, uri, code, resource=None, namespace=None, name=None,
              agent="kubectl/v1.30.2 (linux/amd64) kubernetes/3968350", reason=""):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": uid(),
         "stage": "ResponseComplete", "requestURI": uri, "verb": verb,
         "user": {"username": user, "groups": groups}, "sourceIPs": [ip], "userAgent": agent}
    if resource:
        ref = {"resource": resource, "apiVersion": "v1"}
        if namespace: ref["namespace"] = namespace
        if name: ref["name"] = name
        e["objectRef"] = ref
    status = {"metadata": {}, "code": code}
    if code >= 400:
        status.update(status="Failure", reason="Forbidden",
                      message=f'{resource or "path"} is forbidden: User "{user}" cannot {verb} '
                              f'{"resource " + json.dumps(resource) if resource else "path " + json.dumps(uri)}')
    e["responseStatus"] = status
    e["requestReceivedTimestamp"] = ts(t)
    e["stageTimestamp"] = ts(t + 0.004)
    e["annotations"] = {"authorization.k8s.io/decision": "forbid" if code == 403 else "allow",
                        "authorization.k8s.io/reason": reason}
    return e

AKS_ID = ("/SUBSCRIPTIONS/6f1c2a7e-3b1d-4c55-9a0e-2d8f3b7c1e90/RESOURCEGROUPS/RG-PAYMENTS"
          "/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PAYMENTS-WEU")

def aks(t, event):
    return {"category": "kube-audit",
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"log": json.dumps(event, separators=(",", ":")),
                           "containerID": "a64cba7fefbf5020788dc29d9247157585bbb64826bf7209623ca7bb49b15fe7",
                           "stream": "stdout", "pod": "kube-apiserver-869d7bb754-kkg69"},
            "resourceId": AKS_ID, "serviceBuild": "na", "time": ts(t + 0.01)}

def gke(t, ip, principal, method, resource_name, granted=True,
        agent="kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"):
    entry = {"insertId": uid(),
             "labels": {"authorization.k8s.io/decision": "allow" if granted else "forbid",
                        "authorization.k8s.io/reason": ""},
             "logName": "projects/acme-analytics/logs/cloudaudit.googleapis.com%2Fdata_access",
             "operation": {"first": True, "id": uid(), "last": True, "producer": "k8s.io"},
             "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                              "authenticationInfo": {"principalEmail": principal},
                              "authorizationInfo": [{"granted": granted, "permission": method,
                                                     "resource": resource_name}],
                              "methodName": method,
                              "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": agent},
                              "resourceName": resource_name, "serviceName": "k8s.io",
                              "status": {} if granted else {"code": 7, "message": "PERMISSION_DENIED"}},
             "resource": {"type": "k8s_cluster",
                          "labels": {"cluster_name": "gke-analytics", "location": "europe-west1",
                                     "project_id": "acme-analytics"}},
             "timestamp": ts(t), "receiveTimestamp": ts(t + 0.8)}
    return entry

def proc(t, name, args, interactive, container, image, pod, parent="bash", user="root"):
    return {"@timestamp": ts(t),
            "event": {"kind": "event", "category": ["process"], "type": ["start"], "action": "exec"},
            "host": {"os": {"type": "linux"}, "name": "gke-analytics-pool-1-7f3c"},
            "process": {"entity_id": uid(), "pid": rng.randint(2000, 60000), "name": name,
                        "executable": "/usr/bin/" + name, "args": args,
                        "parent": {"name": parent, "pid": rng.randint(100, 1999)},
                        "user": {"id": 0 if user == "root" else 1000, "name": user},
                        "interactive": interactive},
            "orchestrator": {"resource": {"name": pod, "type": "pod"}, "namespace": "analytics",
                             "cluster": {"name": "gke-analytics"}},
            "cloud": {"provider": "gcp", "region": "europe-west1"},
            "container": {"id": container, "image": {"name": image, "tag": ["1.4.2"]}}}

def spread(start, end, n):
    return [start + (end - start) * (i + rng.random() * 0.5) / n for i in range(n)]

eks, aks_records, gke_entries, procs = [], [], [], []
lo, hi = H + 10, H + 8 * 60  # everything but the scan

# --- benign traffic ---------------------------------------------------------------------
controllers = [("system:serviceaccount:kube-system:replicaset-controller", "list", "/apis/apps/v1/replicasets", "replicasets", None),
               ("system:node:ip-10-0-3-41.eu-west-1.compute.internal", "get", "/api/v1/namespaces/shop/pods/cart-5d7f9c-8kq2x", "pods", "shop"),
               ("system:kube-scheduler", "update", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler", "leases", "kube-system"),
               ("arn:aws:sts::613298554017:assumed-role/platform-admins/maria", "list", "/api/v1/namespaces/shop/pods", "pods", "shop"),
               ("system:serviceaccount:argocd:argocd-application-controller", "watch", "/apis/apps/v1/deployments?watch=true", "deployments", None)]
for t in spread(lo, hi, 24):
    user, verb, uri, res, ns = rng.choice(controllers)
    eks.append(k8s_event(t, f"10.0.{rng.randint(1, 9)}.{rng.randint(2, 250)}", user,
                         ["system:authenticated"], verb, uri, 200, res, ns,
                         reason="RBAC: allowed by ClusterRoleBinding"))
for t in spread(lo, hi, 12):
    aks_records.append(aks(t, k8s_event(t, f"172.31.{rng.randint(0, 60)}.{rng.randint(2, 250)}",
                                        rng.choice(["aksService", "system:serviceaccount:kube-system:coredns",
                                                    "system:serviceaccount:payments:ledger"]),
                                        ["system:authenticated"], rng.choice(["get", "list", "watch"]),
                                        "/api/v1/namespaces/payments/configmaps", 200, "configmaps", "payments")))
for t in spread(lo, hi, 12):
    gke_entries.append(gke(t, f"10.128.0.{rng.randint(2, 250)}",
                           rng.choice(["system:serviceaccount:kube-system:replicaset-controller",
                                       "ci-deployer@acme-analytics.iam.gserviceaccount.com"]),
                           "io.k8s.core.v1.pods.list", "core/v1/namespaces/analytics/pods"))
for t in spread(lo, hi, 6):
    name, args = rng.choice([("nginx", ["nginx", "-g", "daemon off;"]), ("python3", ["python3", "/app/worker.py"]),
                             ("sh", ["sh", "-c", "/healthcheck.sh"])])
    procs.append(proc(t, name, args, False, "3f9e2c7a1b6d4e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b",
                      "europe-docker.pkg.dev/acme/analytics/worker", "worker-6c9d8b7f5-q4zlm", parent="containerd-shim"))

# --- attacks ------------------------------------------------------------------------------
# Stolen read-only credentials probing the EKS API from a public IP.
for t, (verb, uri, res, ns) in zip(spread(H + 120, H + 300, 12), [
        ("list", "/api/v1/secrets", "secrets", None), ("list", "/api/v1/namespaces/kube-system/secrets", "secrets", "kube-system"),
        ("get", "/api/v1/namespaces/kube-system/secrets/aws-auth", "secrets", "kube-system"),
        ("list", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "clusterrolebindings", None),
        ("create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "clusterrolebindings", None),
        ("create", "/api/v1/namespaces/default/pods", "pods", "default"),
        ("list", "/api/v1/nodes", "nodes", None), ("create", "/api/v1/namespaces/shop/pods/cart-5d7f9c-8kq2x/exec", "pods", "shop"),
        ("list", "/apis/apps/v1/daemonsets", "daemonsets", None), ("get", "/api/v1/namespaces/default/serviceaccounts/default/token", "serviceaccounts", "default"),
        ("list", "/api/v1/configmaps", "configmaps", None), ("create", "/apis/batch/v1/namespaces/default/jobs", "jobs", "default")]):
    eks.append(k8s_event(t, "91.240.118.172", "arn:aws:sts::613298554017:assumed-role/dev-readonly/jenkins",
                         ["system:authenticated"], verb, uri, 403, res, ns))
# A compromised CI identity denied ten times on GKE.
for t, method in zip(spread(H + 180, H + 360, 10), ["io.k8s.core.v1.secrets.list", "io.k8s.core.v1.secrets.get",
                      "io.k8s.rbac.v1.clusterrolebindings.create", "io.k8s.core.v1.pods.exec.create"] * 3):
    gke_entries.append(gke(t, "45.148.10.81", "ci-deployer@acme-analytics.iam.gserviceaccount.com", method,
                           "core/v1/namespaces/kube-system/secrets", granted=False,
                           agent="python-requests/2.32.3"))
# Requests from Tor exits, one per cloud.
eks.append(k8s_event(H + 200, "185.241.208.232", "arn:aws:sts::613298554017:assumed-role/platform-admins/maria",
                     ["system:authenticated"], "list", "/api/v1/namespaces/shop/secrets", 200, "secrets", "shop"))
aks_records.append(aks(H + 230, k8s_event(H + 230, "171.25.193.25", "masterclient", ["system:masters", "system:authenticated"],
                                          "get", "/api/v1/namespaces/payments/secrets/stripe-keys", 200, "secrets", "payments",
                                          name="stripe-keys")))
gke_entries.append(gke(H + 260, "192.42.116.187", "ci-deployer@acme-analytics.iam.gserviceaccount.com",
                       "io.k8s.core.v1.configmaps.list", "core/v1/namespaces/analytics/configmaps"))
# An unauthenticated scan of the AKS API server from a located public IP, in the hour before H.
scanner = "61.177.172.140"
for t, uri in zip(spread(H - 90, H - 60, 8), ["/", "/.env", "/api/v1/pods", "/apis", "/api/v1/namespaces/kube-system/secrets",
                                               "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/actuator/env", "/HNAP1"]):
    aks_records.append(aks(t, k8s_event(t, scanner, "system:anonymous", ["system:unauthenticated"], "get", uri, 403,
                                        agent="Mozilla/5.0 zgrab/0.x")))
# The scanner's next probe, after the hour's end plus the allowed lateness: closes the window.
aks_records.append(aks(H + 605, k8s_event(H + 605, scanner, "system:anonymous", ["system:unauthenticated"], "get",
                                          "/version", 200, agent="Mozilla/5.0 zgrab/0.x",
                                          reason='RBAC: allowed by ClusterRoleBinding "system:public-info-viewer"')))
# A person inside a pod: an interactive shell, then kubectl and curl against the API.
pod, container = "notebook-7b8f6d9c5-m2x7p", "c7d2a4e9f1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5"
procs.append(proc(H + 400, "bash", ["bash"], True, container, "jupyter/scipy-notebook", pod, parent="runc"))
procs.append(proc(H + 410, "kubectl", ["kubectl", "get", "secrets", "-A"], True, container, "jupyter/scipy-notebook", pod))
procs.append(proc(H + 425, "curl", ["curl", "-sk", "-H", "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)",
                                   "https://kubernetes.default.svc/api/v1/namespaces/kube-system/secrets"],
                  True, container, "jupyter/scipy-notebook", pod))

def write(name, records, extra=()):
    with open(os.path.join(out, name), "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
        for line in extra:
            f.write(line + "\n")

# One shipper hiccup: a record cut short in transit (goes to the dead-letter topic).
broken = json.dumps(k8s_event(H + 300, "10.0.4.17", "system:kube-proxy", ["system:authenticated"], "watch",
                              "/api/v1/endpoints?watch=true", 200, "endpoints"), separators=(",", ":"))[:180]
for records in (eks, aks_records, gke_entries, procs):
    records.sort(key=lambda r: r.get("requestReceivedTimestamp") or r.get("time") or r.get("timestamp") or r.get("@timestamp"))
write("eks-audit.jsonl", eks, [broken])
write("aks-audit.jsonl", aks_records)
write("gke-audit.jsonl", gke_entries)
write("proc-exec.jsonl", procs)
with open(os.path.join(out, "expected.txt"), "w") as f:
    f.write("Amazon.EKS.Audit.Multiple403 1\nKubernetes.API.Multiple403.PublicIP 2\nKubernetes.API.IOC.Activity 3\n"
            "Kubernetes.Access.Scanning 1\nKubernetes.Direct.Interactive.API.Request 2\n")
total = len(eks) + len(aks_records) + len(gke_entries) + len(procs) + 1
print(f"{total} records ({len(eks) + 1} eks, {len(aks_records)} aks, {len(gke_entries)} gke, {len(procs)} process; "
      f"1 malformed), {ts(H - 90)[:19]}Z .. {ts(H + 605)[:19]}Z", file=sys.stderr)
PY
