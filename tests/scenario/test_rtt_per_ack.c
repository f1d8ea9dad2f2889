/* Round-trip samples as Linux takes them (tcp_clean_rtx_queue,
 * tcp_ack_update_rtt): one on every ACK that newly acknowledges data never
 * retransmitted, from the earliest such transmission (seq_rtt); else from
 * the earliest newly SACKed one (sack_rtt); min_rtt from the latest
 * (ca_rtt); and a timestamp echo only when neither exists. SRTT, RTTVAR
 * and RTO follow RFC 6298 §2.3 with Linux's 200 ms floor on 4 * RTTVAR.
 * Every test opens with a 100 ms handshake: SRTT 100 ms, RTTVAR 50 ms. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

#define MS 1000ull

/* Expects nothing before at_us and the segment at exactly at_us. */
#define EXPECT_AT(s, when, ...)                                               \
    do {                                                                      \
        script_advance_to((s), (when)-1);                                     \
        script_expect_none(s);                                                \
        script_advance_to((s), (when));                                       \
        const struct captured *c_ = script_expect((s), __VA_ARGS__);          \
        CHECK_EQ_U(c_->at_us, (when));                                        \
    } while (0)
#define MSS 1460u

static const struct tcp_opts OPTS_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                          .mss = MSS};
static const struct tcp_opts OPTS_TS = {.present = TCP_OPT_MSS | TCP_OPT_TS, .mss = MSS,
                                        .tsval = 1};
#define TS_MSS (MSS - 12) /* the payload beside the timestamp option */

/* A full segment of len bytes written and sent now: the k-th. */
static const struct captured *send_len(struct script *s, int c, uint32_t k, uint32_t len)
{
    static uint8_t buf[MSS];
    CHECK_EQ(keel_send(s->st, c, buf, len, 0), (long)len);
    return script_expect(s, .flags = P | A, .seq = 1 + k * len, .ack = 1, .len = len);
}

static void send_segment(struct script *s, int c, uint32_t k)
{
    send_len(s, c, k, MSS);
}

/* A duplicate ACK of 1 SACKing [left, right) (relative). */
static void sack(struct script *s, uint32_t left, uint32_t right)
{
    struct seg g = {.flags = A, .seq = 1, .ack = 1};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 1;
    g.opts.sack[0].left = s->keel_isn + left;
    g.opts.sack[0].right = s->keel_isn + right;
    script_inject(s, &g);
}

static void check_rtt(struct script *s, int c, uint32_t srtt, uint32_t rttvar, uint32_t rto,
                      uint32_t min_rtt)
{
    struct keel_tcp_info i = script_info(s, c);
    CHECK_EQ_U(i.srtt_us, srtt);
    CHECK_EQ_U(i.rttvar_us, rttvar);
    CHECK_EQ_U(i.rto_us, rto);
    CHECK_EQ_U(i.min_rtt_us, min_rtt);
}

/* Two ACKs within one round trip give two samples (one timed segment per
 * round trip, RFC 6298's classic timing, would give one): 100 ms, then
 * 120 ms for the segment sent 20 ms later. */
TEST(rtt_sample_on_every_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    send_segment(&s, c, 0);
    script_advance(&s, 20 * MS);
    send_segment(&s, c, 1);
    script_advance(&s, 80 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + MSS);
    /* 100 ms: SRTT stays, RTTVAR 50 - 12.5 ms. */
    check_rtt(&s, c, 100000, 37500, 300000, 100000);
    script_advance(&s, 40 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS);
    /* 120 ms: SRTT 100 - 12.5 + 15, RTTVAR 37.5 - 9.375 + 20 / 4. */
    check_rtt(&s, c, 102500, 33125, 302500, 100000);
    script_free(&s);
}

/* An ACK of two transmissions times the earlier for SRTT (seq_rtt) and the
 * later for min_rtt (ca_rtt). */
TEST(rtt_cumulative_ack_times_earliest_min_rtt_latest)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    send_segment(&s, c, 0);
    script_advance(&s, 30 * MS);
    send_segment(&s, c, 1);
    script_advance(&s, 90 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS);
    /* seq_rtt 120 ms: SRTT 102.5 ms, RTTVAR 37.5 + 5 ms; ca_rtt 90 ms. */
    check_rtt(&s, c, 102500, 42500, 302500, 90000);
    script_free(&s);
}

/* An ACK that only SACKs times the SACKed transmission (sack_rtt); the
 * cumulative ACK that later covers it times only what was not SACKed. */
