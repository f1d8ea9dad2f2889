#!/usr/bin/env bash
# keel over TUN against the kernel, next to the kernel talking to itself over
# a veth pair with the same MTU, measured in the same run.
#
#   bench/tun_vs_veth.sh [BYTES] [RUNS]      (root; default 1G, 3 runs)
#
# Every transfer is one TCP connection moving BYTES of the same generated
# content, timed by its receiver from accept to end of stream:
#   keel -> kernel   keel-tun bulk send        -> python sink (kernel)
#   kernel -> keel   python source (kernel)    -> keel-tun bulk recv
#   kernel -> kernel python source -> python sink, two namespaces, veth pair
# The kernel's endpoints are the same small python program on both paths
# (tests/interop/peer.py), so the ratio compares the stacks, not the tools.
# keel-tun is also run with its offloads off, to show what each one buys.
# Writes bench/results/tun_vs_veth.md; namespaces and devices are removed at
# the end whatever happens. Addresses: 198.18.0.0/15 inside the namespaces.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BYTES=${1:-1G}
RUNS=${2:-3}
KT=${KEEL_TUN:-$ROOT/build/keel-tun}
PEER=$ROOT/tests/interop/peer.py
OUT=$ROOT/bench/results/tun_vs_veth.md
TAG=kb$$
NS_T=$TAG-tun NS_A=$TAG-a NS_B=$TAG-b
W=$(mktemp -d /tmp/keel-bench.XXXXXX)
MTU=1500

