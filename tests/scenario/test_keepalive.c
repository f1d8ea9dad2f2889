/* Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) with Linux's knobs:
 * SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT. The probe is a bare
 * ACK at SND.UNA - 1; an answer (anything received) restarts the idle time;
 * TCP_KEEPCNT unanswered probes reset the connection (Linux
 * tcp_keepalive_timer sends a RST) with ETIMEDOUT. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define R TCP_FLAG_RST

#define SEC 1000000ull

static int setopt(struct script *s, int sock, int level, int name, int v)
{
    return keel_setsockopt(s->st, sock, level, name, &v, sizeof v);
}

static int getopt_int(struct script *s, int sock, int level, int name)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, level, name, &v, &len), 0);
    CHECK_EQ(len, sizeof v);
    return v;
}

/* Established at *t0 with idle 10 s, interval 5 s, count 3; SO_KEEPALIVE is
 * set last (the timer starts with the idle time from then). */
static int open_keepalive(struct script *s, uint64_t *t0)
{
    int c = script_active_open(s, &OPTS_MSS_ONLY);
    *t0 = s->now_us;
    CHECK_EQ(setopt(s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE, 10), 0);
    CHECK_EQ(setopt(s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPINTVL, 5), 0);
    CHECK_EQ(setopt(s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPCNT, 3), 0);
    CHECK_EQ(setopt(s, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, 1), 0);
    return c;
}

/* The probe: <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data, at exactly at_us. */
static void expect_probe_seq_at(struct script *s, uint64_t at_us, uint32_t seq, uint32_t ack)
{
    script_advance_to(s, at_us - 1);
    script_expect_none(s);
    script_advance_to(s, at_us);
    const struct captured *p = script_expect(s, .flags = A, .seq = seq, .ack = ack, .len = 0);
    CHECK_EQ_U(p->at_us, at_us);
    script_expect_none(s);
}

static void expect_probe_at(struct script *s, uint64_t at_us)
{
    expect_probe_seq_at(s, at_us, 0, 1);
}

TEST(options_read_back)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t t0;
    int c = open_keepalive(&s, &t0);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE), 1);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE), 10);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPINTVL), 5);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPCNT), 3);
    /* Linux's ranges: idle and interval 1..32767 s, count 1..127. */
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE, 0), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE, 32768), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPINTVL, 0), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPCNT, 0), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPCNT, 128), KEEL_EINVAL);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE), 10);
    script_free(&s);
}

/* Probes after 10 s of silence, then every 5 s; at the expiry after the third
 * unanswered one the connection is reset: <SEQ=SND.NXT><CTL=RST,ACK>, and
 * the application sees ETIMEDOUT. */
TEST(unanswered_probes_reset_with_etimedout)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t t0;
    int c = open_keepalive(&s, &t0);
    expect_probe_at(&s, t0 + 10 * SEC);
    expect_probe_at(&s, t0 + 15 * SEC);
    expect_probe_at(&s, t0 + 20 * SEC);
    CHECK_EQ(script_info(&s, c).probes, 3);
    script_advance_to(&s, t0 + 25 * SEC - 1);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, t0 + 25 * SEC);
    script_expect(&s, .flags = R | A, .seq = 1, .ack = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_recv(s.st, c, (char[8]){0}, 8, 0), KEEL_ETIMEDOUT);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPKeepAliveProbes), 3);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPKeepAliveTimeouts), 1);
    script_free(&s);
}

/* An answer to a probe proves the peer alive: the count starts over and the
 * next probe comes a full idle time after the answer. */
TEST(answer_restarts_idle_time)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t t0;
    int c = open_keepalive(&s, &t0);
    expect_probe_at(&s, t0 + 10 * SEC);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).probes, 0);
    expect_probe_at(&s, t0 + 20 * SEC);
    expect_probe_at(&s, t0 + 25 * SEC);
    /* Answered late, 2 s into the interval: the next probe is 10 s after it. */
    script_advance_to(&s, t0 + 27 * SEC);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    expect_probe_at(&s, t0 + 37 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* Traffic from the peer keeps the connection from going idle. */
TEST(received_data_defers_probe)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t t0;
    int c = open_keepalive(&s, &t0);
    script_advance_to(&s, t0 + 7 * SEC);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    script_expect(&s, .flags = A, .seq = 1, .ack = 6);
    script_advance_to(&s, t0 + 10 * SEC);
    script_expect_none(&s);
    expect_probe_seq_at(&s, t0 + 17 * SEC, 0, 6);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* Linux re-arms the keepalive timer when TCP_KEEPIDLE changes on a socket
 * that already has SO_KEEPALIVE (the common order in applications): the new
 * idle time counts from the last segment received. */
TEST(keepidle_set_after_so_keepalive)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint64_t t0 = s.now_us;
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, 1), 0);
    script_advance_to(&s, t0 + 3 * SEC);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE, 10), 0);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPINTVL, 5), 0);
    expect_probe_at(&s, t0 + 10 * SEC);
    expect_probe_at(&s, t0 + 15 * SEC);
    script_free(&s);
}

/* Linux's defaults: 2 hours idle, probes every 75 s, 9 of them. */
TEST(default_timing)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint64_t t0 = s.now_us;
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, 1), 0);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE), 7200);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPINTVL), 75);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPCNT), 9);
    for (uint64_t k = 0; k < 9; k++)
        expect_probe_at(&s, t0 + 7200 * SEC + k * 75 * SEC);
    script_advance_to(&s, t0 + 7875 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, t0 + 7875 * SEC);
    script_expect(&s, .flags = R | A, .seq = 1, .ack = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_free(&s);
}

/* Without SO_KEEPALIVE (or after clearing it) an idle connection is never
 * probed. */
TEST(no_probe_without_so_keepalive)
{
    struct script s;
    script_init(&s, NULL);
    uint64_t t0;
    int c = open_keepalive(&s, &t0);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, 0), 0);
    script_advance_to(&s, t0 + 3 * 3600 * SEC);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* Keepalive probes are for idle connections: while data is outstanding the
 * retransmission timer watches the peer instead. */
TEST(no_probe_while_data_outstanding)
{
    struct script s;
    script_init(&s, &(struct keel_config){.retries2 = 15});
    uint64_t t0;
    int c = open_keepalive(&s, &t0);
    script_advance_to(&s, t0 + 9 * SEC);
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), 5);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    /* Only retransmissions of the data until it is acknowledged at 13 s. */
    script_advance_to(&s, t0 + 13 * SEC);
    while (script_pending(&s))
        script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    script_send(&s, .flags = A, .seq = 1, .ack = 6);
    expect_probe_seq_at(&s, t0 + 23 * SEC, 5, 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}
