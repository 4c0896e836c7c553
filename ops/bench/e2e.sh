#!/usr/bin/env bash
# End-to-end benchmark (issue 6 item 10b): `vigil run` drains a backlog of multi-cloud raw
# audit events (~1.3 KB, 4 partitions per raw topic) through raw topics -> repartition ->
# alerts on a local Tansu broker that shares this machine's cores; then, with the same
# process, alert latency at half the drain rate.
#
#   make bench-e2e                      (release build of vigil and vigil-bench, then this)
#   EVENTS=1000000 LATENCY_SECONDS=30 ops/bench/e2e.sh
#
# Phase 1 (drain): `vigil loadgen` fills the raw topics with EVENTS background events (plus
# attacks) as fast as it can; then `vigil run` starts and `vigil-bench drain` polls both
# groups' committed offsets until they cover every raw record and every repartitioned event
# (lag zero; Tansu's ListOffsets is wrong, so the ends are the counts loadgen produced).
# Prints events/s overall (from vigil run's start, group joins included) and after the
# detect group's first commit, vigil run's CPU seconds and peak RSS.
# Phase 2 (latency): `vigil-bench latency` joins the alerts topic at its end, then loadgen
# sends live traffic (event time = send time) at half the drain rate for LATENCY_SECONDS
# with interactive kubectl/curl in pods (stateless rule) and Tor requests (dedup rule, first
# alert at once); per rule p50/p99 of (alert read - the alert's last_seen, its event's time).
# The topology is topology/vigil.yaml with absolute paths and commit_interval 200ms (so the
# drain is seen within 0.2 s). Load average is printed with each phase. PERF=1 records a
# `perf record -g` profile of vigil run during the drain (into the state folder, kept).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/ops/env.sh"
EVENTS="${EVENTS:-1000000}"
LATENCY_SECONDS="${LATENCY_SECONDS:-30}"
VIGIL="${VIGIL:-$ROOT/.build/release/vigil}"
BENCH="${BENCH:-$ROOT/.build/release/vigil-bench}"
[ -x "$VIGIL" ] && [ -x "$BENCH" ] || { echo "build first: make bench-e2e" >&2; exit 1; }

STATE="$(mktemp -d /tmp/vigil-e2e.XXXXXX)"
VIGIL_PID=""
cleanup() {
    if [ -n "$VIGIL_PID" ] && kill -0 "$VIGIL_PID" 2>/dev/null; then
        kill -INT "$VIGIL_PID" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$VIGIL_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$VIGIL_PID" 2>/dev/null || true
    fi
    bash "$ROOT/ops/broker.sh" stop "$STATE/broker" || true
    [ "${PERF:-0}" = 1 ] || rm -rf "$STATE"
}
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
json() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d'"$1"')'; }

BOOT="$(bash "$ROOT/ops/broker.sh" start --state "$STATE/broker")"
sed -e "s#^rules: rules#rules: $ROOT/topology/rules#" -e "s#^  path: rules #  path: $ROOT/topology/rules #" \
    -e "s#\.\./geo/#$ROOT/geo/#g" \
    -e 's/^\(  commit_interval:\) *5s/\1 200ms/' "$ROOT/topology/vigil.yaml" > "$STATE/topology.yaml"
RAW=($(sed -nE 's/^[[:space:]]*- topic:[[:space:]]*([^[:space:]#]+).*/\1/p' "$STATE/topology.yaml"))
for t in "${RAW[@]}"; do bash "$ROOT/ops/broker.sh" create-topic "$BOOT" "$t" 4; done
echo "broker $BOOT; raw topics ${RAW[*]} (4 partitions each); state $STATE" >&2

# --- phase 1: the backlog, then the drain --------------------------------------------------
LOAD0="$(load)"
"$VIGIL" loadgen --topology "$STATE/topology.yaml" --bootstrap "$BOOT" --count "$EVENTS" \
    --start now-45m --span 30m --attacks scan=5,eks-403=20,gke-403=20,tor=50,interactive=50 \
    --seed 7 2> "$STATE/loadgen.out"
cat "$STATE/loadgen.out" >&2
RECORDS="$(json '["records"]' < "$STATE/loadgen.out")"
PRODUCED_EVENTS="$(json '["events"]' < "$STATE/loadgen.out")"
BYTES="$(json '["bytes"]' < "$STATE/loadgen.out")"

