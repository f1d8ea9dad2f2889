/* CUBIC congestion control (RFC 9438) with HyStart (RFC 9406), in the
 * integer units Linux's tcp_cubic.c works in, so that cwnd moves segment
 * for segment as Linux's does: windows in segments, time in milliseconds
 * (jiffies at HZ=1000) and in 1/1024 s on the cubic curve, C = 410/1024,
 * beta = 717/1024. cwnd itself stays in bytes (a multiple of the MSS). */
#include "tcp/tcb.h"

#define CUBIC_BETA 717u             /* beta * 1024 (RFC 9438 §4.6: 0.7) */
#define CUBIC_BETA_SCALE 1024u
#define CUBIC_C_SCALED 410u         /* C = 0.4 as 410 / 1024 (Linux bic_scale * 10) */
#define CUBIC_TIME_SHIFT 10         /* curve time in 1/1024 s (Linux BICTCP_HZ) */
#define CUBIC_MAX_OFFSET (1u << 18) /* 256 s of curve time: beyond, the cube overflows */
#define CUBIC_CNT_FLOOR 2u          /* at most 1 segment per 2 acknowledged: 1.5x per RTT */
#define CUBIC_CNT_INITIAL 20u       /* no W_max yet: at least 5% per RTT */
#define CUBIC_SAMPLE_HOLD_MS 1000u  /* delay samples ignored after an epoch starts */
#define HYSTART_LOW_WINDOW 16u      /* segments (Linux hystart_low_window) */
#define HYSTART_MIN_SAMPLES 8u
#define HYSTART_DELAY_MIN_US 4000u
#define HYSTART_DELAY_MAX_US 16000u
#define HYSTART_ACK_DELTA_US 2000u  /* ACKs this close form a train */

static uint32_t segs(const struct tcb *tcb)
{
    return tcb->cwnd / tcb->mss;
}

