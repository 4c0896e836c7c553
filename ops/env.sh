# Sourced by ops/ scripts and the Makefile: where the project-local prefix is,
# and the paths that make `swift build`, `swift test` and the built binaries
# find the librdkafka that ops/setup.sh built there (see setup.sh for why).
VIGIL_ROOT="${VIGIL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VIGIL_DEPS="${VIGIL_DEPS:-$VIGIL_ROOT/.deps}"
VIGIL_PREFIX="${VIGIL_PREFIX:-$VIGIL_DEPS/prefix}"
export VIGIL_ROOT VIGIL_DEPS VIGIL_PREFIX
export PKG_CONFIG_PATH="$VIGIL_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$VIGIL_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$VIGIL_PREFIX/bin:$PATH"
