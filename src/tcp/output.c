/* Segment output: what to send (RFC 9293 §3.8.6, RFC 5681), and how to build
 * a segment from the TCB and the send buffer. */
#include "tcp/tcb.h"

#include <string.h>

uint32_t tcp_flight(const struct tcb *tcb)
{
    return seq_dist(tcb->snd.una, tcb->snd.nxt);
}

static uint32_t unread_bytes(const struct tcb *tcb)
{
    return tcb->rcvq.len;
}

/* RFC 9293 §3.8.6.2.2 (receiver SWS avoidance) and RFC 7323 §2.4: the right
 * edge moves forward only by at least min(space / 2, MSS), and never back.
 * A closed window stays closed until that much is free too (Linux advertises
 * 0 while less than an MSS is free). Only a right edge that RCV.NXT has
 * passed (a FIN taken at the edge) is not held. */
uint32_t tcp_advertise_window(struct tcb *tcb)
{
    uint32_t space = tcb->rcv_space;
    uint32_t used = unread_bytes(tcb);
    uint32_t free_space = space > used ? space - used : 0;
    uint32_t granule = (uint32_t)1 << tcb->rcv.wscale;
    uint32_t win = free_space & ~(granule - 1);
    if (win > (uint32_t)65535 << tcb->rcv.wscale)
        win = (uint32_t)65535 << tcb->rcv.wscale;
    seq_t edge = seq_add(tcb->rcv.nxt, win);
    uint32_t sws = tcb->rcv_mss < space / 2 ? tcb->rcv_mss : space / 2;
    if (seq_le(edge, tcb->rcv.adv)) {
        if (seq_lt(edge, tcb->rcv.adv))
            CTR_INC(tcb->st, TCPRcvWndShrinkPrevented);
        win = seq_dist(tcb->rcv.nxt, tcb->rcv.adv);
    } else if (seq_dist(tcb->rcv.adv, edge) < sws && seq_ge(tcb->rcv.adv, tcb->rcv.nxt)) {
        win = seq_dist(tcb->rcv.nxt, tcb->rcv.adv);
    }
    return win;
}

/* SACK blocks that fit the 40 option bytes (RFC 2018 §3) beside the
 * timestamps and the MD5 option: 4, 3 with timestamps, 2 with MD5, none
 * with both. */
static uint8_t sack_room(const struct tcb *tcb)
{
    if (tcb->md5 && tcp_md5_key_for(tcb, tcb->raddr))
        return tcb->ts_ok ? 0 : 2;
    return tcb->ts_ok ? 3 : 4;
}

/* RFC 9293 §3.9.1 (SEND with PUSH), as Linux does it: the end of every
 * write is a push point. When more writes are unacknowledged than can be
 * remembered, the newest point moves forward (a later PSH, never a lost one). */
void tcp_note_write_end(struct tcb *tcb)
{
    seq_t end = tcb_snd_end(tcb);
    tcb->pushed_seq = end; /* Linux tcp_mark_push */
    if (tcb->push_n == TCP_PUSH_POINTS) {
        tcb->push_at[(tcb->push_head + tcb->push_n - 1) % TCP_PUSH_POINTS] = end;
        return;
    }
    tcb->push_at[(tcb->push_head + tcb->push_n) % TCP_PUSH_POINTS] = end;
    tcb->push_n++;
}

/* Drops the points (and record ends) SND.UNA has passed. */
void tcp_forget_push_points(struct tcb *tcb)
{
    sendq_forget_records(tcb);
    while (tcb->push_n && seq_le(tcb->push_at[tcb->push_head], tcb->snd.una)) {
        tcb->push_head = (tcb->push_head + 1) % TCP_PUSH_POINTS;
        tcb->push_n--;
    }
}

/* Does [seq, seq + len) end a write (hold a push point)? */
bool tcp_holds_push_point(const struct tcb *tcb, seq_t seq, uint32_t len)
{
    seq_t end = seq_add(seq, len);
    for (uint8_t i = 0; i < tcb->push_n; i++) {
        seq_t p = tcb->push_at[(tcb->push_head + i) % TCP_PUSH_POINTS];
        if (seq_gt(p, seq) && seq_le(p, end))
            return true;
    }
    return false;
}

/* Linux tcp_tso_autosize: a TSO packet carries what the pacing rate sends
 * in 1 ms (sk_pacing_shift 10), plus on short paths a share of the largest
 * packet that halves per 512 us of minimum RTT (tcp_tso_rtt_log 9); at
 * least min_tso_segs segments. */
