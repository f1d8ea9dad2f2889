/* SACK loss recovery (RFC 6675) paced by PRR (RFC 6937), segment by segment.
 * The peer loses segment 1 of 12 and SACKs the rest as they arrive. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define MSS 1460u

static const struct tcp_opts OPTS_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1460};

/* A SACK-carrying duplicate ACK: ack 1, SACKing segments 2..last (1-based). */
static void dupack_sacking(struct script *s, uint32_t last)
{
    struct seg g = {.flags = A, .seq = 1, .ack = 1};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 1;
    g.opts.sack[0].left = s->keel_isn + 1 + MSS;
    g.opts.sack[0].right = s->keel_isn + 1 + last * MSS;
    script_inject(s, &g);
}

static int open_and_fill(struct script *s)
{
    /* A 100 ms RTT: RACK's reordering window (min_rtt / 4) and the probe
     * timeout (2 * SRTT) lie beyond the ACKs below (RFC 8985). */
    int c = script_active_open_rtt(s, &OPTS_SACK, 100000);
    int sndbuf = 65536;
    CHECK_EQ(keel_setsockopt(s->st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    static uint8_t bulk[20 * MSS];
    CHECK_EQ(keel_send(s->st, c, bulk, sizeof bulk, 0), (long)sizeof bulk);
    for (uint32_t k = 0; k < 10; k++) /* the initial window */
        script_expect(s, .flags = A, .seq = 1 + k * MSS, .ack = 1, .len = MSS);
    script_expect_none(s);
    script_advance(s, 10000);
    return c;
}

TEST(sack_recovery_limited_transmit_then_fast_retransmit_then_prr)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_and_fill(&s);
    /* Duplicates 1 and 2: 1 and 2 segments SACKed, not yet "lost" (RFC 6675
     * IsLost needs more than 2 * SMSS above): limited transmit (RFC 3042). */
    dupack_sacking(&s, 2);
    script_expect(&s, .flags = A, .seq = 1 + 10 * MSS, .ack = 1, .len = MSS);
    dupack_sacking(&s, 3);
    script_expect(&s, .flags = A, .seq = 1 + 11 * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    /* Duplicate 3: segment 1 is lost: recovery, and the fast retransmission. */
    dupack_sacking(&s, 4);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_recovery);
    CHECK_EQ_U(i.ssthresh, 10220); /* CUBIC: 0.7 * 10 segments */
    /* PRR (pipe > ssthresh): sndcnt = ceil(delivered * ssthresh / RecoverFS)
     * - out in whole segments, RecoverFS = 10 segments (cwnd before the
     * recovery, Linux's prior_cwnd): the next two SACKs earn ceil(14 / 10)
     * = 2 and ceil(21 / 10) = 3 segments, one new segment each; the third
     * earns ceil(28 / 10) = 3, nothing more. */
    dupack_sacking(&s, 5);
    script_expect(&s, .flags = A, .seq = 1 + 12 * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    dupack_sacking(&s, 6);
    script_expect(&s, .flags = A, .seq = 1 + 13 * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    dupack_sacking(&s, 7);
    script_expect_none(&s);
    /* The retransmission arrives: everything up to segment 7 is acknowledged,
     * below the recovery point (12 segments): recovery goes on. */
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 7 * MSS);
    CHECK(script_info(&s, c).in_recovery);
    /* All of it acknowledged: recovery ends with cwnd = ssthresh. */
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 13 * MSS);
    i = script_info(&s, c);
    CHECK(!i.in_recovery);
    CHECK_EQ_U(i.cwnd, 10220);
    script_free(&s);
}