die() { echo "tun_vs_veth: $*" >&2; exit 1; }
cleanup() {
    local ns p
    for ns in $NS_T $NS_A $NS_B; do
        ip netns list 2>/dev/null | grep -q "^$ns\b" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || die "needs root"
[ -c /dev/net/tun ] || die "no /dev/net/tun"
[ -x "$KT" ] || die "no keel-tun at $KT (cmake --build build)"
N=$(python3 -c "import sys; s=sys.argv[1]; m={'k':1<<10,'m':1<<20,'g':1<<30}.get(s[-1].lower(),1); print(int(s[:-1] if m>1 else s)*m)" "$BYTES")
"$KT" generate --bytes 1000003 >"$W/block"

wait_for() { # FILE PATTERN
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
gbps() { grep -o '[0-9.]* Gbit/s' "$1" | tail -1 | cut -d' ' -f1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# ---- keel over TUN ----
ip netns add $NS_T || die "cannot create a namespace"

keel_to_kernel() { # keel-tun options...
    : >"$W/sink.err" # no stale "listening" from the previous run
    ip netns exec $NS_T python3 "$PEER" sink --port 5001 >"$W/sink.out" 2>"$W/sink.err" &
    local sp=$!
    wait_for "$W/sink.err" listening || die "sink did not start"
    ip netns exec $NS_T "$KT" --quiet --addr 198.18.0.2 --peer 198.18.0.1/24 --mtu $MTU "$@" \
        bulk send 198.18.0.1:5001 --bytes "$N" 2>"$W/keel.log" || die "bulk send: $(cat "$W/keel.log")"
    wait $sp
    gbps "$W/sink.out"
}

kernel_to_keel() { # keel-tun options...
    : >"$W/keel.log"
    ip netns exec $NS_T "$KT" --quiet --addr 198.18.0.2 --peer 198.18.0.1/24 --mtu $MTU "$@" \
        bulk recv --port 5002 --bytes "$N" 2>"$W/keel.log" &
    local kp=$!
    wait_for "$W/keel.log" listening || die "bulk recv did not start"
    ip netns exec $NS_T python3 "$PEER" source --connect 198.18.0.2:5002 --bytes "$N" \
        --block "$W/block" >"$W/source.out" 2>&1 || die "source: $(cat "$W/source.out")"
    wait $kp || die "bulk recv: $(cat "$W/keel.log")"
    grep -q intact "$W/keel.log" || die "keel received damaged data: $(cat "$W/keel.log")"
    gbps "$W/keel.log"
}

# ---- the kernel over veth ----
ip netns add $NS_A && ip netns add $NS_B || die "cannot create namespaces"
ip link add vk$$a netns $NS_A type veth peer name vk$$b netns $NS_B || die "cannot create a veth pair"
ip -n $NS_A addr add 198.18.1.1/24 dev vk$$a && ip -n $NS_B addr add 198.18.1.2/24 dev vk$$b
ip -n $NS_A link set vk$$a mtu $MTU up && ip -n $NS_B link set vk$$b mtu $MTU up
ip -n $NS_A link set lo up && ip -n $NS_B link set lo up

kernel_to_kernel() {
    : >"$W/vsink.err"
    ip netns exec $NS_B python3 "$PEER" sink --port 5003 >"$W/vsink.out" 2>"$W/vsink.err" &
    local sp=$!
    wait_for "$W/vsink.err" listening || die "veth sink did not start"
    ip netns exec $NS_A python3 "$PEER" source --connect 198.18.1.2:5003 --bytes "$N" \
        --block "$W/block" >"$W/vsource.out" 2>&1 || die "veth source: $(cat "$W/vsource.out")"
    wait $sp
    gbps "$W/vsink.out"
}

iperf_veth() {
    command -v iperf3 >/dev/null || return 1
    ip netns exec $NS_B iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
    local sp=$!
    sleep 0.3
    ip netns exec $NS_A iperf3 -c 198.18.1.2 -p 5201 -n "$N" -f g 2>/dev/null |
        awk '/receiver/{for(i=1;i<=NF;i++) if($i=="Gbits/sec") print $(i-1)}'
    wait $sp 2>/dev/null
}

declare -A R
measure() { # key command...
    local key=$1 i v vals=()
    shift
    for ((i = 0; i < RUNS; i++)); do
        v=$("$@") || die "$key failed"
        [ -n "$v" ] || die "$key: no figure"
        vals+=("$v")
    done
    R[$key]=$(median "${vals[@]}")
    R[$key.all]="${vals[*]}"
    echo "  $key: ${vals[*]} Gbit/s (median ${R[$key]})" >&2
}

echo "tun_vs_veth: $BYTES per transfer, $RUNS runs each, MTU $MTU" >&2
measure veth_ab kernel_to_kernel
measure k2n keel_to_kernel
measure n2k kernel_to_keel
measure k2n_notso keel_to_kernel --no-tso
measure n2k_norx kernel_to_keel --no-rx-offload
iperf=$(iperf_veth) || iperf=""

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}'; }
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mkdir -p "$(dirname "$OUT")"
{
    echo "# keel over TUN vs the kernel over veth"
    echo
    echo "Measured by \`bench/tun_vs_veth.sh $BYTES $RUNS\` on $(date -u +%Y-%m-%d): Linux $(uname -r),"
    echo "$(nproc) cores ($cpu). One TCP connection per transfer moving $BYTES ($N bytes) of"
    echo "generated content, MTU $MTU, timed by the receiver from accept to end of stream; the"
    echo "median of $RUNS runs, every run in the runs column (Gbit/s). keel runs single-threaded in"
    echo "keel-tun; the kernel's endpoints are the same python program (tests/interop/peer.py) on"
    echo "both paths. The veth pair keeps the kernel's default offloads, as keel's TUN keeps"
    echo "its own below. On this shared virtual machine figures vary widely from run to run (see"
    echo "the runs column): compare figures of one run, not across runs."
    echo
    echo "| path | direction | Gbit/s (median) | runs | keel / kernel |"
    echo "|---|---|---:|---|---:|"
    echo "| kernel ↔ kernel, veth | sender → receiver | ${R[veth_ab]} | ${R[veth_ab.all]} | 1.00 |"
    echo "| keel ↔ kernel, TUN | keel → kernel | ${R[k2n]} | ${R[k2n.all]} | $(ratio "${R[k2n]}" "${R[veth_ab]}") |"
    echo "| keel ↔ kernel, TUN | kernel → keel | ${R[n2k]} | ${R[n2k.all]} | $(ratio "${R[n2k]}" "${R[veth_ab]}") |"
    echo "| keel ↔ kernel, TUN, \`--no-tso\` | keel → kernel | ${R[k2n_notso]} | ${R[k2n_notso.all]} | $(ratio "${R[k2n_notso]}" "${R[veth_ab]}") |"
    echo "| keel ↔ kernel, TUN, \`--no-rx-offload\` | kernel → keel | ${R[n2k_norx]} | ${R[n2k_norx.all]} | $(ratio "${R[n2k_norx]}" "${R[veth_ab]}") |"
    [ -n "$iperf" ] && echo "| kernel ↔ kernel, veth, iperf3 (reference) | sender → receiver | $iperf | 1 run | |"
    echo
    echo "Offloads: keel-tun hands the kernel 64 KB TCP packets to segment (TSO through the"
    echo "virtio_net_hdr, \`--no-tso\` turns it off), and lets the kernel hand keel 64 KB GSO"
    echo "packets whose checksum the TUN backend completes (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4,"
    echo "\`--no-rx-offload\` turns it off): both are on by default because of the rows above."
} >"$OUT"
cat "$OUT"
