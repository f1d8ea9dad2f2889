/* Explicit Congestion Notification (RFC 3168) as Linux runs it without
 * AccECN: negotiation on the SYN and SYN-ACK (§6.1.1), ECT(0) on new data
 * (§6.1.2, §6.1.5), ECE echoed from a CE mark until the peer's CWR (§6.1.3),
 * and on the sender one cwnd reduction per window of data (§6.1.2), paced
 * by PRR as Linux's CWR state (tcp_enter_cwr, tcp_cwnd_reduction). */
#include "tcp/tcb.h"

#define ECN_SETUP (TCP_FLAG_ECE | TCP_FLAG_CWR)

/* §6.1.1: an active open asks with ECE and CWR; a retransmitted SYN does
 * not (§6.1.1.1, Linux tcp_ecn_clear_syn: a middlebox may drop ECN SYNs).
 * A SYN-ACK agrees with ECE alone. */
uint8_t ecn_syn_flags(struct tcb *tcb)
{
    if (tcb->state == KEEL_TCP_SYN_RECEIVED)
        return tcb->ecn_ok ? TCP_FLAG_ECE : 0;
    tcb->ecn_ok = tcb->st->cfg.ecn == KEEL_ECN_ON && tcb->retransmits == 0;
    return tcb->ecn_ok ? ECN_SETUP : 0;
}

/* §6.1.1, passive side: a SYN with ECE and CWR asks; unless ECN is off we
 * agree. As Linux (tcp_ecn_create_request), not to a SYN that is itself
 * ECN-capable or CE-marked, which §6.1.1 forbids a sender to mark. */
void ecn_syn_received(struct tcb *tcb, const struct segment *s)
{
    tcb->ecn_ok = (s->h.flags & ECN_SETUP) == ECN_SETUP && tcb->st->cfg.ecn != KEEL_ECN_OFF &&
                  s->ecn == IP_ECN_NOT_ECT;
}

/* §6.1.1, active side: only a SYN-ACK with ECE and without CWR agrees. */
void ecn_synack_received(struct tcb *tcb, const struct segment *s)
{
    tcb->ecn_ok = tcb->ecn_ok && (s->h.flags & ECN_SETUP) == TCP_FLAG_ECE;
}

/* Linux tcp_ecn_send: the ECN field of a segment, and its ECE and CWR
 * flags. Only new data is ECN-capable: not pure ACKs (§6.1.4) nor
 * retransmissions (§6.1.5); CWR rides on the first new data after a
 * reduction (§6.1.2); ECE on every segment while a CE mark awaits CWR. */
uint8_t ecn_mark(struct tcb *tcb, seq_t seq, uint32_t len, uint8_t *flags)
{
    if (!tcb->ecn_ok || (*flags & (TCP_FLAG_SYN | TCP_FLAG_RST)))
        return IP_ECN_NOT_ECT;
    uint8_t field = IP_ECN_NOT_ECT;
    if (len && seq_ge(seq, tcb->snd.max)) {
        field = IP_ECN_ECT0;
        if (tcb->ecn_cwr_queued) {
            *flags |= TCP_FLAG_CWR;
            tcb->ecn_cwr_queued = false;
        }
    }
    if (tcb->ecn_echo)
        *flags |= TCP_FLAG_ECE;
    return field;
}

/* §6.1.3, receiver: a data segment's CWR ends the echo (Linux
 * tcp_ecn_accept_cwr: and is ACKed at once, the sender's cwnd may be one
 * segment); a CE mark starts it, ACKed at once too (Linux
 * __tcp_ecn_check_ce: quick-ACK mode for two segments). */
void ecn_data_received(struct tcb *tcb, const struct segment *s)
{
    if (!tcb->ecn_ok || !s->len)
        return;
    if (s->h.flags & TCP_FLAG_CWR) {
        tcb->ecn_echo = false;
        tcb->ack_now = true;
    }
    if (s->ecn == IP_ECN_CE && !tcb->ecn_echo) {
        tcb->ecn_echo = true;
        if (tcb->quickacks < 2)
            tcb->quickacks = 2;
        CTR_INC(tcb->st, TCPECNEchoSent);
    }
}

/* Every cwnd reduction tells the receiver with CWR (Linux
 * tcp_init_cwnd_reduction and tcp_enter_loss queue it), so that it stops
 * echoing a congestion it has been answered for. */
void ecn_queue_cwr(struct tcb *tcb)
{
    if (tcb->ecn_ok)
        tcb->ecn_cwr_queued = true;
}

/* §6.1.2: halve (here: the congestion control's reduction) once, for the
 * window of data in flight; a loss recovery under way already reduced. */
static void enter_cwr(struct tcb *tcb)
{
    undo_forget(tcb);
    tcb->ssthresh = tcb->cc->ssthresh_on_loss(tcb);
    tcb->in_cwr = true;
    tcb->cwr_end = tcb->snd.max;
    prr_start(tcb);
    ecn_queue_cwr(tcb);
    CTR_INC(tcb->st, TCPECNCwrEntered);
}

/* Linux holds CWR until an ACK passes the last byte sent when it began
 * (tcp_fastretrans_alert: "CWR is to be held something *above* high_seq
 * is ACKed for CWR bit to reach receiver"), then cwnd = ssthresh. */
static bool cwr_done(const struct tcb *tcb)
{
    return seq_gt(tcb->snd.una, tcb->cwr_end);
}

/* The sender's side of an acceptable ACK, after loss recovery had it. An
 * echo on the ACK whose partial undo ended a recovery starts no reduction
 * (Linux leaves tcp_fastretrans_alert before tcp_try_to_open); the peer
 * echoes again until it sees CWR. */
void ecn_on_ack(struct tcb *tcb, const struct segment *s, const struct prr_ack *a)
{
    if (!tcb->ecn_ok)
        return;
    if (tcb->in_cwr && cwr_done(tcb)) {
        tcb->in_cwr = false;
        tcb->cwnd = tcb->ssthresh;
    }
    bool ece = (s->h.flags & (TCP_FLAG_ECE | TCP_FLAG_SYN)) == TCP_FLAG_ECE;
    if (ece)
        CTR_INC(tcb->st, TCPECNEchoRecv);
    if (ece && !tcb->in_cwr && !tcb->in_recovery && !a->reordered)
        enter_cwr(tcb);
    if (tcb->in_cwr && !a->below_una)
        prr_update(tcb, a);
}
