#!/usr/bin/env bash
# keel-tun explains why it cannot create its device: without root
# (CAP_NET_ADMIN), and without /dev/net/tun (hidden in a private mount
# namespace). Both exit 2 with a sentence naming the cause. Creates no
# device that works and no namespace with a network.
. "$(dirname "$0")/lib.sh"
[ -x "$KT" ] || skip "no keel-tun binary at $KT (build first)"

as_nobody=("$KT")
if [ "$(id -u)" = 0 ]; then
    need setpriv util-linux
    as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups "$KT")
fi
out=$("${as_nobody[@]}" serve-http 2>&1)
rc=$?
[ $rc = 2 ] || fail "without privileges: exit $rc, want 2 ($out)"
echo "$out" | grep -q "root or CAP_NET_ADMIN" || fail "without privileges: $out"
[ "$(id -u)" = 0 ] || pass "unprivileged: $out (the /dev/net/tun case needs root)"

need unshare util-linux
out=$(unshare -m sh -c "mount -t tmpfs none /dev/net && exec \"$KT\" serve-http" 2>&1)
rc=$?
[ $rc = 2 ] || fail "without /dev/net/tun: exit $rc, want 2 ($out)"
echo "$out" | grep -q "/dev/net/tun: No such file" || fail "without /dev/net/tun: $out"
pass "exit 2, causes named: CAP_NET_ADMIN (as nobody), CONFIG_TUN (no /dev/net/tun)"
