/* F-RTO (RFC 5682), as Linux runs it with tcp_frto=2 (tcp_enter_loss,
 * tcp_process_loss, tcp_try_undo_loss): after a timeout that starts a loss
 * episode, the next ACKs tell a spurious timeout, where the originals were
 * only delayed, from a real one. Never-retransmitted data acknowledged or
 * SACKed proves the timeout spurious (§3.1 step 3b; §4 with SACK), and its
 * congestion response is undone; otherwise the episode goes on as the
 * conventional go-back-N recovery (src/tcp/timer.c). */
#include "tcp/tcb.h"

/* §3.1 step 1 (Linux tcp_enter_loss): F-RTO watches a timeout that starts a
 * loss episode (no fast recovery under way) or repeats one on the same
 * SND.UNA, and not while a path MTU probe is out. A timeout that cuts
 * ssthresh (tcp_rto_cuts_ssthresh) starts an undo point first; one that
 * does not keeps the point it finds. */
void frto_on_rto(struct tcb *tcb)
{
    struct frto *f = &tcb->frto;
    bool new_episode = !tcb->in_recovery && !tcb->rack.in_loss;
    bool repeated = tcb->rack.in_loss && tcb->retransmits;
    if (tcp_rto_cuts_ssthresh(tcb))
        undo_start(tcb, false);
    frto_stop(tcb);
    f->orig_delivered = false;
    bool on = !tcb->st->cfg.no_frto && (new_episode || repeated) && !tcb->mtup.probe_size &&
              tcb->undo.on;
    f->step = on ? FRTO_AWAIT_ACK : FRTO_OFF;
}

/* Does [from, to) hold octets sent before the timeout (below its recovery
 * point, Linux high_seq), never retransmitted (by the log's marks, as Linux
 * TCPCB_EVER_RETRANS, tail loss probes included), that the scoreboard does
 * not already hold? */
static bool delivers_original(const struct tcb *tcb, seq_t from, seq_t to)
{
    if (tcb->frto.step == FRTO_OFF)
        return false;
    return rack_sent_original(tcb, seq_max(from, tcb->snd.una), seq_min(to, tcb->recover));
}

void frto_on_sacked(struct tcb *tcb, seq_t left, seq_t right)
{
    if (delivers_original(tcb, left, right))
        tcb->frto.orig_delivered = true;
}

/* §3.1 step 3b, §4 step 3b with SACK (and step 2, Linux
 * FLAG_ORIG_SACK_ACKED): the ACK delivers
 * never-retransmitted data, so the timeout was spurious; as Linux
 * tcp_try_undo_loss(sk, true), before the ACK grows cwnd: the cut is undone
 * (undo_loss: the loss marks go, and what is outstanding is in flight
 * again, sending resumes after SND.MAX). */
void frto_undo_if_spurious(struct tcb *tcb, seq_t ack)
{
    struct frto *f = &tcb->frto;
    bool orig = f->orig_delivered || delivers_original(tcb, tcb->snd.una, ack);
    f->orig_delivered = false;
    if (!orig)
        return;
    undo_loss(tcb);
    CTR_INC(tcb->st, TCPSpuriousRTOs);
    trace_event(tcb, KEEL_EV_UNDO, tcb->snd.una.v, tcb->cwnd);
}

/* §3.1 step 2b: the first ACK after the timeout advanced SND.UNA but not
 * to the recovery point: previously unsent data goes next, in place of
 * retransmissions, if there is some and the peer's window takes it (Linux
 * REXMIT_NEW). Resending waits at `resume` for step 3's verdict. */
static void send_new_data_next(struct tcb *tcb)
{
    struct frto *f = &tcb->frto;
    seq_t wnd_end = seq_add(tcb->snd.una, tcb->snd.wnd);
    if (!seq_lt(tcb->snd.max, tcb_snd_end(tcb)) || !seq_lt(tcb->snd.max, wnd_end)) {
        f->step = FRTO_OFF; /* nothing new can go: the conventional recovery */
        return;
    }
    f->resume = tcb->snd.nxt;
    f->new_from = tcb->snd.max;
    tcb->snd.nxt = tcb->snd.max;
    f->step = FRTO_NEW_SENT;
}

