/* CUBIC (RFC 9438) on a bare TCB, in Linux tcp_cubic's integer units: the
 * reduction, the curve back to W_max, fast convergence, the Reno-friendly
 * floor, the growth cap, the idle epoch shift and HyStart's exits. */
#include <string.h>

#include "harness.h"
#include "tcp/tcb.h"

#define MSS 1000u
#define RTT_US 100000u

static void setup(struct tcb *t, uint32_t cwnd_segs)
{
    memset(t, 0, sizeof *t);
    t->mss = MSS;
    t->cc = &cc_cubic;
    cc_cubic.init(t);
    t->cwnd = cwnd_segs * MSS;
    t->ssthresh = 0; /* congestion avoidance */
    t->cc_state.cubic.delay_min_us = RTT_US;
}

/* Acks a whole window every RTT from `from` for `seconds`. */
static void run(struct tcb *t, uint64_t from_us, double seconds, uint32_t rtt_us)
{
    for (uint64_t now = from_us; now < from_us + (uint64_t)(seconds * 1e6); now += rtt_us)
        for (uint32_t acked = 0, w = t->cwnd; acked < w; acked += MSS)
            cc_cubic.on_ack(t, MSS, now);
}

TEST(cubic_loss_reduces_by_beta_and_returns_to_w_max_after_k)
{
    struct tcb t;
    setup(&t, 100);
    uint32_t ssthresh = cc_cubic.ssthresh_on_loss(&t);
    CHECK_EQ_U(ssthresh, 70 * MSS); /* 100 * 717 / 1024 */
    CHECK_EQ_U(t.cc_state.cubic.last_max_cwnd, 100u);
    t.cwnd = ssthresh;
    /* K = cbrt(W_max (1 - beta) / C) = cbrt(75) = 4.22 s: the plateau is
     * near W_max then, below it well before, and above it well after. */
    run(&t, 1000000, 2.0, RTT_US);
    CHECK_EQ_U(t.cc_state.cubic.k, 4316u); /* cbrt(30 / (410 / 1024)) s in 1/1024 s */
    CHECK(t.cwnd > 80 * MSS && t.cwnd < 99 * MSS);
    run(&t, 3000000, 2.2, RTT_US);
    CHECK(t.cwnd > 97 * MSS && t.cwnd < 103 * MSS);
    run(&t, 5200000, 4.0, RTT_US);
    CHECK(t.cwnd > 110 * MSS);
}

TEST(cubic_fast_convergence_lowers_w_max)
{
    struct tcb t;
    setup(&t, 100);
    cc_cubic.ssthresh_on_loss(&t);
    t.cwnd = 80 * MSS; /* a second loss below the last W_max */
    cc_cubic.ssthresh_on_loss(&t);
    CHECK_EQ_U(t.cc_state.cubic.last_max_cwnd, 68u); /* 80 * (1024 + 717) / 2048 */
}

TEST(cubic_reno_friendly_floor_at_small_rtt)
{
    /* At a 1 ms RTT the cubic curve is nearly flat for seconds: the window
     * follows W_est, which gains one segment per 15/8 cwnd acknowledged
     * (0.53 segments per RTT, Reno's AIMD with beta 0.7), cwnd a little
     * behind it: 14 + 39 after 100 RTTs, where the curve alone would add
     * less than 1. */
    struct tcb t;
    setup(&t, 20);
    t.cc_state.cubic.delay_min_us = 1000;
    cc_cubic.ssthresh_on_loss(&t);
    t.cwnd = 14 * MSS;
    run(&t, 1000000, 0.1, 1000);
    CHECK_EQ_U(t.cwnd / MSS, 53u);
}

/* Without a W_max (no loss yet) the curve may not be slower than 1 segment
 * per 20 acknowledged (5% per RTT), and nothing grows faster than 1 per 2
 * acknowledged (1.5x per RTT). */
