#!/usr/bin/env bash
# The local Kafka-protocol broker for tests and the demo: Tansu (see ../shared
# DESIGN.md decision 2; installed by ops/setup.sh). Nothing in Vigil depends on
# Tansu: any Kafka broker works; this script only gives a loopback one.
#
#   ops/broker.sh start [--port P] [--state DIR]
#       Starts a broker on 127.0.0.1 (a free port unless --port), waits until it
#       listens there itself and answers a Kafka Metadata request, and prints the
#       bootstrap address (127.0.0.1:PORT). A free port taken before the broker
#       bound it is replaced by another (up to five tries); a --port that is taken
#       is an error, not another broker's address. Its pid, port and log go to DIR (default
#       .deps/run/broker-PORT); stop it with `stop DIR` or `stop --port P`.
#   ops/broker.sh create-topic BOOTSTRAP NAME PARTITIONS [KEY=VALUE ...]
#       Creates a topic with that many partitions and topic configs
#       (e.g. cleanup.policy=compact). An existing topic is not an error.
#   ops/broker.sh wait BOOTSTRAP [SECONDS]
#       Waits until BOOTSTRAP answers a Metadata request (default 30 s).
#   ops/broker.sh stop DIR | --port P
#       Stops the broker that `start` started there (by its recorded pid, and
#       only if that pid is still a tansu process). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=ops/env.sh
source "$ROOT/ops/env.sh"
TANSU="${TANSU:-$VIGIL_PREFIX/bin/tansu}"

die() { printf 'broker.sh: %s\n' "$*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Sends a Kafka Metadata v1 request (all topics) and checks that a well-formed
# response with the same correlation id comes back.
metadata_ok() { # metadata_ok HOST:PORT
    python3 - "$1" <<'PY' 2>/dev/null
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
client = b"vigil-ops"
body = struct.pack(">hhih", 3, 1, 4242, len(client)) + client + struct.pack(">i", -1)
try:
    with socket.create_connection((host, int(port)), timeout=2) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        head = s.recv(8)
        size, corr = struct.unpack(">ii", head)
        sys.exit(0 if corr == 4242 and size > 4 else 1)
except Exception:
    sys.exit(1)
PY
}

# True while PID runs and is not a zombie.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# True when PID holds a listening TCP socket on PORT: the broker answering there is the one
# this script started, not another that took the port first (two starts that picked the same
# free port: the second broker dies with "Address in use" while the first answers for both).
owns_listener() { # owns_listener PID PORT
    python3 - "$1" "$2" <<'PY' 2>/dev/null
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
inodes = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add("socket:[%s]" % fields[9])
    except (OSError, IndexError, ValueError):
        pass
fds = "/proc/%s/fd" % pid
try:
    sys.exit(0 if any(os.readlink(os.path.join(fds, fd)) in inodes for fd in os.listdir(fds)) else 1)
except OSError:
    sys.exit(1)
PY
}

# 0 when HOST:PORT answers a Metadata request (and, given PID, PID is the one listening there);
# 1 after SECONDS without; 2 when PID ended first.
wait_ready() { # wait_ready HOST:PORT SECONDS [PID]
    local deadline=$((SECONDS + $2))
    until { [ -z "${3:-}" ] || owns_listener "$3" "${1##*:}"; } && metadata_ok "$1"; do
        if [ -n "${3:-}" ] && ! alive "$3"; then return 2; fi
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

cmd_start() {
    local port="" state=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) port="$2"; shift 2 ;;
            --state) state="$2"; shift 2 ;;
            *) die "start: unknown argument $1" ;;
        esac
    done
    [ -x "$TANSU" ] || die "tansu not found at $TANSU: run ops/setup.sh"
    local given_port="$port" given_state="$state" attempt pid rc
    # A free port is free when free_port looks, not necessarily when the broker binds it (a
    # concurrent start can pick the same one): a broker that loses the race is started again
    # on another port, unless the caller chose the port.
    for attempt in 1 2 3 4 5; do
        [ -n "$given_port" ] || port="$(free_port)"
        state="${given_state:-$VIGIL_DEPS/run/broker-$port}"
        mkdir -p "$state"
        local url="tcp://127.0.0.1:$port"
        # The broker must outlive this script in a session of its own, and must not inherit
        # what its caller had: descriptors above 2 (Foundation's Process on Linux waits for
        # every copy of a child's pipes, so a test that starts the broker would hang) and a
        # blocked signal mask (Swift test processes block SIGTERM; the broker would ignore it).
        python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_SETMASK, [])
os.closerange(3, 65536)
os.setsid()
os.execv(sys.argv[1], sys.argv[1:])' "$TANSU" broker --listener-url "$url" --advertised-listener-url "$url" \
            >"$state/broker.log" 2>&1 < /dev/null &
        pid=$!
        echo "$pid" > "$state/pid"
        echo "$port" > "$state/port"
        rc=0
        wait_ready "127.0.0.1:$port" 30 "$pid" || rc=$?
        if [ $rc -eq 0 ]; then
            echo "127.0.0.1:$port"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        if [ $rc -eq 2 ] && [ -z "$given_port" ] && grep -q "Address in use" "$state/broker.log"; then
            printf 'broker.sh: port %s was taken before the broker bound it; trying another (%s of 5)\n' \
                "$port" "$attempt" >&2
            continue
        fi
        tail -n 20 "$state/broker.log" >&2 || true
        die "broker on 127.0.0.1:$port did not answer a Metadata request (rc=$rc)"
    done
    die "no broker started: five free ports were taken before the broker bound them"
}

cmd_create_topic() {
    [ $# -ge 3 ] || die "usage: create-topic BOOTSTRAP NAME PARTITIONS [KEY=VALUE ...]"
    local bootstrap="$1" name="$2" partitions="$3"; shift 3
    local args=(topic create --broker "tcp://$bootstrap" --partitions "$partitions")
    for kv in "$@"; do args+=(--config "$kv"); done
    local out
    if ! out="$("$TANSU" "${args[@]}" "$name" 2>&1)"; then
        if grep -qiE 'already.?exists|TopicAlreadyExists' <<<"$out"; then return 0; fi
        printf '%s\n' "$out" >&2
        die "could not create topic $name"
    fi
}

cmd_stop() {
    local state=""
    case "${1:-}" in
        --port) state="$VIGIL_DEPS/run/broker-$2" ;;
        "") die "usage: stop DIR | --port P" ;;
        *) state="$1" ;;
    esac
    [ -f "$state/pid" ] || return 0
    local pid; pid="$(cat "$state/pid")"
    if kill -0 "$pid" 2>/dev/null && grep -q tansu "/proc/$pid/cmdline" 2>/dev/null; then
        # Tansu 0.6 shuts down on SIGINT (it ignores SIGTERM); SIGKILL after a grace
        # period (its storage is in memory: nothing to lose).
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$state/pid"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    create-topic) shift; cmd_create_topic "$@" ;;
    wait) shift; wait_ready "$1" "${2:-30}" || die "$1 did not answer within ${2:-30} s" ;;
    stop) shift; cmd_stop "$@" ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
esac
