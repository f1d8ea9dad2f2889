/* Undoing a congestion response that proved unneeded, as Linux's
 * tcp_undo_cwnd_reduction family does (net/ipv4/tcp_input.c): a fast
 * recovery or a timeout notes cwnd and ssthresh when it starts; the cut is
 * undone when every retransmission of it comes back D-SACKed (RFC 3708
 * §3, tcp_try_undo_dsack), when an ACK echoes a timestamp older than the
 * first retransmission, so the original arrived (RFC 3522, the Eifel
 * detection: tcp_packet_delayed), or when F-RTO proves a timeout spurious
 * (src/tcp/frto.c). */
#include "tcp/tcb.h"

/* Linux tcp_current_ssthresh: the ssthresh a reduction under way set, or
 * at least three quarters of cwnd. */
static uint32_t current_ssthresh(const struct tcb *tcb)
{
    if (tcb->in_cwr || tcb->in_recovery)
        return tcb->ssthresh;
    uint32_t three_quarters = (tcb->cwnd >> 1) + (tcb->cwnd >> 2);
    return tcb->ssthresh > three_quarters ? tcb->ssthresh : three_quarters;
}

/* Linux tcp_init_undo with the prior cwnd and ssthresh: a cut within a
 * loss episode already under way (a recovery, a timeout) keeps the
 * episode's evidence, its first retransmission and the retransmissions not
 * yet D-SACKed (Linux keeps retrans_stamp until the connection is open
 * again). An ECE on the ACK that starts a recovery is a congestion signal
 * of its own: an undo of its cut restores nothing (Linux records no prior
 * ssthresh). */
void undo_start(struct tcb *tcb, bool ece)
{
    struct undo *u = &tcb->undo;
    bool episode = tcb->in_recovery || tcb->rack.in_loss;
    *u = (struct undo){.on = true, .marker = tcb->snd.una, .prior_cwnd = tcb->cwnd,
                       .prior_ssthresh = ece ? 0 : current_ssthresh(tcb),
                       .rxt_seen = episode && u->rxt_seen,
                       .first_rxt_tsval = episode ? u->first_rxt_tsval : 0,
                       .retrans = episode ? u->retrans : 0};
}

/* Linux tcp_fastretrans_alert, step A: an ACK that echoes congestion
 * makes the cut under way one that must stand; an undo then restores
 * nothing (but still ends the episode). */
void undo_on_ece(struct tcb *tcb)
{
    tcb->undo.prior_ssthresh = 0;
}

/* Linux tcp_enter_cwr: an ECN reduction is not undone, and one a loss cut
 * finds under way leaves that cut nothing to undo to. */
void undo_forget(struct tcb *tcb)
{
    tcb->undo.on = false;
}

void undo_note_retransmit(struct tcb *tcb, uint32_t segs)
{
    struct undo *u = &tcb->undo;
    if (!u->rxt_seen)
        u->first_rxt_tsval = tcb_ts_now(tcb);
    u->rxt_seen = true;
    u->retrans += segs;
}

void undo_note_dsack(struct tcb *tcb, seq_t left, uint32_t segs)
{
    struct undo *u = &tcb->undo;
    if (u->on && seq_ge(left, u->marker))
        u->retrans -= segs < u->retrans ? segs : u->retrans;
}

void undo_sync(struct tcb *tcb)
{
    struct undo *u = &tcb->undo;
    if (u->on && seq_dist(u->marker, tcb->snd.una) > (1u << 30))
        u->on = false; /* long past: the marker would soon compare wrongly */
}

/* Linux tcp_packet_delayed: the ACK echoes a timestamp from before the
 * first retransmission, so an original transmission triggered it. With
 * nothing retransmitted yet, the data was only delayed (without SACK, not
 * once SND.UNA has reached the recovery point). */
static bool packet_delayed(const struct tcb *tcb, const struct segment *s)
{
    const struct undo *u = &tcb->undo;
    if (u->rxt_seen)
        return tcb->ts_ok && (s->h.opts.present & TCP_OPT_TS) && s->h.opts.tsecr &&
               (int32_t)(s->h.opts.tsecr - u->first_rxt_tsval) < 0;
    return tcb->sack_ok || seq_lt(s->ack, tcb->recover);
}

/* Linux tcp_may_undo: every retransmission D-SACKed, or the Eifel
 * detection. */
