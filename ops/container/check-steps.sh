#!/usr/bin/env bash
# The container build's steps without a Docker engine, on Debian 12 (`make container-check`):
#
#   1. build stage: ops/container/build.sh on this machine (Debian 12 with the Swift
#      toolchain, which is what the swift:*-bookworm image is), staged in .deps/container-check/stage
#   2. runtime stage: a minimal Debian 12 root (debootstrap --variant=minbase bookworm, kept
#      in .deps/container-check/rootfs), ops/container/runtime.sh run into it, then the stage
#      copied in as `COPY --from=build /stage/ /` does
#   3. the image run as Kubernetes runs it: uid 65532, root filesystem read-only, writable
#      only /var/lib/vigil (a bind mount) and /tmp (tmpfs); the GeoIP file where the
#      geoipupdate sidecar puts it; then: every shared library found, `vigil --version`,
#      `vigil validate` on the image's topology, and writes outside the writable paths refused.
#
# Needs root (debootstrap, chroot, mount namespaces). Prints "container: N passed, N failed".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
WORK="$VIGIL_DEPS/container-check"
ROOTFS="$WORK/rootfs"
STAGE="$WORK/stage"
log() { printf '[container-check] %s\n' "$*" >&2; }
PASSED=0
FAILED=0
result() { # result NAME STATUS
    if [ "$2" -eq 0 ]; then PASSED=$((PASSED + 1)); printf 'ok    %s\n' "$1"; else FAILED=$((FAILED + 1)); printf 'FAIL  %s\n' "$1"; fi
}

command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
mkdir -p "$WORK"
if [ ! -f "$ROOTFS/.vigil-bootstrapped" ]; then
    log "debootstrap bookworm (minbase) into ${ROOTFS#"$ROOT"/}"
    rm -rf "$ROOTFS"
    debootstrap --variant=minbase bookworm "$ROOTFS" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
    touch "$ROOTFS/.vigil-bootstrapped"
fi
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"

log "runtime stage: ops/container/runtime.sh into the Debian 12 root"
set +e
bash "$ROOT/ops/container/runtime.sh" "$ROOTFS"
result "runtime stage: runtime.sh in a minimal Debian 12 root" $?
log "build stage: ops/container/build.sh (a release build)"
rm -rf "$STAGE"
VIGIL_SCRATCH=.build-container bash "$ROOT/ops/container/build.sh" "$STAGE" >"$WORK/build.log" 2>&1
status=$?
[ $status -eq 0 ] || tail -n 30 "$WORK/build.log" >&2
result "build stage: build.sh (setup --build-only, release build, staging)" $status
[ $status -eq 0 ] || { echo "container: $PASSED passed, $FAILED failed"; exit 1; }
set -e
cp -a "$STAGE/." "$ROOTFS/"
install -m 0644 -o 65532 -g 65532 "$ROOT/geo/GeoLite2-City.mmdb" "$ROOTFS/var/lib/vigil/geoip/GeoLite2-City.mmdb"

# Runs a command in the image: read-only root, rw /var/lib/vigil and /tmp, as USER (uid:gid).
in_image() { # in_image UID:GID COMMAND...
    unshare --mount --fork bash -c '
        set -e
        R="$1"; user="$2"; shift 2
        mount --bind "$R" "$R"
        mount --bind "$R/var/lib/vigil" "$R/var/lib/vigil"
        mount -t tmpfs -o size=16m tmpfs "$R/tmp"
        mount -t proc proc "$R/proc"
        mount -o remount,bind,ro "$R"
        exec chroot --userspec="$user" "$R" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/var/lib/vigil \
            KAFKA_SASL_USERNAME=vigil KAFKA_SASL_PASSWORD=secret "$@"' _ "$ROOTFS" "$@"
}

set +e
missing="$(in_image 65532:65532 /usr/bin/ldd /opt/vigil/bin/vigil 2>&1 | grep "not found")"
[ -z "$missing" ]; result "every shared library of vigil found in the image${missing:+: $missing}" $?
in_image 65532:65532 /opt/vigil/bin/vigil --version
result "vigil --version as uid 65532" $?
in_image 65532:65532 /opt/vigil/bin/vigil validate --topology /etc/vigil/topology/topology.yaml
result "vigil validate on the image's topology (/etc/vigil/topology/topology.yaml)" $?
in_image 0:0 /usr/bin/touch /etc/vigil/written 2>/dev/null
[ $? -ne 0 ]; result "the root filesystem is read-only (even for root)" $?
in_image 65532:65532 /usr/bin/touch /var/lib/vigil/state/written /tmp/written
result "uid 65532 writes /var/lib/vigil/state and /tmp" $?
rm -f "$ROOTFS/var/lib/vigil/state/written"
echo "container: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
