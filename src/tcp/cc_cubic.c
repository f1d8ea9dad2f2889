/* CUBIC congestion control (RFC 9438), with HyStart's delay test (RFC 9406
 * §4.2, as Linux's tcp_cubic applies it) to leave slow start before the queue
 * overflows. Windows are computed in segments and time in seconds, as the RFC
 * writes them; cwnd itself stays in bytes. */
#include "tcp/tcb.h"

#define CUBIC_C 0.4           /* RFC 9438 §5.1 */
#define CUBIC_BETA 0.7        /* RFC 9438 §4.6 */
#define HYSTART_LOW_WINDOW 16 /* Linux hystart_low_window: segments */
#define HYSTART_ETA_MIN_US 4000u
#define HYSTART_ETA_MAX_US 16000u

/* Cube root by Newton's method: the core library does without libm. */
static double cube_root(double x)
{
    if (x <= 0)
        return 0;
    double r = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 60; i++) {
        double next = r - (r * r * r - x) / (3 * r * r);
        if (next == r)
            break;
        r = next;
    }
    return r;
}

static double segments(const struct tcb *tcb, uint32_t bytes)
{
    return (double)bytes / tcb->mss;
}

static void cubic_init(struct tcb *tcb)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    *c = (struct cubic_state){0};
    tcb->cwnd = TCP_INIT_CWND_SEGS * tcb->mss; /* RFC 6928 */
    tcb->ssthresh = UINT32_MAX;
}

/* RFC 9438 §4.2 and §4.8: a new epoch starts at the first ACK after a
 * reduction; the curve is centred on W_max, reached again after K. */
static void start_epoch(struct tcb *tcb, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    double cwnd = segments(tcb, tcb->cwnd);
    c->epoch_us = now_us;
    c->w_est = cwnd;
    if (cwnd < c->w_max) {
        c->k = cube_root((c->w_max - cwnd) / CUBIC_C);
        c->origin = c->w_max;
    } else {
        c->k = 0;
        c->origin = cwnd;
    }
}

/* RFC 9438 §4.4-4.5: the target is W_cubic one RTT ahead, clamped to
 * [cwnd, 1.5 cwnd]; the Reno-friendly W_est (§4.3) is a floor. */
static double cubic_target(struct tcb *tcb, uint64_t now_us, double acked_segs)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    double cwnd = segments(tcb, tcb->cwnd);
    uint32_t rtt_us = tcb->min_rtt_us ? tcb->min_rtt_us : tcb->srtt_us;
    double t = (double)(now_us - c->epoch_us + rtt_us) / 1e6;
    double d = t - c->k;
    double target = c->origin + CUBIC_C * d * d * d;
    double alpha = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    c->w_est += alpha * acked_segs / cwnd;
    if (target < cwnd)
        target = cwnd;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;
    return c->w_est > target ? c->w_est : target;
}

static void cubic_on_ack(struct tcb *tcb, uint32_t acked, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    if (tcb->cwnd < tcb->ssthresh) /* slow start, RFC 5681 §3.1, as Linux */
        acked = cc_slow_start(tcb, acked);
    if (!acked)
        return;
    if (!c->epoch_us)
        start_epoch(tcb, now_us);
    double cwnd = segments(tcb, tcb->cwnd);
    double target = cubic_target(tcb, now_us, segments(tcb, acked));
    /* §4.4: cwnd grows by (target - cwnd) / cwnd per acknowledged segment. */
    c->cwnd_frac += (target - cwnd) / cwnd * acked;
    if (c->cwnd_frac >= 1) {
        uint32_t add = (uint32_t)c->cwnd_frac;
        tcb->cwnd += add;
        c->cwnd_frac -= add;
    }
}

/* RFC 9438 §4.6-4.7: multiplicative decrease by beta, and fast convergence
 * (a flow whose W_max keeps falling releases bandwidth sooner). */
static uint32_t reduce(struct tcb *tcb)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    double cwnd = segments(tcb, tcb->cwnd);
    c->w_max = cwnd < c->w_last_max ? cwnd * (1 + CUBIC_BETA) / 2 : cwnd;
    c->w_last_max = cwnd;
    c->epoch_us = 0;
    c->cwnd_frac = 0;
    uint32_t ssthresh = (uint32_t)(tcb->cwnd * CUBIC_BETA);
    return ssthresh > 2 * tcb->mss ? ssthresh : 2 * tcb->mss;
}

static uint32_t cubic_ssthresh(struct tcb *tcb)
{
    return reduce(tcb);
}

/* RFC 9438 §4.8: after a timeout, ssthresh from the reduction (once per
 * episode), cwnd the loss window of one segment, and a fresh epoch. */
static void cubic_on_rto(struct tcb *tcb)
{
    if (!tcb->retransmits)
        tcb->ssthresh = reduce(tcb);
    tcb->cwnd = tcb->mss;
    tcb->cc_state.cubic.epoch_us = 0;
}

/* HyStart's delay test: in slow start, once the window is at least 16
 * segments, an RTT sample eta above the minimum (eta = min RTT / 8, between
 * 4 and 16 ms) means a queue is building: leave slow start now. */
static void cubic_on_rtt_sample(struct tcb *tcb, uint32_t rtt_us)
{
    if (tcb->cwnd >= tcb->ssthresh || tcb->cwnd < HYSTART_LOW_WINDOW * tcb->mss)
        return;
    uint32_t eta = tcb->min_rtt_us / 8;
    if (eta < HYSTART_ETA_MIN_US)
        eta = HYSTART_ETA_MIN_US;
    if (eta > HYSTART_ETA_MAX_US)
        eta = HYSTART_ETA_MAX_US;
    if (rtt_us >= tcb->min_rtt_us + eta)
        tcb->ssthresh = tcb->cwnd;
}

const struct cc_ops cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .ssthresh_on_loss = cubic_ssthresh,
    .on_rto = cubic_on_rto,
    .on_rtt_sample = cubic_on_rtt_sample,
};
