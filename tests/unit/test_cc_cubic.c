/* CUBIC (RFC 9438) on a bare TCB: the reduction, the curve back to W_max,
 * fast convergence, the Reno-friendly floor, and HyStart's delay exit. */
#include <string.h>

#include "harness.h"
#include "tcp/tcb.h"

#define MSS 1000u

static void setup(struct tcb *t, uint32_t cwnd_segs)
{
    memset(t, 0, sizeof *t);
    t->mss = MSS;
    t->cc = &cc_cubic;
    cc_cubic.init(t);
    t->cwnd = cwnd_segs * MSS;
    t->ssthresh = 0; /* congestion avoidance */
    t->min_rtt_us = t->srtt_us = 100000;
}

/* Acks a whole window every RTT from `from` for `seconds`. */
static void run(struct tcb *t, uint64_t from_us, double seconds)
{
    for (uint64_t now = from_us; now < from_us + (uint64_t)(seconds * 1e6); now += 100000)
        for (uint32_t acked = 0, w = t->cwnd; acked < w; acked += MSS)
            cc_cubic.on_ack(t, MSS, now);
}

TEST(cubic_loss_reduces_by_beta_and_returns_to_w_max_after_k)
{
    struct tcb t;
    setup(&t, 100);
    uint32_t ssthresh = cc_cubic.ssthresh_on_loss(&t);
    CHECK_EQ_U(ssthresh, 70 * MSS); /* beta 0.7 */
    CHECK(t.cc_state.cubic.w_max > 99.9 && t.cc_state.cubic.w_max < 100.1);
    t.cwnd = t.ssthresh = ssthresh;
    t.ssthresh = 0;
    /* K = cbrt(W_max (1 - beta) / C) = cbrt(75) = 4.22 s: the plateau is
     * near W_max then, below it well before, and above it well after. */
    run(&t, 1000000, 2.0);
    CHECK(t.cwnd > 80 * MSS && t.cwnd < 99 * MSS);
    run(&t, 3000000, 2.2);
    CHECK(t.cwnd > 97 * MSS && t.cwnd < 103 * MSS);
    run(&t, 5200000, 3.0);
    CHECK(t.cwnd > 110 * MSS);
}

TEST(cubic_fast_convergence_lowers_w_max)
{
    struct tcb t;
    setup(&t, 100);
    cc_cubic.ssthresh_on_loss(&t);
    t.cwnd = 80 * MSS; /* a second loss below the last W_max */
    cc_cubic.ssthresh_on_loss(&t);
    double w_max = t.cc_state.cubic.w_max; /* 80 * (1 + 0.7) / 2 = 68 */
    CHECK(w_max > 67.9 && w_max < 68.1);
}

TEST(cubic_reno_friendly_floor_at_small_rtt)
{
    /* At a 1 ms RTT the cubic curve is nearly flat for seconds: the window
     * follows W_est, about one segment per RTT like Reno's AIMD. */
    struct tcb t;
    setup(&t, 20);
    t.min_rtt_us = t.srtt_us = 1000;
    cc_cubic.ssthresh_on_loss(&t);
    t.cwnd = 14 * MSS;
    uint64_t now = 1000000;
    for (int rtt = 0; rtt < 100; rtt++, now += 1000)
        for (uint32_t acked = 0, w = t.cwnd; acked < w; acked += MSS)
            cc_cubic.on_ack(&t, MSS, now);
    /* alpha = 3 * 0.3 / 1.7 = 0.53 segments per RTT: about 53 segments more. */
    CHECK(t.cwnd > 55 * MSS && t.cwnd < 80 * MSS);
}

TEST(cubic_timeout_sets_loss_window)
{
    struct tcb t;
    setup(&t, 50);
    cc_cubic.on_rto(&t);
    CHECK_EQ_U(t.cwnd, MSS);
    CHECK_EQ_U(t.ssthresh, 35 * MSS);
}

TEST(hystart_leaves_slow_start_when_delay_grows)
{
    struct tcb t;
    setup(&t, 10);
    t.ssthresh = UINT32_MAX;
    t.min_rtt_us = 40000;
    cc_cubic.on_rtt_sample(&t, 60000); /* 10 segments: below the low window */
    CHECK_EQ_U(t.ssthresh, UINT32_MAX);
    t.cwnd = 32 * MSS;
    cc_cubic.on_rtt_sample(&t, 44000); /* + 4 ms < eta = 5 ms */
    CHECK_EQ_U(t.ssthresh, UINT32_MAX);
    cc_cubic.on_rtt_sample(&t, 45000); /* + 5 ms: a queue is building */
    CHECK_EQ_U(t.ssthresh, 32 * MSS);
}
