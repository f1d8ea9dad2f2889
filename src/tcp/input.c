/* Segment arrival (RFC 9293 §3.10.7): parse, demultiplex, and for
 * synchronized states the steps of §3.10.7.4 in order, each a helper. */
#include "tcp/tcb.h"

static void count_parse_error(keel_stack *st, enum wire_result r)
{
    CTR_INC(st, TcpInErrs);
    if (r == WIRE_BAD_CHECKSUM)
        CTR_INC(st, TcpInCsumErrors);
    else if (r == WIRE_BAD_OPTIONS)
        CTR_INC(st, TcpInBadOptions);
    else
        CTR_INC(st, TcpInBadHeader);
}

static bool parse_segment(keel_stack *st, uint32_t src, uint32_t dst, const uint8_t *pkt,
                          size_t len, struct segment *s)
{
    size_t plen;
    enum wire_result r = tcp_parse(pkt, len, src, dst, true, &s->h, &s->data, &plen);
    if (r != WIRE_OK) {
        count_parse_error(st, r);
        return false;
    }
    CTR_ADD(st, TcpBadOptionLength, s->h.opts.bad_len_count);
    CTR_ADD(st, TcpUnknownOptions, s->h.opts.unknown_count);
    s->seq = seq_make(s->h.seq);
    s->ack = seq_make(s->h.ack);
    s->len = (uint32_t)plen;
    s->seg_len = s->len + !!(s->h.flags & TCP_FLAG_SYN) + !!(s->h.flags & TCP_FLAG_FIN);
    s->saddr = src;
    s->daddr = dst;
    return true;
}

/* RFC 2385: only a segment with the MD5 option, or for a socket with a
 * key, costs more than this test. */
static bool signature_check_fails(struct tcb *tcb, const struct segment *s, const uint8_t *pkt,
                                  size_t len)
{
    if (!(s->h.opts.present & TCP_OPT_MD5) && !tcb->md5)
        return false;
    return !tcp_md5_inbound_ok(tcb, s, pkt, len);
}

void tcp_input(keel_stack *st, uint32_t src, uint32_t dst, uint8_t ecn, const uint8_t *pkt,
               size_t len)
{
    struct segment s;
    CTR_INC(st, TcpInSegs);
    if (!parse_segment(st, src, dst, pkt, len, &s))
        return;
    s.ecn = ecn;
    struct tcb *tcb = demux_lookup(&st->demux, dst, s.h.dport, src, s.h.sport);
    if (tcb) {
        if (signature_check_fails(tcb, &s, pkt, len))
            return;
        tcb->segs_in++;
        tcb->data_segs_in += s.len != 0; /* Linux tcp_segs_in */
        if (tcb->state == KEEL_TCP_SYN_SENT)
            tcp_input_syn_sent(tcb, &s);
        else
            tcp_input_synchronized(tcb, &s);
        watchdog_check_wl1(tcb);
        tcb_check_invariants(tcb);
        return;
    }
    struct tcb *listener = demux_listener(&st->demux, dst, s.h.dport);
    if (listener) {
        if (signature_check_fails(listener, &s, pkt, len))
            return;
        tcp_input_listen(listener, &s);
        return;
    }
    tcp_send_rst_for(st, NULL, &s); /* §3.10.7.1: CLOSED */
}

/* ---- §3.10.7.4 for SYN-RECEIVED and the synchronized states ---- */

/* RFC 7323 §5.3 (PAWS): a segment whose TSval is older than TS.Recent is a
 * duplicate from an earlier wrap of the sequence space. */
static bool paws_reject(struct tcb *tcb, const struct segment *s)
{
    if (!tcb->ts_ok || !(s->h.opts.present & TCP_OPT_TS) || (s->h.flags & TCP_FLAG_RST))
        return false;
    if ((int32_t)(s->h.opts.tsval - tcb->ts_recent) >= 0)
        return false;
    /* §5.5: TS.Recent older than 24 days is invalid. */
    if (tcb->st->now_us - tcb->ts_recent_us > 24ull * 86400 * 1000000)
        return false;
    CTR_INC(tcb->st, TCPPAWSRejected);
    return true;
}