static uint32_t tso_autosize(const struct tcb *tcb, uint32_t mss, uint32_t tso)
{
    uint64_t rate = cc_pacing_rate(tcb);
    if (!rate)
        return tso;
    uint64_t bytes = rate >> 10;
    uint32_t halvings = tcb->min_rtt_us >> 9;
    if (halvings < 32)
        bytes += tso >> halvings;
    if (bytes > tso)
        bytes = tso;
    uint64_t segs = bytes / mss;
    if (segs < tcb->st->cfg.min_tso_segs)
        segs = tcb->st->cfg.min_tso_segs;
    return segs * mss < tso ? (uint32_t)(segs * mss) : tso;
}

/* How much one transmission may carry: one segment, or with segmentation
 * offload (tso_max) as many whole segments as fit one IPv4 packet, which
 * the device then cuts up, sized by the pacing rate as Linux sizes them
 * (tso_autosize; Linux tcp_tso_segs, all a retransmission is held to). */
uint32_t tcp_tso_goal(const struct tcb *tcb, uint32_t mss)
{
    uint32_t tso = tcb->st->dev->tso_max;
    uint32_t room = 65535 - 60 - TCP_MAX_HDR_LEN;
    if (!tso || tcp_md5_signs(tcb))
        return mss;
    if (tso > room)
        tso = room;
    tso = tso_autosize(tcb, mss, tso);
    return tso > mss ? tso - tso % mss : mss;
}

/* New data: like Linux, no TSO packet carries more than half the
 * congestion window, so that at least two are in flight (tcp_cwnd_test:
 * "ensure we have at least 2 GSO packets in flight", min(cwnd / 2, cwnd -
 * in_flight) segments). */
uint32_t tcp_send_goal(const struct tcb *tcb, uint32_t mss)
{
    uint32_t tso = tcp_tso_goal(tcb, mss);
    uint32_t half_cwnd = tcb->cwnd / mss / 2;
    if (half_cwnd < 1)
        half_cwnd = 1;
    return tso / mss > half_cwnd ? half_cwnd * mss : tso;
}

/* The payload that fits a full-sized segment now: SACK blocks on this
 * segment take their room from the data, as Linux's tcp_current_mss does. */
uint32_t tcp_mss_now(const struct tcb *tcb)
{
    if (!tcb->sack_ok)
        return tcb->mss;
    uint32_t blocks = tcb->sack_recent_n + tcb->dsack_pending;
    if (blocks > sack_room(tcb))
        blocks = sack_room(tcb);
    return blocks ? tcb->mss - (4 + 8 * blocks) : tcb->mss;
}

static void add_sack_option(struct tcb *tcb, struct tcp_opts *o)
{
    uint8_t room = sack_room(tcb);
    uint8_t n = 0;
    if (tcb->dsack_pending && room) { /* no room with MD5 and timestamps */
        o->sack[n++] = tcb->dsack; /* RFC 2883 §4: the D-SACK block first */
        tcb->dsack_pending = false;
        CTR_INC(tcb->st, TCPDSACKSent);
    }
    for (uint8_t i = 0; i < tcb->sack_recent_n && n < room; i++)
        o->sack[n++] = tcb->sack_recent[i];
    if (n) {
        o->present |= TCP_OPT_SACK;
        o->sack_count = n;
    }
}

static void build_options(struct tcb *tcb, struct tcp_hdr *h)
{
    struct tcp_opts *o = &h->opts;
    if (h->flags & TCP_FLAG_SYN) {
        o->present |= TCP_OPT_MSS;
        o->mss = tcb->adv_mss;
        bool active = !(h->flags & TCP_FLAG_ACK);
        if (active ? !tcb->st->cfg.no_sack : tcb->sack_ok)
            o->present |= TCP_OPT_SACK_PERM;
        if (active ? !tcb->st->cfg.no_window_scaling : tcb->ws_ok) {
            o->present |= TCP_OPT_WSCALE;
            o->wscale = tcb->rcv.wscale;
        }
        bool md5 = (o->present & TCP_OPT_MD5) != 0;
        if (active ? !tcb->st->cfg.no_timestamps && !md5 : tcb->ts_ok) {
            o->present |= TCP_OPT_TS;
            o->tsval = tcb_ts_now(tcb);
            o->tsecr = active ? 0 : tcb->ts_recent;
        }
        if (active)
            tcp_fastopen_syn_option(tcb, o);
        return;
    }
    if (tcb->ts_ok) {
        o->present |= TCP_OPT_TS;
        o->tsval = tcb_ts_now(tcb);
        o->tsecr = tcb->ts_recent;
    }
    if (tcb->sack_ok && (h->flags & TCP_FLAG_ACK) && !(h->flags & TCP_FLAG_RST))
        add_sack_option(tcb, o);
}

