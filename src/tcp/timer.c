/* Timer expiry: retransmission (RFC 6298 §5), persist (RFC 9293 §3.8.6.1),
 * delayed ACK, keepalive (§3.8.4), TIME-WAIT and the FIN-WAIT-2 timeout. */
#include "tcp/tcb.h"

/* Linux's tcp_model_timeout: how long `boundary` retransmissions take with
 * exponential backoff from rto_base, capped at the maximum RTO. */
static uint64_t model_timeout_us(uint32_t boundary, uint64_t rto_base)
{
    const uint32_t linear_thresh = 9; /* ilog2(TCP_RTO_MAX / TCP_RTO_MIN) */
    if (boundary <= linear_thresh)
        return ((2ull << boundary) - 1) * rto_base;
    return ((2ull << linear_thresh) - 1) * rto_base +
           (uint64_t)(boundary - linear_thresh) * TCP_RTO_MAX_US;
}

/* RFC 9293 §3.8.3 R2 (and TCP_USER_TIMEOUT, RFC 5482): give up after the
 * configured retries, measured as time since the first retransmission. */
static bool retransmissions_exhausted(const struct tcb *tcb, uint32_t retries,
                                      uint64_t rto_base)
{
    uint64_t start = tcb->retrans_start_us ? tcb->retrans_start_us : tcb->st->now_us;
    uint64_t elapsed = tcb->st->now_us - start;
    if (tcb->user_timeout_ms)
        return elapsed >= (uint64_t)tcb->user_timeout_ms * 1000;
    return elapsed >= model_timeout_us(retries, rto_base);
}

/* Linux tcp_write_timeout's retries1 test (retransmits_timed_out with
 * tcp_retries1 = 3): timeouts enough to suspect the path, not the peer. */
static bool black_hole_suspected(const struct tcb *tcb)
{
    const uint32_t retries1 = 3;
    if (!tcb->retransmits || !tcb->retrans_start_us)
        return false;
    return tcb->st->now_us - tcb->retrans_start_us >= model_timeout_us(retries1, TCP_RTO_MIN_US);
}

/* Linux tcp_clamp_rto_to_user_timeout and tcp_clamp_probe0_to_user_timeout:
 * with TCP_USER_TIMEOUT set, a timer never runs past the moment the user
 * timeout (counted from start_us) ends, so the abort comes on time rather
 * than up to one backed-off (up to 120 s) interval late. */
static uint64_t clamp_to_user_timeout(const struct tcb *tcb, uint64_t start_us,
                                      uint64_t after_us)
{
    if (!tcb->user_timeout_ms || !start_us)
        return after_us;
    uint64_t end = start_us + (uint64_t)tcb->user_timeout_ms * 1000;
    uint64_t now = tcb->st->now_us;
    uint64_t left = end > now ? end - now : 0;
    return left < after_us ? left : after_us;
}

/* The error of a connection that timed out: the last soft ICMP error if
 * one arrived since the peer was last heard (RFC 1122 §4.2.3.9; Linux
 * tcp_write_err: sk_err_soft ?: ETIMEDOUT). */
static void give_up(struct tcb *tcb)
{
    keel_stack *st = tcb->st;
    int err = tcb->soft_error ? tcb->soft_error : KEEL_ETIMEDOUT;
    trace_event(tcb, KEEL_EV_TIMEOUT, (uint32_t)err, 0);
    if (tcb->user_timeout_ms)
        CTR_INC(st, TCPUserTimeouts);
    if (tcb->state == KEEL_TCP_SYN_SENT) {
        CTR_INC(st, TcpAttemptFails);
        tcb_close(tcb, err);
        return;
    }
    CTR_INC(st, TCPAbortOnTimeout);
    tcb_close(tcb, err);
}

static void retransmit_syn(struct tcb *tcb)
{
    const struct keel_config *cfg = &tcb->st->cfg;
    bool passive = tcb->state == KEEL_TCP_SYN_RECEIVED && tcb->listener;
    uint32_t retries = passive ? cfg->synack_retries : cfg->syn_retries;
    if (tcb->retransmits >= retries) {
        give_up(tcb);
        return;
    }
    tcb->retransmits++;
    rto_backoff(tcb);
    tcp_send_syn(tcb);
    tcb_arm(tcb, TT_RETRANSMIT, rto_current(tcb));
}

/* RFC 2018 §8 lets a receiver discard data it SACKed; as Linux
 * tcp_timeout_mark_lost, a timeout keeps the scoreboard unless the oldest
 * outstanding octet is itself SACKed (the peer acknowledges up to a byte it
 * claims to hold: it reneged), when every SACK mark is dropped. */
static void scoreboard_on_rto(struct tcb *tcb)
{
    const struct rangeset *sb = &tcb->sacked;
    if (sb->n && seq_le(sb->r[0].left, tcb->snd.una))
        tcb->sacked.n = 0;
}

uint64_t tcp_rto_after_retransmit(const struct tcb *tcb)
{
    return clamp_to_user_timeout(tcb, tcb->retrans_start_us, rto_current(tcb));
}