/* Resending goes on from where it stopped, over everything but step 2b's
 * new data, which is in flight. */
static void resume_resending(struct tcb *tcb, enum frto_step next)
{
    struct frto *f = &tcb->frto;
    tcb->snd.nxt = frto_resend_point(tcb);
    f->new_to = tcb->snd.max;
    f->step = next;
}

void frto_on_ack(struct tcb *tcb, seq_t una_before, bool dupack)
{
    struct frto *f = &tcb->frto;
    if (f->step == FRTO_OFF)
        return;
    if (seq_ge(tcb->snd.una, tcb->recover)) {
        f->step = FRTO_OFF; /* step 2a: the episode's data all acknowledged */
        return;
    }
    bool advanced = seq_gt(tcb->snd.una, una_before);
    if (dupack || (tcb->sacked_now && f->step != FRTO_AWAIT_ACK)) {
        /* §3.1 step 3a (§4 with SACK): after the new data left, a duplicate
         * ACK or newly SACKed data: the loss was real. */
        if (f->step == FRTO_NEW_SENT)
            resume_resending(tcb, FRTO_OFF);
        else if (f->step == FRTO_RESENDING)
            f->step = FRTO_OFF;
    } else if (advanced && f->step == FRTO_NEW_SENT) {
        /* No verdict yet, but SND.UNA moved: as Linux (REXMIT_LOST), what
         * is lost is resent; original data acknowledged may still undo. */
        resume_resending(tcb, FRTO_RESENDING);
    } else if (advanced && f->step == FRTO_AWAIT_ACK) {
        send_new_data_next(tcb);
    }
}

/* Resending never restarts below SND.UNA: ACKs of data resent before, or
 * SACKed, may have passed the point where step 2b left it. */
void frto_stop(struct tcb *tcb)
{
    tcb->frto.step = FRTO_OFF;
    tcb->frto.new_from = tcb->frto.new_to = tcb->snd.max;
}

seq_t frto_resend_point(const struct tcb *tcb)
{
    const struct frto *f = &tcb->frto;
    return f->step == FRTO_NEW_SENT ? seq_max(f->resume, tcb->snd.una) : tcb->snd.nxt;
}

/* Resending after a real loss does not send step 2b's new data again
 * unless RACK has since marked it lost. */
void frto_skip_new_data(struct tcb *tcb)
{
    struct frto *f = &tcb->frto;
    if (f->step == FRTO_NEW_SENT || seq_eq(f->new_from, f->new_to))
        return;
    if (seq_ge(tcb->snd.nxt, f->new_from) && seq_lt(tcb->snd.nxt, f->new_to) &&
        seq_le(tcb->rack.lost_to, f->new_from))
        tcb->snd.nxt = f->new_to;
    if (!seq_lt(tcb->snd.nxt, f->new_to) || seq_gt(tcb->rack.lost_to, f->new_from))
        f->new_from = f->new_to;
}

/* Step 2b's new data goes with Nagle and corking off (Linux
 * tcp_xmit_recovery: REXMIT_NEW pushes with TCP_NAGLE_OFF): held back, it
 * would leave the episode to a second, backed-off timeout. */
bool frto_pushes_new_data(const struct tcb *tcb)
{
    return tcb->frto.step == FRTO_NEW_SENT;
}

uint32_t frto_room_before_new_data(const struct tcb *tcb)
{
    const struct frto *f = &tcb->frto;
    if (f->step == FRTO_NEW_SENT || seq_eq(f->new_from, f->new_to) ||
        !seq_lt(tcb->snd.nxt, f->new_from))
        return UINT32_MAX;
    return seq_dist(tcb->snd.nxt, f->new_from);
}
