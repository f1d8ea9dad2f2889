/* Retransmission timers: the SYN and SYN-ACK schedules, RTO estimation
 * (RFC 6298 with Linux's floor), exponential backoff, Karn's algorithm, and
 * giving up (tcp_retries2, TCP_USER_TIMEOUT). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

#define MS 1000ull
#define SEC 1000000ull

static const struct keel_sockaddr peer = {PEER_ADDR, PEER_PORT};

static int so_error(struct script *s, int sock)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &v, &len), 0);
    return v;
}

/* Expects nothing before at_us and the segment at exactly at_us. */
#define EXPECT_AT(s, when, ...)                                               \
    do {                                                                      \
        script_advance_to((s), (when)-1);                                     \
        script_expect_none(s);                                                \
        script_advance_to((s), (when));                                       \
        const struct captured *c_ = script_expect((s), __VA_ARGS__);          \
        CHECK_EQ_U(c_->at_us, (when));                                        \
    } while (0)

/* RFC 6298 §2.1 and Linux tcp_syn_retries = 6: the SYN goes again after 1,
 * 2, 4, 8, 16 and 32 s; 64 s after the sixth retransmission connect fails
 * with ETIMEDOUT, silently. */
TEST(syn_retransmit_schedule_and_etimedout)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EINPROGRESS);
    const struct tcp_opts syn_opts = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS |
                                                 TCP_OPT_WSCALE,
                                      .mss = 1460, .wscale = 7, .tsecr = 0};
    script_expect(&s, .flags = S, .seq = 0, .win = 64240, .opts_set = true, .opts = syn_opts);
    uint64_t at = t0;
    for (int k = 0; k < 6; k++) {
        at += (1ull << k) * SEC;
        EXPECT_AT(&s, at, .flags = S, .seq = 0, .win = 64240, .opts_set = true, .opts = syn_opts);
        CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    }
    CHECK_EQ_U(at, t0 + 63 * SEC);
    script_advance_to(&s, t0 + 127 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    script_advance_to(&s, t0 + 127 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s); /* no RST: nobody answered */
    CHECK_EQ(so_error(&s, c), -KEEL_ETIMEDOUT);
    CHECK_EQ(so_error(&s, c), 0); /* SO_ERROR clears */
    CHECK_EQ(script_counter(&s, KEEL_C_TcpAttemptFails), 1);
    script_free(&s);
}

/* A configured syn_retries is honoured: 2 retries fail after 1 + 2 + 4 s. */
TEST(syn_retries_configurable)
{
    struct script s;
    script_init(&s, &(struct keel_config){.syn_retries = 2});
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EINPROGRESS);
    script_expect(&s, .flags = S, .seq = 0);
    EXPECT_AT(&s, t0 + 1 * SEC, .flags = S, .seq = 0);
    EXPECT_AT(&s, t0 + 3 * SEC, .flags = S, .seq = 0);
    script_advance_to(&s, t0 + 7 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    script_advance_to(&s, t0 + 7 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_ETIMEDOUT);
    script_expect_none(&s);
    script_free(&s);
}

/* Linux tcp_synack_retries = 5: the SYN-ACK goes again after 1, 2, 4, 8 and
 * 16 s; 32 s later the embryonic connection is dropped, silently, and the
 * peer's late ACK is answered with a RST (RFC 9293 §3.10.7.2). */
TEST(synack_retransmit_schedule_then_dropped)
{
    struct script s;
    script_init(&s, NULL);
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_bind(s.st, ls, &(struct keel_sockaddr){0, KEEL_PORT}), 0);
    CHECK_EQ(keel_listen(s.st, ls, 16), 0);
    uint64_t t0 = s.now_us;
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .win = 64240);
    uint64_t at = t0;
    for (int k = 0; k < 5; k++) {
        at += (1ull << k) * SEC;
        EXPECT_AT(&s, at, .flags = S | A, .seq = 0, .ack = 1, .win = 64240, .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS, .mss = 1460});
    }
    script_advance_to(&s, t0 + 63 * SEC);
    script_expect_none(&s);
    CHECK_EQ(keel_accept(s.st, ls, NULL), KEEL_EAGAIN);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = R, .seq = 1);
    CHECK_EQ(keel_accept(s.st, ls, NULL), KEEL_EAGAIN);
    script_free(&s);
}

/* RFC 6298 §2.2 with Linux's floor: the first sample R gives SRTT = R,
 * RTTVAR = R/2 and RTO = SRTT + max(4 * RTTVAR, 200 ms). */
static void check_first_sample_rto(uint64_t rtt_us, uint64_t want_rto_us)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, rtt_us);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.srtt_us, rtt_us);
    CHECK_EQ_U(i.rttvar_us, rtt_us / 2);
    CHECK_EQ_U(i.rto_us, want_rto_us);
    uint64_t t = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), 5);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    EXPECT_AT(&s, t + want_rto_us, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    script_free(&s);
}