/* §3.10.7.4 first: segment acceptability, as Linux applies it (tcp_sequence).
 * The RFC's four cases would refuse a bare ACK at exactly RCV.NXT + RCV.WND,
 * which is where a peer that has filled our window sends its ACKs from: both
 * ends would stop hearing each other. So a segment is acceptable when it does
 * not end before the last ACK we sent and does not start beyond the window's
 * right edge; its text is trimmed to the window later. */
static bool acceptable(const struct tcb *tcb, const struct segment *s)
{
    seq_t end = seq_add(s->seq, s->seg_len);
    seq_t right = seq_add(tcb->rcv.nxt, tcb_rcv_window(tcb));
    return seq_ge(end, tcb->rcv.last_ack_sent) && seq_le(s->seq, right);
}

/* A zero-window probe or keepalive: a bare segment at RCV.NXT - 1, outside
 * the window on purpose so that it draws an ACK (RFC 1122 §4.2.3.6; RFC 9293
 * §3.8.6.1 relies on the answer to report a reopened window). The answer is
 * acceptable to its sender, so it cannot start an ACK loop. */
static bool is_probe(const struct tcb *tcb, const struct segment *s)
{
    return s->seg_len == 0 && seq_eq(s->seq, seq_sub_n(tcb->rcv.nxt, 1));
}

/* An unacceptable segment is answered with an ACK (data and probes always;
 * other bare segments at most every 500 ms, as Linux limits ACK loops; Linux
 * limits probes too, which can leave a lost window update unrepaired for a
 * second persist interval). Old data is reported with a D-SACK (RFC 2883). */
static void answer_unacceptable(struct tcb *tcb, const struct segment *s)
{
    CTR_INC(tcb->st, TCPOutOfWindow);
    if (s->h.flags & TCP_FLAG_RST)
        return;
    if (tcb->state == KEEL_TCP_TIME_WAIT && (s->h.flags & TCP_FLAG_FIN))
        tcb_arm(tcb, TT_TIME_WAIT, tcb->st->cfg.time_wait_us);
    if (s->len && seq_le(seq_add(s->seq, s->len), tcb->rcv.nxt) && tcb->sack_ok) {
        tcb->dsack = (struct tcp_sack_block){s->seq.v, s->seq.v + s->len};
        tcb->dsack_pending = true;
    }
    uint64_t now = tcb->st->now_us;
    bool limited = !s->len && !is_probe(tcb, s);
    if (limited && tcb->last_invalid_ack_us &&
        now - tcb->last_invalid_ack_us < TCP_INVALID_ACK_INTERVAL_US)
        return;
    if (limited)
        tcb->last_invalid_ack_us = now;
    tcp_send_ack(tcb);
}

/* RFC 5961 §7: challenge ACKs, rate limited per connection only (a global
 * limit is itself a side channel, CVE-2016-5696). */
void tcp_send_challenge_ack(struct tcb *tcb)
{
    uint64_t now = tcb->st->now_us;
    if (now - tcb->challenge_window_us >= 1000000) {
        tcb->challenge_window_us = now;
        tcb->challenge_count = 0;
    }
    if (tcb->challenge_count >= tcb->st->cfg.challenge_ack_per_sec) {
        tcb_limit_hit(tcb, KEEL_C_TCPChallengeACKLimited);
        return;
    }
    tcb->challenge_count++;
    CTR_INC(tcb->st, TCPChallengeACK);
    trace_event(tcb, KEEL_EV_CHALLENGE_ACK, tcb->rcv.nxt.v, 0);
    tcp_send_ack(tcb);
}

static int reset_error(const struct tcb *tcb)
{
    switch (tcb->state) {
    case KEEL_TCP_SYN_RECEIVED:
        return KEEL_ECONNREFUSED;
    case KEEL_TCP_CLOSE_WAIT:
        return KEEL_EPIPE;
    case KEEL_TCP_CLOSING:
    case KEEL_TCP_LAST_ACK:
    case KEEL_TCP_TIME_WAIT:
        return 0;
    }
    return KEEL_ECONNRESET;
}

