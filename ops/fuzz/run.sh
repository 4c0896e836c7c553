#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers of outside input (Sources/vigil-fuzz: raw records,
# repartition values, rule conditions, rule and topology files, Tor lists) with libFuzzer and
# AddressSanitizer, both from the Swift toolchain (no other install).
#
#   ops/fuzz/run.sh [TARGET...]        default: every target, one after the other
#
#   FUZZ_SECONDS=600   seconds per target
#   FUZZ_JOBS=1        fuzzing processes per target (libFuzzer's -fork; one per core is the most
#                      that helps)
#   FUZZ_DIR=.build/fuzz-work          corpora (kept between runs), seeds, crash inputs
#
# Each target starts from its seeds (`vigil-fuzz seeds`: the decoder fixtures, their
# repartition values, the seed rules, the topologies, the Tor list samples) and from the
# corpus of earlier runs. A failure (a trap, a failed check of the target, an ASan report, a
# timeout of 5 s, over 3 GB) leaves its input in $FUZZ_DIR/artifacts/ and the script exits 1
# after the other targets ran. Reproduce one without the fuzzing build:
#   swift build --product vigil-fuzz && .build/debug/vigil-fuzz TARGET FILE
# then turn it into a unit test beside the code it broke.
set -euo pipefail
cd "$(dirname "$0")/../.."
source ops/env.sh

SECONDS_PER_TARGET="${FUZZ_SECONDS:-600}"
JOBS="${FUZZ_JOBS:-1}"
WORK="${FUZZ_DIR:-.build/fuzz-work}"
ALL=(decode repartition condition rule topology tor)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
    [[ " ${ALL[*]} " == *" $t "* ]] || { echo "unknown target $t (one of: ${ALL[*]})" >&2; exit 64; }
done

echo "== building vigil-fuzz with -sanitize=fuzzer,address (.build/fuzz; the first build takes minutes)"
# One -sanitize=fuzzer,address, not SwiftPM's `--sanitize fuzzer --sanitize address`: swiftc
# keeps only the last of two -sanitize flags, and SwiftPM orders them as a Set does (randomly
# per run), so half of its builds had no coverage instrumentation in any Swift module.
swift build -c release --product vigil-fuzz --build-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DVIGIL_LIBFUZZER \
    -Xcc -fsanitize=fuzzer-no-link,address -Xcxx -fsanitize=fuzzer-no-link,address \
    -Xlinker -rpath -Xlinker "$VIGIL_PREFIX/lib" 2>&1 \
    | grep -v -e "swift-distributed-tracing': found 1 file" -e "Cannot export local symbol '__asan_extra_spill_area'" || true
FUZZER=.build/fuzz/release/vigil-fuzz
[ -x "$FUZZER" ] || { echo "build failed" >&2; exit 1; }

echo "== seeds"
swift build --product vigil-fuzz -Xlinker -rpath -Xlinker "$VIGIL_PREFIX/lib" 2>&1 | grep -E "error|warning: [^']" || true
rm -rf "$WORK/seeds"
.build/debug/vigil-fuzz seeds "$WORK/seeds"

mkdir -p "$WORK/artifacts"
parallel=()
[ "$JOBS" -gt 1 ] && parallel=(-fork="$JOBS")
failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$WORK/corpus/$t"
    log="$WORK/$t.log"
    echo "== $t: ${SECONDS_PER_TARGET}s, $JOBS job(s), log $log"
    # Leak checking is off: Swift's global caches (type metadata, lazily made globals) read as leaks.
    if ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 VIGIL_FUZZ_TARGET="$t" "$FUZZER" \
        "$WORK/corpus/$t" "$WORK/seeds/$t" -max_len=8192 -timeout=5 -rss_limit_mb=3000 \
        -max_total_time="$SECONDS_PER_TARGET" "${parallel[@]}" -print_final_stats=1 \
        -artifact_prefix="$WORK/artifacts/$t-" > "$log" 2>&1; then
        runs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")
        rss=$(awk '/^stat::peak_rss_mb/ {print $2}' "$log")
        cov=$(grep -oE "cov: [0-9]+" "$log" | tail -n 1 | cut -d' ' -f2)
        echo "   no failure: $runs inputs, coverage $cov edges, peak RSS $rss MB"
    else
        failed+=("$t")
        echo "   FAILED: $(grep -m1 -E "ERROR|Fatal error|==[0-9]+==|deadly signal" "$log" || tail -n 1 "$log")"
    fi
done
ls -1 "$WORK/artifacts" 2>/dev/null | sed 's/^/   artifact: /' || true
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failures in ${failed[*]} (inputs in $WORK/artifacts; reproduce: .build/debug/vigil-fuzz TARGET FILE)"
    exit 1
fi
echo "fuzz: ${TARGETS[*]}: no failure"