/* The largest r with r^3 <= x (bisection: no libm in the core). */
static uint32_t cube_root(uint64_t x)
{
    uint64_t lo = 0, hi = 2097152; /* 2^21: its cube exceeds 2^63 */
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (mid * mid * mid <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return (uint32_t)lo;
}

/* A new round of HyStart starts when SND.UNA passes the end of the last. */
static void hystart_new_round(struct tcb *tcb, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    c->round_start_us = c->last_ack_us = now_us;
    c->end_seq = tcb->snd.nxt;
    c->curr_rtt_us = UINT32_MAX;
    c->sample_cnt = 0;
}

/* Linux cubictcp_init and the reset on entering loss (cubictcp_state):
 * no W_max, no epoch, no delay known, HyStart looking afresh. The first
 * round ends with the first ACK HyStart sees, at the low window or above:
 * that ACK starts the first timed round. */
static void cubic_reset(struct tcb *tcb)
{
    tcb->cc_state.cubic = (struct cubic_state){0};
    tcb->cc_state.cubic.end_seq = tcb->snd.nxt;
    tcb->cc_state.cubic.curr_rtt_us = UINT32_MAX;
}

static void cubic_init(struct tcb *tcb)
{
    cubic_reset(tcb);
    tcb->cwnd = tcb->init_cwnd_segs * tcb->mss; /* RFC 6928, or the route's */
    tcb->ssthresh = UINT32_MAX;
}

/* RFC 9438 §4.2 and §4.8: an epoch starts at the first growth after a
 * reduction; the curve is centred on W_max, reached again after K. */
static void start_epoch(struct cubic_state *c, uint32_t cwnd, uint32_t acked, uint64_t now)
{
    c->in_epoch = true;
    c->epoch_ms = now;
    c->ack_cnt = acked;
    c->tcp_cwnd = cwnd;
    if (c->last_max_cwnd <= cwnd) {
        c->k = 0;
        c->origin = cwnd;
    } else {
        /* K = cbrt((W_max - cwnd) / C), in 1/1024 s: cube of 2^30 / C. */
        uint64_t per_seg = (1ull << (3 * CUBIC_TIME_SHIFT)) * 1024 / CUBIC_C_SCALED;
        c->k = cube_root(per_seg * (c->last_max_cwnd - cwnd));
        c->origin = c->last_max_cwnd;
    }
}

/* RFC 9438 §4.2: W_cubic one RTT (the minimum delay) ahead. */
static uint32_t cubic_target(const struct cubic_state *c, uint64_t now)
{
    uint64_t t_ms = now - c->epoch_ms + (c->delay_min_us + 999) / 1000;
    uint64_t t = (t_ms << CUBIC_TIME_SHIFT) / 1000;
    uint64_t offs = t < c->k ? c->k - t : t - c->k;
    if (offs > CUBIC_MAX_OFFSET)
        offs = CUBIC_MAX_OFFSET;
    uint64_t delta = (CUBIC_C_SCALED * offs * offs * offs) >> (10 + 3 * CUBIC_TIME_SHIFT);
    if (t < c->k)
        return delta < c->origin ? c->origin - (uint32_t)delta : 0;
    return c->origin + (uint32_t)delta;
}

/* RFC 9438 §4.3: the Reno-friendly window W_est grows one segment per
 * cwnd / (3 (1 - beta) / (1 + beta)) acknowledged, 15/8 cwnd in Linux's
 * integers; CUBIC grows no slower than it. */
static void reno_friendly(struct cubic_state *c, uint32_t cwnd)
{
    uint32_t per_seg = (uint32_t)(8 * (CUBIC_BETA_SCALE + CUBIC_BETA) / 3 /
                                  (CUBIC_BETA_SCALE - CUBIC_BETA));
    uint32_t delta = (cwnd * per_seg) >> 3;
    if (delta == 0)
        delta = 1;
    while (c->ack_cnt > delta) {
        c->ack_cnt -= delta;
        c->tcp_cwnd++;
    }
    if (c->tcp_cwnd > cwnd) {
        uint32_t max_cnt = cwnd / (c->tcp_cwnd - cwnd);
        if (c->cnt > max_cnt)
            c->cnt = max_cnt;
    }
}

/* Linux bictcp_update: cnt, the segments to acknowledge per increment of
 * cwnd, from the curve's target (RFC 9438 §4.4-4.5), recomputed at most
 * once per millisecond and, while cwnd stands still, every 1/32 s. */
static void cubic_update(struct tcb *tcb, uint32_t cwnd, uint32_t acked, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    uint64_t now = now_us / 1000;
    c->ack_cnt += acked;
    if (c->last_cwnd == cwnd && now - c->last_time_ms <= 1000 / 32)
        return;
    if (!(c->in_epoch && now == c->last_time_ms)) {
        c->last_cwnd = cwnd;
        c->last_time_ms = now;
        if (!c->in_epoch)
            start_epoch(c, cwnd, acked, now);
        uint32_t target = cubic_target(c, now);
        c->cnt = target > cwnd ? cwnd / (target - cwnd) : 100 * cwnd;
        if (c->last_max_cwnd == 0 && c->cnt > CUBIC_CNT_INITIAL)
            c->cnt = CUBIC_CNT_INITIAL;
    }
    reno_friendly(c, cwnd);
    if (c->cnt < CUBIC_CNT_FLOOR)
        c->cnt = CUBIC_CNT_FLOOR;
}

/* Linux tcp_cong_avoid_ai: one segment per cnt segments acknowledged. */
static void grow_by_cnt(struct tcb *tcb, uint32_t acked)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    uint32_t cwnd = segs(tcb);
    if (c->cwnd_cnt >= c->cnt) {
        c->cwnd_cnt = 0;
        cwnd++;
    }
    c->cwnd_cnt += acked;
    if (c->cwnd_cnt >= c->cnt) {
        uint32_t delta = c->cwnd_cnt / c->cnt;
        c->cwnd_cnt -= delta * c->cnt;
        cwnd += delta;
    }
    tcb->cwnd = cwnd * tcb->mss;
}

/* Linux cubictcp_cong_avoid: slow start by the bytes acknowledged, then
 * congestion avoidance by whole segments. */
static void cubic_on_ack(struct tcb *tcb, uint32_t acked, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    if (tcb->cwnd < tcb->ssthresh) {
        acked = cc_slow_start(tcb, acked);
        if (!acked)
            return;
    }
    c->acked_bytes += acked;
    uint32_t acked_segs = c->acked_bytes / tcb->mss;
    c->acked_bytes %= tcb->mss;
    if (!acked_segs)
        return;
    cubic_update(tcb, segs(tcb), acked_segs, now_us);
    grow_by_cnt(tcb, acked_segs);
}

/* RFC 9438 §4.6-4.7 (Linux cubictcp_recalc_ssthresh): the epoch ends; W_max
 * is cwnd, or less with fast convergence when W_max keeps falling; the
 * new ssthresh is beta * cwnd, at least 2 segments. */
static uint32_t cubic_ssthresh(struct tcb *tcb)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    uint32_t cwnd = segs(tcb);
    c->in_epoch = false;
    c->cwnd_cnt = 0;
    if (cwnd < c->last_max_cwnd)
        c->last_max_cwnd = cwnd * (CUBIC_BETA_SCALE + CUBIC_BETA) / (2 * CUBIC_BETA_SCALE);
    else
        c->last_max_cwnd = cwnd;
    uint32_t ssthresh = cwnd * CUBIC_BETA / CUBIC_BETA_SCALE;
    return (ssthresh > 2 ? ssthresh : 2) * tcb->mss;
}