/* Linux's tcp_reset_check: once the peer's FIN is in, its RST may carry the
 * FIN's own sequence number, RCV.NXT - 1; it is taken though it lies just
 * left of the window. */
static bool rst_names_fin(const struct tcb *tcb, const struct segment *s)
{
    return tcb->rcv_fin && seq_eq(s->seq, seq_sub_n(tcb->rcv.nxt, 1));
}

/* §3.10.7.4 second, with RFC 5961 §3.2: only a RST at exactly RCV.NXT resets;
 * one elsewhere in the window draws a challenge ACK. Linux also takes RCV.NXT
 * - 1 once the peer's FIN is in (its RST may carry the FIN's number).
 * RFC 1337: TIME-WAIT ignores RSTs. */
static void handle_rst(struct tcb *tcb, const struct segment *s)
{
    bool exact = seq_eq(s->seq, tcb->rcv.nxt) || rst_names_fin(tcb, s);
    trace_event(tcb, KEEL_EV_RST_RECEIVED, s->seq.v,
                exact && tcb->state != KEEL_TCP_TIME_WAIT);
    if (tcb->state == KEEL_TCP_TIME_WAIT)
        return;
    if (!exact) {
        tcp_send_challenge_ack(tcb);
        return;
    }
    if (tcb->state == KEEL_TCP_ESTABLISHED || tcb->state == KEEL_TCP_CLOSE_WAIT)
        CTR_INC(tcb->st, TcpEstabResets);
    if (tcb->state == KEEL_TCP_SYN_RECEIVED && tcb->listener) {
        tcb_close(tcb, 0); /* back to LISTEN: the listener stays */
        return;
    }
    tcb_close(tcb, reset_error(tcb));
}

/* RFC 6191 / RFC 1122 §4.2.2.13: a SYN for a connection in TIME-WAIT with a
 * higher sequence number (or a newer timestamp) may start a new incarnation. */
static bool time_wait_recycle(struct tcb *tcb, const struct segment *s)
{
    if (tcb->state != KEEL_TCP_TIME_WAIT || (s->h.flags & TCP_FLAG_ACK))
        return false;
    bool newer_ts = tcb->ts_ok && (s->h.opts.present & TCP_OPT_TS) &&
                    (int32_t)(s->h.opts.tsval - tcb->ts_recent) > 0;
    if (!newer_ts && !seq_gt(s->seq, tcb->rcv.nxt))
        return false;
    struct tcb *listener = demux_listener(&tcb->st->demux, tcb->laddr, tcb->lport);
    if (!listener)
        return false;
    CTR_INC(tcb->st, TCPTimeWaitRecycled);
    /* Condition (1) of RFC 1122 §4.2.2.13: the new ISS lies above everything
     * the old incarnation sent, by more than a window (as Linux's tw_isn). */
    seq_t iss = seq_add(tcb->snd.max, 65535 + 2);
    tcb_close(tcb, 0);
    tcp_reopen_from_time_wait(listener, s, iss);
    return true;
}

/* §3.10.7.4 fourth, with RFC 5961 §4: a SYN in a synchronized state draws a
 * challenge ACK. A passive SYN-RECEIVED connection answers a retransmitted
 * SYN with its SYN-ACK again. In a simultaneous open (§3.5, figure 7), a
 * peer's SYN-ACK that acknowledges our SYN exactly was taken for its ACK
 * (simultaneous_syn_ack); any other repeats the SYN we hold (SEG.SEQ = IRS
 * < RCV.NXT: old, by §3.10.7.4 first) and gets the plain ACK that rule
 * prescribes. Answered with a SYN-ACK, the two ends would echo SYN-ACKs at
 * each other forever. */
static void handle_syn(struct tcb *tcb, const struct segment *s)
{
    if (tcb->state == KEEL_TCP_SYN_RECEIVED && seq_eq(s->seq, tcb->rcv.irs)) {
        if ((s->h.flags & TCP_FLAG_ACK) && !tcb->listener)
            tcp_send_ack(tcb);
        else
            tcp_send_syn(tcb);
        return;
    }
    if (time_wait_recycle(tcb, s))
        return;
    watchdog_syn_on_connection(tcb);
    CTR_INC(tcb->st, TCPSYNChallenge);
    tcp_send_challenge_ack(tcb);
}

