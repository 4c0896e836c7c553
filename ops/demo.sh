#!/usr/bin/env bash
# Vigil's main job, end to end on this machine (`make demo` builds vigil and runs this):
# a local broker, the raw topics of topology/vigil.yaml, a realistic sample of multi-cloud
# audit traffic with attacks inside (`vigil loadgen --preset demo`), `vigil run` on the default
# topology, the alerts printed as they arrive, a summary; then everything it started stops.
#
#   ops/demo.sh [--raw] [--keep-running]
#       --raw            print the alerts' JSON lines instead of the readable form
#       --keep-running   leave the broker and `vigil run` up at the end (stop them with
#                        ops/demo.sh --stop); the bootstrap address is printed
#   ops/demo.sh --stop   stop what a previous --keep-running (or a killed demo) left running
#
# Environment: VIGIL (the binary; default .build/debug/vigil), DEMO_IDLE_TIMEOUT (seconds
# without a new alert before giving up on the missing ones; default 30).
# Everything goes to .deps/run/demo/ (traffic, vigil.log, the broker's log): a second run
# stops whatever a first one left and starts again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
VIGIL="${VIGIL:-$ROOT/.build/debug/vigil}"
TOPOLOGY="$ROOT/topology/vigil.yaml"
STATE="$VIGIL_DEPS/run/demo"
IDLE="${DEMO_IDLE_TIMEOUT:-30}"
FORMAT=alert
KEEP=0
case "${1:-}" in
    --raw) FORMAT=value ;;
    --keep-running) KEEP=1 ;;
    --stop) STOP_ONLY=1 ;;
    "") ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
esac

START=$SECONDS
if [ -t 1 ]; then say() { printf '\033[1m%s\033[0m\n' "$*"; }; else say() { printf '%s\n' "$*"; }; fi
step() { printf '[demo %3ds] %s\n' $((SECONDS - START)) "$*"; }

stop_vigil() {
    [ -f "$STATE/vigil.pid" ] || return 0
    local pid; pid="$(cat "$STATE/vigil.pid")"
    if kill -0 "$pid" 2>/dev/null && grep -q "vigil" "/proc/$pid/cmdline" 2>/dev/null; then
        kill -INT "$pid" 2>/dev/null || true
        # vigil run finishes in-flight work, commits and leaves its groups (bounded by
        # limits.shutdown_timeout, 30 s); a second signal would exit at once.
        for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { step "vigil run did not stop in 40 s: killing it"; kill -9 "$pid" 2>/dev/null || true; }
    fi
    rm -f "$STATE/vigil.pid"
}

stop_all() {
    stop_vigil
    bash "$ROOT/ops/broker.sh" stop "$STATE/broker"
}

if [ "${STOP_ONLY:-0}" = 1 ]; then stop_all; exit 0; fi
[ -x "$VIGIL" ] || { echo "demo: $VIGIL not found: run make demo (or make build)" >&2; exit 1; }

# A demo that was killed may have left its broker or vigil run behind: stop them first.
stop_all
rm -rf "$STATE/traffic" "$STATE/vigil.log" "$STATE"/*.out
mkdir -p "$STATE"
# The demo's traffic is stamped around the current hour (so the scan's hourly window closes
# within the demo), so when run early in an hour its last records, the scanner's window-closing
# request among them, are up to ~20 minutes ahead of the wall clock: the demo lets event time
# run that far ahead (limits.max_clock_lead; 5m in topology/vigil.yaml).
bash "$ROOT/ops/topology-copy.sh" "$TOPOLOGY" "$STATE/topology.yaml" max_clock_lead=20m
TOPOLOGY="$STATE/topology.yaml"

CONSUMER=""
DLQ_READER=""
cleanup() {
    local status=$?
    [ -n "$CONSUMER" ] && kill "$CONSUMER" 2>/dev/null || true
    [ -n "$DLQ_READER" ] && kill "$DLQ_READER" 2>/dev/null || true
    if [ "$KEEP" = 1 ] && [ $status -eq 0 ]; then return; fi
    stop_all
    [ $status -eq 0 ] || printf 'demo: failed (exit %d); logs in %s\n' $status "${STATE#"$ROOT"/}" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Vigil demo: $("$VIGIL" --version)"
# --- the broker and the raw topics -------------------------------------------------------
BOOTSTRAP="$(bash "$ROOT/ops/broker.sh" start --state "$STATE/broker")"
step "broker (Tansu) up at $BOOTSTRAP"
RAW_TOPICS=($(sed -nE 's/^[[:space:]]*- topic:[[:space:]]*([^[:space:]#]+).*/\1/p' "$TOPOLOGY"))
for t in "${RAW_TOPICS[@]}"; do bash "$ROOT/ops/broker.sh" create-topic "$BOOTSTRAP" "$t" 1; done
# Vigil creates its own topics; the two read here are created now so the readers below can
# subscribe before `vigil run` is up (same names and partitions as the topology).
own_topic() { sed -nE "s/^[[:space:]]*$1:[[:space:]]*\{name:[[:space:]]*([^,]+),[[:space:]]*partitions:[[:space:]]*([0-9]+).*/\1 \2/p" "$TOPOLOGY"; }
read -r ALERTS ALERTS_PARTITIONS <<<"$(own_topic alerts)"
read -r DLQ DLQ_PARTITIONS <<<"$(own_topic dead_letter)"
bash "$ROOT/ops/broker.sh" create-topic "$BOOTSTRAP" "$ALERTS" "$ALERTS_PARTITIONS"
bash "$ROOT/ops/broker.sh" create-topic "$BOOTSTRAP" "$DLQ" "$DLQ_PARTITIONS"
step "topics: ${RAW_TOPICS[*]} (raw, from ${TOPOLOGY#"$ROOT"/}), $ALERTS, $DLQ"