/* Linux tcp_enter_loss: a timeout cuts ssthresh (and notes what to undo
 * to) once per episode: not during a reduction under way (fast recovery,
 * ECN's) before SND.UNA passes its end, nor when it repeats on the same
 * SND.UNA. */
bool tcp_rto_cuts_ssthresh(const struct tcb *tcb)
{
    if (tcb->in_recovery)
        return seq_ge(tcb->snd.una, tcb->recover);
    if (tcb->rack.in_loss)
        return !tcb->retransmits || seq_ge(tcb->snd.una, tcb->recover);
    if (tcb->in_cwr)
        return seq_ge(tcb->snd.una, tcb->cwr_end);
    return true;
}

/* RFC 6298 §5.4-5.6 and RFC 5681 §3.1: retransmit the oldest segment (even
 * into a zero window: it doubles as a probe), back off, and restart from the
 * loss window; everything after SND.UNA the peer has not SACKed will be sent
 * again (go-back-N over the holes, as Linux tcp_enter_loss marks every
 * unSACKed segment lost and tcp_xmit_retransmit_queue skips SACKed ones). */
static void retransmit_timeout(struct tcb *tcb)
{
    if (retransmissions_exhausted(tcb, tcb->st->cfg.retries2, TCP_RTO_MIN_US)) {
        give_up(tcb);
        return;
    }
    CTR_INC(tcb->st, TCPTimeouts);
    frto_on_rto(tcb);
    tcp_mtup_on_rto(tcb, black_hole_suspected(tcb));
    uint64_t segs_before = tcb->segs_out;
    tcb->cc->on_rto(tcb);
    rack_on_rto(tcb);
    tcb->recover = tcb->snd.max;
    tcb->in_recovery = false;
    tcb->in_cwr = false;
    ecn_queue_cwr(tcb); /* Linux tcp_enter_loss */
    tcb->dupacks = 0;
    scoreboard_on_rto(tcb);
    tcb->rtt_timing = false;
    tcb->snd.nxt = tcb->snd.una;
    tcb->high_rxt = tcb->snd.una;
    tcb->snd.nxt = seq_add(tcb->snd.una, tcp_retransmit_head(tcb));
    if (tcb->xmit_refused) {
        /* Linux tcp_retransmit_timer: local congestion is no sign of a
         * slower path; try again soon, without backing off. */
        tcb_arm(tcb, TT_RETRANSMIT, clamp_to_user_timeout(tcb, tcb->retrans_start_us,
                                                          TCP_RESOURCE_PROBE_INTERVAL_US));
        watchdog_after_rto(tcb, segs_before);
        return;
    }
    tcb->retransmits++;
    rto_backoff(tcb);
    tcb_arm(tcb, TT_RETRANSMIT, tcp_rto_after_retransmit(tcb));
    trace_event(tcb, KEEL_EV_RTO, tcb->snd.una.v, tcb->backoff);
    watchdog_after_rto(tcb, segs_before);
}

static void on_retransmit(struct tcb *tcb)
{
    if (tcb->state == KEEL_TCP_SYN_SENT || tcb->state == KEEL_TCP_SYN_RECEIVED)
        retransmit_syn(tcb);
    else if (seq_lt(tcb->snd.una, tcb->snd.max) && !rack_timer_fired(tcb))
        retransmit_timeout(tcb);
}

/* Linux tcp_send_probe0: a probe the device refused (local congestion)
 * counts as a probe and is tried again after TCP_RESOURCE_PROBE_INTERVAL,
 * without backing off. */
static void probe_refused(struct tcb *tcb)
{
    tcb->probes++;
    tcb_arm(tcb, TT_PERSIST, clamp_to_user_timeout(tcb, tcb->persist_start_us,
                                                    TCP_RESOURCE_PROBE_INTERVAL_US));
}

/* A window with room for some data is probed with that data (Linux
 * tcp_write_wakeup). Once it is in flight the retransmission timer takes
 * over, with the plain RTO: Linux tcp_send_probe0 ends the probing (probe
 * count, backoff and start time) as soon as packets are out. Returns false
 * if there was no data to probe with. */
static bool persist_send_data(struct tcb *tcb)
{
    seq_t end = tcb_snd_end(tcb);
    uint32_t queued = seq_lt(tcb->snd.nxt, end) ? seq_dist(tcb->snd.nxt, end) : 0;
    uint32_t len = queued < tcb->snd.wnd ? queued : tcb->snd.wnd;
    if (len > tcp_mss_now(tcb))
        len = tcp_mss_now(tcb);
    len = sendq_record_room(tcb, tcb->snd.nxt, len);
    if (!len)
        return false;
    if (!tcp_xmit(tcb, tcb->snd.nxt, len, TCP_FLAG_ACK | TCP_FLAG_PSH)) {
        probe_refused(tcb);
        return true;
    }
    tcb->snd.nxt = seq_add(tcb->snd.nxt, len);
    tcb->snd.max = seq_max(tcb->snd.max, tcb->snd.nxt);
    tcb->probes = 0;
    tcb->backoff = 0;
    tcb->persist_start_us = 0;
    return true;
}

