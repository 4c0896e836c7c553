#!/usr/bin/env bash
# Writes a copy of a topology file that works from any folder: its relative rules folder and
# ../geo/ paths made absolute, and `KEY=VALUE` overrides of indented settings
# (`commit_interval=200ms`, `max_clock_lead=20m`); a KEY the file does not set is an error.
# Used by ops/demo.sh and ops/bench/e2e.sh.
#   ops/topology-copy.sh SRC DEST [KEY=VALUE ...]
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,6p' "$0" >&2; exit 2; }
src="$1" dest="$2"
shift 2
dir="$(cd "$(dirname "$src")" && pwd)" parent="$(cd "$(dirname "$src")/.." && pwd)"
args=(-e "s#^rules: rules#rules: $dir/rules#" -e "s#^  path: rules #  path: $dir/rules #" -e "s#\.\./geo/#$parent/geo/#g")
for setting in "$@"; do
    key="${setting%%=*}" value="${setting#*=}"
    grep -q "^  $key:" "$src" || { echo "topology-copy: $src sets no $key" >&2; exit 1; }
    args+=(-e "s/^\(  $key:\) *[^#]*[^ #]/\1 $value/")
done
sed "${args[@]}" "$src" > "$dest"
