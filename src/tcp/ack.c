/* Processing the acknowledgment field: advancing SND.UNA, RTT samples, the
 * send window (RFC 9293 §3.10.7.4 fifth), duplicate ACKs and NewReno loss
 * recovery (RFC 5681 §3.2, RFC 6582), and the SACK scoreboard (RFC 2018). */
#include "tcp/tcb.h"

/* Frees acknowledged bytes from the send buffer and returns how many; notes
 * an acknowledged FIN. SYN and FIN take sequence space but no buffer. */
static uint32_t release_acked(struct tcb *tcb, seq_t ack)
{
    seq_t end = tcb_snd_end(tcb);
    seq_t data_to = seq_lt(ack, end) ? ack : end;
    uint32_t n = 0;
    if (seq_gt(data_to, tcb->snd_buf_seq)) {
        n = seq_dist(tcb->snd_buf_seq, data_to);
        ring_consume(&tcb->sndq, n);
        tcb->snd_buf_seq = data_to;
    }
    if (tcb->fin_queued && seq_gt(ack, end))
        tcb->fin_acked = true;
    return n;
}

/* RFC 7323 §4: with timestamps, the echoed TSval times the segment that
 * was actually acknowledged, retransmission or not, so it may end a backoff
 * that Karn's rule alone would keep (Linux falls back to TSecr likewise). */
static bool timestamp_rtt(const struct tcb *tcb, const struct segment *s, uint32_t *rtt_us)
{
    if (!tcb->ts_ok || !(s->h.opts.present & TCP_OPT_TS) || !s->h.opts.tsecr)
        return false;
    /* Only an echo of the latest retransmission or later: an older TSecr
     * (the peer's TS.Recent stalls behind a hole, RFC 7323 §4.3) would time
     * a segment sent long ago and inflate SRTT. */
    if ((int32_t)(s->h.opts.tsecr - tcb->retrans_tsval) < 0)
        return false;
    uint32_t ms = tcb_ts_now(tcb) - s->h.opts.tsecr;
    if (ms > TCP_RTO_MAX_US / 1000)
        return false;
    *rtt_us = ms ? ms * 1000 : 1;
    return true;
}

static uint32_t age_us(const struct tcb *tcb, uint64_t sent_us)
{
    return (uint32_t)(tcb->st->now_us - sent_us);
}

/* Linux tcp_ack_update_rtt: SRTT takes the age of the earliest
 * transmission this ACK newly acknowledged (seq_rtt), else of the earliest
 * it newly SACKed (sack_rtt), never of retransmitted data (Karn, RFC 6298
 * §3); min_rtt the age of the latest (ca_rtt). A valid sample ends the
 * backoff (RFC 6298 §5.7). */
static bool sample_from_log(struct tcb *tcb, const struct sent_times *acked)
{
    const struct sent_times *sacked = &tcb->sack_times;
    const struct sent_times *first = acked->any ? acked : sacked;
    if (!first->any)
        return false;
    rtt_sample(tcb, age_us(tcb, first->first_us));
    rtt_min_sample(tcb, age_us(tcb, (sacked->any ? sacked : acked)->last_us));
    tcb->backoff = 0;
    return true;
}

void tcp_sack_rtt_sample(struct tcb *tcb)
{
    struct sent_times none = {0};
    sample_from_log(tcb, &none);
}

/* SND.UNA moved: the handshake's sample while the SYN is timed, else the
 * log's, else (Linux with FLAG_ACKED) the echoed timestamp. */
static void take_rtt_sample(struct tcb *tcb, const struct segment *s,
                            const struct sent_times *acked)
{
    uint32_t rtt_us;
    if (tcb->rtt_timing && seq_ge(s->ack, tcb->rtt_seq)) {
        rtt_sample(tcb, age_us(tcb, tcb->rtt_start_us));
        tcb->rtt_timing = false;
        tcb->backoff = 0;
    } else if (!sample_from_log(tcb, acked) && timestamp_rtt(tcb, s, &rtt_us)) {
        rtt_sample(tcb, rtt_us);
        tcb->backoff = 0;
    }
}

/* Of `acked` bytes a cumulative ACK covers, those not delivered before:
 * as Linux counts delivery (tcp_clean_rtx_queue), a segment SACKed
 * earlier, or reported by a duplicate ACK without SACK, was delivered
 * then and is not counted again. */
static uint32_t newly_delivered(const struct tcb *tcb, uint32_t acked, uint32_t sacked_acked)
{
    if (tcb->sack_ok)
        return acked > sacked_acked ? acked - sacked_acked : 0;
    return reno_delivered(tcb, acked, tcb->dupacks);
}