TEST(cubic_growth_bounds_without_w_max)
{
    struct tcb t;
    setup(&t, 48);
    for (int i = 0; i < 22; i++)
        cc_cubic.on_ack(&t, MSS, 1000000 + (uint64_t)i * 50000);
    CHECK_EQ_U(t.cwnd, 49 * MSS); /* 22 acknowledged at cnt 20 */
    struct tcb u;
    setup(&u, 48);
    run(&u, 1000000, 60.0, RTT_US); /* far along the curve */
    uint32_t before = u.cwnd;
    for (int i = 0; i < 10; i++)
        cc_cubic.on_ack(&u, MSS, 61000000 + (uint64_t)i * 1000);
    CHECK_EQ_U(u.cwnd, before + 5 * MSS);
}

/* Linux CA_EVENT_TX_START: time spent idle moves the epoch on; the curve
 * does not credit it. */
TEST(cubic_idle_time_shifts_the_epoch)
{
    struct tcb t;
    setup(&t, 48);
    cc_cubic.on_ack(&t, MSS, 1000000);
    CHECK_EQ_U(t.cc_state.cubic.epoch_ms, 1000u);
    cc_cubic.on_tx_start(&t, 4000000, 6000000);
    CHECK_EQ_U(t.cc_state.cubic.epoch_ms, 5000u);
    cc_cubic.on_tx_start(&t, 9000000, 7000000); /* never past now */
    CHECK_EQ_U(t.cc_state.cubic.epoch_ms, 7000u);
}

TEST(cubic_timeout_sets_loss_window)
{
    struct tcb t;
    setup(&t, 50);
    cc_cubic.on_rto(&t);
    CHECK_EQ_U(t.cwnd, MSS);
    CHECK_EQ_U(t.ssthresh, 35 * MSS);
    CHECK_EQ_U(t.cc_state.cubic.last_max_cwnd, 0u); /* Linux cubictcp_state */
}

/* HyStart's delay test: from 16 segments on, the smallest of the round's
 * samples, once there are more than 8, above the minimum by eta = min / 8
 * clamped to [4, 16] ms (here 5 ms). */
static void hystart_setup(struct tcb *t)
{
    setup(t, 10);
    t->ssthresh = UINT32_MAX;
    t->cc_state.cubic.delay_min_us = 0;
    cc_cubic.on_delay_sample(t, 40000, 1000000); /* below the low window */
    t->cwnd = 32 * MSS;
}

TEST(hystart_leaves_slow_start_when_a_round_is_slower)
{
    struct tcb t;
    hystart_setup(&t);
    for (int i = 0; i < 8; i++) {
        cc_cubic.on_delay_sample(&t, 45001, 1100000 + (uint64_t)i * 10000);
        CHECK_EQ_U(t.ssthresh, UINT32_MAX); /* fewer than 9 samples */
    }
    cc_cubic.on_delay_sample(&t, 45001, 1200000);
    CHECK_EQ_U(t.ssthresh, 32 * MSS);
}

TEST(hystart_stays_while_one_sample_is_fast)
{
    struct tcb t;
    hystart_setup(&t);
    for (int i = 0; i < 12; i++)
        cc_cubic.on_delay_sample(&t, i == 3 ? 45000 : 60000, 1100000 + (uint64_t)i * 10000);
    CHECK_EQ_U(t.ssthresh, UINT32_MAX);
}

/* The ACK train: ACKs each within 2 ms of the last, for more than half the
 * minimum delay since the round began. */
TEST(hystart_ack_train_leaves_slow_start)
{
    struct tcb t;
    hystart_setup(&t);
    t.cc_state.cubic.round_start_us = t.cc_state.cubic.last_ack_us = 1000000;
    uint64_t now = 1000000;
    for (int i = 0; i < 10; i++) {
        now += 2000;
        cc_cubic.on_delay_sample(&t, 40000, now); /* 20 ms = half the minimum */
    }
    CHECK_EQ_U(t.ssthresh, UINT32_MAX);
    cc_cubic.on_delay_sample(&t, 40000, now + 1000);
    CHECK_EQ_U(t.ssthresh, 32 * MSS);
}
