/* The zero window and the persist timer (RFC 9293 §3.8.6.1, RFC 1122
 * §4.2.2.17) as Linux runs it: a bare ACK at SND.UNA - 1 as the probe, the
 * RTO backing off to 120 s, probing forever while the peer answers, giving up
 * after tcp_retries2 unanswered probes or TCP_USER_TIMEOUT. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define R TCP_FLAG_RST

#define MS 1000ull
#define SEC 1000000ull
#define RTO (300 * MS) /* from a 100 ms handshake sample */

static char data[4096];

static int so_error(struct script *s, int sock)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &v, &len), 0);
    return v;
}

/* The peer closes its window, then the application writes 100 bytes:
 * nothing can go, the persist timer starts (one RTO). Returns the socket;
 * *start is when the timer was armed. */
static int zero_window(struct script *s, uint64_t *start)
{
    int c = script_active_open_rtt(s, &OPTS_MSS_ONLY, 100 * MS);
    CHECK_EQ_U(script_info(s, c).rto_us, RTO);
    script_send(s, .flags = A, .seq = 1, .ack = 1, .win = 0, .win_set = true);
    CHECK_EQ(keel_send(s->st, c, data, 100, 0), 100);
    script_expect_none(s);
    struct keel_tcp_info i = script_info(s, c);
    CHECK(i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK(!i.timer_armed[KEEL_TIMER_RETRANSMIT]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_PERSIST], s->now_us + RTO);
    *start = s->now_us;
    return c;
}

/* Nothing before at_us; at at_us, the probe: <SEQ=SND.UNA-1><ACK> (Linux
 * tcp_xmit_probe_skb), no data. */
static void expect_probe_at(struct script *s, uint64_t at_us)
{
    script_advance_to(s, at_us - 1);
    script_expect_none(s);
    script_advance_to(s, at_us);
    const struct captured *p = script_expect(s, .flags = A, .seq = 0, .ack = 1, .len = 0);
    CHECK_EQ_U(p->at_us, at_us);
    script_expect_none(s);
}

static void answer_closed(struct script *s)
{
    script_send(s, .flags = A, .seq = 1, .ack = 1, .win = 0, .win_set = true);
    script_expect_none(s);
}

/* Probe k (0-based) after the timer started: intervals RTO, 2 RTO, 4 RTO, ...
 * capped at 120 s. */
static uint64_t probe_time(uint64_t start, int k)
{
    uint64_t t = start, iv = RTO;
    for (int j = 0; j <= k; j++) {
        t += iv;
        iv = iv * 2 > 120 * SEC ? 120 * SEC : iv * 2;
    }
    return t;
}

TEST(probe_format_and_exponential_backoff)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t start;
    int c = zero_window(&s, &start);
    for (int k = 0; k < 6; k++) {
        expect_probe_at(&s, probe_time(start, k));
        CHECK_EQ(script_info(&s, c).probes, 1);
        answer_closed(&s);
        struct keel_tcp_info i = script_info(&s, c);
        CHECK_EQ(i.probes, 0); /* answered */
        CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_PERSIST], probe_time(start, k + 1));
    }
    CHECK_EQ(script_counter(&s, KEEL_C_TCPWinProbe), 6);
    CHECK_EQ(script_info(&s, c).snd_unacked, 0);
    script_free(&s);
}

/* RFC 1122 §4.2.2.17: never give up while the peer answers: 45 minutes of
 * probes (every 120 s once backed off), each answered with window 0, and the
 * connection stays, without a single retransmission of data. */
TEST(probes_never_give_up_while_answered)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t start;
    int c = zero_window(&s, &start);
    int k = 0;
    for (; probe_time(start, k) < start + 45 * 60 * SEC; k++) {
        expect_probe_at(&s, probe_time(start, k));
        answer_closed(&s);
    }
    CHECK(k > 15 + 10); /* far beyond tcp_retries2 */
    CHECK_EQ_U(probe_time(start, k) - probe_time(start, k - 1), 120 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPWinProbe), (uint64_t)k);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpRetransSegs), 0);
    /* And the window reopening still works. */
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    script_free(&s);
}

/* Unanswered probes: Linux (tcp_probe_timer) aborts when tcp_retries2 probes
 * are out unanswered: with retries2 = 3, three probes, then ETIMEDOUT at the
 * fourth expiry, without a RST. */
