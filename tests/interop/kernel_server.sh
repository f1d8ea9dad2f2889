#!/usr/bin/env bash
# keel as the client of kernel-side servers: keel-tun get downloads 64 MiB
# from python3 -m http.server (captured: the kernel's large GSO packets,
# checksums completed by the TUN backend, go to the tshark verdict), and keel
# bulk-sends 256 MiB to a kernel sink; then a kernel source sends 256 MiB to
# keel's bulk recv. Every byte checked (SHA-256 on the kernel side, keel's
# own content check on keel's).
. "$(dirname "$0")/lib.sh"
need_basics
BYTES=268435456

FILE_BYTES=67108864
"$KT" generate --bytes $FILE_BYTES >"$W/file" || fail "cannot write the file to serve"
want=$(sha256sum <"$W/file" | cut -d' ' -f1)

# 1. keel downloads from the kernel's HTTP server.
ip netns exec "$NS" python3 -u -m http.server 8080 --bind 0.0.0.0 --directory "$W" \
    >"$W/http.out" 2>&1 &
PIDS+=($!)
wait_for "$W/http.out" "Serving HTTP" 10 || fail "the kernel's HTTP server did not listen: $(cat "$W/http.out")"
got=$(in_ns "$KT" --pcap "$KT_PCAPS/kernel_server_get.pcap" --idle-timeout 20 \
      get "http://$KERNEL_ADDR:8080/file" 2>"$W/get.log" | sha256sum | cut -d' ' -f1)
grep -q "get: status 200, $FILE_BYTES bytes" "$W/get.log" || fail "get: $(grep 'get:' "$W/get.log")"
[ "$got" = "$want" ] || fail "keel's download has SHA-256 $got, want $want"
get_speed=$(grep -o '([0-9.]* Gbit/s)' "$W/get.log")

# 2. keel sends to a kernel sink.
peer_bg sink sink --port 5001 --hash
in_ns "$KT" --idle-timeout 20 bulk send "$KERNEL_ADDR:5001" --bytes $BYTES 2>"$W/send.log" ||
    fail "bulk send: $(grep 'bulk send' "$W/send.log")"
wait_pid "$PEER_PID" 20 || fail "the kernel sink did not finish"
grep -q "sink: $BYTES bytes .* sha256 $(expected_sha $BYTES)" "$W/sink.out" || fail "sink: $(cat "$W/sink.out")"

# 3. A kernel source sends to keel.
"$KT" generate --bytes 1000003 >"$W/block"
kt_bg recv --idle-timeout 20 bulk recv --port 5002 --bytes $BYTES
in_ns python3 "$PEER" source --connect "$KEEL_ADDR:5002" --bytes $BYTES --block "$W/block" \
    >"$W/source.out" 2>&1 || fail "source: $(tail -1 "$W/source.out")"
wait_pid "$KT_PID" 20 || fail "bulk recv: $(grep 'bulk recv' "$W/recv.log" | tail -1)"
grep -q "bulk recv: $BYTES bytes .* intact" "$W/recv.log" || fail "$(grep 'bulk recv:' "$W/recv.log")"
pass "get 64 MiB at ${get_speed//[()]/}, send and receive 256 MiB each, all intact"
