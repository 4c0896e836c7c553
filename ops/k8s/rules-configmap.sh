#!/usr/bin/env bash
# Prints the ConfigMap vigil-rules: every rule file (*.yaml) of a folder, default
# topology/rules. Apply it after `vigil rules test` passed in CI and a replay looked right
# (ops/runbook.md, "Roll out new rules"); the pods' volumes follow within about a minute and
# Vigil reloads the rule set (a broken set is refused and the running one kept):
#   ops/k8s/rules-configmap.sh | kubectl -n vigil apply -f -
# Not in kustomization.yaml: kustomize reads no file outside ops/k8s.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${1:-$ROOT/topology/rules}"
shopt -s nullglob
files=("$DIR"/*.yaml)
[ ${#files[@]} -gt 0 ] || { echo "rules-configmap.sh: no *.yaml rules in $DIR" >&2; exit 1; }
args=()
for f in "${files[@]}"; do args+=("--from-file=$f"); done
kubectl create configmap vigil-rules --namespace vigil "${args[@]}" --dry-run=client -o yaml
