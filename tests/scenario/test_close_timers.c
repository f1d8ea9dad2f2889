/* The timers of closing: TIME-WAIT's 2 MSL (60 s, Linux TCP_TIMEWAIT_LEN),
 * RFC 1337 (a RST does not end TIME-WAIT), a retransmitted FIN re-ACKed and
 * the 2 MSL restarted (RFC 9293 §3.10.7.4 eighth), and the FIN-WAIT-2
 * timeout of an orphaned socket (Linux tcp_fin_timeout). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define P TCP_FLAG_PSH
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN

#define SEC 1000000ull

struct find {
    uint16_t lport;
    bool found;
    struct keel_tcp_info info;
};

static int find_conn(void *arg, int sock, const struct keel_tcp_info *i)
{
    struct find *f = arg;
    (void)sock;
    if (i->state == KEEL_TCP_LISTEN || i->local_port != f->lport || i->remote_port != PEER_PORT)
        return 0;
    f->info = *i;
    f->found = true;
    return 1;
}

/* The state of keel's connection to the peer, with or without a handle;
 * KEEL_TCP_CLOSED once it is gone. */
static int conn_state(struct script *s, struct keel_tcp_info *info)
{
    struct find f = {.lport = s->keel_port};
    keel_visit_sockets(s->st, find_conn, &f);
    if (info)
        *info = f.info;
    return f.found ? f.info.state : KEEL_TCP_CLOSED;
}

/* keel shuts down writing, the peer ACKs the FIN then sends its own:
 * TIME-WAIT, entered at the returned time. The handle is kept. */
static uint64_t to_time_wait(struct script *s, int c)
{
    CHECK_EQ(keel_shutdown(s->st, c, KEEL_SHUT_WR), 0);
    script_expect(s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(s, .flags = A, .seq = 1, .ack = 2);
    CHECK_EQ(script_state(s, c), KEEL_TCP_FIN_WAIT_2);
    script_advance(s, 1 * SEC);
    script_send(s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(s, .flags = A, .seq = 2, .ack = 2);
    script_expect_none(s);
    CHECK_EQ(script_state(s, c), KEEL_TCP_TIME_WAIT);
    return s->now_us;
}

TEST(time_wait_lasts_60s)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint64_t t = to_time_wait(&s, c);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.timer_armed[KEEL_TIMER_TIME_WAIT]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 60 * SEC);
    CHECK_EQ(keel_recv(s.st, c, (char[4]){0}, 4, 0), 0); /* EOF */
    script_advance_to(&s, t + 60 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_TIME_WAIT);
    script_advance_to(&s, t + 60 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    /* The 4-tuple is free: a segment for it now meets no connection. */
    script_send(&s, .flags = A, .seq = 2, .ack = 2);
    script_expect(&s, .flags = R, .seq = 2);
    script_free(&s);
}

/* A configured time_wait_us is honoured. */
TEST(time_wait_length_configurable)
{
    struct script s;
    script_init(&s, &(struct keel_config){.time_wait_us = 5 * SEC});
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint64_t t = to_time_wait(&s, c);
    script_advance_to(&s, t + 5 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_TIME_WAIT);
    script_advance_to(&s, t + 5 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_free(&s);
}

/* RFC 1337 ("TIME-WAIT assassination"): a RST, even at exactly RCV.NXT, is
 * ignored in TIME-WAIT: no answer, and the 2 MSL runs on unchanged. */
TEST(rst_ignored_in_time_wait)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint64_t t = to_time_wait(&s, c);
    script_advance(&s, 10 * SEC);
    script_send(&s, .flags = R, .seq = 2);
    script_send(&s, .flags = R | A, .seq = 2, .ack = 2);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.state, KEEL_TCP_TIME_WAIT);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 60 * SEC);
    CHECK_EQ(keel_recv(s.st, c, (char[4]){0}, 4, 0), 0); /* no error reported */
    script_advance_to(&s, t + 60 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_free(&s);
}

/* RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "the only thing that can arrive in
 * this state is a retransmission of the remote FIN. Acknowledge it, and
 * restart the 2 MSL timeout." (Linux tcp_timewait_state_process too.) */
