#!/usr/bin/env bash
# serve-http against curl and wget: two GETs on one kept-alive connection,
# HEAD, a 404, and wget's HTTP/1.1 GET; every body checked by SHA-256.
. "$(dirname "$0")/lib.sh"
need_basics
need curl
need wget

kt_bg keel serve-http --pcap "$KT_PCAPS/http_clients.pcap"
url=http://$KEEL_ADDR
in_ns curl -sS -v --max-time 30 -o "$W/a" "$url/bytes/3M" -o "$W/b" "$url/bytes/1000" 2>"$W/curl.err" ||
    fail "curl: $(tail -2 "$W/curl.err" | tr '\n' ' ')"
grep -q "Re-using existing connection\|Reusing existing connection" "$W/curl.err" ||
    fail "curl did not keep the connection alive"
[ "$(sha256sum <"$W/a" | cut -d' ' -f1)" = "$(expected_sha 3145728)" ] || fail "first body differs"
[ "$(sha256sum <"$W/b" | cut -d' ' -f1)" = "$(expected_sha 1000)" ] || fail "second body differs"
head=$(in_ns curl -sS -I --max-time 10 "$url/bytes/12345" | tr -d '\r')
echo "$head" | grep -q "^Content-Length: 12345$" || fail "HEAD: $head"
code=$(in_ns curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$url/nothing-here")
[ "$code" = 404 ] || fail "unknown path answered $code, want 404"
in_ns wget -q -T 30 -O "$W/c" "$url/bytes/2M" || fail "wget failed"
[ "$(sha256sum <"$W/c" | cut -d' ' -f1)" = "$(expected_sha 2097152)" ] || fail "wget body differs"
kill "$KT_PID"
wait_pid "$KT_PID" 10
grep -q "serve-http: 4 connections (0 failed)" "$W/keel.log" ||
    fail "keel-tun: $(grep 'serve-http:' "$W/keel.log")"
pass "keep-alive, HEAD, 404 and wget; bodies intact"