static void enter_established_from_syn_received(struct tcb *tcb, const struct segment *s)
{
    tcb->snd.wnd = (uint32_t)s->h.wnd << tcb->snd.wscale;
    tcb->snd.max_wnd = tcb->snd.wnd;
    tcb->snd.wl1 = s->seq;
    tcb->snd.wl2 = s->ack;
    struct tcb *l = tcb->listener;
    tcb_established(tcb);
    if (l) {
        l->syn_queue_len--;
        tcb->aq_next = NULL;
        if (l->aq_tail)
            l->aq_tail->aq_next = tcb;
        else
            l->aq_head = tcb;
        l->aq_tail = tcb;
        l->accept_queue_len++;
        event_notify(tcb->st, l);
    }
}

/* SYN-RECEIVED (§3.10.7.4 fifth): an acceptable ACK completes the handshake;
 * an unacceptable one is answered with <SEQ=SEG.ACK><CTL=RST>. A full accept
 * queue leaves the connection waiting (Linux drops the ACK). */
static bool ack_in_syn_received(struct tcb *tcb, const struct segment *s)
{
    if (!seq_lt(tcb->snd.una, s->ack) || seq_gt(s->ack, tcb->snd.max)) {
        tcp_send_rst_for(tcb->st, tcb, s);
        return false;
    }
    struct tcb *l = tcb->listener;
    if (l && tcb_accept_queue_full(l)) {
        tcb_limit_hit(tcb, KEEL_C_ListenOverflows);
        CTR_INC(tcb->st, ListenDrops);
        return false;
    }
    enter_established_from_syn_received(tcb, s);
    return true;
}

/* Our FIN has been acknowledged: FIN-WAIT-1 -> FIN-WAIT-2, CLOSING ->
 * TIME-WAIT, LAST-ACK -> CLOSED. An orphaned FIN-WAIT-2 waits at most the
 * FIN timeout (Linux tcp_fin_timeout). */
static bool after_fin_acked(struct tcb *tcb)
{
    switch (tcb->state) {
    case KEEL_TCP_FIN_WAIT_1:
        tcb_set_state(tcb, KEEL_TCP_FIN_WAIT_2);
        if (tcb->handle < 0)
            tcb_arm(tcb, TT_TIME_WAIT, tcb->st->cfg.fin_timeout_us);
        return true;
    case KEEL_TCP_CLOSING:
        tcb_enter_time_wait(tcb);
        return true;
    case KEEL_TCP_LAST_ACK:
        tcb_close(tcb, 0);
        return false;
    }
    return true;
}

/* §3.10.7.4 fifth for synchronized states, with RFC 5961 §5: an ACK below
 * SND.UNA - MAX.SND.WND or above SND.MAX is answered with an ACK and the
 * segment dropped. Returns false when processing stops. */
static bool handle_ack(struct tcb *tcb, const struct segment *s)
{
    if (tcb->state == KEEL_TCP_SYN_RECEIVED && !ack_in_syn_received(tcb, s))
        return false;
    if (seq_gt(s->ack, tcb->snd.max)) {
        CTR_INC(tcb->st, TCPAckForUnsent);
        tcp_send_ack(tcb);
        return false;
    }
    if (seq_lt(s->ack, seq_sub_n(tcb->snd.una, tcb->snd.max_wnd))) {
        tcp_send_challenge_ack(tcb);
        return false;
    }
    return tcp_ack_accepted(tcb, s);
}

/* The scoreboard before an ACK, for PRR: SND.UNA, the SACKed bytes, the
 * end of the lost part and the duplicate ACK count; and the bytes the
 * ACK's D-SACKs report delivered (Linux tcp_dsack_seen). */
struct scoreboard_before {
    seq_t una, lost_edge;
    uint32_t sacked, dupacks, dsacked;
};

/* What the ACK just processed did, for PRR (RFC 9937): DeliveredData is
 * SND.UNA's advance plus the bytes newly SACKed (without SACK, Linux's
 * count: reno_delivered); a SafeACK advanced SND.UNA without moving the
 * lost part of the scoreboard past where it ended (without SACK: without
 * a partial ACK, which makes the new head lost). */
