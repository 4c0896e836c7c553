#!/usr/bin/env bash
# KafkaIO throughput vs librdkafka's own rdkafka_performance (built from the same
# librdkafka source by ops/setup.sh), in one run, on one local broker and one topic,
# for 1 KB records. Prints a table and rewrites ops/bench/kafka.md.
#
#   make bench-kafka                  (builds vigil-bench in release, then runs this)
#   COUNT=500000 RUNS=3 ops/bench/kafka.sh
#
# Both sides use the same settings: idempotent producer, linger.ms=5, murmur2_random
# partitioner, unkeyed records; high-level consumer in a fresh group reading the same
# topic from the start, group-join settings as in the tests. A run is the median of RUNS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/ops/env.sh"
COUNT="${COUNT:-500000}"
RUNS="${RUNS:-3}"
SIZE=1024
PARTITIONS=4
BENCH="$ROOT/.build/release/vigil-bench"
PERF="$VIGIL_PREFIX/bin/rdkafka_performance"
OUT="${OUT:-$ROOT/ops/bench/kafka.md}"
[ -x "$BENCH" ] || { echo "build vigil-bench first: make bench-kafka" >&2; exit 1; }
[ -x "$PERF" ] || { echo "rdkafka_performance missing: run ops/setup.sh" >&2; exit 1; }

STATE="$(mktemp -d)"
BOOT="$("$ROOT/ops/broker.sh" start --state "$STATE")"
trap '"$ROOT/ops/broker.sh" stop "$STATE"; rm -rf "$STATE"' EXIT

COMMON=(-X enable.idempotence=true -X linger.ms=5 -X partitioner=murmur2_random)
GROUPX=(-X session.timeout.ms=6000 -X max.poll.interval.ms=7000 -X heartbeat.interval.ms=1000
        -X auto.offset.reset=earliest -X enable.partition.eof=false)

lib_produce() { # topic -> msgs/s
    "$PERF" -P -t "$1" -b "$BOOT" -s "$SIZE" -c "$COUNT" "${COMMON[@]}" -q 2>&1 \
        | sed -nE 's/.* ([0-9]+) msgs\/s.*/\1/p' | tail -n1
}
lib_consume() { # topic group -> msgs/s
    "$PERF" -C -G "$2" -t "$1" -b "$BOOT" -c "$COUNT" "${GROUPX[@]}" -q 2>&1 \
        | sed -nE 's/.* ([0-9]+) msgs\/s.*/\1/p' | tail -n1
}
vigil_produce() {
    "$BENCH" kafka produce --bootstrap "$BOOT" --topic "$1" --count "$COUNT" --size "$SIZE" \
        | sed -nE 's/.*"records_per_second":([0-9]+).*/\1/p'
}
vigil_consume() {
    # rdkafka_performance sets queued.min.messages=1000000 by itself; KafkaIO gets the same.
    "$BENCH" kafka consume --bootstrap "$BOOT" --topic "$1" --count "$COUNT" --group "$2" \
        --property queued.min.messages=1000000 \
        | sed -nE 's/.*"records_per_second":([0-9]+).*/\1/p'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
declare -a LP VP LC VC
for run in $(seq "$RUNS"); do
    t="bench-$run"
    "$ROOT/ops/broker.sh" create-topic "$BOOT" "$t-lib" "$PARTITIONS"
    "$ROOT/ops/broker.sh" create-topic "$BOOT" "$t-vigil" "$PARTITIONS"
    # Alternate who goes first, so neither always meets a warmer broker.
    if (( run % 2 )); then
        LP+=("$(lib_produce "$t-lib")"); VP+=("$(vigil_produce "$t-vigil")")
        LC+=("$(lib_consume "$t-lib" "g-lib-$run")"); VC+=("$(vigil_consume "$t-lib" "g-vigil-$run")")
    else
        VP+=("$(vigil_produce "$t-vigil")"); LP+=("$(lib_produce "$t-lib")")
        VC+=("$(vigil_consume "$t-lib" "g-vigil-$run")"); LC+=("$(lib_consume "$t-lib" "g-lib-$run")")
    fi
    echo "run $run: produce lib=${LP[-1]} vigil=${VP[-1]}  consume lib=${LC[-1]} vigil=${VC[-1]} msgs/s" >&2
done

lp=$(median "${LP[@]}"); vp=$(median "${VP[@]}"); lc=$(median "${LC[@]}"); vc=$(median "${VC[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }
cpu="$(sed -nE 's/^model name\s*: (.*)/\1/p' /proc/cpuinfo | head -n1)"
cat > "$OUT" <<MD
# KafkaIO throughput vs librdkafka (rdkafka_performance)

Measured by \`make bench-kafka\` (ops/bench/kafka.sh) on $(date -u +%Y-%m-%d).
Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME").
librdkafka $(pkg-config --modversion rdkafka), broker: Tansu 0.6 on loopback (in-memory storage).
$COUNT records of $SIZE bytes, $PARTITIONS partitions, median of $RUNS runs; both clients in the same run,
same broker, same settings (idempotent producer, linger.ms=5, murmur2_random; high-level
consumer, fresh group, from the earliest offset, queued.min.messages=1000000 as
rdkafka_performance sets by itself). Consumer rates count from the first record.

| direction | rdkafka_performance (msgs/s) | KafkaIO (msgs/s) | KafkaIO / librdkafka | goal |
|---|---:|---:|---:|---:|
| produce | $lp | $vp | $(ratio "$vp" "$lp") | ≥ 90% |
| consume | $lc | $vc | $(ratio "$vc" "$lc") | ≥ 90% |

Load average (1 min) $LOAD_BEFORE at the start, $(cut -d' ' -f1 /proc/loadavg) at the end: both clients meet the same load, interleaved.

Runs (msgs/s): produce librdkafka ${LP[*]}; KafkaIO ${VP[*]}. consume librdkafka ${LC[*]}; KafkaIO ${VC[*]}.
MD
cat "$OUT"
