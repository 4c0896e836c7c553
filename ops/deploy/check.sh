#!/usr/bin/env bash
# Checks every deployment artefact under ops/ without a cluster or a Docker engine; `make test`
# runs it (after the build), so .ci/run does too. Each check prints ok or FAIL; the last line
# says "N passed, N failed" and the exit status is 1 if any failed.
#
#   container   hadolint on ops/container/Dockerfile
#   yaml        yamllint (Debian) on the manifests, the alerting rules and their tests
#   k8s         kubectl kustomize ops/k8s + the rules ConfigMap + the example Secrets, every
#               object validated against the Kubernetes 1.30 schemas offline
#               (kubernetes-validate --strict); KEDA objects against ops/k8s/schemas; then
#               what no schema says: grace period > shutdown_timeout, /health and /ready
#               probes, non-root read-only containers, replicas <= partitions, PDB and KEDA
#               targets that exist
#   topology    `vigil validate` on ops/k8s/topology.yaml with its paths mapped to this tree
#   systemd     systemd-analyze verify on ops/systemd/vigil@.service (any complaint fails),
#               TimeoutStopSec > shutdown_timeout, SIGTERM stop, SIGHUP reload
#   prometheus  promtool check rules + promtool test rules (unit tests of every alert)
#   grafana     the dashboard against ops/grafana/dashboard.schema.json; every query parsed
#               by promtool
#   metrics     every vigil_* name in the dashboard, the rules and the runbook is in
#               ops/metrics.md
#   contract    the alert and dead-letter schemas against the JSON Schema metaschema
#
# Environment: VIGIL (the binary for the topology check; default .build/debug/vigil).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
VIGIL="${VIGIL:-$ROOT/.build/debug/vigil}"
PY="$VIGIL_DEPS/venv/bin/python"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
cd "$ROOT"
PASSED=0
FAILED=0

check() { # check NAME COMMAND...: runs it, output shown only on failure
    local name="$1"; shift
    if "$@" >"$OUT/log" 2>&1; then
        PASSED=$((PASSED + 1)); printf 'ok    %s\n' "$name"
    else
        FAILED=$((FAILED + 1)); printf 'FAIL  %s\n' "$name"; sed 's/^/      /' "$OUT/log"
    fi
}

silent() { # silent COMMAND...: fails when the command fails or prints anything
    local out
    out="$("$@" 2>&1)" || { printf '%s\n' "$out"; return 1; }
    [ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}

# --- container -------------------------------------------------------------------------
check "container: hadolint ops/container/Dockerfile" hadolint ops/container/Dockerfile

# --- yaml --------------------------------------------------------------------------------
check "yaml: yamllint ops/k8s ops/prometheus" \
    yamllint -s -c ops/deploy/yamllint.yaml ops/k8s ops/prometheus

# --- k8s ---------------------------------------------------------------------------------
render() {
    kubectl kustomize ops/k8s >"$OUT/kustomized.yaml" 2>"$OUT/kustomize.err" || { cat "$OUT/kustomize.err"; return 1; }
    bash ops/k8s/rules-configmap.sh >"$OUT/rules.yaml" || return 1
    { cat "$OUT/kustomized.yaml"; echo "---"; cat "$OUT/rules.yaml"; echo "---"; cat ops/k8s/secret-kafka.example.yaml; } >"$OUT/all.yaml"
    # One file per object: Kubernetes' own kinds, and KEDA's (no offline schema for a CRD).
    "$PY" - "$OUT" <<'PY'
import os, sys, yaml, json
out = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(os.path.join(out, "all.yaml"))) if d]
os.makedirs(os.path.join(out, "core"), exist_ok=True)
os.makedirs(os.path.join(out, "keda"), exist_ok=True)
for i, d in enumerate(docs):
    group = "keda" if d["apiVersion"].startswith("keda.sh/") else "core"
    name = f"{i:02d}-{d['kind']}-{d['metadata']['name']}"
    with open(os.path.join(out, group, name + (".json" if group == "keda" else ".yaml")), "w") as f:
        json.dump(d, f) if group == "keda" else yaml.safe_dump(d, f)
