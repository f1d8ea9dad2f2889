#!/usr/bin/env bash
# curl downloads 1 GiB from keel's serve-http; the kernel must receive it
# intact: the SHA-256 of what curl got equals that of the generated content.
. "$(dirname "$0")/lib.sh"
need_basics
need curl
BYTES=1073741824

kt_bg keel serve-http --exit-after 1
expect=$(expected_sha $BYTES) || fail "cannot compute the expected hash"
got=$(in_ns curl -sS --max-time 120 -w '%{stderr}%{http_code} %{size_download} %{speed_download}\n' \
      "http://$KEEL_ADDR/bytes/$BYTES" 2>"$W/curl.err" | sha256sum | cut -d' ' -f1)
read -r code size speed < <(tail -1 "$W/curl.err")
wait_pid "$KT_PID" 20 || fail "keel-tun failed: $(tail -2 "$W/keel.log" | tr '\n' ' ')"
[ "$code" = 200 ] || fail "HTTP status ${code:-none}: $(head -2 "$W/curl.err" | tr '\n' ' ')"
[ "$size" = $BYTES ] || fail "curl got $size of $BYTES bytes"
[ "$got" = "$expect" ] || fail "SHA-256 $got, want $expect"
pass "1 GiB intact (sha256 ${got:0:16}...), $(awk -v s="$speed" 'BEGIN{printf "%.2f Gbit/s", s*8/1e9}')"