static void copy_payload(const struct tcb *tcb, uint8_t *dst, seq_t seq, uint32_t len)
{
    uint32_t off = seq_dist(tcb->snd_buf_seq, seq);
    while (len) {
        uint32_t got;
        const uint8_t *p = ring_span(&tcb->sndq, off, len, &got);
        memcpy(dst, p, got);
        dst += got;
        off += got;
        len -= got;
    }
}

/* RFC 7323 §2.4 (1) and (2): a scaled window field rounds down, so the edge
 * an ACK announces may lie left of one announced before; every segment in
 * window for any ACK we sent must stay acceptable, so RCV.ADV keeps the
 * furthest edge (the buffer reached it when it was announced: it fits). */
static void note_ack_sent(struct tcb *tcb, uint32_t wnd_bytes)
{
    tcb->rcv.wnd = wnd_bytes;
    seq_t edge = seq_add(tcb->rcv.nxt, tcb->rcv.wnd);
    if (seq_gt(edge, tcb->rcv.adv))
        tcb->rcv.adv = edge;
    tcb->rcv.last_ack_sent = tcb->rcv.nxt;
    tcb->ack_now = false;
    tcb->unacked_bytes = 0;
    tcb_disarm(tcb, TT_DELACK);
    if (tcb->rcv.wnd == 0)
        CTR_INC(tcb->st, TCPZeroWindowAdv);
}

/* Linux tcp_pacing_check: a paced sender holds data until its departure
 * time, when the pacing timer sends it. */
bool tcp_pacing_holds(struct tcb *tcb)
{
    uint64_t now = tcb->st->now_us;
    if (!tcb->st->cfg.pacing || tcb->pace_next_us <= now)
        return false;
    if (!tcb_armed(tcb, TT_PACING))
        tcb_arm(tcb, TT_PACING, tcb->pace_next_us - now);
    return true;
}

/* Linux tcp_update_skb_after_send: data leaves at the later of its
 * departure time and now, and moves the departure time on by its length at
 * the pacing rate, less a credit of up to half of that for the time the
 * clock ran past the departure time. The first 10 segments are not paced. */
static void pace_after_send(struct tcb *tcb, uint32_t len)
{
    if (!tcb->st->cfg.pacing)
        return;
    uint64_t prior = tcb->pace_next_us;
    uint64_t rate = cc_pacing_rate(tcb);
    if (tcb->pace_next_us < tcb->st->now_us)
        tcb->pace_next_us = tcb->st->now_us;
    if (!rate || tcb->data_segs_out < 10)
        return;
    uint64_t gap = (uint64_t)len * 1000000 / rate;
    uint64_t credit = tcb->pace_next_us - prior;
    gap -= credit < gap / 2 ? credit : gap / 2;
    tcb->pace_next_us += gap;
}

/* Linux tcp_event_data_sent and __tcp_transmit_skb: data leaving with
 * nothing in flight tells the congestion control how long the sender was
 * idle; every transmission carrying data, resent or not, counts its
 * segments (tcp_skb_pcount) and is the last data sent (lsndtime). */
static void note_payload_sent(struct tcb *tcb, uint32_t len)
{
    uint64_t now = tcb->st->now_us;
    uint32_t mss = tcp_mss_now(tcb);
    if (tcp_flight(tcb) == 0 && tcb->last_data_sent_us && tcb->cc->on_tx_start)
        tcb->cc->on_tx_start(tcb, now - tcb->last_data_sent_us, now);
    tcb->data_segs_out += mss ? (len + mss - 1) / mss : 1;
    tcb->last_data_sent_us = now;
    pace_after_send(tcb, len);
}

