/* Van Jacobson's header prediction: the
 * common segment of a bulk transfer (in-order data, or a pure ACK of new
 * data, on an ESTABLISHED connection with nothing unusual going on) skips the
 * checks that are known to pass and goes straight to the same steps the slow
 * path runs. It never has steps of its own: in particular SND.WL1/WL2 are
 * updated by tcp_update_window, as on every path (SCENARIOS.md story 1). */
#include "tcp/tcb.h"

static bool options_predicted(const struct tcb *tcb, const struct segment *s)
{
    const struct tcp_opts *o = &s->h.opts;
    if (!tcb->ts_ok)
        return o->present == 0;
    /* PAWS holds: TSval is not older than TS.Recent. */
    return o->present == TCP_OPT_TS && (int32_t)(o->tsval - tcb->ts_recent) >= 0;
}

/* Everything the slow path checks before the ACK step, known to pass:
 * PAWS (above), acceptability (SEG.SEQ = RCV.NXT), no RST or SYN, an ACK in
 * [SND.UNA, SND.MAX], the same window, no recovery or reordering under way. */
static bool predicted(const struct tcb *tcb, const struct segment *s)
{
    return tcb->state == KEEL_TCP_ESTABLISHED &&
           (s->h.flags & ~TCP_FLAG_PSH) == TCP_FLAG_ACK &&
           seq_eq(s->seq, tcb->rcv.nxt) &&
           ((uint32_t)s->h.wnd << tcb->snd.wscale) == tcb->snd.wnd &&
           !tcb->in_recovery && tcb->dupacks == 0 && tcb->ofo.n == 0 &&
           seq_eq(tcb->snd.nxt, tcb->snd.max) &&
           seq_le(tcb->snd.una, s->ack) && seq_le(s->ack, tcb->snd.max) &&
           options_predicted(tcb, s);
}

bool tcp_fast_path(struct tcb *tcb, const struct segment *s)
{
    if (!predicted(tcb, s))
        return false;
    bool pure_ack = s->len == 0 && seq_lt(tcb->snd.una, s->ack);
    bool data = s->len > 0 && seq_eq(s->ack, tcb->snd.una) &&
                s->len <= tcb_rcv_window(tcb);
    if (!pure_ack && !data)
        return false;
    if (pure_ack)
        CTR_INC(tcb->st, TCPHPAcks);
    else
        CTR_INC(tcb->st, TCPHPHits);
    tcp_store_ts_recent(tcb, s);
    tcp_ack_accepted(tcb, s);
    tcp_text_and_fin(tcb, s);
    tcp_output(tcb);
    return true;
}
