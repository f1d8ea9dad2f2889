#!/usr/bin/env bash
# Both directions over an impaired path: curl downloads 16 MiB (8 MiB when
# reordering) from keel's serve-http (SHA-256 checked), then a kernel source
# sends as much to keel's bulk recv (keel checks every byte).
#   lossy.sh netem KIND    tc netem on the kernel's side of the TUN (the
#                          kernel's egress: keel's ACKs or data are spared)
#   lossy.sh impair KIND   keel-tun --impair: the same impairments in user
#                          space, both ways (for kernels without sch_netem)
# KIND: loss (1%), delay (20 ms each way), reorder (2% of packets out of order
# by a few ms, with a 5 ms delay).
. "$(dirname "$0")/lib.sh"
HOW=$1 KIND=$2
BYTES=16777216
[ "$KIND" = reorder ] && BYTES=8388608 # keel has no reordering detection yet: slow
need_basics
need curl

declare -A NETEM=([loss]="loss 1%" [delay]="delay 20ms" [reorder]="delay 5ms reorder 2% 50%")
declare -A IMPAIR=([loss]="loss=1" [delay]="delay=20" [reorder]="delay=5,reorder=2")
[ -n "${NETEM[$KIND]:-}" ] || fail "unknown impairment $KIND"
opts=(--idle-timeout 30)
if [ "$HOW" = netem ]; then
    need tc iproute2
    netem_available || skip "the kernel has no sch_netem (tc qdisc netem: unknown qdisc kind; CONFIG_NET_SCH_NETEM)"
else
    opts+=(--impair "${IMPAIR[$KIND]}")
fi

impair_kernel_side() {
    [ "$HOW" = netem ] || return 0
    in_ns tc qdisc add dev keel0 root netem ${NETEM[$KIND]} || fail "tc qdisc add netem ${NETEM[$KIND]}"
}

# keel -> kernel
kt_bg serve "${opts[@]}" --pcap "$KT_PCAPS/${TEST_NAME}_down.pcap" serve-http --exit-after 1
impair_kernel_side
t0=$(date +%s.%N)
got=$(in_ns curl -sS --max-time 120 "http://$KEEL_ADDR/bytes/$BYTES" 2>"$W/curl.err" | sha256sum | cut -d' ' -f1)
t1=$(date +%s.%N)
wait_pid "$KT_PID" 20 || fail "serve-http did not finish: $(tail -2 "$W/serve.log" | tr '\n' ' ')"
[ "$got" = "$(expected_sha $BYTES)" ] || fail "keel -> kernel: SHA-256 differs ($(cat "$W/curl.err"))"
down=$(awk -v a="$t0" -v b="$t1" -v n=$BYTES 'BEGIN{printf "%.0f", n*8/(b-a)/1e6}')
rto_down=$(counter "$W/serve.log" TCPTimeouts)

# kernel -> keel
"$KT" generate --bytes 1000003 >"$W/block"
kt_bg recv "${opts[@]}" --pcap "$KT_PCAPS/${TEST_NAME}_up.pcap" bulk recv --port 5001 --bytes $BYTES
impair_kernel_side
in_ns timeout 120 python3 "$PEER" source --connect "$KEEL_ADDR:5001" --bytes $BYTES \
    --block "$W/block" >"$W/source.out" 2>&1 || fail "kernel source: $(tail -1 "$W/source.out")"
wait_pid "$KT_PID" 20 || fail "bulk recv did not finish: $(grep 'bulk recv' "$W/recv.log" | tail -1)"
grep -q "bulk recv: $BYTES bytes .* intact" "$W/recv.log" || fail "kernel -> keel: $(grep 'bulk recv:' "$W/recv.log")"
up=$(grep -o '[0-9.]* Gbit/s' "$W/recv.log" | awk '{printf "%.0f", $1*1000}')
extra=""
[ "$HOW" = impair ] && extra="; $(grep -o "impair: .*" "$W/serve.log")"
pass "$((BYTES >> 20)) MiB each way intact: keel->kernel $down Mbit/s ($rto_down RTOs), kernel->keel $up Mbit/s$extra"