static struct prr_ack prr_ack_of(const struct tcb *tcb, const struct segment *s,
                                 const struct scoreboard_before *b)
{
    seq_t una = b->una;
    int64_t delivered = tcb->sack_ok ? (int64_t)seq_dist(una, tcb->snd.una) +
                                           rangeset_bytes(&tcb->sacked) - b->sacked + b->dsacked
                                     : reno_delivered(tcb, seq_dist(una, tcb->snd.una), b->dupacks);
    bool further_loss = tcb->sack_ok ? seq_gt(sack_lost_edge(tcb), seq_max(b->lost_edge, tcb->snd.una))
                                     : recovery_lost_bytes(tcb) > 0;
    return (struct prr_ack){
        .delivered = delivered > 0 ? (uint32_t)delivered : 0,
        .safe = seq_lt(una, tcb->snd.una) && !further_loss,
        .below_una = seq_lt(s->ack, una),
        .ece = tcb->ecn_ok && (s->h.flags & TCP_FLAG_ECE),
    };
}

/* The ACK field of a segment that passed every check. */
bool tcp_ack_accepted(struct tcb *tcb, const struct segment *s)
{
    tcb->last_ack_rcvd_us = tcb->st->now_us;
    tcb->probes = 0;
    tcb->soft_error = 0; /* the path works (Linux tcp_ack clears sk_err_soft) */
    bool had_fin_acked = tcb->fin_acked;
    struct scoreboard_before b = {
        .una = tcb->snd.una,
        .lost_edge = tcb->sack_ok ? sack_lost_edge(tcb) : tcb->snd.una,
        .sacked = rangeset_bytes(&tcb->sacked),
        .dupacks = tcb->dupacks,
    };
    bool dupack = false;
    tcp_note_sack_blocks(tcb, s);
    b.dsacked = tcb->rack.dsack_segs * tcb->mss;
    if (tcb->ecn_ok && (s->h.flags & TCP_FLAG_ECE))
        undo_on_ece(tcb);
    bool reordered = undo_on_ack(tcb, s);
    frto_undo_if_spurious(tcb, s->ack);
    recovery_end(tcb, s->ack);
    if (seq_lt(tcb->snd.una, s->ack)) {
        tcp_ack_advance(tcb, s);
    } else {
        tcp_sack_rtt_sample(tcb);
        dupack = tcp_dupack(tcb, s);
    }
    tcp_update_window(tcb, s);
    frto_on_ack(tcb, b.una, dupack);
    rack_on_ack(tcb, s, seq_gt(tcb->snd.una, b.una));
    struct prr_ack a = prr_ack_of(tcb, s, &b);
    a.reordered = reordered;
    recovery_on_ack(tcb, a);
    ecn_on_ack(tcb, s, &a);
    if (seq_eq(tcb->snd.una, b.una))
        tcp_sack_delivered(tcb, a.delivered);
    if (tcb->fin_acked && !had_fin_acked)
        return after_fin_acked(tcb);
    return true;
}

/* RFC 7323 §4.3: TS.Recent follows the segment that will be acknowledged next. */
void tcp_store_ts_recent(struct tcb *tcb, const struct segment *s)
{
    if (!tcb->ts_ok || !(s->h.opts.present & TCP_OPT_TS))
        return;
    if (seq_le(s->seq, tcb->rcv.last_ack_sent) &&
        (int32_t)(s->h.opts.tsval - tcb->ts_recent) >= 0) {
        tcb->ts_recent = s->h.opts.tsval;
        tcb->ts_recent_us = tcb->st->now_us;
    }
}

static bool may_receive_text(const struct tcb *tcb)
{
    switch (tcb->state) {
    case KEEL_TCP_ESTABLISHED:
    case KEEL_TCP_FIN_WAIT_1:
    case KEEL_TCP_FIN_WAIT_2:
        return true;
    }
    return false;
}

/* §3.10.7.4 seventh and eighth. Data for an application that has closed its
 * socket cannot be delivered: Linux resets the connection (TCPAbortOnData),
 * answering the segment as tcp_v4_send_reset does (RST at its SEG.ACK). */
