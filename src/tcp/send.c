/* Deciding what to send: new data within the congestion and peer windows,
 * Nagle and sender SWS avoidance, the FIN, pending ACKs, and the timers that
 * guarantee progress (retransmission and persist). */
#include "tcp/tcb.h"

static bool fin_may_go(const struct tcb *tcb)
{
    return tcb->fin_queued && !tcb->fin_acked;
}

static uint32_t unsacked(const struct tcb *tcb, seq_t from, seq_t to)
{
    return seq_dist(from, to) - rangeset_overlap(&tcb->sacked, from, to);
}

/* In flight after a timeout (Linux's Loss state), as Linux
 * tcp_packets_in_flight counts it: what is outstanding, less what the peer
 * SACKed and the lost octets not yet resent (from where resending has got
 * to, up to RACK's loss mark: the timeout marked all it saw outstanding).
 * Without SACK, once data beyond the recovery point has left, each
 * duplicate ACK stands for a segment that arrived (Linux tcp_process_loss
 * counts it with tcp_add_reno_sack). */
static uint32_t loss_flight(const struct tcb *tcb)
{
    seq_t resend = frto_resend_point(tcb); /* never below SND.UNA */
    seq_t lost_end = seq_max(resend, seq_min(tcb->rack.lost_to, tcb->snd.max));
    uint32_t flight = unsacked(tcb, tcb->snd.una, tcb->snd.max) - unsacked(tcb, resend, lost_end);
    if (!seq_gt(tcb->snd.max, tcb->recover))
        return flight;
    uint32_t arrived = reno_sacked_bytes(tcb);
    return arrived < flight ? flight - arrived : 0;
}

/* Room under the congestion window (RFC 5681 §2): cwnd less what is in
 * flight, which in SACK recovery is RFC 6675's pipe. RFC 3042 (limited
 * transmit): each of the first two duplicate ACKs lets one new segment out
 * beyond cwnd, so that a small window still yields three duplicates. */
static uint32_t cwnd_room(const struct tcb *tcb)
{
    uint32_t cwnd = tcb->cwnd;
    bool prr = tcb->in_recovery || tcb->in_cwr;
    if (!prr && !tcb->rack.in_loss && tcb->dupacks <= 2)
        cwnd += tcb->dupacks * tcb->mss; /* pipe, under PRR, leaves them out already */
    uint32_t flight = prr                 ? recovery_pipe(tcb)
                      : tcb->rack.in_loss ? loss_flight(tcb)
                                          : tcp_flight(tcb);
    return cwnd > flight ? cwnd - flight : 0;
}

/* The sender's usable window for new data: room under cwnd, and under the
 * peer's window from SND.UNA (RFC 9293 §3.8.6.2.1). */
static uint32_t usable_window(const struct tcb *tcb)
{
    uint32_t flight = tcp_flight(tcb);
    uint32_t rwnd = tcb->snd.wnd > flight ? tcb->snd.wnd - flight : 0;
    uint32_t room = cwnd_room(tcb);
    return room < rwnd ? room : rwnd;
}

/* Minshall's variant of Nagle (Linux tcp_minshall_check): is a short
 * segment sent before still unacknowledged? */
static bool short_segment_unacked(const struct tcb *tcb)
{
    return seq_gt(tcb->snd.sml, tcb->snd.una) && seq_le(tcb->snd.sml, tcb->snd.nxt);
}

/* RFC 9293 §3.7.4 (Nagle) and §3.8.6.2.1 (sender SWS avoidance): a short
 * segment goes only if it empties the queue and no short segment is
 * outstanding (Minshall's rule, as Linux's tcp_nagle_check: full-sized
 * ones in flight do not hold it), or Nagle is off; or if it is at least
 * half the largest window the peer has offered. */
static bool short_segment_may_go(const struct tcb *tcb, uint32_t len, uint32_t queued)
{
    if (seq_lt(tcb->snd.nxt, tcb->snd.max))
        return true; /* resending a hole after a timeout: as long as the hole */
    if (len == queued && (tcb->nodelay || !short_segment_unacked(tcb)))
        return true;
    return tcb->snd.max_wnd && len >= tcb->snd.max_wnd / 2;
}

/* TCP_CORK, or MSG_MORE for the output of its own write (Linux
 * TCP_NAGLE_CORK); a push (TCP_NAGLE_PUSH) overrides it. */
static bool corked(const struct tcb *tcb, enum tcp_nagle mode)
{
    return mode == TCP_NAGLE_CORK || (mode == TCP_NAGLE_SOCKET && tcb->cork);
}