LOAD1="$(load)"
"$VIGIL" run --topology "$STATE/topology.yaml" --bootstrap "$BOOT" --http-listen 127.0.0.1:0 --log-level warning > "$STATE/vigil.log" 2>&1 &
VIGIL_PID=$!
PERF_PID=""
if [ "${PERF:-0}" = 1 ]; then
    # Attached once vigil run's threads exist (perf -p follows the threads there are).
    (sleep 8; exec perf record -F 499 -g -p "$VIGIL_PID" -o "$STATE/perf.data") > "$STATE/perf.out" 2>&1 &
    PERF_PID=$!
fi
"$BENCH" drain --bootstrap "$BOOT" --raw-topics "$(IFS=,; echo "${RAW[*]}")" --records "$RECORDS" \
    --events "$PRODUCED_EVENTS" --pid "$VIGIL_PID" > "$STATE/drain.json"
[ -n "$PERF_PID" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; }
LOAD2="$(load)"
DRAIN="$(cat "$STATE/drain.json")"
RATE="$(json '["events_per_second_after_first_commit"]' <<<"$DRAIN")"

# --- phase 2: alert latency at half the drain rate ------------------------------------------
HALF=$((RATE / 2))
"$BENCH" latency --bootstrap "$BOOT" --seconds $((LATENCY_SECONDS + 35)) --ready-file "$STATE/latency.ready" \
    > "$STATE/latency.json" &
LAT_PID=$!
for _ in $(seq 600); do [ -f "$STATE/latency.ready" ] && break; sleep 0.1; done
LOAD3="$(load)"
"$VIGIL" loadgen --topology "$STATE/topology.yaml" --bootstrap "$BOOT" --rate "$HALF" \
    --duration "${LATENCY_SECONDS}s" --start now --seed 8 --no-close-windows \
    --attacks "interactive=$((LATENCY_SECONDS * 2)),tor=$((LATENCY_SECONDS))" 2> "$STATE/live.out"
wait "$LAT_PID"
LOAD4="$(load)"
LIVE_EVENTS="$(json '["events"]' < "$STATE/live.out")"
LIVE_SECONDS="$(json '["seconds"]' < "$STATE/live.out")"
grep -E '^(ingest|detect):' "$STATE/vigil.log" >&2 || true

cat <<MD
### $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -nE 's/^model name\s*: (.*)/\1/p' /proc/cpuinfo | head -n1)), $(free -g | awk '/Mem:/ {print $2}') GiB, Tansu 0.6 on loopback, release build

Backlog: $RECORDS raw records, $PRODUCED_EVENTS events, $((BYTES / PRODUCED_EVENTS)) bytes per event (\`vigil loadgen --count $EVENTS\`, default mix, 4 partitions per raw topic); load average $LOAD0 before loadgen, $LOAD1 before the drain, $LOAD2 after it.

| drain | value |
|---|---|
| seconds from \`vigil run\` start to lag zero (group joins included) | $(json '["seconds"]' <<<"$DRAIN") |
| events/s overall | $(json '["events_per_second_overall"]' <<<"$DRAIN") |
| events/s after the detect group's first commit (ends at lag zero) | **$RATE** |
| ingest drained after (s) | $(json '["ingest_seconds"]' <<<"$DRAIN") |
| vigil run CPU seconds at lag zero | $(json '["cpu_seconds"]' <<<"$DRAIN") |
| vigil run peak RSS (MB) | $(json '["peak_rss_mb"]' <<<"$DRAIN") |

Latency at half the drain rate: loadgen sent $LIVE_EVENTS events at $HALF events/s of event time for $LATENCY_SECONDS s, then the attacks' last steps (up to 25 s later), paced by event time, in $LIVE_SECONDS s; load average $LOAD3 before, $LOAD4 after.

| rule | alerts | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|
$(python3 -c '
import json,sys
d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
for rule,v in sorted(d.items()):
    print("| %s | %d | %d | %d | %d |" % (rule, v["alerts"], v["p50_ms"], v["p99_ms"], v["max_ms"]))
' "$STATE/latency.json")
MD