TEST(retransmitted_fin_reacked_and_2msl_restarted)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint64_t t = to_time_wait(&s, c);
    script_advance_to(&s, t + 30 * SEC);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(&s, .flags = A, .seq = 2, .ack = 2);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.state, KEEL_TCP_TIME_WAIT);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 90 * SEC);
    script_advance_to(&s, t + 90 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_TIME_WAIT);
    script_advance_to(&s, t + 90 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_free(&s);
}

/* close() after the FIN is ACKed leaves an orphan in FIN-WAIT-2 that waits
 * for the peer's FIN at most tcp_fin_timeout (60 s), then disappears without
 * a word; a late segment from the peer meets no connection. */
TEST(orphan_fin_wait_2_times_out)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 2);
    uint64_t t = s.now_us;
    struct keel_tcp_info i;
    CHECK_EQ(conn_state(&s, &i), KEEL_TCP_FIN_WAIT_2);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 60 * SEC);
    script_advance_to(&s, t + 60 * SEC - 1);
    CHECK_EQ(conn_state(&s, NULL), KEEL_TCP_FIN_WAIT_2);
    script_advance_to(&s, t + 60 * SEC);
    CHECK_EQ(conn_state(&s, NULL), KEEL_TCP_CLOSED);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFinWait2Timeouts), 1);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(&s, .flags = R, .seq = 2);
    script_free(&s);
}

/* keel_config.fin_timeout_us shortens it; the peer's FIN in time still
 * leads to TIME-WAIT as usual. */
TEST(fin_timeout_configurable)
{
    struct script s;
    script_init(&s, &(struct keel_config){.fin_timeout_us = 5 * SEC});
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 2);
    uint64_t t = s.now_us;
    script_advance_to(&s, t + 4 * SEC);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(&s, .flags = A, .seq = 2, .ack = 2);
    struct keel_tcp_info i;
    CHECK_EQ(conn_state(&s, &i), KEEL_TCP_TIME_WAIT);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 64 * SEC);
    script_advance_to(&s, t + 64 * SEC);
    CHECK_EQ(conn_state(&s, NULL), KEEL_TCP_CLOSED);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFinWait2Timeouts), 0);
    script_free(&s);
}

/* A FIN-WAIT-2 socket the application still holds (it only shut down
 * writing) waits for the peer's FIN as long as it takes (RFC 9293; Linux
 * times out only orphans). Closing it later starts the FIN timeout then. */
TEST(fin_wait_2_with_handle_waits_until_closed)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 2);
    CHECK(!script_info(&s, c).timer_armed[KEEL_TIMER_TIME_WAIT]);
    script_advance(&s, 600 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_FIN_WAIT_2);
    /* Still receiving. */
    script_send(&s, .flags = P | A, .seq = 1, .ack = 2, .len = 3);
    script_expect(&s, .flags = A, .seq = 2, .ack = 4);
    CHECK_EQ(keel_recv(s.st, c, (char[8]){0}, 8, 0), 3);
    uint64_t t = s.now_us;
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect_none(&s);
    struct keel_tcp_info i;
    CHECK_EQ(conn_state(&s, &i), KEEL_TCP_FIN_WAIT_2);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 60 * SEC);
    script_advance_to(&s, t + 60 * SEC);
    CHECK_EQ(conn_state(&s, NULL), KEEL_TCP_CLOSED);
    script_free(&s);
}

/* An orphan whose FIN crosses the peer's: CLOSING, then TIME-WAIT on the ACK
 * of our FIN, for 60 s. */
TEST(closing_then_time_wait)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 1); /* the FINs crossed */
    script_expect(&s, .flags = A, .seq = 2, .ack = 2);
    CHECK_EQ(conn_state(&s, NULL), KEEL_TCP_CLOSING);
    script_advance(&s, 1 * SEC);
    script_send(&s, .flags = A, .seq = 2, .ack = 2);
    uint64_t t = s.now_us;
    struct keel_tcp_info i;
    CHECK_EQ(conn_state(&s, &i), KEEL_TCP_TIME_WAIT);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_TIME_WAIT], t + 60 * SEC);
    script_advance_to(&s, t + 60 * SEC);
    CHECK_EQ(conn_state(&s, NULL), KEEL_TCP_CLOSED);
    script_free(&s);
}