/* Linux tcp_nagle_test: corking holds every partial segment; a push sends
 * them; a segment that ends a record with more queued behind it is not the
 * tail of the queue and goes (Linux tests Nagle on the last skb only). A
 * segment the windows cut short waits even when pushed, as sender SWS
 * avoidance has it (RFC 9293 §3.8.6.2.1; Linux, stricter, sends no part
 * of a segment the peer's window cannot take whole: tcp_snd_wnd_test). */
static bool partial_segment_may_go(const struct tcb *tcb, uint32_t len, uint32_t queued,
                                   bool record_end, enum tcp_nagle mode)
{
    if (record_end && len < queued)
        return true;
    if (len < queued && !(tcb->snd.max_wnd && len >= tcb->snd.max_wnd / 2))
        return false;
    if (mode == TCP_NAGLE_PUSH || frto_pushes_new_data(tcb))
        return true;
    if (corked(tcb, mode))
        return false;
    return short_segment_may_go(tcb, len, queued);
}

/* A FIN alone is not held back by the congestion window, only by the
 * peer's (it takes one sequence number): Linux tcp_cwnd_test, "Don't be
 * strict about the congestion window for the final FIN". A close() with
 * cwnd full thus sends its FIN at once, as Linux does. */
static bool bare_fin_may_go(const struct tcb *tcb, uint32_t len)
{
    return len == 0 && tcb->snd.wnd > tcp_flight(tcb);
}

/* Does SACKed range r stand for whole segments? Linux marks a segment
 * SACKed only when a block covers all of it (tcp_match_skb_to_sack): a
 * block shorter than an MSS counts only as the last segment, and only
 * when that starts a whole number of segments after SND.NXT. */
static bool whole_segments(const struct tcb *tcb, const struct seq_range *r)
{
    uint32_t mss = tcb->mss ? tcb->mss : 1;
    if (seq_dist(r->left, r->right) >= mss)
        return true;
    return seq_eq(r->right, tcb->snd.max) && seq_gt(r->left, tcb->snd.nxt) &&
           seq_dist(tcb->snd.nxt, r->left) % mss == 0;
}

/* Go-back-N after a timeout resends the holes only: SND.NXT steps over
 * data the peer SACKed (Linux tcp_xmit_retransmit_queue skips SACKed
 * segments); returns how much may go from SND.NXT before the next SACKed
 * range (UINT32_MAX: no limit). */
static uint32_t skip_sacked(struct tcb *tcb)
{
    const struct rangeset *sb = &tcb->sacked;
    for (uint8_t i = 0; i < sb->n && seq_lt(tcb->snd.nxt, tcb->snd.max); i++) {
        if (!whole_segments(tcb, &sb->r[i]))
            continue;
        if (seq_gt(sb->r[i].left, tcb->snd.nxt))
            return seq_dist(tcb->snd.nxt, sb->r[i].left);
        if (seq_gt(sb->r[i].right, tcb->snd.nxt))
            tcb->snd.nxt = sb->r[i].right;
    }
    return UINT32_MAX;
}

/* SND.NXT steps over what needs no resending, SACKed data and F-RTO's new
 * data alike; returns how much may go from there (UINT32_MAX: no limit). */
static uint32_t skip_delivered(struct tcb *tcb)
{
    seq_t from;
    uint32_t hole;
    do {
        from = tcb->snd.nxt;
        hole = skip_sacked(tcb);
        frto_skip_new_data(tcb);
    } while (!seq_eq(from, tcb->snd.nxt));
    uint32_t before_new = frto_room_before_new_data(tcb);
    return hole < before_new ? hole : before_new;
}

/* Sends one segment from SND.NXT if the rules allow; returns false when
 * nothing (more) may be sent now. */
