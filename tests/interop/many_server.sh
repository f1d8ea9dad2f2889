#!/usr/bin/env bash
# 1,000 concurrent short connections to keel: kernel clients (python asyncio)
# open them all at once against keel's serve-echo, each sends 2,000 bytes,
# half-closes and checks the echo. keel must serve all of them and exit
# (--exit-after 1000) with no connection failed.
. "$(dirname "$0")/lib.sh"
need_basics
N=1000

kt_bg keel --pcap "$KT_PCAPS/many_server.pcap" --idle-timeout 30 serve-echo --exit-after $N
in_ns timeout 90 python3 "$PEER" echo-clients --connect "$KEEL_ADDR:7" --connections $N \
    --bytes 2000 >"$W/clients.out" 2>"$W/clients.err" || fail "$(tail -1 "$W/clients.out") $(tail -2 "$W/clients.err" | tr '\n' ' ')"
wait_pid "$KT_PID" 30 || fail "serve-echo did not exit after $N connections: $(grep 'serve-echo:' "$W/keel.log")"
grep -q "echo-clients: $N/$N connections ok" "$W/clients.out" || fail "$(cat "$W/clients.out")"
grep -q "serve-echo: $N connections (0 failed)" "$W/keel.log" || fail "$(grep 'serve-echo:' "$W/keel.log")"
pass "$(grep -o "$N/$N connections ok in [0-9.]* s" "$W/clients.out"), keel: $(counter "$W/keel.log" TcpPassiveOpens) passive opens"