TEST(rto_floor_200ms_above_srtt)
{
    check_first_sample_rto(10 * MS, 210 * MS);   /* 10 + max(20, 200) */
    check_first_sample_rto(100 * MS, 300 * MS);  /* 100 + max(200, 200) */
    check_first_sample_rto(200 * MS, 600 * MS);  /* 200 + max(400, 200) */
}

/* A second sample follows RFC 6298 §2.3 (alpha 1/8, beta 1/4): samples of
 * 100 ms then 300 ms give SRTT 125 ms, RTTVAR 87.5 ms, RTO 475 ms. */
TEST(rto_second_sample_rfc6298)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    script_advance(&s, 300 * MS - 1); /* just before the 300 ms RTO */
    script_send(&s, .flags = A, .seq = 1, .ack = 4);
    /* The sample is 300 ms - 1 us; RTTVAR = 37.5 ms + |299.999 - 100| / 4. */
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.srtt_us, 100000 - 12500 + 299999 / 8);
    CHECK_EQ_U(i.rttvar_us, 50000 - 12500 + 199999 / 4);
    CHECK_EQ_U(i.rto_us, i.srtt_us + 4 * i.rttvar_us);
    CHECK_EQ(i.backoff, 0);
    script_free(&s);
}

/* RFC 6298 §5.5: every timeout doubles the RTO, up to Linux's 120 s; after
 * tcp_retries2 = 15 retransmissions (the time they take from a 200 ms base,
 * 924.6 s after the first one) the connection is aborted with ETIMEDOUT,
 * without a RST (Linux tcp_write_err). */
TEST(data_rto_backoff_capped_then_abort_after_retries2)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS); /* RTO 300 ms */
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "0123456789", 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    uint64_t at = t0, rto = 300 * MS;
    for (int k = 0; k < 15; k++) {
        at += rto;
        EXPECT_AT(&s, at, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
        rto = rto * 2 > 120 * SEC ? 120 * SEC : rto * 2;
        CHECK_EQ_U(script_info(&s, c).rto_us, rto);
    }
    CHECK_EQ_U(at, t0 + 873300 * MS); /* ..., 76.5, 153.3 (+76.8), 273.3 (+120), ... */
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, at + 120 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, at + 120 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_ETIMEDOUT);
    CHECK_EQ(keel_recv(s.st, c, (char[4]){0}, 4, 0), 0);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPTimeouts), 15);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPAbortOnTimeout), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpRetransSegs), 15);
    script_free(&s);
}

/* The retry budget (tcp_retries2, as time since the first retransmission)
 * starts again once the peer acknowledges new data: with retries2 = 2 (1.4 s
 * from a 200 ms base) a second loss episode gets its own 1.4 s. */
TEST(retry_budget_restarts_after_ack)
{
    struct script s;
    script_init(&s, &(struct keel_config){.retries2 = 2});
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "ab", 2, 0), 2);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 2);
    EXPECT_AT(&s, t0 + 300 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 2);
    EXPECT_AT(&s, t0 + 900 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 2);
    script_advance_to(&s, t0 + 1000 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 3);
    CHECK_EQ(script_info(&s, c).timer_armed[KEEL_TIMER_RETRANSMIT], 0);
    /* New data, timed with the RTO still backed off (Karn): 1.2 s. */
    CHECK_EQ(keel_send(s.st, c, "cd", 2, 0), 2);
    script_expect(&s, .flags = P | A, .seq = 3, .ack = 1, .len = 2);
    EXPECT_AT(&s, t0 + 2200 * MS, .flags = P | A, .seq = 3, .ack = 1, .len = 2);
    script_advance_to(&s, t0 + 4600 * MS - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, t0 + 4600 * MS); /* 2.4 s >= 1.4 s after 2.2 s */
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    script_free(&s);
}

/* Karn's algorithm (RFC 6298 §3): the ACK of a retransmitted segment gives
 * no RTT sample, whether it arrives soon after the retransmission or late
 * after the original. */
TEST(karn_no_sample_from_retransmitted_segment)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "abcd", 4, 0), 4);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 4);
    EXPECT_AT(&s, t0 + 300 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 4);
    script_advance_to(&s, t0 + 350 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 5);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.srtt_us, 100 * MS); /* neither 350 ms nor 50 ms was sampled */
    CHECK_EQ_U(i.rttvar_us, 50 * MS);
    CHECK_EQ_U(i.snd_una, i.snd_iss + 5);
    script_free(&s);
}

/* RFC 6298 §5 (and Karn's algorithm as Linux applies it, "only reset backoff
 * on valid RTT measurement"): the backed-off RTO stays in force for new data
 * until a segment that was not retransmitted gives a fresh sample; then it
 * collapses to the computed value. */