static bool send_one(struct tcb *tcb, enum tcp_nagle mode)
{
    uint32_t hole = skip_delivered(tcb);
    seq_t end = tcb_snd_end(tcb);
    uint32_t queued = seq_lt(tcb->snd.nxt, end) ? seq_dist(tcb->snd.nxt, end) : 0;
    if (tcb->in_recovery) {
        if (tcp_pacing_holds(tcb))
            return false;
        if (recovery_retransmit_next(tcb, cwnd_room(tcb), queued))
            return true;
    }
    uint32_t usable = usable_window(tcb);
    uint32_t mss = tcp_mss_now(tcb);
    bool resending = seq_lt(tcb->snd.nxt, tcb->snd.max); /* after a timeout */
    uint32_t goal = resending ? tcp_resend_goal(tcb, tcb->snd.nxt, mss) : tcp_send_goal(tcb, mss);
    uint32_t len = queued < goal ? queued : goal;
    if (len > usable)
        len = usable;
    if (len > hole)
        len = hole;
    /* Whole segments; the tail waits for its own turn, and while corked
     * for more data (Linux tcp_mss_split_point); but a resend of the rest
     * of a packet goes as it was first sent, short tail and all (Linux
     * resends the skb). */
    bool packet_rest = resending && len == rack_sent_room(tcb, tcb->snd.nxt);
    if (len > mss && !packet_rest && (len < queued || corked(tcb, mode)))
        len -= len % mss;
    len = sendq_record_room(tcb, tcb->snd.nxt, len);
    bool record_end = sendq_is_record_end(tcb, seq_add(tcb->snd.nxt, len));
    bool fin = fin_may_go(tcb) && len == queued && seq_le(tcb->snd.nxt, end) &&
               (usable > len || bare_fin_may_go(tcb, len));
    if (len == 0 && !fin)
        return false;
    if (len < mss && !fin && !partial_segment_may_go(tcb, len, queued, record_end, mode))
        return false;
    uint8_t flags = TCP_FLAG_ACK;
    /* PSH on a segment that ends an application write (a push point), and
     * on every new-data transmission of more than one segment: Linux (since 5.6, commit
     * 051ba67447de "tcp: force a PSH flag on TSO packets") sets PSH on
     * every TSO/GSO packet it sends, to flush the receiver's GRO early;
     * what a device cuts it into keeps PSH on the last piece. */
    if (len && (tcp_holds_push_point(tcb, tcb->snd.nxt, len) || len > mss))
        flags |= TCP_FLAG_PSH;
    if (fin)
        flags |= TCP_FLAG_FIN;
    if (tcp_pacing_holds(tcb))
        return false;
    if (!tcp_xmit(tcb, tcb->snd.nxt, len, flags))
        return false; /* refused by the device: not sent, the persist timer retries */
    if (tcb->in_recovery || tcb->in_cwr)
        tcb->prr_out += len;
    if (len % mss) /* Linux tcp_minshall_update: a packet with a short segment */
        tcb->snd.sml = seq_add(tcb->snd.nxt, len);
    tcb->snd.nxt = seq_add(tcb->snd.nxt, len + fin);
    if (seq_gt(tcb->snd.nxt, tcb->snd.max))
        tcb->snd.max = tcb->snd.nxt;
    return true;
}

/* After a round of output: was cwnd what held the sender back? All of cwnd
 * in flight, or data waiting that the peer's window would take but cwnd
 * has no room for (Linux tcp_write_xmit's is_cwnd_limited). */
static bool cwnd_held_back(const struct tcb *tcb)
{
    uint32_t flight = tcp_flight(tcb);
    if (flight >= tcb->cwnd)
        return true;
    bool waiting = seq_lt(tcb->snd.nxt, tcb_snd_end(tcb));
    bool rwnd_room = tcb->snd.wnd > flight + tcp_mss_now(tcb);
    return waiting && rwnd_room && cwnd_room(tcb) < tcp_mss_now(tcb);
}

/* Linux's tcp_cwnd_validate, after output that sent data or was held back
 * by cwnd: per window of data (until SND.UNA passes what was sent when it
 * began), whether cwnd held the sender back and the largest flight. A
 * limited window is remembered for the whole window; otherwise a larger
 * flight raises the mark. Kept at send time only, so an ACK never lowers
 * the flight the window was measured by. */
static void note_cwnd_usage(struct tcb *tcb, bool sent)
{
    bool limited = cwnd_held_back(tcb);
    if (!sent && !limited)
        return;
    uint32_t flight = tcp_flight(tcb);
    if (seq_ge(tcb->snd.una, tcb->usage_end) || limited ||
        (!tcb->cwnd_limited && flight > tcb->max_flight)) {
        tcb->cwnd_limited = limited;
        tcb->max_flight = flight;
        tcb->usage_end = tcb->snd.nxt;
    }
}

/* Linux's tcp_is_cwnd_limited: cwnd grows if cwnd held the sender back in
 * this window, or, in slow start, while it is under twice the largest
 * flight of the window. An application-limited sender does not grow a
 * window it does not use (RFC 7661's concern). */
bool tcp_cwnd_limited(const struct tcb *tcb)
{
    if (tcb->cwnd_limited)
        return true;
    return tcb->cwnd < tcb->ssthresh && tcb->cwnd < 2 * tcb->max_flight;
}