void tcp_text_and_fin(struct tcb *tcb, const struct segment *s)
{
    bool fin = (s->h.flags & TCP_FLAG_FIN) != 0;
    if (!may_receive_text(tcb)) {
        /* The peer's FIN is in: later text is ignored, silently as Linux
         * does, but a repeat of what we have is acknowledged again, and
         * TIME-WAIT acknowledges whatever comes. */
        bool repeat = seq_lt(s->seq, tcb->rcv.nxt) || tcb->state == KEEL_TCP_TIME_WAIT;
        if ((s->len || fin) && repeat)
            tcb->ack_now = true;
        /* §3.10.7.4 eighth, TIME-WAIT: a FIN (the peer's again, at RCV.NXT
         * - 1, which the acceptability test above lets in) restarts 2 MSL. */
        if (fin && tcb->state == KEEL_TCP_TIME_WAIT)
            tcb_arm(tcb, TT_TIME_WAIT, tcb->st->cfg.time_wait_us);
        return;
    }
    if (s->len && tcb->closed_by_app && seq_gt(seq_add(s->seq, s->len), tcb->rcv.nxt)) {
        CTR_INC(tcb->st, TCPAbortOnData);
        tcp_send_rst_for(tcb->st, tcb, s);
        tcb_close(tcb, KEEL_ECONNRESET);
        return;
    }
    if (!s->len && !fin)
        return;
    ecn_data_received(tcb, s);
    seq_t before = tcb->rcv.nxt;
    bool in_order = seq_eq(s->seq, before);
    tcp_rcv_data(tcb, s);
    tcp_urgent_arrived(tcb);
    if (s->len)
        tcb->unacked_bytes += seq_dist(before, tcb->rcv.nxt);
    tcp_schedule_ack(tcb, in_order && seq_gt(tcb->rcv.nxt, before));
}

/* Simultaneous open (RFC 9293 §3.5 figure 7): in SYN-RECEIVED, the peer's
 * SYN-ACK repeats its SYN and acknowledges ours; as Linux does, it is taken
 * for its ACK, which completes the handshake (RFC 5961's challenge would
 * answer it and delay both ends by a round trip). */
static bool simultaneous_syn_ack(const struct tcb *tcb, const struct segment *s)
{
    return tcb->state == KEEL_TCP_SYN_RECEIVED && !tcb->listener &&
           (s->h.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) ==
               (TCP_FLAG_SYN | TCP_FLAG_ACK) &&
           seq_eq(s->seq, tcb->rcv.irs) && seq_eq(s->ack, tcb->snd.nxt);
}

void tcp_input_synchronized(struct tcb *tcb, const struct segment *s)
{
    struct segment after_syn;
    if (simultaneous_syn_ack(tcb, s)) {
        after_syn = segment_after_syn(s);
        s = &after_syn;
    }
    if (!tcb->st->fast_path_disabled && tcp_fast_path(tcb, s))
        return;
    if (paws_reject(tcb, s) || !acceptable(tcb, s)) {
        /* RFC 5961 §4.2: any SYN gets the challenge ACK, in the window or
         * not, and even one PAWS refuses (Linux: syn_challenge), so that a
         * peer that has started over learns at once. */
        if ((s->h.flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) == TCP_FLAG_SYN)
            handle_syn(tcb, s);
        else if ((s->h.flags & TCP_FLAG_RST) && rst_names_fin(tcb, s))
            handle_rst(tcb, s);
        else
            answer_unacceptable(tcb, s);
        return;
    }
    if (s->h.flags & TCP_FLAG_RST) {
        handle_rst(tcb, s);
        return;
    }
    if (s->h.flags & TCP_FLAG_SYN) {
        handle_syn(tcb, s);
        return;
    }
    if (!(s->h.flags & TCP_FLAG_ACK))
        return;
    tcp_store_ts_recent(tcb, s);
    if (!handle_ack(tcb, s))
        return;
    if (may_receive_text(tcb))
        tcp_urgent_pointer(tcb, s); /* §3.10.7.4 sixth, check the URG bit */
    tcp_text_and_fin(tcb, s);
    tcp_output(tcb);
}
