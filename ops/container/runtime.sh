#!/usr/bin/env bash
# The container's runtime stage (ops/container/Dockerfile), as root on Debian 12, also run by
# check-steps.sh: the shared libraries `vigil` links (libmaxminddb, simdjson, librdkafka's
# SSL/SASL/compression/curl dependencies; librdkafka itself comes from the build stage), curl
# for the health check, the user vigil (uid/gid 65532, no login, no home of its own) and the
# directories it may write: /var/lib/vigil/state and /var/lib/vigil/geoip. Idempotent.
#
#   ops/container/runtime.sh [ROOT]     ROOT: install into a chroot (default /)
set -euo pipefail
TARGET="${1:-/}"
PACKAGES=(ca-certificates curl libmaxminddb0 libsimdjson14 libstdc++6 libssl3 libsasl2-2
          libsasl2-modules zlib1g libzstd1 liblz4-1 libcurl4)
in_root() { if [ "$TARGET" = / ]; then "$@"; else chroot "$TARGET" "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
in_root apt-get clean
rm -rf "$TARGET"/var/lib/apt/lists/*
in_root getent group vigil >/dev/null || in_root groupadd --system --gid 65532 vigil
in_root getent passwd vigil >/dev/null \
    || in_root useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /var/lib/vigil \
        --shell /usr/sbin/nologin vigil
install -d -m 0755 -o 65532 -g 65532 "$TARGET/var/lib/vigil" "$TARGET/var/lib/vigil/state" "$TARGET/var/lib/vigil/geoip"