/* RFC 9293 §3.8.6.1: with data waiting, nothing in flight and a window too
 * small to send into, only the persist timer can restart the flow; so too
 * when the device refused the data (Linux tcp_check_probe_timer after
 * tcp_write_xmit sent nothing). */
static void arm_progress_timers(struct tcb *tcb)
{
    bool in_flight = seq_lt(tcb->snd.una, tcb->snd.max);
    if (in_flight) {
        tcb_disarm(tcb, TT_PERSIST);
        if (!tcb_armed(tcb, TT_RETRANSMIT))
            tcb_arm(tcb, TT_RETRANSMIT, rto_current(tcb));
        return;
    }
    tcb_disarm(tcb, TT_RETRANSMIT);
    bool waiting = seq_lt(tcb->snd.nxt, tcb_snd_end(tcb)) ||
                   (fin_may_go(tcb) && seq_eq(tcb->snd.nxt, tcb_snd_end(tcb)));
    /* Linux tcp_check_probe_timer: data held back with nothing in flight,
     * by a small window or by corking, is probed after an RTO. */
    if (waiting && !tcb_armed(tcb, TT_PERSIST))
        tcb_arm(tcb, TT_PERSIST, rto_current(tcb)); /* on_persist notes the first probe */
}

/* RFC 9293 §3.10.4-3.10.7: the states in which data (and probes of it) may
 * be sent. */
bool tcp_may_send_data(const struct tcb *tcb)
{
    switch (tcb->state) {
    case KEEL_TCP_ESTABLISHED:
    case KEEL_TCP_CLOSE_WAIT:
    case KEEL_TCP_FIN_WAIT_1:
    case KEEL_TCP_CLOSING:
    case KEEL_TCP_LAST_ACK:
        return true;
    }
    return false;
}

/* RFC 5681 §4.1, Linux tcp_slow_start_after_idle_check: new data about to
 * leave into an open window with nothing in flight, after more than an RTO
 * without sending data: cwnd restarts. Linux checks when the application
 * queues data and when the peer's window changes, both followed by output;
 * checking here, only when data can go, is the same moment. */
static void restart_after_idle(struct tcb *tcb)
{
    if (tcb->st->cfg.no_slow_start_after_idle || !tcb->last_data_sent_us ||
        seq_lt(tcb->snd.una, tcb->snd.max) || !seq_lt(tcb->snd.nxt, tcb_snd_end(tcb)) ||
        tcb->snd.wnd == 0)
        return;
    uint64_t idle = tcb->st->now_us - tcb->last_data_sent_us;
    if (idle > tcb->rto_us)
        cc_restart_after_idle(tcb, idle);
}

/* Linux tcp_write_xmit's rwnd test: data waits, the congestion window has
 * room for it, and the next segment does not fit the peer's window
 * (tcp_snd_wnd_test). */
static bool peer_window_limits(const struct tcb *tcb)
{
    seq_t end = tcb_snd_end(tcb);
    uint32_t mss = tcp_mss_now(tcb);
    if (!seq_lt(tcb->snd.nxt, end) || cwnd_room(tcb) < mss)
        return false;
    uint32_t queued = seq_dist(tcb->snd.nxt, end);
    uint32_t next = queued < mss ? queued : mss;
    return seq_gt(seq_add(tcb->snd.nxt, next), seq_add(tcb->snd.una, tcb->snd.wnd));
}

void tcp_output(struct tcb *tcb)
{
    tcp_output_nagle(tcb, TCP_NAGLE_SOCKET);
}

void tcp_output_nagle(struct tcb *tcb, enum tcp_nagle mode)
{
    if (!tcp_may_send_data(tcb)) {
        if (tcb->ack_now && tcb_synchronized(tcb))
            tcp_send_ack(tcb);
        return;
    }
    tcp_current_mss(tcb);
    restart_after_idle(tcb);
    seq_t max_before = tcb->snd.max;
    enum tcp_mtu_probe_result probe = tcp_mtu_probe(tcb);
    bool sent = probe == MTU_PROBE_SENT;
    while (probe != MTU_PROBE_WAIT && send_one(tcb, mode))
        sent = true;
    note_cwnd_usage(tcb, sent);
    tcp_chrono_after_output(tcb, sent, peer_window_limits(tcb));
    if (!sent && tcb->ack_now)
        tcp_send_ack(tcb);
    arm_progress_timers(tcb);
    if (seq_gt(tcb->snd.max, max_before))
        rack_after_new_data(tcb); /* RFC 8985 §7.2: (re)schedule the probe */
    watchdog_after_output(tcb);
}