static void note_data_sent(struct tcb *tcb, seq_t seq, uint32_t len, uint8_t flags)
{
    uint32_t seg_len = len + !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
    if (!seg_len)
        return;
    if (len)
        note_payload_sent(tcb, len);
    if (!(flags & TCP_FLAG_SYN))
        rack_on_xmit(tcb, seq, seg_len, seq_lt(seq, tcb->snd.max));
    if (seq_lt(seq, tcb->snd.max)) {
        CTR_INC(tcb->st, TcpRetransSegs);
        tcb->retrans_segs++;
        tcb->bytes_retrans += len;
        /* Karn's algorithm (RFC 6298 §3): never time a retransmitted segment. */
        if (tcb->rtt_timing && seq_lt(seq, tcb->rtt_seq))
            tcb->rtt_timing = false;
        if (!tcb->retrans_start_us)
            tcb->retrans_start_us = tcb->st->now_us;
        tcb->retrans_tsval = tcb_ts_now(tcb);
        return;
    }
    tcb->bytes_sent += len;
    /* Data is timed from the send log (src/tcp/rack.c); the SYN here. */
    if ((flags & TCP_FLAG_SYN) && !tcb->rtt_timing) {
        tcb->rtt_timing = true;
        tcb->rtt_seq = seq_add(seq, seg_len);
        tcb->rtt_start_us = tcb->st->now_us;
    }
}

bool tcp_xmit(struct tcb *tcb, seq_t seq, uint32_t len, uint8_t flags)
{
    keel_stack *st = tcb->st;
    tcp_route_check(tcb);
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    uint8_t ecn = ecn_mark(tcb, seq, len, &flags);
    h.sport = tcb->lport;
    h.dport = tcb->rport;
    h.seq = seq.v;
    h.flags = flags;
    uint32_t wnd_bytes = 0;
    if (flags & (TCP_FLAG_ACK | TCP_FLAG_SYN)) {
        if (flags & TCP_FLAG_SYN) {
            /* RFC 7323 §2.2: the window of a SYN is never scaled. */
            h.wnd = (uint16_t)(tcb->rcv_space > 65535 ? 65535 : tcb->rcv_space);
            wnd_bytes = h.wnd;
        } else {
            uint32_t win = tcp_advertise_window(tcb);
            h.wnd = (uint16_t)(win >> tcb->rcv.wscale);
            wnd_bytes = (uint32_t)h.wnd << tcb->rcv.wscale;
        }
    }
    if (flags & TCP_FLAG_ACK)
        h.ack = tcb->rcv.nxt.v;
    const struct tcp_md5_key *md5 = tcp_md5_key_for(tcb, tcb->raddr);
    if (md5)
        h.opts.present |= TCP_OPT_MD5;
    build_options(tcb, &h);
    size_t hlen = tcp_hdr_len(&h);
    uint8_t *seg = st->txbuf + IPV4_HDR_LEN;
    if (len)
        copy_payload(tcb, seg + hlen, seq, len);
    tcp_emit(seg, hlen + len, &h, tcb->laddr, tcb->raddr);
    if (md5)
        tcp_md5_sign(seg, hlen + len, tcb->laddr, tcb->raddr, md5->key, md5->len);
    uint32_t mss = tcp_mss_now(tcb);
    bool offload = len > mss && !tcp_mtu_probe_whole(tcb, seq, len);
    /* Linux ip_dont_fragment: DF when discovering the path MTU, which a
     * locked route MTU ends unless IP_PMTUDISC_DO. */
    struct ip_tx tx = {.tos = (uint8_t)((tcb->ip_tos & ~IP_ECN_MASK) | ecn), /* the ECN field is TCP's */
                       .dont_fragment = tcb->pmtudisc == KEEL_IP_PMTUDISC_DO ||
                                        (tcb->pmtudisc == KEEL_IP_PMTUDISC_WANT &&
                                         !tcb->path_mtu_locked)};
    int rc = ip_output_with(st, &tx, IPV4_PROTO_TCP, tcb->laddr, tcb->raddr, hlen + len,
                            offload ? (uint16_t)mss : 0);
    /* Linux __tcp_transmit_skb: a packet the local device refused (NET_XMIT_DROP)
     * was not sent; the caller tries again later. A refused bare ACK is
     * merely lost. */
    bool refused = rc == KEEL_ENOBUFS;
    if (len || (flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)))
        tcb->xmit_refused = refused;
    CTR_INC(st, TcpOutSegs);
    tcb->segs_out++;
    if (flags & TCP_FLAG_ACK)
        note_ack_sent(tcb, wnd_bytes);
    else if (flags & TCP_FLAG_SYN)
        tcb->rcv.wnd = wnd_bytes; /* RCV.NXT is unknown until the SYN-ACK */
    if (flags & TCP_FLAG_RST)
        CTR_INC(st, TcpOutRsts);
    if (refused)
        return false;
    note_data_sent(tcb, seq, len, flags);
    if (tcb->tstamp && len)
        tstamp_on_xmit(tcb, seq, len);
    return true;
}

