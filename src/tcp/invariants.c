/* TCB invariants, checked after every input and output in builds with
 * KEEL_INVARIANTS (tests, simulations, fuzzing). A violation is a bug in
 * keel: stack_bug counts it and, in those builds, stops with its text. */
#include <stdio.h>

#include "tcp/tcb.h"

static void violated(const struct tcb *tcb, const char *what)
{
    char msg[256];
    snprintf(msg, sizeof msg, "TCB invariant %s (state %s, port %u -> %u)", what,
             keel_tcp_state_name(tcb->state), tcb->lport, tcb->rport);
    stack_bug(tcb->st, msg);
}

#define REQUIRE(tcb, cond)                                                    \
    do {                                                                      \
        if (!(cond))                                                          \
            violated((tcb), #cond);                                           \
    } while (0)

void tcb_check_invariants(const struct tcb *tcb)
{
#ifdef KEEL_INVARIANTS
    if (!tcb_synchronized(tcb) || tcb->state == KEEL_TCP_TIME_WAIT)
        return;
    const struct tcb_send *snd = &tcb->snd;
    /* SND.UNA <= SND.NXT <= SND.MAX, all within the data (and FIN) queued. */
    REQUIRE(tcb, seq_le(snd->una, snd->nxt));
    REQUIRE(tcb, seq_le(snd->nxt, snd->max));
    REQUIRE(tcb, seq_le(snd->max, seq_add(tcb_snd_end(tcb), tcb->fin_queued)));
    /* The send buffer holds exactly [SND.UNA, end): nothing unacked is lost. */
    REQUIRE(tcb, seq_eq(tcb->snd_buf_seq, snd->una) ||
                     (tcb->fin_acked && seq_eq(seq_add(tcb->snd_buf_seq, 1), snd->una)));
    /* SND.WL1 never lags RCV.NXT by 2^30 or more (SCENARIOS.md story 1). */
    REQUIRE(tcb, seq_dist(snd->wl1, tcb->rcv.nxt) < (1u << 30) ||
                     seq_gt(snd->wl1, tcb->rcv.nxt));
    /* Out-of-order data lies above RCV.NXT and inside the receive buffer. */
    REQUIRE(tcb, tcb->ofo.n == 0 || seq_gt(tcb->ofo.r[0].left, tcb->rcv.nxt));
    /* The scoreboard only holds what is outstanding. */
    REQUIRE(tcb, tcb->sacked.n == 0 || (seq_ge(tcb->sacked.r[0].left, snd->una) &&
                                         seq_le(tcb->sacked.r[tcb->sacked.n - 1].right,
                                                snd->max)));
    /* Liveness: data outstanding means a retransmission timer; data waiting
     * behind a closed window means the persist timer. */
    if (seq_lt(snd->una, snd->max) && tcb->state != KEEL_TCP_CLOSED)
        REQUIRE(tcb, tcb_armed(tcb, TT_RETRANSMIT));
#else
    (void)tcb;
#endif
}
