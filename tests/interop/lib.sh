# Sourced by every interop test: keel (keel-tun) on one side of a TUN device,
# the Linux kernel on the other, inside a network namespace the test creates
# and always removes (trap), with addresses from 192.0.2.0/24 only.
#
# A test ends with exactly one verdict line on stdout:
#   PASS name[: detail]     exit 0
#   FAIL name: reason       exit 1
#   SKIP name: reason       exit 77
# Environment (run.sh sets it): KEEL_TUN (the binary), KT_WORK (scratch
# directory), KT_RUN (a tag naming this run's namespaces), KT_PCAPS (where
# captures go for the tshark verdict).

set -u

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KT=${KEEL_TUN:-$HERE/../../build/keel-tun}
PEER=$HERE/peer.py
KT_RUN=${KT_RUN:-$$}
KT_WORK=${KT_WORK:-/tmp/keel-interop-$KT_RUN}
KT_PCAPS=${KT_PCAPS:-$KT_WORK/pcap}
W=$KT_WORK/$TEST_NAME
NS=kt$KT_RUN-$TEST_NAME
KEEL_ADDR=192.0.2.2
KERNEL_ADDR=192.0.2.1
PIDS=()

pass() { echo "PASS $TEST_NAME${1:+: $1}"; exit 0; }
fail() { echo "FAIL $TEST_NAME: $*"; exit 1; }
skip() { echo "SKIP $TEST_NAME: $*"; exit 77; }
note() { echo "  $*" >&2; }

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    if ip netns list 2>/dev/null | grep -q "^$NS\b"; then
        for p in $(ip netns pids "$NS" 2>/dev/null); do
            kill "$p" 2>/dev/null
        done
        sleep 0.2
        for p in $(ip netns pids "$NS" 2>/dev/null); do
            kill -9 "$p" 2>/dev/null
        done
        ip netns del "$NS" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The preconditions every test shares; a missing one is a visible SKIP.
need_basics() {
    [ "$(id -u)" = 0 ] || skip "needs root (TUN devices and network namespaces)"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun"
    command -v ip >/dev/null || skip "no ip command (iproute2)"
    [ -x "$KT" ] || skip "no keel-tun binary at $KT (build first)"
    command -v python3 >/dev/null || skip "no python3"
    mkdir -p "$W" "$KT_PCAPS"
    ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
}

need() {
    command -v "$1" >/dev/null || skip "no $1 (apt-get install ${2:-$1})"
}

in_ns() { ip netns exec "$NS" "$@"; }

# Waits until FILE contains PATTERN (at most SECONDS, default 10).
wait_for() {
    local file=$1 pattern=$2 limit=${3:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# Starts keel-tun in the namespace in the background; its stderr goes to
# $W/NAME.log. Waits until it is ready: a server or bulk recv listening, a
# client with its device up. Usage: kt_bg NAME [keel-tun arguments...]
kt_bg() {
    local name=$1 ready="up: keel"
    shift
    case "$*" in *serve-* | *"bulk recv"*) ready="listening" ;; esac
    : >"$W/$name.log" # no stale "listening" from an earlier start
    ip netns exec "$NS" "$KT" "$@" 2>"$W/$name.log" &
    PIDS+=($!)
    KT_PID=$!
    wait_for "$W/$name.log" "$ready" 10 ||
        fail "keel-tun did not start: $(tail -3 "$W/$name.log" | tr '\n' ' ')"
}

# Waits for a background process and returns its status (with a limit).
wait_pid() {
    local pid=$1 limit=${2:-60} i
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 124
    fi
    wait "$pid"
}

# Starts a kernel-side peer.py command in the namespace in the background
# (stdout to $W/NAME.out, stderr to $W/NAME.err); waits for "listening"
# when the command listens.
peer_bg() {
    local name=$1
    shift
    : >"$W/$name.err" # no stale "listening" from an earlier start
    ip netns exec "$NS" python3 "$PEER" "$@" >"$W/$name.out" 2>"$W/$name.err" &
    PIDS+=($!)
    PEER_PID=$!
    case "$1" in
    sink | echo-server) wait_for "$W/$name.err" listening 10 || fail "peer $1 did not listen" ;;
    esac
}

# The value of a keel counter in a keel-tun log (0 when absent).
counter() {
    local v
    v=$(grep -o " $2=[0-9]*" "$1" | tail -1 | cut -d= -f2)
    echo "${v:-0}"
}

expected_sha() { "$KT" generate --bytes "$1" | sha256sum | cut -d' ' -f1; }

# The kernel has sch_netem (tc qdisc ... netem)? Tried on our namespace's
# loopback, which every kernel has.
netem_available() {
    in_ns tc qdisc add dev lo root netem delay 1ms 2>/dev/null || return 1
    in_ns tc qdisc del dev lo root 2>/dev/null
    return 0
}
