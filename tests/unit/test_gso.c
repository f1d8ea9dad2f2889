/* Software segmentation offload: the pieces are valid segments that carry
 * the original payload in order, with the flags where Linux GSO puts them. */
#include <string.h>

#include "harness.h"
#include "link/gso.h"
#include "wire/wire.h"

#define SRC 0xc0000201u
#define DST 0xc0000202u

struct pieces {
    int n;
    uint8_t payload[8000];
    size_t bytes;
    struct tcp_hdr h[16];
    uint16_t ip_id[16];
    size_t len[16];
};

static int collect(void *arg, const uint8_t *seg, size_t len)
{
    struct pieces *p = arg;
    struct ipv4_hdr ip;
    const uint8_t *tcp, *data;
    size_t tlen, dlen;
    CHECK_EQ(ipv4_parse(seg, len, &ip, &tcp, &tlen), WIRE_OK);
    CHECK_EQ(tcp_parse(tcp, tlen, ip.src, ip.dst, true, &p->h[p->n], &data, &dlen), WIRE_OK);
    memcpy(p->payload + p->bytes, data, dlen);
    p->bytes += dlen;
    p->ip_id[p->n] = ip.id;
    p->len[p->n] = dlen;
    p->n++;
    return 0;
}

static size_t build(uint8_t *pkt, uint32_t payload, uint8_t flags)
{
    struct tcp_hdr h = {.sport = 1, .dport = 2, .seq = 0xfffff000u, .ack = 9, .flags = flags,
                        .wnd = 100};
    h.opts.present = TCP_OPT_TS;
    h.opts.tsval = 5;
    size_t hlen = tcp_hdr_len(&h);
    for (uint32_t i = 0; i < payload; i++)
        pkt[IPV4_HDR_LEN + hlen + i] = (uint8_t)(i * 7);
    tcp_emit(pkt + IPV4_HDR_LEN, hlen + payload, &h, SRC, DST);
    struct ipv4_hdr ip = {.ihl = 5, .id = 40, .ttl = 64, .proto = IPV4_PROTO_TCP, .src = SRC,
                          .dst = DST};
    return ipv4_emit(pkt, &ip, hlen + payload) + hlen + payload;
}

TEST(gso_cuts_into_mss_pieces_with_flags_on_the_right_ends)
{
    uint8_t pkt[9000];
    size_t len = build(pkt, 5000, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN | TCP_FLAG_CWR);
    struct pieces p;
    memset(&p, 0, sizeof p);
    CHECK_EQ(gso_segment(pkt, len, 1448, collect, &p), 0);
    CHECK_EQ(p.n, 4);
    CHECK_EQ_U(p.bytes, 5000);
    for (uint32_t i = 0; i < 5000; i++)
        CHECK_EQ(p.payload[i], (uint8_t)(i * 7));
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_U(p.h[i].seq, 0xfffff000u + 1448u * (uint32_t)i); /* across the wrap */
        CHECK_EQ_U(p.ip_id[i], 40 + i);
        CHECK(p.h[i].opts.present & TCP_OPT_TS);
        CHECK_EQ(p.len[i], i < 3 ? 1448 : 5000 - 3 * 1448);
        CHECK_EQ(!!(p.h[i].flags & TCP_FLAG_CWR), i == 0);
        CHECK_EQ(!!(p.h[i].flags & (TCP_FLAG_FIN | TCP_FLAG_PSH)), i == 3);
        CHECK(p.h[i].flags & TCP_FLAG_ACK);
    }
}

TEST(gso_passes_a_small_packet_through_whole)
{
    uint8_t pkt[2000];
    size_t len = build(pkt, 100, TCP_FLAG_ACK);
    struct pieces p;
    memset(&p, 0, sizeof p);
    CHECK_EQ(gso_segment(pkt, len, 1448, collect, &p), 0);
    CHECK_EQ(p.n, 1);
    CHECK_EQ_U(p.bytes, 100);
}

TEST(gso_rejects_what_is_not_tcp_over_ipv4)
{
    uint8_t pkt[64] = {0x45};
    struct pieces p;
    memset(&p, 0, sizeof p);
    CHECK_EQ(gso_segment(pkt, sizeof pkt, 1448, collect, &p), -1);
    CHECK_EQ(p.n, 0);
}
