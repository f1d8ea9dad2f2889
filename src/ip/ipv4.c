/* IPv4 input and output (RFC 791, RFC 1122 §3.2) and ICMP (RFC 792):
 * echo replies, and destination-unreachable errors passed to TCP. */
#include "stack/stack.h"
#include "tcp/tcb.h"
#include "wire/wire.h"

#define IP_DEFAULT_TTL 64

int ip_output(keel_stack *st, uint8_t proto, uint32_t src, uint32_t dst, size_t payload_len,
              uint16_t gso_mss)
{
    static const struct ip_tx plain = {.tos = 0, .dont_fragment = true};
    return ip_output_with(st, &plain, proto, src, dst, payload_len, gso_mss);
}

int ip_output_with(keel_stack *st, const struct ip_tx *tx, uint8_t proto, uint32_t src,
                   uint32_t dst, size_t payload_len, uint16_t gso_mss)
{
    struct ipv4_hdr h = {
        .ihl = 5,
        .tos = tx->tos,
        .id = st->ip_id++,
        .frag = tx->dont_fragment ? IPV4_FLAG_DF : 0, /* RFC 1191: path MTU discovery */
        .ttl = IP_DEFAULT_TTL,
        .proto = proto,
        .src = src,
        .dst = dst,
    };
    size_t len = ipv4_emit(st->txbuf, &h, payload_len) + payload_len;
    CTR_INC(st, IpOutRequests);
    /* Offload for every packet of more than one segment, even one that
     * fits the MTU: the segment size may be below what the MTU allows (the
     * peer's MSS, PLPMTUD's floor). */
    bool offload = gso_mss && st->dev->tso_max;
    if (len > st->dev->mtu && !offload) {
        /* keel sizes every segment to the MTU, or to what the device's
         * offload takes: a bigger one is a keel bug. */
        stack_bug(st, "packet larger than the device MTU");
        CTR_INC(st, IpOutDiscards);
        return KEEL_EMSGSIZE;
    }
    int rc = offload ? st->dev->ops->transmit_tso(st->dev, st->txbuf, len, gso_mss, st->now_us)
                     : st->dev->ops->transmit(st->dev, st->txbuf, len, st->now_us);
    if (rc < 0)
        CTR_INC(st, IpOutDiscards);
    return rc < 0 ? rc : 0;
}

static void icmp_echo_reply(keel_stack *st, const struct ipv4_hdr *ip, const struct icmp_msg *m)
{
    struct icmp_msg reply = *m;
    reply.type = ICMP_ECHO_REPLY;
    reply.code = 0;
    size_t cap = sizeof st->txbuf - IPV4_HDR_LEN;
    size_t n = icmp_emit(st->txbuf + IPV4_HDR_LEN, cap, &reply);
    if (!n)
        return;
    CTR_INC(st, IcmpOutEchoReps);
    CTR_INC(st, IcmpOutMsgs);
    ip_output(st, IPV4_PROTO_ICMP, ip->dst, ip->src, n, 0);
}

/* RFC 1122 §4.2.3.9 and RFC 1191: an ICMP error quoting one of our TCP
 * segments reaches the connection it names. */
static void icmp_error_to_tcp(keel_stack *st, const struct icmp_msg *m)
{
    struct ipv4_hdr quoted;
    const uint8_t *l4;
    size_t l4_len;
    enum wire_result r = ipv4_parse(m->body, m->body_len, &quoted, &l4, &l4_len);
    if ((r != WIRE_OK && r != WIRE_BAD_TOTAL_LEN) || quoted.proto != IPV4_PROTO_TCP)
        return;
    if (r == WIRE_BAD_TOTAL_LEN) { /* the quote is cut short, as RFC 792 allows */
        l4 = m->body + quoted.ihl * 4;
        l4_len = m->body_len - quoted.ihl * 4;
    }
    if (l4_len < 8)
        return;
    uint16_t sport = (uint16_t)(l4[0] << 8 | l4[1]);
    uint16_t dport = (uint16_t)(l4[2] << 8 | l4[3]);
    uint32_t seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
    struct tcb *tcb = demux_lookup(&st->demux, quoted.src, sport, quoted.dst, dport);
    if (tcb)
        tcp_icmp_error(tcb, m->type, m->code, m->next_hop_mtu, seq_make(seq));
}

static void icmp_input(keel_stack *st, const struct ipv4_hdr *ip, const uint8_t *p, size_t len)
{
    struct icmp_msg m;
    CTR_INC(st, IcmpInMsgs);
    if (icmp_parse(p, len, &m) != WIRE_OK) {
        CTR_INC(st, IcmpInErrors);
        return;
    }
    if (m.type == ICMP_ECHO_REQUEST) {
        CTR_INC(st, IcmpInEchos);
        icmp_echo_reply(st, ip, &m);
    } else if (m.type == ICMP_DEST_UNREACH) {
        CTR_INC(st, IcmpInDestUnreachs);
        icmp_error_to_tcp(st, &m);
    }
}

/* Linux's IpExt counters of the ECN field of every datagram received. */
static void count_ecn(keel_stack *st, uint8_t tos)
{
    switch (tos & IP_ECN_MASK) {
    case IP_ECN_NOT_ECT:
        CTR_INC(st, InNoECTPkts);
        break;
    case IP_ECN_ECT1:
        CTR_INC(st, InECT1Pkts);
        break;
    case IP_ECN_ECT0:
        CTR_INC(st, InECT0Pkts);
        break;
    default:
        CTR_INC(st, InCEPkts);
    }
}

void keel_input(keel_stack *st, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t plen;
    stack_set_time(st, now_us);
    CTR_INC(st, IpInReceives);
    enum wire_result r = ipv4_parse(pkt, len, &h, &payload, &plen);
    if (r == WIRE_FRAGMENT) {
        CTR_INC(st, IpReasmFails); /* no reassembly: keel never sends fragments */
        return;
    }
    if (r != WIRE_OK) {
        CTR_INC(st, IpInHdrErrors);
        return;
    }
    if (h.dst != st->cfg.addr) {
        CTR_INC(st, IpInAddrErrors);
        return;
    }
    CTR_INC(st, IpInDelivers);
    count_ecn(st, h.tos);
    if (h.proto == IPV4_PROTO_TCP)
        tcp_input(st, h.src, h.dst, h.tos & IP_ECN_MASK, payload, plen);
    else if (h.proto == IPV4_PROTO_ICMP)
        icmp_input(st, &h, payload, plen);
    else
        CTR_INC(st, IpInUnknownProtos);
    stack_reap(st);
}
