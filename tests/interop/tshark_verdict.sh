#!/usr/bin/env bash
# tshark's verdict on the captures the other tests wrote (keel-tun --pcap,
# at keel's device layer, so keel's TSO packets appear whole and the kernel's
# GSO packets arrive whole with the checksum the TUN backend completed): no
# malformed packet, no bad checksum (IPv4 or TCP), no error in tshark's
# expert analysis of IPv4, TCP or HTTP (but see reassembled_again below).
#
# One exception, counted and shown: a TCP checksum of 0xffff where tshark
# computes 0x0000. That is the same number in one's complement (RFC 1624 §3)
# and Linux writes it on purpose (skb_checksum_help stores CSUM_MANGLED_0
# for a zero result); tshark flags it "Bad". It may come only from the
# kernel: keel stores 0x0000.
. "$(dirname "$0")/lib.sh"
need tshark
mkdir -p "$W"
# Only the layers keel speaks are dissected (a private profile disables the
# rest): the generated payload is random, and tshark's heuristic dissectors
# (Thrift, ...) would take some of it for their protocol and call it broken.
export WIRESHARK_CONFIG_DIR=$W/profile
mkdir -p "$WIRESHARK_CONFIG_DIR"
tshark -G protocols 2>/dev/null | cut -f3 |
    grep -vxE 'frame|raw|ip|icmp|tcp|http|data|data-text-lines|media|pkt_comment|_ws\..*' >"$WIRESHARK_CONFIG_DIR/disabled_protos"
shopt -s nullglob
pcaps=("$KT_PCAPS"/*.pcap)
[ ${#pcaps[@]} -gt 0 ] || skip "no captures in $KT_PCAPS (run the other tests first)"
minus0='tcp.checksum == 0xffff && tcp.checksum_calculated == 0x0000'
# Data tshark has already reassembled into a complete HTTP message, seen
# again, is a "Reassembly error: New fragment overlaps old data
# (retransmission?)" to it. Under reordering that happens to a spurious
# retransmission, and to a delayed original that arrives after the
# retransmission filled its hole (tshark calls that one Out-Of-Order).
# Neither packet is malformed (differing bytes would be tshark's separate
# "Conflicting data in fragment overlap"), and the tests that wrote the
# capture compare every byte delivered.
seen_again='tcp.analysis.retransmission || tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order'
reassembled_again="_ws.malformed.reassembly && ($seen_again)"
filter="(tcp.checksum.status == \"Bad\" && !($minus0 && ip.src == $KERNEL_ADDR)) || ip.checksum.status == \"Bad\" || ((_ws.malformed || _ws.expert.severity == error) && !($reassembled_again))"
total=0 kernel_minus0=0
for p in "${pcaps[@]}"; do
    n=$(tshark -r "$p" 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || fail "$(basename "$p"): no packets"
    bad=$(tshark -r "$p" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y "$filter" \
          2>"$W/tshark.err" | head -5)
    [ -z "$bad" ] || fail "$(basename "$p"): $bad"
    err=$(grep -v "Running as user" "$W/tshark.err")
    [ -z "$err" ] || fail "$(basename "$p"): tshark: $err"
    total=$((total + n))
    m=$(tshark -r "$p" -o tcp.check_checksum:TRUE -Y "$minus0" 2>/dev/null | wc -l)
    kernel_minus0=$((kernel_minus0 + m))
done
detail=""
[ $kernel_minus0 -gt 0 ] && detail=" ($kernel_minus0 from the kernel with 0xffff for 0x0000, RFC 1624)"
pass "${#pcaps[@]} captures, $total packets: no malformed packets, no bad checksums$detail"