TEST(karn_backoff_kept_until_valid_sample)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "abcd", 4, 0), 4);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 4);
    EXPECT_AT(&s, t0 + 300 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 4);
    script_advance_to(&s, t0 + 350 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 5); /* ambiguous: no sample */
    CHECK_EQ_U(script_info(&s, c).rto_us, 600 * MS);
    /* New data is timed with the backed-off RTO. */
    uint64_t t1 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "efgh", 4, 0), 4);
    script_expect(&s, .flags = P | A, .seq = 5, .ack = 1, .len = 4);
    script_advance_to(&s, t1 + 300 * MS);
    script_expect_none(&s);
    /* Its ACK after 400 ms is a valid sample: SRTT 137.5 ms, RTTVAR 112.5 ms. */
    script_advance_to(&s, t1 + 400 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 9);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.backoff, 0);
    CHECK_EQ_U(i.srtt_us, 100000 - 12500 + 400000 / 8);
    CHECK_EQ_U(i.rttvar_us, 50000 - 12500 + 300000 / 4);
    CHECK_EQ_U(i.rto_us, i.srtt_us + 4 * i.rttvar_us);
    script_free(&s);
}

/* RFC 6298 §5.7 (Linux tcp_init_metrics): when the handshake gave no RTT
 * sample because the SYN was retransmitted, data starts with a 3 s RTO. */
TEST(rto_3s_after_retransmitted_syn)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    uint64_t t0 = s.now_us;
    EXPECT_AT(&s, t0 + SEC, .flags = S, .seq = 0);
    script_advance(&s, 10 * MS);
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.srtt_us, 0);
    CHECK_EQ_U(i.rto_us, 3 * SEC);
    uint64_t t1 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), 1);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1);
    EXPECT_AT(&s, t1 + 3 * SEC, .flags = P | A, .seq = 1, .ack = 1, .len = 1);
    script_free(&s);
}

/* TCP_USER_TIMEOUT (RFC 5482, Linux semantics): data may stay unacknowledged
 * for at most the user timeout after the first retransmission; Linux clamps
 * the retransmission timer to the time left, so the abort (ETIMEDOUT, no RST)
 * comes exactly then, long before tcp_retries2. */
TEST(user_timeout_aborts_retransmission_early)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    int ut = 5000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, &ut, sizeof ut), 0);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    EXPECT_AT(&s, t0 + 300 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    EXPECT_AT(&s, t0 + 900 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    EXPECT_AT(&s, t0 + 2100 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    EXPECT_AT(&s, t0 + 4500 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    script_advance_to(&s, t0 + 5300 * MS - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, t0 + 5300 * MS); /* 5 s after the first retransmission */
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    CHECK_EQ(so_error(&s, c), -KEEL_ETIMEDOUT);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPUserTimeouts), 1);
    script_free(&s);
}

/* TCP_USER_TIMEOUT longer than the retries2 budget wins over it (Linux:
 * the user timeout replaces the retry count). */
TEST(user_timeout_longer_than_retries2)
{
    struct script s;
    script_init(&s, &(struct keel_config){.retries2 = 2});
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    int ut = 20000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, &ut, sizeof ut), 0);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    /* Retransmissions at 0.3, 0.9, 2.1, 4.5, 9.3 and 18.9 s: more than 2. */
    uint64_t at = t0, rto = 300 * MS;
    for (int k = 0; k < 6; k++) {
        at += rto;
        EXPECT_AT(&s, at, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
        rto *= 2;
    }
    script_advance_to(&s, t0 + 20300 * MS - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, t0 + 20300 * MS);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_recv(s.st, c, (char[4]){0}, 4, 0), KEEL_ETIMEDOUT);
    script_free(&s);
}

/* RFC 7323 §4: with timestamps, the ACK of a retransmission echoes the
 * retransmission's TSval, an unambiguous RTT sample: the backoff ends there
 * (Karn's rule alone would keep it until new data is timed). */
TEST(timestamp_echo_of_retransmission_ends_backoff)
{
    struct script s;
    script_init(&s, NULL);
    struct tcp_opts ts = {.present = TCP_OPT_MSS | TCP_OPT_TS, .mss = 1460, .tsval = 500};
    int c = script_active_open(&s, &ts);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), 1);
    const struct captured *first = script_expect(&s, .flags = TCP_FLAG_ACK | TCP_FLAG_PSH,
                                                 .seq = 1, .ack = 1, .len = 1);
    (void)first;
    script_run_timer(&s); /* RTO 1: backoff 1 */
    script_expect(&s, .flags = TCP_FLAG_ACK | TCP_FLAG_PSH, .seq = 1, .ack = 1, .len = 1);
    script_run_timer(&s); /* RTO 2: backoff 2 */
    const struct captured *rtx = script_expect(&s, .flags = TCP_FLAG_ACK | TCP_FLAG_PSH, .seq = 1,
                                               .ack = 1, .len = 1);
    CHECK_EQ(script_info(&s, c).backoff, 2);
    script_advance(&s, 30000);
    struct seg ack = {.flags = TCP_FLAG_ACK, .seq = 1, .ack = 2};
    ack.opts.present = TCP_OPT_TS;
    ack.opts.tsval = s.peer_tsval;
    ack.opts.tsecr = rtx->h.opts.tsval;
    script_inject(&s, &ack);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.backoff, 0);
    /* The handshake's sample was ~1 us (the SYN-ACK came at once); the
     * retransmission's 30 ms enters with weight 1/8 (RFC 6298 §2.3). */
    CHECK_EQ_U(i.srtt_us, 1 + 30000 / 8);
    script_free(&s);
}
