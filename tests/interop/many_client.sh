#!/usr/bin/env bash
# 1,000 concurrent short connections from keel: keel-tun echo-client opens
# them all at once against a kernel echo server (python asyncio), each sends
# 2,000 bytes of generated content, half-closes and checks every echoed byte.
. "$(dirname "$0")/lib.sh"
need_basics
N=1000

peer_bg server echo-server --port 7007
in_ns "$KT" --pcap "$KT_PCAPS/many_client.pcap" --idle-timeout 30 \
    echo-client "$KERNEL_ADDR:7007" --connections $N --bytes 2000 2>"$W/keel.log" ||
    fail "$(grep 'echo-client:' "$W/keel.log") $(grep -v '^keel-tun' "$W/keel.log" | head -3 | tr '\n' ' ')"
grep -q "echo-client: $N/$N connections ok" "$W/keel.log" || fail "$(grep 'echo-client:' "$W/keel.log")"
pass "$(grep -o "$N/$N connections ok.*" "$W/keel.log"), $(counter "$W/keel.log" TcpActiveOpens) active opens"