TEST(rtt_sack_only_ack_samples_sacked_data)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_SACK, 100 * MS);
    send_segment(&s, c, 0);
    script_advance(&s, 20 * MS);
    send_segment(&s, c, 1);
    script_advance(&s, 130 * MS);
    sack(&s, 1 + MSS, 1 + 2 * MSS);
    /* 130 ms: SRTT 100 - 12.5 + 16.25, RTTVAR 37.5 + 30 / 4. */
    check_rtt(&s, c, 103750, 45000, 303750, 100000);
    script_advance(&s, 2 * MS); /* before RACK's reordering window ends */
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS);
    /* 1:1461 was sent 152 ms ago and never retransmitted: seq_rtt 152 ms
     * (1461:2921 was SACKed before and does not count for min_rtt). */
    check_rtt(&s, c, 103750 - 12968 + 19000, 45000 - 11250 + 48250 / 4, 109782 + 200000,
              100000);
    script_free(&s);
}

/* With timestamps, the transmission the ACK acknowledges still sets the
 * sample (Linux prefers seq_rtt); the echoed TSval, here of the later
 * segment, would say 80 ms. */
TEST(rtt_seq_sample_preferred_to_timestamp_echo)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_TS, 100 * MS);
    send_len(&s, c, 0, TS_MSS);
    script_advance(&s, 20 * MS);
    uint32_t tsval = send_len(&s, c, 1, TS_MSS)->h.opts.tsval;
    script_advance(&s, 80 * MS);
    struct seg g = {.flags = A, .seq = 1, .ack = 1 + 2 * TS_MSS};
    g.opts.present = TCP_OPT_TS;
    g.opts.tsval = s.peer_tsval;
    g.opts.tsecr = tsval;
    script_inject(&s, &g);
    check_rtt(&s, c, 100000, 37500, 300000, 80000);
    script_free(&s);
}

/* A retransmission takes only its own bytes out of timing (Karn, per
 * transmission as Linux marks TCPCB_RETRANS): after the tail loss probe
 * resends 2921:4381 and the RTO 1:1461, a SACK of 1461:2921, sent before
 * them but never again, is a sample; a SACK of the probed segment and the
 * cumulative ACK that covers resent bytes give none. */
TEST(rtt_retransmission_untimes_only_its_bytes)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_SACK, 100 * MS);
    uint64_t t0 = s.now_us;
    for (uint32_t k = 0; k < 3; k++) {
        send_segment(&s, c, k);
        script_advance(&s, 10 * MS);
    }
    /* The probe: PTO 2 * SRTT + 2 ms after the last transmission. */
    EXPECT_AT(&s, t0 + 222 * MS, .flags = P | A, .seq = 1 + 2 * MSS, .ack = 1, .len = MSS);
    EXPECT_AT(&s, t0 + 522 * MS, .flags = P | A, .seq = 1, .ack = 1, .len = MSS);
    script_advance(&s, 20 * MS);
    CHECK_EQ(script_info(&s, c).backoff, 1);
    sack(&s, 1 + MSS, 1 + 2 * MSS);
    /* 532 ms: SRTT 100 - 12.5 + 66.5, RTTVAR 50 - 12.5 + 432 / 4; the backoff ends. */
    check_rtt(&s, c, 154000, 145500, 154000 + 4 * 145500, 100000);
    CHECK_EQ(script_info(&s, c).backoff, 0);
    sack(&s, 1 + MSS, 1 + 3 * MSS);
    check_rtt(&s, c, 154000, 145500, 154000 + 4 * 145500, 100000);
    script_advance(&s, 10 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 3 * MSS);
    check_rtt(&s, c, 154000, 145500, 154000 + 4 * 145500, 100000);
    script_free(&s);
}

/* A FIN takes sequence space but carries no data to time: the ACK that
 * covers data and FIN is timed by the data (Linux times the skb). */
TEST(rtt_ack_of_data_and_fin_samples_the_data)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    send_segment(&s, c, 0);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = TCP_FLAG_FIN | A, .seq = 1 + MSS, .ack = 1);
    script_advance(&s, 120 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 2 + MSS);
    /* 120 ms: SRTT 100 - 12.5 + 15, RTTVAR 50 - 12.5 + 20 / 4. */
    check_rtt(&s, c, 102500, 42500, 302500, 100000);
    script_free(&s);
}

/* Every transmission in flight is timed, however many there are: with 40
 * segments out (initcwnd 40 from the route) and no timestamps to fall back
 * on, the ACK of the first gives its sample (the log of new data grows with
 * the flight; a log of 32 marks had dropped the oldest, and SRTT froze). */
TEST(rtt_sample_with_many_segments_in_flight)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    struct keel_route r = {.dst = PEER_ADDR, .prefix_len = 32, .initcwnd = 40};
    CHECK_EQ(keel_route_set(s.st, &r), 0);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    for (uint32_t k = 0; k < 40; k++)
        send_segment(&s, c, k);
    script_advance(&s, 140 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + MSS);
    /* 140 ms: SRTT 100 - 12.5 + 17.5, RTTVAR 37.5 + 40 / 4. */
    check_rtt(&s, c, 105000, 47500, 305000, 100000);
    script_free(&s);
}