/* After a timeout (Linux's Loss state), octets the peer SACKs for the first
 * time with an ACK that advances SND.UNA are delivered too and grow cwnd as
 * Linux tcp_cong_control's acked_sacked does: the scoreboard survives the
 * timeout, so SACKed data is neither resent nor counted again when the
 * cumulative ACK covers it. An ACK that only SACKs grows nothing
 * (tcp_may_raise_cwnd wants FLAG_DATA_ACKED) unless the path reorders
 * (tcp_sack_delivered). */
static uint32_t loss_sack_delivered(const struct tcb *tcb)
{
    return tcb->rack.in_loss ? tcb->sacked_now : 0;
}

/* A D-SACK reports spurious retransmissions delivered: Linux counts their
 * segments in tp->delivered (tcp_dsack_seen), and so in acked_sacked. */
static uint32_t dsack_delivered(const struct tcb *tcb)
{
    return tcb->rack.dsack_segs * tcb->mss;
}

/* acked: data bytes SND.UNA passed; delivered: those of them not delivered
 * before, which alone grow cwnd (Linux tcp_cong_control's acked_sacked). */
static void congestion_on_ack(struct tcb *tcb, uint32_t delivered)
{
    if (tcb->in_recovery || tcb->in_cwr)
        return; /* PRR sets cwnd: recovery_on_ack, ecn_on_ack */
    if (tcp_cwnd_limited(tcb) && delivered)
        tcb->cc->on_ack(tcb, delivered, tcb->st->now_us);
}

/* Linux tcp_may_raise_cwnd: once the path has reordered by more than
 * tcp_reordering (3) segments, every delivery grows cwnd, SACKed data
 * too, and not only SND.UNA's advance (RFC 5681 §3.1 counts in-order
 * delivery). For an ACK that SACKs without advancing SND.UNA, after the
 * recovery and ECN decisions (tcp_fastretrans_alert before
 * tcp_cong_control): a reduction under way keeps cwnd to PRR. */
void tcp_sack_delivered(struct tcb *tcb, uint32_t delivered)
{
    if (!delivered || tcb->rack.reordering <= RACK_REORDERING_INIT)
        return;
    if (tcb->in_recovery || tcb->in_cwr || !tcp_cwnd_limited(tcb))
        return;
    tcb->cc->on_ack(tcb, delivered, tcb->st->now_us);
}

/* Linux grows an unlocked send buffer with the congestion window
 * (tcp_sndbuf_expand): room for two windows of data. */
static void sndbuf_autotune(struct tcb *tcb)
{
    if (tcb->sndbuf_locked)
        return;
    uint64_t want = 2 * (uint64_t)tcb->cwnd;
    if (want > tcb->st->cfg.sndbuf_max)
        want = tcb->st->cfg.sndbuf_max;
    if (want > tcb->sndbuf) {
        tcb->sndbuf = (uint32_t)want;
        ring_set_limit(&tcb->sndq, tcb->sndbuf);
    }
}

/* SND.UNA < SEG.ACK =< SND.MAX: new data acknowledged (RFC 9293 §3.10.7.4,
 * RFC 6298 §5.2-5.3). */
void tcp_ack_advance(struct tcb *tcb, const struct segment *s)
{
    seq_t old_una = tcb->snd.una;
    uint32_t acked = seq_dist(tcb->snd.una, s->ack);
    rack_on_cum_ack(tcb, s->ack);
    uint32_t data_acked = release_acked(tcb, s->ack);
    tcb->snd.una = s->ack;
    tcp_mtup_on_ack(tcb);
    tcp_forget_push_points(tcb);
    if (tcb->tstamp)
        tstamp_on_ack(tcb);
    if (seq_lt(tcb->snd.nxt, s->ack))
        tcb->snd.nxt = s->ack;
    tcb->bytes_acked += acked;
    watchdog_progress(tcb);
    struct sent_times times = rack_sent_acked(tcb, old_una);
    uint32_t sacked = rangeset_bytes(&tcb->sacked);
    rangeset_trim_below(&tcb->sacked, s->ack);
    uint32_t sacked_acked = sacked - rangeset_bytes(&tcb->sacked);
    tcb->high_rxt = seq_max(tcb->high_rxt, s->ack);
    take_rtt_sample(tcb, s, &times);
    tcb->retransmits = 0;
    tcb->retrans_start_us = 0;
    if (data_acked) {
        if (times.any)
            cc_delay_sample(tcb, age_us(tcb, times.last_us));
        congestion_on_ack(tcb, newly_delivered(tcb, data_acked, sacked_acked) +
                                   loss_sack_delivered(tcb) + dsack_delivered(tcb));
    }
    tcb->dupacks = reno_dupacks_after(tcb, acked);
    if (seq_eq(tcb->snd.una, tcb->snd.max))
        tcb_disarm(tcb, TT_RETRANSMIT);
    else
        tcb_arm(tcb, TT_RETRANSMIT, rto_current(tcb));
    sndbuf_autotune(tcb);
    tcp_chrono_after_ack(tcb);
    event_notify(tcb->st, tcb);
}

