/* ICMP errors for a connection (RFC 1122 §4.2.3.9, RFC 1191, RFC 5927). */
#include "tcp/tcb.h"

/* RFC 1191 §6: a smaller path MTU shrinks the segment size, and the segment
 * that did not fit goes again at once. A locked route MTU stays (Linux
 * ip_mtu_locked), and only an MTU below the one the MSS was computed from
 * counts (tcp_v4_mtu_reduced). */
static void path_mtu_reduced(struct tcb *tcb, uint16_t mtu)
{
    uint32_t floor = TCP_MIN_SND_MSS + IPV4_HDR_LEN + TCP_HDR_LEN;
    tcp_route_check(tcb); /* inet_csk_update_pmtu checks the route first */
    if (tcb->path_mtu_locked)
        return;
    if (mtu < floor)
        mtu = (uint16_t)floor;
    if (mtu >= tcb->pmtu)
        return;
    uint32_t old_mss = tcb->mss;
    tcb->path_mtu = mtu;
    tcp_sync_mss(tcb, mtu);
    if (tcb->mss < old_mss && tcb_synchronized(tcb) && seq_lt(tcb->snd.una, tcb->snd.max))
        tcp_retransmit_head(tcb);
}

/* Linux tcp_v4_mtu_reduced and ip_sk_accept_pmtu: IP_PMTUDISC_DONT,
 * INTERFACE and OMIT keep the segment size whatever the path reports. */
static bool follows_path_mtu(const struct tcb *tcb)
{
    return tcb->pmtudisc != KEEL_IP_PMTUDISC_DONT &&
           tcb->pmtudisc != KEEL_IP_PMTUDISC_INTERFACE &&
           tcb->pmtudisc != KEEL_IP_PMTUDISC_OMIT;
}

void tcp_icmp_error(struct tcb *tcb, uint8_t type, uint8_t code, uint16_t mtu, seq_t seq)
{
    /* RFC 5927 §4.1: only errors quoting a segment in flight are believed. */
    if (!seq_in(seq, tcb->snd.una, seq_add(tcb->snd.max, 1)))
        return;
    if (type != ICMP_DEST_UNREACH)
        return;
    if (code == ICMP_CODE_FRAG_NEEDED) {
        if (follows_path_mtu(tcb))
            path_mtu_reduced(tcb, mtu);
        return;
    }
    bool hard = code == ICMP_CODE_PORT_UNREACH || code == ICMP_CODE_PROTO_UNREACH;
    if (tcb->state == KEEL_TCP_SYN_SENT && hard) {
        CTR_INC(tcb->st, TcpAttemptFails);
        tcb_close(tcb, KEEL_ECONNREFUSED);
        return;
    }
    tcb->soft_error = hard ? KEEL_ECONNREFUSED : KEEL_EHOSTUNREACH;
}
