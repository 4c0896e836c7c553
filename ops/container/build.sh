#!/usr/bin/env bash
# The container's build stage (ops/container/Dockerfile), also run by check-steps.sh in a
# plain shell on Debian 12: Vigil's Debian packages and librdkafka >= 2.1 (ops/setup.sh),
# a release build of `vigil` with the Swift runtime linked in statically, then the files of
# the image staged under DEST:
#   DEST/opt/vigil/bin/vigil               the binary (rpath $ORIGIN/../lib)
#   DEST/opt/vigil/lib/librdkafka.so.1     the librdkafka it was built against
#   DEST/etc/vigil/topology/topology.yaml  the default topology (ops/k8s/topology.yaml)
#   DEST/etc/vigil/rules/*.yaml            the seed rules
#
#   ops/container/build.sh DEST
# Environment: VIGIL_SCRATCH, SwiftPM's build folder (default .build; check-steps.sh uses
# .build-container so that a development build can go on beside it).
set -euo pipefail
DEST="${1:?usage: build.sh DEST}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash ops/setup.sh --build-only
# shellcheck source=ops/env.sh
source ops/env.sh
# $ORIGIN: the binary finds the librdkafka staged beside it, wherever the tree is put.
SCRATCH="${VIGIL_SCRATCH:-.build}"
swift build -c release --scratch-path "$SCRATCH" --product vigil --static-swift-stdlib \
    -Xlinker -rpath -Xlinker '$ORIGIN/../lib'
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
install -d "$DEST/opt/vigil/bin" "$DEST/opt/vigil/lib" "$DEST/etc/vigil/topology" "$DEST/etc/vigil/rules"
install -m 0755 "$BIN/vigil" "$DEST/opt/vigil/bin/vigil"
LIBDIR="$(pkg-config --variable=libdir rdkafka)"
cp -L "$LIBDIR/librdkafka.so.1" "$DEST/opt/vigil/lib/librdkafka.so.1"
install -m 0644 ops/k8s/topology.yaml "$DEST/etc/vigil/topology/topology.yaml"
install -m 0644 topology/rules/*.yaml "$DEST/etc/vigil/rules/"
"$DEST/opt/vigil/bin/vigil" --version