/* RFC 9293 §3.10.7.4 fifth: take the window from a segment that is not older
 * than the one the window was last taken from. Every path that accepts a
 * segment calls this: SND.WL1 and SND.WL2 never fall behind. */
void tcp_update_window(struct tcb *tcb, const struct segment *s)
{
    if (seq_lt(s->ack, tcb->snd.una) || seq_gt(s->ack, tcb->snd.max))
        return;
    bool newer = seq_lt(tcb->snd.wl1, s->seq) ||
                 (seq_eq(tcb->snd.wl1, s->seq) && seq_le(tcb->snd.wl2, s->ack));
    if (!newer) {
        watchdog_window_refused(tcb, s);
        return;
    }
    uint32_t wnd = (uint32_t)s->h.wnd << tcb->snd.wscale;
    if (wnd > tcb->snd.max_wnd)
        tcb->snd.max_wnd = wnd;
    if (wnd && !tcb->snd.wnd) {
        tcb->probes = 0;
        tcb->persist_start_us = 0;
        if (tcb_armed(tcb, TT_PERSIST))
            tcb->backoff = 0; /* Linux tcp_ack_probe: the probes' backoff ends */
        tcb_disarm(tcb, TT_PERSIST);
    }
    tcb->snd.wnd = wnd;
    tcb->snd.wl1 = s->seq;
    tcb->snd.wl2 = s->ack;
}

/* RFC 2018 §4 (sender side): record SACKed ranges above SND.UNA. A block that
 * does not fit the bounded scoreboard is dropped and counted; the scoreboard
 * only ever saves retransmissions, it never blocks one. */
void tcp_note_sack_blocks(struct tcb *tcb, const struct segment *s)
{
    const struct tcp_opts *o = &s->h.opts;
    tcb->sacked_now = 0;
    tcb->sack_times = (struct sent_times){0};
    rack_before_sacks(tcb);
    if (!tcb->sack_ok || !(o->present & TCP_OPT_SACK))
        return;
    CTR_INC(tcb->st, TCPSACKRecv);
    uint32_t before = rangeset_bytes(&tcb->sacked);
    for (uint8_t i = 0; i < o->sack_count; i++) {
        seq_t l = seq_make(o->sack[i].left), r = seq_make(o->sack[i].right);
        /* RFC 2883 §4: a first block below SND.UNA, or inside the second, is a D-SACK. */
        if (i == 0 && (seq_le(r, s->ack) ||
                       (o->sack_count > 1 && seq_ge(l, seq_make(o->sack[1].left)) &&
                        seq_le(r, seq_make(o->sack[1].right))))) {
            CTR_INC(tcb->st, TCPDSACKRecv);
            tcb->dsack_received++;
            rack_on_dsack(tcb, l, r);
            continue;
        }
        if (!seq_lt(l, r) || seq_le(r, tcb->snd.una) || seq_gt(r, tcb->snd.max)) {
            CTR_INC(tcb->st, TCPSACKDiscard);
            continue;
        }
        l = seq_max(l, tcb->snd.una);
        bool news = rangeset_overlap(&tcb->sacked, l, r) < seq_dist(l, r);
        if (news) {
            frto_on_sacked(tcb, l, r);
            rack_on_sacked(tcb, l, r);
            rack_sent_sacked(tcb, l, r, &tcb->sack_times);
        }
        if (rangeset_add(&tcb->sacked, l, r) < 0)
            tcb_limit_hit(tcb, KEEL_C_TCPSackLimitHit);
    }
    tcb->sacked_now = rangeset_bytes(&tcb->sacked) - before;
}

/* RFC 5681 §2: SEG.ACK = SND.UNA, no data, no SYN or FIN, the same window,
 * and data outstanding. RFC 6675 §2 widens it: an ACK that SACKs octets not
 * SACKed before counts even when it changes the window, as Linux receivers'
 * ACKs do while their window grows (without this, every loss in that phase
 * waits for the RTO). */
static bool is_dupack(const struct tcb *tcb, const struct segment *s)
{
    return seq_eq(s->ack, tcb->snd.una) && s->seg_len == 0 &&
           (((uint32_t)s->h.wnd << tcb->snd.wscale) == tcb->snd.wnd || tcb->sacked_now) &&
           seq_lt(tcb->snd.una, tcb->snd.max);
}

/* An ACK that does not advance SND.UNA: is it a duplicate ACK? Counted
 * (recovery_on_ack decides what follows); without SACK each stands for a
 * segment that arrived (reno_count_dupack). */
bool tcp_dupack(struct tcb *tcb, const struct segment *s)
{
    if (!is_dupack(tcb, s))
        return false;
    if (tcb->sack_ok)
        tcb->dupacks++;
    else
        reno_count_dupack(tcb);
    return true;
}