TEST(unanswered_probes_abort_after_retries2)
{
    struct script s;
    script_init(&s, &(struct keel_config){.retries2 = 3});
    uint64_t start;
    int c = zero_window(&s, &start);
    for (int k = 0; k < 3; k++)
        expect_probe_at(&s, probe_time(start, k));
    CHECK_EQ(script_info(&s, c).probes, 3);
    script_advance_to(&s, probe_time(start, 3) - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, probe_time(start, 3));
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    CHECK_EQ(so_error(&s, c), -KEEL_ETIMEDOUT);
    script_free(&s);
}

/* The window update is lost: the next probe, at its scheduled time, draws
 * the open window, and the data leaves at once (within one persist
 * interval of the lost update). */
TEST(lost_window_update_recovered_by_next_probe)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t start;
    int c = zero_window(&s, &start);
    expect_probe_at(&s, probe_time(start, 0));
    answer_closed(&s);
    expect_probe_at(&s, probe_time(start, 1));
    answer_closed(&s);
    /* The peer's application reads now; its window update never arrives. */
    script_advance(&s, 100 * MS);
    expect_probe_at(&s, probe_time(start, 2));
    script_send(&s, .flags = A, .seq = 1, .ack = 1); /* the answer: window open */
    const struct captured *d = script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ_U(d->at_us, probe_time(start, 2));
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(!i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK(i.timer_armed[KEEL_TIMER_RETRANSMIT]);
    script_free(&s);
}

/* Linux tcp_ack_probe: once the window opens the probes' backoff is over:
 * the data sent into it is timed with the plain RTO, not the backed-off one. */
TEST(window_open_resets_probe_backoff)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t start;
    int c = zero_window(&s, &start);
    for (int k = 0; k < 4; k++) {
        expect_probe_at(&s, probe_time(start, k));
        answer_closed(&s);
    }
    CHECK_EQ_U(script_info(&s, c).rto_us, 16 * RTO);
    script_advance(&s, 1 * SEC);
    script_send(&s, .flags = A, .seq = 1, .ack = 1); /* window update */
    uint64_t t = s.now_us;
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ_U(script_info(&s, c).rto_us, RTO);
    script_advance_to(&s, t + RTO - 1);
    script_expect_none(&s);
    script_advance_to(&s, t + RTO);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    script_free(&s);
}

/* A window too small for a segment (and for SWS avoidance) is probed with
 * data (Linux tcp_write_wakeup): what fits goes. That data is in flight, so
 * the retransmission timer takes over, with the plain RTO (Linux
 * tcp_send_probe0 resets the backoff once packets are out). */
TEST(small_window_probed_with_data)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 40);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect_none(&s);
    uint64_t t = s.now_us;
    script_advance_to(&s, t + RTO);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 40);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(!i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK(i.timer_armed[KEEL_TIMER_RETRANSMIT]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_RETRANSMIT], t + 2 * RTO);
    /* ACKed 100 ms later (a sample that leaves the RTO at 300 ms) with the
     * window closed: probing resumes. */
    script_advance_to(&s, t + RTO + 100 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 41, .win = 0, .win_set = true);
    script_expect_none(&s);
    uint64_t t2 = s.now_us;
    i = script_info(&s, c);
    CHECK_EQ_U(i.rto_us, RTO);
    CHECK(i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_PERSIST], t2 + RTO);
    script_advance_to(&s, t2 + RTO);
    script_expect(&s, .flags = A, .seq = 40, .ack = 1, .len = 0);
    script_free(&s);
}

/* TCP_USER_TIMEOUT ends even an answered persist (Linux tcp_probe_timer):
 * counted from the first probe, with the timer clamped to the time left.
 * 3 s: probes at 0.3, 0.9 and 2.1 s, then the abort at 3.3 s. */
TEST(user_timeout_aborts_answered_persist)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t start;
    int c = zero_window(&s, &start);
    int ut = 3000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, &ut, sizeof ut), 0);
    for (int k = 0; k < 3; k++) {
        expect_probe_at(&s, probe_time(start, k));
        answer_closed(&s);
    }
    uint64_t end = probe_time(start, 0) + 3 * SEC;
    script_advance_to(&s, end - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, end);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_ETIMEDOUT);
    script_free(&s);
}
