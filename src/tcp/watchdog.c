/* The stall watchdog (SCENARIOS.md, "The common thread"): recognises a
 * connection that could make progress and does not. Each check runs where
 * the condition arises, so the watchdog costs a comparison or two on the
 * paths it watches and nothing per segment elsewhere. A stall is counted by
 * name, flagged in the connection's info, traced, and logged if asked. */
#include <inttypes.h>

#include "tcp/tcb.h"

static const enum keel_counter_id stall_counter[KEEL_STALL_COUNT] = {
    [KEEL_STALL_SENDER_IDLE] = KEEL_C_WatchdogSenderIdle,
    [KEEL_STALL_RTO_SILENT] = KEEL_C_WatchdogRtoSilent,
    [KEEL_STALL_WINDOW_REFUSED] = KEEL_C_WatchdogWindowRefused,
    [KEEL_STALL_WL1_LAG] = KEEL_C_WatchdogWl1Lag,
    [KEEL_STALL_CLOSE_WAIT_IDLE] = KEEL_C_WatchdogCloseWaitIdle,
    [KEEL_STALL_HALF_OPEN] = KEEL_C_WatchdogHalfOpen,
    [KEEL_STALL_FIN_WAIT_2_TIMEOUT] = KEEL_C_WatchdogFinWait2Timeout,
};

static void log_stall(const struct tcb *tcb, enum keel_stall kind)
{
    FILE *log = tcb->st->cfg.log;
    if (!log)
        return;
    uint64_t now = tcb->st->now_us;
    fprintf(log,
            "keel watchdog: %s port %u -> %u state %s for %.3f s (untouched by the application "
            "for %.3f s) at %" PRIu64 " us: snd.una %u snd.nxt %u snd.wnd %u snd.wl1 %u "
            "snd.wl2 %u rcv.nxt %u queued %u\n",
            keel_stall_name(kind), tcb->lport, tcb->rport, keel_tcp_state_name(tcb->state),
            (now - tcb->state_since_us) / 1e6, (now - tcb->last_activity_us) / 1e6, now,
            tcb->snd.una.v, tcb->snd.nxt.v, tcb->snd.wnd, tcb->snd.wl1.v, tcb->snd.wl2.v,
            tcb->rcv.nxt.v, tcb->sndq.len);
}

/* Reports a stall; each kind once per connection (it is counted again only
 * after the connection made progress and stalled anew: see watchdog_progress). */
void watchdog_report(struct tcb *tcb, enum keel_stall kind)
{
    uint32_t bit = 1u << kind;
    if (tcb->stalls_active & bit)
        return;
    tcb->stalls_active |= bit;
    if (!(tcb->stalls & bit))
        tcb->stall_first_us[kind] = tcb->st->now_us;
    tcb->stalls |= bit;
    tcb->st->ctr.v[stall_counter[kind]]++;
    trace_event(tcb, KEEL_EV_STALL, kind, 0);
    log_stall(tcb, kind);
}

/* New data acknowledged: whatever stalled has moved again. */
void watchdog_progress(struct tcb *tcb)
{
    tcb->stalls_active = 0;
}

static bool data_waiting(const struct tcb *tcb)
{
    return seq_lt(tcb->snd.nxt, tcb_snd_end(tcb));
}

/* After output: data waits, the peer's window has room for it and cwnd
 * allows, yet nothing is in flight and no timer will send it. */
void watchdog_after_output(struct tcb *tcb)
{
    if (!data_waiting(tcb) || seq_lt(tcb->snd.una, tcb->snd.max))
        return;
    if (tcb_armed(tcb, TT_RETRANSMIT) || tcb_armed(tcb, TT_PERSIST))
        return;
    watchdog_report(tcb, KEEL_STALL_SENDER_IDLE);
}

/* The retransmission timer fired; segs_out_before is the count before. */
void watchdog_after_rto(struct tcb *tcb, uint64_t segs_out_before)
{
    if (tcb->segs_out == segs_out_before && tcb_synchronized(tcb))
        watchdog_report(tcb, KEEL_STALL_RTO_SILENT);
}

/* A segment at RCV.NXT offered a window and the SND.WL1/WL2 rule refused it
 * because SND.WL1 seems to lie more than 2^30 ahead. Out-of-order segments
 * legitimately put SND.WL1 ahead of RCV.NXT, but never by more than a window
 * (at most 2^30, RFC 7323 §2.3): further "ahead" is SND.WL1 left behind by
 * over 2^31 bytes, seen through the wrap (story 1). */
void watchdog_window_refused(struct tcb *tcb, const struct segment *s)
{
    if (s->h.wnd && seq_eq(s->seq, tcb->rcv.nxt) && seq_lt(s->seq, tcb->snd.wl1) &&
        seq_dist(s->seq, tcb->snd.wl1) > (1u << 30))
        watchdog_report(tcb, KEEL_STALL_WINDOW_REFUSED);
}

/* After each accepted segment: SND.WL1 must stay within 2^30 of RCV.NXT. */
void watchdog_check_wl1(struct tcb *tcb)
{
    if (tcb_synchronized(tcb) && tcb->state != KEEL_TCP_TIME_WAIT &&
        seq_dist(tcb->snd.wl1, tcb->rcv.nxt) > (1u << 30) && !seq_gt(tcb->snd.wl1, tcb->rcv.nxt))
        watchdog_report(tcb, KEEL_STALL_WL1_LAG);
}

/* A SYN reached a synchronized connection on its own 4-tuple: the peer has
 * started over and this end is half-open (stories 2 and 4). The challenge
 * ACK normally draws the RST that clears it within a round trip, and a SYN
 * that overtook that RST is harmless; a second SYN means the connection
 * survived the challenge: the peer is being kept out. TIME-WAIT is excluded:
 * a new SYN there is ordinary reuse of the port (RFC 6191). */
void watchdog_syn_on_connection(struct tcb *tcb)
{
    if (!tcb_synchronized(tcb) || tcb->state == KEEL_TCP_TIME_WAIT)
        return;
    if (tcb->syn_challenged)
        watchdog_report(tcb, KEEL_STALL_HALF_OPEN);
    tcb->syn_challenged = true;
}

/* Entering CLOSE_WAIT starts the clock on the application (story 4). */
void watchdog_close_wait_start(struct tcb *tcb)
{
    tcb_arm(tcb, TT_WATCHDOG, tcb->st->cfg.close_wait_idle_us);
}

void watchdog_timer_fired(struct tcb *tcb)
{
    if (tcb->state != KEEL_TCP_CLOSE_WAIT)
        return;
    uint64_t idle = tcb->st->now_us - tcb->last_activity_us;
    uint64_t limit = tcb->st->cfg.close_wait_idle_us;
    if (tcb->sndq.len) /* still delivering its data: not forgotten */
        idle = 0;
    if (idle < limit) {
        tcb_arm(tcb, TT_WATCHDOG, limit - idle);
        return;
    }
    watchdog_report(tcb, KEEL_STALL_CLOSE_WAIT_IDLE);
}