static bool may_undo(const struct tcb *tcb, const struct segment *s)
{
    const struct undo *u = &tcb->undo;
    return u->on && ((u->rxt_seen && !u->retrans) || packet_delayed(tcb, s));
}

/* cwnd and ssthresh as before the cut (Linux undo_cwnd, max(cwnd,
 * prior_cwnd)), unless an ECE forbade it (no prior ssthresh); a restored
 * ssthresh withdraws a CWR still queued. */
static void restore(struct tcb *tcb)
{
    struct undo *u = &tcb->undo;
    if (u->prior_ssthresh && tcb->cwnd < u->prior_cwnd)
        tcb->cwnd = u->prior_cwnd;
    if (tcb->ssthresh < u->prior_ssthresh) {
        tcb->ssthresh = u->prior_ssthresh;
        tcb->ecn_cwr_queued = false;
    }
    u->on = false;
    u->undone = true;
}

void undo_loss(struct tcb *tcb)
{
    restore(tcb);
    tcb->rack.in_loss = false;
    tcb->rack.lost_to = tcb->snd.una;
    tcb->recover = tcb->snd.una;
    tcb->snd.nxt = tcb->snd.max;
    tcb->retransmits = 0;
    frto_stop(tcb);
    CTR_INC(tcb->st, TCPLossUndo);
}

/* Linux tcp_try_undo_partial: a partial ACK of a fast recovery that an
 * original transmission triggered (the Eifel detection) filled the hole
 * with delayed data, not with a retransmission: reordering, noted as
 * such. With no retransmission left beyond it, the cut is undone and the
 * recovery ends; the losses it
 * had marked are unmarked, for RACK to find again any that are real, and
 * a loss still evident starts a new recovery at once. */
static bool undo_partial(struct tcb *tcb, const struct segment *s)
{
    if (seq_ge(s->ack, tcb->recover))
        return false;
    rack_timestamp_reordering(tcb);
    if (retrans_out_from(tcb, s->ack))
        return false;
    restore(tcb);
    tcb->in_recovery = false;
    tcb->recover = s->ack;
    tcb->rack.lost_to = seq_min(tcb->rack.lost_to, s->ack);
    CTR_INC(tcb->st, TCPPartialUndo);
    return true;
}

/* An ACK that advances SND.UNA, before it grows cwnd (Linux
 * tcp_fastretrans_alert before tcp_cong_control): after a timeout
 * (tcp_process_loss: tcp_try_undo_loss), when it ends a fast recovery
 * (tcp_try_undo_recovery) or is a partial ACK of one, a cut that may be
 * undone is. Returns whether a partial ACK undid the recovery: that ACK
 * showed reordering, and starts no recovery itself. */
bool undo_on_ack(struct tcb *tcb, const struct segment *s)
{
    bool partial = false;
    if (!seq_gt(s->ack, tcb->snd.una) || !may_undo(tcb, s))
        return false;
    if (tcb->rack.in_loss) {
        undo_loss(tcb);
    } else if (tcb->in_recovery && seq_ge(s->ack, tcb->recover)) {
        restore(tcb);
        /* Without SACK the recovery holds at its point, undone or not
         * (Linux tcp_is_non_sack_preventing_reopen): recovery_end. */
        tcb->in_recovery = !tcb->sack_ok && seq_eq(s->ack, tcb->recover);
        CTR_INC(tcb->st, TCPFullUndo);
    } else if (tcb->in_recovery && packet_delayed(tcb, s) && undo_partial(tcb, s)) {
        partial = true;
    } else {
        return false;
    }
    trace_event(tcb, KEEL_EV_UNDO, tcb->snd.una.v, tcb->cwnd);
    return partial;
}

/* RFC 3708 §3, as Linux tcp_try_undo_dsack: every retransmission since the
 * cut came back D-SACKed (during the recovery or after it), so the
 * originals arrived and nothing was lost: the cut is undone and a recovery
 * under way ends; a loss still marked starts a new one. */
bool undo_dsack(struct tcb *tcb)
{
    const struct undo *u = &tcb->undo;
    if (!u->on || !u->rxt_seen || u->retrans || tcb->rack.in_loss)
        return false;
    restore(tcb);
    tcb->in_recovery = false;
    tcb->recover = tcb->snd.una;
    CTR_INC(tcb->st, TCPDSACKUndo);
    trace_event(tcb, KEEL_EV_UNDO, tcb->snd.una.v, tcb->cwnd);
    return true;
}