print(len(docs))
PY
}
check "k8s: render (kubectl kustomize ops/k8s, rules ConfigMap, example Secrets)" render
check "k8s: every Kubernetes object against the 1.30 schemas (kubernetes-validate --strict)" \
    bash -c 'out="$(kubernetes-validate --strict --quiet -k 1.30.0 "$1"/core/*.yaml 2>&1)"; rc=$?; printf "%s" "$out"; [ $rc -eq 0 ] && ! grep -q . <<<"$out"' _ "$OUT"
check "k8s: KEDA objects against ops/k8s/schemas/keda.v1alpha1.schema.json" \
    bash -c 'check-jsonschema --schemafile ops/k8s/schemas/keda.v1alpha1.schema.json "$1"/keda/*.json' _ "$OUT"
check "k8s: grace > shutdown_timeout, probes, non-root read-only, replicas <= partitions, references" \
    "$PY" ops/deploy/manifests.py "$OUT/all.yaml"

# --- topology ------------------------------------------------------------------------------
validate_topology() {
    [ -x "$VIGIL" ] || { echo "no $VIGIL: build first (make build)"; return 1; }
    printf 'test-ca\n' >"$OUT/ca.crt"
    sed -e "s#/etc/vigil/rules#$ROOT/topology/rules#" \
        -e "s#/var/lib/vigil/geoip/GeoLite2-City.mmdb#$ROOT/geo/GeoLite2-City.mmdb#" \
        -e "s#/var/lib/vigil/state/#$OUT/#" \
        -e "s#/etc/vigil/kafka/ca.crt#$OUT/ca.crt#" ops/k8s/topology.yaml >"$OUT/topology.yaml"
    KAFKA_SASL_USERNAME=vigil KAFKA_SASL_PASSWORD=secret "$VIGIL" validate --topology "$OUT/topology.yaml"
}
check "topology: vigil validate ops/k8s/topology.yaml (paths mapped to this tree)" validate_topology

# --- systemd -------------------------------------------------------------------------------
verify_unit() {
    mkdir -p "$OUT/systemd"
    # The instance vigil@ingest, with the binary where this tree has it.
    sed "s#/opt/vigil/bin/vigil#$VIGIL#g" ops/systemd/vigil@.service >"$OUT/systemd/vigil@ingest.service"
    silent systemd-analyze verify "$OUT/systemd/vigil@ingest.service" || return 1
    "$PY" ops/deploy/manifests.py --unit ops/systemd/vigil@.service ops/k8s/topology.yaml
}
check "systemd: systemd-analyze verify vigil@.service, stop and reload signals" verify_unit

# --- prometheus ------------------------------------------------------------------------------
check "prometheus: promtool check rules" promtool check rules ops/prometheus/vigil-alerts.yaml
check "prometheus: promtool test rules (every alert fires and stays silent)" \
    bash -c 'cd ops/prometheus && promtool test rules vigil-alerts.test.yaml'

# --- grafana -----------------------------------------------------------------------------------
check "grafana: dashboard against ops/grafana/dashboard.schema.json" \
    check-jsonschema --schemafile ops/grafana/dashboard.schema.json ops/grafana/vigil.json
parse_queries() {
    "$PY" ops/deploy/manifests.py --dashboard-rules ops/grafana/vigil.json >"$OUT/dashboard-rules.yaml" || return 1
    promtool check rules "$OUT/dashboard-rules.yaml"
}
check "grafana: every query parses (promtool)" parse_queries

# --- metrics -----------------------------------------------------------------------------------
check "metrics: names in the dashboard, rules and runbook are in ops/metrics.md" \
    "$PY" ops/deploy/manifests.py --metrics ops/metrics.md ops/grafana/vigil.json ops/prometheus/vigil-alerts.yaml ops/runbook.md

# --- contract ----------------------------------------------------------------------------------
check "contract: schemas against the JSON Schema metaschema" \
    check-jsonschema --check-metaschema ops/contract/*.schema.json ops/k8s/schemas/*.schema.json ops/grafana/dashboard.schema.json

echo "deploy: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
