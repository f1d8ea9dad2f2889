/* libFuzzer target: the wire parsers must reject or accept any input without
 * reading out of bounds, and whatever they accept must emit back to an
 * input they accept again with the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tcp_round_trip(const struct tcp_hdr *h, size_t payload_len)
{
    uint8_t seg[TCP_MAX_HDR_LEN + 64];
    struct tcp_hdr copy = *h, back;
    size_t hlen = tcp_hdr_len(&copy);
    size_t plen = payload_len < 64 ? payload_len : 64;
    memset(seg + hlen, 0x5a, plen);
    tcp_emit(seg, hlen + plen, &copy, 1, 2);
    const uint8_t *p;
    size_t pl;
    if (tcp_parse(seg, hlen + plen, 1, 2, true, &back, &p, &pl) != WIRE_OK)
        abort();
    if (back.seq != h->seq || back.ack != h->ack || back.flags != h->flags || pl != plen)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipv4_hdr ip;
    const uint8_t *payload;
    size_t plen;
    enum wire_result r = ipv4_parse(data, size, &ip, &payload, &plen);
    if (r != WIRE_OK) {
        struct tcp_hdr h;
        const uint8_t *p;
        size_t pl;
        if (tcp_parse(data, size, 1, 2, false, &h, &p, &pl) == WIRE_OK)
            check_tcp_round_trip(&h, pl);
        struct icmp_msg m;
        (void)icmp_parse(data, size, &m);
        return 0;
    }
    char line[512];
    if (ip.proto == IPV4_PROTO_TCP) {
        struct tcp_hdr h;
        const uint8_t *p;
        size_t pl;
        if (tcp_parse(payload, plen, ip.src, ip.dst, false, &h, &p, &pl) == WIRE_OK) {
            tcp_format(line, sizeof line, ip.src, ip.dst, &h, pl);
            check_tcp_round_trip(&h, pl);
        }
    } else if (ip.proto == IPV4_PROTO_ICMP) {
        struct icmp_msg m;
        (void)icmp_parse(payload, plen, &m);
    }
    return 0;
}