/* A bare ACK carries the next new sequence number, SND.MAX: while a timeout
 * has pulled SND.NXT back to resend, SND.NXT may lie below what the peer has
 * already received, and a segment there would be refused as old (BSD does
 * the same in tcp_output). */
void tcp_send_ack(struct tcb *tcb)
{
    tcp_xmit(tcb, tcb->snd.max, 0, TCP_FLAG_ACK);
}

void tcp_send_rst(struct tcb *tcb, seq_t seq)
{
    trace_event(tcb, KEEL_EV_RST_SENT, seq.v, 0);
    tcp_xmit(tcb, seq, 0, TCP_FLAG_RST | TCP_FLAG_ACK);
}

void tcp_send_syn(struct tcb *tcb)
{
    uint8_t flags = TCP_FLAG_SYN | ecn_syn_flags(tcb);
    if (tcb->state == KEEL_TCP_SYN_RECEIVED)
        flags |= TCP_FLAG_ACK;
    tcp_xmit(tcb, tcb->snd.iss, 0, flags);
    tcb->snd.nxt = seq_add(tcb->snd.iss, 1);
    tcb->snd.max = tcb->snd.nxt;
}

/* Zero-window and keepalive probes: Linux sends a bare ACK whose sequence
 * number is one below SND.UNA, which any live peer must answer (RFC 9293
 * §3.8.4 allows it for keepalives; it serves as a window probe too). */
bool tcp_send_probe(struct tcb *tcb)
{
    return tcp_xmit(tcb, seq_sub_n(tcb->snd.una, 1), 0, TCP_FLAG_ACK);
}

/* RFC 9293 §3.10.7.1: the reset for a segment that belongs to no connection
 * (or that a connection refuses), signed when owner has a key for the peer. */
void tcp_send_rst_for(keel_stack *st, const struct tcb *owner, const struct segment *s)
{
    if (s->h.flags & TCP_FLAG_RST)
        return;
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.sport = s->h.dport;
    h.dport = s->h.sport;
    if (s->h.flags & TCP_FLAG_ACK) {
        h.seq = s->ack.v;
        h.flags = TCP_FLAG_RST;
    } else {
        h.ack = s->seq.v + s->seg_len;
        h.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
    }
    const struct tcp_md5_key *md5 = owner ? tcp_md5_key_for(owner, s->saddr) : NULL;
    if (md5)
        h.opts.present |= TCP_OPT_MD5;
    size_t hlen = tcp_hdr_len(&h);
    uint8_t *seg = st->txbuf + IPV4_HDR_LEN;
    tcp_emit(seg, hlen, &h, s->daddr, s->saddr);
    if (md5)
        tcp_md5_sign(seg, hlen, s->daddr, s->saddr, md5->key, md5->len);
    ip_output(st, IPV4_PROTO_TCP, s->daddr, s->saddr, hlen, 0);
    CTR_INC(st, TcpOutSegs);
    CTR_INC(st, TcpOutRsts);
}

/* Retransmits the oldest unacknowledged segment (RFC 5681 §3.2 step 4,
 * RFC 6298 §5.4) and returns the sequence space it covered. Reads from the send buffer, which always holds it: no
 * memory limit can stand between the oldest byte and the wire. */
uint32_t tcp_retransmit_head(struct tcb *tcb)
{
    /* Only what has been sent before: [SND.UNA, min(end of data, SND.MAX)). */
    seq_t end = seq_min(tcb_snd_end(tcb), tcb->snd.max);
    uint32_t avail = seq_lt(end, tcb->snd.una) ? 0 : seq_dist(tcb->snd.una, end);
    uint32_t mss = tcp_mss_now(tcb);
    uint32_t len = sendq_record_room(tcb, tcb->snd.una, avail < mss ? avail : mss);
    uint8_t flags = TCP_FLAG_ACK;
    if (tcb->fin_queued && len == avail && seq_gt(tcb->snd.max, end))
        flags |= TCP_FLAG_FIN;
    if (len == 0 && !(flags & TCP_FLAG_FIN))
        return 0;
    if (len && tcp_holds_push_point(tcb, tcb->snd.una, len))
        flags |= TCP_FLAG_PSH;
    if (!tcp_xmit(tcb, tcb->snd.una, len, flags))
        return 0;
    return len + !!(flags & TCP_FLAG_FIN);
}
