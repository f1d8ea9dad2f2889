/* Delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2) as Linux sends them:
 * quick-ACK mode for the first 16 segments, then an ACK for every second
 * full-sized segment or after 40 ms; out-of-order data and hole fills are
 * acknowledged at once, with SACK blocks; TCP_QUICKACK. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

#define MS 1000ull
#define MSS 1460u
#define WIN 64240u /* 44 * 1460: half the default 128 KiB buffer, whole segments */

static const struct tcp_opts OPTS_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1460};

/* Peer data segment k (0-based) of MSS bytes. */
static void peer_segment(struct script *s, uint32_t k)
{
    script_send(s, .flags = A, .seq = 1 + k * MSS, .ack = 1, .len = MSS);
}

/* The peer sends 16 full segments, 1 ms apart; each is acknowledged at once
 * (quick-ACK mode), with the window shrinking by what the application has
 * not read. */
static void exhaust_quickacks(struct script *s)
{
    for (uint32_t k = 0; k < 16; k++) {
        peer_segment(s, k);
        script_expect(s, .flags = A, .seq = 1, .ack = 1 + (k + 1) * MSS,
                      .win = (uint16_t)(WIN - (k + 1) * MSS), .win_set = true);
        script_expect_none(s);
        script_advance(s, 1 * MS);
    }
}

TEST(quickack_first_16_segments)
{
    struct script s;
    script_init(&s, NULL);
    script_active_open(&s, &OPTS_MSS_ONLY);
    exhaust_quickacks(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPQuickAcks), 16);
    /* The 17th is the first one held back. */
    peer_segment(&s, 16);
    script_expect_none(&s);
    script_free(&s);
}

/* Out of quick-ACK mode: one full segment is held, the second is ACKed at
 * once (RFC 5681 §4.2: at least every second full-sized segment). */
TEST(ack_every_second_full_segment)
{
    struct script s;
    script_init(&s, NULL);
    script_active_open(&s, &OPTS_MSS_ONLY);
    exhaust_quickacks(&s);
    for (uint32_t k = 16; k < 24; k += 2) {
        peer_segment(&s, k);
        script_expect_none(&s);
        script_advance(&s, 1 * MS);
        peer_segment(&s, k + 1);
        script_expect(&s, .flags = A, .seq = 1, .ack = 1 + (k + 2) * MSS,
                      .win = (uint16_t)(WIN - (k + 2) * MSS), .win_set = true);
        script_expect_none(&s);
        script_advance(&s, 1 * MS);
    }
    CHECK_EQ(script_counter(&s, KEEL_C_TCPDelayedACKs), 0);
    script_free(&s);
}

/* A lone segment out of quick-ACK mode is acknowledged by the delayed-ACK
 * timer, 40 ms later (Linux TCP_DELACK_MIN / TCP_ATO_MIN). */
TEST(lone_segment_acked_after_40ms)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    exhaust_quickacks(&s);
    uint64_t t = s.now_us;
    script_send(&s, .flags = P | A, .seq = 1 + 16 * MSS, .ack = 1, .len = 100);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.timer_armed[KEEL_TIMER_DELACK]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_DELACK], t + 40 * MS);
    script_advance_to(&s, t + 40 * MS - 1);
    script_expect_none(&s);
    script_advance_to(&s, t + 40 * MS);
    const struct captured *ack = script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 16 * MSS + 100,
                                               .win = (uint16_t)(WIN - 16 * MSS - 100), .win_set = true);
    CHECK_EQ_U(ack->at_us, t + 40 * MS);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPDelayedACKs), 1);
    script_free(&s);
}

/* A segment above RCV.NXT is acknowledged at once (a duplicate ACK, RFC 5681
 * §4.2), with a SACK block for it (RFC 2018), even out of quick-ACK mode. */
TEST(out_of_order_acked_at_once_with_sack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_SACK);
    exhaust_quickacks(&s);
    uint32_t hole = 1 + 16 * MSS;
    script_send(&s, .flags = A, .seq = hole + MSS, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 1, .ack = hole, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1,
                           .sack = {{PEER_ISN + hole + MSS, PEER_ISN + hole + 2 * MSS}}});
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).rcv_ooo_bytes, MSS);
    /* The segment that fills the hole is acknowledged at once too, and the
     * SACK block is gone (RCV.NXT passed it). */
    script_send(&s, .flags = A, .seq = hole, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 1, .ack = hole + 2 * MSS, .opts_set = true,
                  .opts = {.present = 0});
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).timer_armed[KEEL_TIMER_DELACK], 0);
    script_free(&s);
}

/* Out-of-order data is ACKed at once also while the delayed-ACK timer runs
 * for earlier data: the ACK covers both and stops the timer. */
TEST(out_of_order_preempts_delayed_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_SACK);
    exhaust_quickacks(&s);
    uint32_t next = 1 + 16 * MSS;
    script_send(&s, .flags = P | A, .seq = next, .ack = 1, .len = 10);
    script_expect_none(&s);
    CHECK(script_info(&s, c).timer_armed[KEEL_TIMER_DELACK]);
    script_advance(&s, 5 * MS);
    script_send(&s, .flags = P | A, .seq = next + 20, .ack = 1, .len = 10);
    script_expect(&s, .flags = A, .seq = 1, .ack = next + 10, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1,
                           .sack = {{PEER_ISN + next + 20, PEER_ISN + next + 30}}});
    CHECK_EQ(script_info(&s, c).timer_armed[KEEL_TIMER_DELACK], 0);
    script_advance(&s, 100 * MS);
    script_expect_none(&s);
    script_free(&s);
}

/* TCP_QUICKACK (Linux): set while an ACK is being delayed and the application
 * has read everything, it sends that ACK at once. */
TEST(tcp_quickack_sends_pending_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    exhaust_quickacks(&s);
    static char buf[16 * 1460 + 100];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 16 * MSS);
    /* Reading 23360 bytes of a 64240-byte space does not double the window
     * (40880 offered): no window update. */
    script_expect_none(&s);
    script_advance(&s, 1 * MS);
    script_send(&s, .flags = P | A, .seq = 1 + 16 * MSS, .ack = 1, .len = 100);
    script_expect_none(&s);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 100);
    script_expect_none(&s);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_QUICKACK, &one, sizeof one), 0);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 16 * MSS + 100);
    CHECK_EQ(script_info(&s, c).timer_armed[KEEL_TIMER_DELACK], 0);
    script_advance(&s, 100 * MS);
    script_expect_none(&s);
    script_free(&s);
}

/* Data carrying the FIN is acknowledged at once (RFC 9293 §3.10.7.4 eighth),
 * out of quick-ACK mode too. */
TEST(fin_acked_at_once)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    exhaust_quickacks(&s);
    script_send(&s, .flags = TCP_FLAG_FIN | P | A, .seq = 1 + 16 * MSS, .ack = 1, .len = 10);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 16 * MSS + 11);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSE_WAIT);
    script_free(&s);
}