/* RFC 9293 §3.8.6.1: probe the zero window, backing off; never give up while
 * the peer answers (probes counts unanswered ones). As Linux's
 * tcp_probe_timer: abort once tcp_retries2 probes are out unanswered, or when
 * TCP_USER_TIMEOUT has passed since the first probe. */
static void on_persist(struct tcb *tcb)
{
    keel_stack *st = tcb->st;
    if (!tcb->persist_start_us)
        tcb->persist_start_us = st->now_us; /* Linux icsk_probes_tstamp */
    uint64_t waited = st->now_us - tcb->persist_start_us;
    if ((tcb->user_timeout_ms && waited >= (uint64_t)tcb->user_timeout_ms * 1000) ||
        tcb->probes >= st->cfg.retries2) {
        give_up(tcb);
        return;
    }
    CTR_INC(st, TCPPersistProbes);
    if (persist_send_data(tcb)) {
        trace_event(tcb, KEEL_EV_PERSIST_PROBE, tcb->snd.una.v, tcb->probes);
        if (!tcb->xmit_refused)
            tcp_output(tcb);
        return;
    }
    CTR_INC(st, TCPWinProbe);
    if (!tcp_send_probe(tcb)) {
        probe_refused(tcb);
        return;
    }
    tcb->probes++;
    trace_event(tcb, KEEL_EV_PERSIST_PROBE, tcb->snd.una.v, tcb->probes);
    rto_backoff(tcb);
    tcp_output(tcb);
    if (!tcb_armed(tcb, TT_RETRANSMIT))
        tcb_arm(tcb, TT_PERSIST,
                clamp_to_user_timeout(tcb, tcb->persist_start_us, rto_current(tcb)));
}

/* RFC 9293 §3.8.4 / RFC 1122 §4.2.3.6: after keepidle without hearing from
 * the peer, probe every keepintvl; keepcnt unanswered probes abort. */
static void on_keepalive(struct tcb *tcb)
{
    keel_stack *st = tcb->st;
    if (!tcb->keepalive || !tcb_synchronized(tcb) || tcb->state == KEEL_TCP_TIME_WAIT)
        return;
    uint64_t idle = st->now_us - tcb->last_ack_rcvd_us;
    bool busy = seq_lt(tcb->snd.una, tcb->snd.max) || tcb->sndq.len;
    if (busy || idle < tcb->keepidle_us) {
        uint64_t left = idle < tcb->keepidle_us ? tcb->keepidle_us - idle : tcb->keepidle_us;
        tcb_arm(tcb, TT_KEEPALIVE, left);
        return;
    }
    if (tcb->probes >= tcb->keepcnt) {
        /* Linux tcp_keepalive_timer: tcp_send_active_reset, then the error. */
        CTR_INC(st, TCPKeepAliveTimeouts);
        tcb_abort(tcb, KEEL_ETIMEDOUT);
        return;
    }
    if (!tcp_send_probe(tcb)) {
        /* Linux tcp_keepalive_timer: "If keepalive was lost due to local
         * congestion, try harder": not counted, again in 500 ms. */
        tcb_arm(tcb, TT_KEEPALIVE, TCP_RESOURCE_PROBE_INTERVAL_US);
        return;
    }
    CTR_INC(st, TCPKeepAliveProbes);
    tcb->probes++;
    trace_event(tcb, KEEL_EV_KEEPALIVE_PROBE, tcb->snd.una.v, tcb->probes);
    tcb_arm(tcb, TT_KEEPALIVE, tcb->keepintvl_us);
}

static void on_time_wait(struct tcb *tcb)
{
    if (tcb->state == KEEL_TCP_FIN_WAIT_2) {
        CTR_INC(tcb->st, TCPFinWait2Timeouts);
        watchdog_report(tcb, KEEL_STALL_FIN_WAIT_2_TIMEOUT);
    }
    tcb_close(tcb, 0);
}

static void on_delack(struct tcb *tcb)
{
    CTR_INC(tcb->st, TCPDelayedACKs);
    tcp_send_ack(tcb);
}

void tcb_timer_fired(struct timer *t)
{
    struct tcb *tcb = container_of(t - t->kind, struct tcb, timers);
    switch ((enum tcb_timer)t->kind) {
    case TT_RETRANSMIT: on_retransmit(tcb); break;
    case TT_PERSIST: on_persist(tcb); break;
    case TT_DELACK: on_delack(tcb); break;
    case TT_KEEPALIVE: on_keepalive(tcb); break;
    case TT_TIME_WAIT: on_time_wait(tcb); break;
    case TT_WATCHDOG: watchdog_timer_fired(tcb); break;
    case TT_PACING: tcp_output(tcb); break; /* the held segment's time has come */
    case TT_COUNT: break;
    }
}
