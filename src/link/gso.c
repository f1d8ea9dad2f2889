#include "link/gso.h"

#include <stdbool.h>
#include <string.h>

#include "wire/wire.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

struct piece {
    uint32_t index, off, len; /* the index-th segment: payload [off, off + len) */
    bool last;
};

/* Rewrites the headers copied into seg for one piece; ihl and thl are the
 * IPv4 and TCP header lengths. */
static void fix_headers(uint8_t *seg, size_t ihl, size_t thl, const struct piece *p,
                        const struct ipv4_hdr *ip)
{
    uint8_t *tcp = seg + ihl;
    put16(seg + 2, (uint16_t)(ihl + thl + p->len));
    put16(seg + 4, (uint16_t)(ip->id + p->index));
    put16(seg + 10, 0);
    put16(seg + 10, wire_csum_fold(wire_csum_add(0, seg, ihl)));
    put32(tcp + 4, get32(tcp + 4) + p->off);
    if (!p->last)
        tcp[13] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
    if (p->index)
        tcp[13] &= (uint8_t)~TCP_FLAG_CWR;
    size_t tlen = thl + p->len;
    put16(tcp + 16, 0);
    uint32_t sum = wire_pseudo_sum(ip->src, ip->dst, IPV4_PROTO_TCP, (uint16_t)tlen);
    put16(tcp + 16, wire_csum_fold(wire_csum_add(sum, tcp, tlen)));
}

int gso_segment(const uint8_t *pkt, size_t len, uint16_t mss,
                int (*emit)(void *arg, const uint8_t *seg, size_t len), void *arg)
{
    struct ipv4_hdr ip;
    const uint8_t *tcp;
    size_t tcp_len;
    if (mss == 0 || ipv4_parse(pkt, len, &ip, &tcp, &tcp_len) != WIRE_OK ||
        ip.proto != IPV4_PROTO_TCP || tcp_len < TCP_HDR_LEN)
        return -1;
    size_t ihl = (size_t)ip.ihl * 4, thl = (size_t)(tcp[12] >> 4) * 4;
    if (thl < TCP_HDR_LEN || thl > tcp_len)
        return -1;
    uint32_t payload = (uint32_t)(tcp_len - thl);
    uint8_t seg[60 + TCP_MAX_HDR_LEN + 65535];
    struct piece p = {0, 0, 0, false};
    do {
        p.len = payload - p.off < mss ? payload - p.off : mss;
        p.last = p.off + p.len >= payload;
        memcpy(seg, pkt, ihl + thl);
        memcpy(seg + ihl + thl, tcp + thl + p.off, p.len);
        fix_headers(seg, ihl, thl, &p, &ip);
        int rc = emit(arg, seg, ihl + thl + p.len);
        if (rc < 0)
            return rc;
        p.off += p.len;
        p.index++;
    } while (!p.last);
    return 0;
}