# --- traffic and Vigil -----------------------------------------------------------------------
"$VIGIL" loadgen --preset demo --topology "$TOPOLOGY" --out "$STATE/traffic" 2>"$STATE/generate.out"
step "traffic (vigil loadgen --preset demo): $(head -n 1 "$STATE/generate.out" | sed 's/^loadgen: //')"
EXPECTED=$(awk '{n += $2} END {print n}' "$STATE/traffic/expected.txt")
# In a session of its own: a Ctrl-C at the terminal reaches the script, whose exit trap then
# sends vigil run one SIGINT (a second one would make it exit without committing).
setsid "$VIGIL" run --topology "$TOPOLOGY" --bootstrap "$BOOTSTRAP" >"$STATE/vigil.log" 2>&1 < /dev/null &
echo $! > "$STATE/vigil.pid"
step "vigil run --topology ${TOPOLOGY#"$ROOT"/} --bootstrap $BOOTSTRAP (pid $!, log ${STATE#"$ROOT"/}/vigil.log)"

# The readers join their (throwaway) groups while Vigil joins its own.
"$VIGIL" consume --bootstrap "$BOOTSTRAP" --topic "$DLQ" --from-beginning --format record \
    --max 1 --timeout "$IDLE" >"$STATE/dlq.out" 2>/dev/null &
DLQ_READER=$!
"$VIGIL" consume --bootstrap "$BOOTSTRAP" --topic "$ALERTS" --from-beginning --format "$FORMAT" \
    --max "$EXPECTED" --timeout "$IDLE" >"$STATE/alerts.out" 2>"$STATE/consume.out" &
CONSUMER=$!

for t in "${RAW_TOPICS[@]}"; do
    [ -f "$STATE/traffic/$t.jsonl" ] || continue
    "$VIGIL" produce --bootstrap "$BOOTSTRAP" --topic "$t" "$STATE/traffic/$t.jsonl" 2>>"$STATE/produce.out"
done
step "produced: $(paste -sd ';' "$STATE/produce.out" | sed 's/;/; /g')"

# --- alerts as they arrive ------------------------------------------------------------------
say "Alerts on $ALERTS (expecting $EXPECTED; they start once Vigil's consumer groups have joined, a few seconds on Tansu):"
tail -n +1 -f --pid="$CONSUMER" "$STATE/alerts.out"
wait "$CONSUMER" || true
CONSUMER=""
wait "$DLQ_READER" || true
say "Dead letters on $DLQ:"
sed 's/^/  /' "$STATE/dlq.out"

# --- stop and summarize --------------------------------------------------------------------
if [ "$KEEP" = 1 ]; then
    step "left running: broker $BOOTSTRAP and vigil run (stop both: ops/demo.sh --stop)"
else
    stop_vigil
    step "vigil run stopped (SIGINT: flushed, committed, left its groups)"
fi

say "Summary"
if [ "$FORMAT" = alert ]; then
    BY_RULE="$(awk '/^[A-Z]+ +[A-Za-z]/ && !/\(summary\)/ {print $2}' "$STATE/alerts.out" | sort | uniq -c)"
else
    BY_RULE="$(grep -o '"kind":"alert","rule_id":"[^"]*"' "$STATE/alerts.out" | cut -d'"' -f8 | sort | uniq -c)"
fi
grep -E '^(ingest|detect):' "$STATE/vigil.log" | sed 's/^/  /' || true
printf '  dead letters on %s: %s\n' "$DLQ" "$(grep -cF "$DLQ[" "$STATE/dlq.out" || true)"
printf '  alerts by rule:\n'
MISSING=()
while read -r rule want; do
    got="$(awk -v r="$rule" '$2 == r {print $1}' <<<"$BY_RULE")"
    printf '    %-45s %s (expected %s)\n' "$rule" "${got:-0}" "$want"
    [ "${got:-0}" -ge "$want" ] || MISSING+=("$rule")
done < "$STATE/traffic/expected.txt"
step "done in $((SECONDS - START)) s; traffic, alerts and logs in ${STATE#"$ROOT"/}/"
if [ ${#MISSING[@]} -gt 0 ]; then
    echo "demo: no alert (or too few) from ${MISSING[*]}; see ${STATE#"$ROOT"/}/vigil.log" >&2
    exit 1
fi