/* RFC 9438 §4.8 (Linux tcp_enter_loss, cubictcp_state): after a timeout,
 * ssthresh from the reduction (once per episode), cwnd the loss window of
 * one segment, and CUBIC and HyStart start over. */
static void cubic_on_rto(struct tcb *tcb)
{
    if (tcp_rto_cuts_ssthresh(tcb))
        tcb->ssthresh = cubic_ssthresh(tcb);
    tcb->cwnd = tcb->mss;
    cubic_reset(tcb);
}

/* Linux cubictcp_cwnd_event(CA_EVENT_TX_START): an idle sender earns no
 * growth for the idle time; the epoch moves on by it. */
static void cubic_on_tx_start(struct tcb *tcb, uint64_t idle_us, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    uint64_t now = now_us / 1000;
    uint64_t idle_ms = now - (now_us - idle_us) / 1000;
    if (!c->in_epoch || !idle_ms)
        return;
    c->epoch_ms += idle_ms;
    if (c->epoch_ms > now)
        c->epoch_ms = now;
}

/* Linux hystart_ack_delay: a cushion for TSO and GRO, the time 4 packets
 * of 64 KB take at the slow-start pacing rate (twice cwnd per SRTT), at
 * most 1 ms. */
static uint32_t hystart_ack_delay(const struct tcb *tcb)
{
    if (!tcb->srtt_us || !tcb->cwnd)
        return 0;
    uint64_t us = 4ull * 65536 * tcb->srtt_us / (2ull * tcb->cwnd);
    return us < 1000 ? (uint32_t)us : 1000;
}

/* HyStart's ACK train (the original HyStart's other test, Linux
 * HYSTART_ACK_TRAIN): ACKs arriving within 2 ms of each other for longer
 * than half the minimum delay since the round began fill the pipe. keel
 * does not pace, so the threshold is Linux's unpaced one (halved). */
static bool hystart_ack_train(struct tcb *tcb, uint64_t now)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    if (now - c->last_ack_us > HYSTART_ACK_DELTA_US)
        return false;
    c->last_ack_us = now;
    uint32_t threshold = (c->delay_min_us + hystart_ack_delay(tcb)) / 2;
    return now - c->round_start_us > threshold;
}

/* HyStart's delay test (RFC 9406 §4.2, Linux HYSTART_DELAY): the smallest
 * of a round's first 8 delay samples, and of every one after, above the
 * minimum delay by eta = min / 8, clamped to [4 ms, 16 ms]. */
static bool hystart_delay(struct tcb *tcb, uint32_t delay_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    if (delay_us < c->curr_rtt_us)
        c->curr_rtt_us = delay_us;
    if (c->sample_cnt < HYSTART_MIN_SAMPLES) {
        c->sample_cnt++;
        return false;
    }
    uint32_t eta = c->delay_min_us / 8;
    if (eta < HYSTART_DELAY_MIN_US)
        eta = HYSTART_DELAY_MIN_US;
    if (eta > HYSTART_DELAY_MAX_US)
        eta = HYSTART_DELAY_MAX_US;
    return c->curr_rtt_us > c->delay_min_us + eta;
}

/* Linux hystart_update: either test ends slow start at the current cwnd. */
static void hystart_update(struct tcb *tcb, uint32_t delay_us, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    if (seq_gt(tcb->snd.una, c->end_seq))
        hystart_new_round(tcb, now_us);
    bool train = hystart_ack_train(tcb, now_us);
    bool delay = hystart_delay(tcb, delay_us);
    if (train || delay) {
        c->found = true;
        tcb->ssthresh = tcb->cwnd;
    }
}

/* Linux cubictcp_acked: the minimum delay (not right after a reduction,
 * while queues drain), and HyStart in slow start once cwnd is 16 segments
 * or more. Below that HyStart sees no ACK at all, so no round ends there:
 * the first round is timed from the first ACK at the low window. */
static void cubic_on_delay_sample(struct tcb *tcb, uint32_t delay_us, uint64_t now_us)
{
    struct cubic_state *c = &tcb->cc_state.cubic;
    if (c->in_epoch && now_us / 1000 - c->epoch_ms < CUBIC_SAMPLE_HOLD_MS)
        return;
    if (!delay_us)
        delay_us = 1;
    if (!c->delay_min_us || delay_us < c->delay_min_us)
        c->delay_min_us = delay_us;
    if (!c->found && tcb->cwnd < tcb->ssthresh && segs(tcb) >= HYSTART_LOW_WINDOW)
        hystart_update(tcb, delay_us, now_us);
}

const struct cc_ops cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .ssthresh_on_loss = cubic_ssthresh,
    .on_rto = cubic_on_rto,
    .on_delay_sample = cubic_on_delay_sample,
    .on_tx_start = cubic_on_tx_start,
};
