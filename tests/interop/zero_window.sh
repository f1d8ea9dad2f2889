#!/usr/bin/env bash
# A kernel-side reader that stops reading: python asks keel's serve-http for
# 16 MiB with a 64 KiB receive buffer and reads nothing for 3 s. keel must
# wait behind the zero window, probe it (keel's TCPPersistProbes / TCPWinProbe
# counters, and the probes in the capture) and
# resume: the body arrives intact.
. "$(dirname "$0")/lib.sh"
need_basics
BYTES=16777216

kt_bg keel --pcap "$KT_PCAPS/zero_window.pcap" serve-http --exit-after 1
in_ns timeout 60 python3 "$PEER" fetch --url "http://$KEEL_ADDR/bytes/$BYTES" --rcvbuf 65536 \
    --pause 3 >"$W/fetch.out" 2>&1 || fail "fetch: $(tail -1 "$W/fetch.out")"
wait_pid "$KT_PID" 20 || fail "serve-http did not finish"
grep -q "fetch: $BYTES bytes .* sha256 $(expected_sha $BYTES)" "$W/fetch.out" ||
    fail "body not intact: $(tail -1 "$W/fetch.out")"
probes=$(($(counter "$W/keel.log" TCPPersistProbes) + $(counter "$W/keel.log" TCPWinProbe)))
[ "$probes" -gt 0 ] || fail "no zero-window probes counted: $(grep counters "$W/keel.log")"
stalls=$(grep -o ' Watchdog[A-Za-z0-9]*=[0-9]*' "$W/keel.log" | tr '\n' ' ')
[ -z "$stalls" ] || fail "the stall watchdog spoke:$stalls"
detail=""
if command -v tshark >/dev/null; then
    pcap=$KT_PCAPS/zero_window.pcap
    zw=$(tshark -r "$pcap" -Y "tcp.analysis.zero_window && ip.src == $KERNEL_ADDR" 2>/dev/null | wc -l)
    # keel probes as Linux does (tcp_xmit_probe_skb): no data, SEQ = SND.UNA - 1,
    # which tshark files under keep-alive.
    zwp=$(tshark -r "$pcap" -Y "(tcp.analysis.zero_window_probe || tcp.analysis.keep_alive) && ip.src == $KEEL_ADDR" 2>/dev/null | wc -l)
    [ "$zw" -gt 0 ] || fail "tshark saw no zero window from the kernel"
    [ "$zwp" -gt 0 ] || fail "tshark saw no probe from keel"
    detail=", tshark: $zw zero-window ACKs from the kernel, $zwp probes from keel"
fi
pass "16 MiB intact after a 3 s pause; $probes window probes$detail"
