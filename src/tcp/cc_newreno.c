/* NewReno congestion control (RFC 5681, RFC 6582): slow start, congestion
 * avoidance with byte counting, halving on loss. The recovery procedure
 * itself (inflation, partial ACKs) lives in src/tcp/ack.c. */
#include "tcp/tcb.h"

static void newreno_init(struct tcb *tcb)
{
    tcb->cwnd = tcb->init_cwnd_segs * tcb->mss; /* RFC 6928, or the route's */
    tcb->ssthresh = UINT32_MAX;                /* RFC 5681 §3.1: arbitrarily high */
    tcb->cwnd_acked = 0;
}

/* RFC 5681 §3.1: slow start grows cwnd by the bytes acknowledged (as
 * Linux does, cc_slow_start); congestion avoidance adds one SMSS per cwnd
 * of bytes acknowledged (appropriate byte counting, RFC 3465). */
static void newreno_on_ack(struct tcb *tcb, uint32_t acked, uint64_t now_us)
{
    (void)now_us;
    if (tcb->cwnd < tcb->ssthresh)
        acked = cc_slow_start(tcb, acked);
    if (!acked)
        return;
    tcb->cwnd_acked += acked;
    if (tcb->cwnd_acked >= tcb->cwnd) {
        tcb->cwnd_acked -= tcb->cwnd;
        tcb->cwnd += tcb->mss;
    }
}

/* RFC 5681 §3.1 equation (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t newreno_ssthresh(struct tcb *tcb)
{
    uint32_t half = tcp_flight(tcb) / 2;
    uint32_t floor = 2 * tcb->mss;
    return half > floor ? half : floor;
}

/* RFC 5681 §3.1: after a timeout, cwnd is the loss window of one SMSS. */
static void newreno_on_rto(struct tcb *tcb)
{
    uint32_t flight = seq_dist(tcb->snd.una, tcb->snd.max) / 2;
    uint32_t floor = 2 * tcb->mss;
    if (tcp_rto_cuts_ssthresh(tcb))
        tcb->ssthresh = flight > floor ? flight : floor;
    tcb->cwnd = tcb->mss;
    tcb->cwnd_acked = 0;
}

const struct cc_ops cc_newreno = {
    .name = "newreno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .ssthresh_on_loss = newreno_ssthresh,
    .on_rto = newreno_on_rto,
};
