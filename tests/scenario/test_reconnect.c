/* Prompt reconnection (SCENARIOS.md stories 2 and 4): a SYN that meets a
 * stale connection on its 4-tuple draws a challenge ACK, the connecting side
 * answers with a RST, and its SYN goes again one round trip later, not one
 * initial RTO later. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST

/* keel connects; the "peer" still holds an old connection on the same
 * 4-tuple and answers the SYN with a challenge ACK for its old numbers. */
TEST(syn_sent_resets_stale_peer_and_retries_after_one_rtt)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr to = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(s.st, c, &to), KEEL_EINPROGRESS);
    s.keel_port = script_expect(&s, .flags = S, .seq = 0)->h.sport;
    script_advance(&s, 2000); /* one round trip: 2 ms */
    /* The stale connection's ACK: its sequence numbers, not ours. */
    script_send(&s, .flags = A, .seq = 5000, .ack = 777777, .abs_ack = true);
    /* RFC 9293 §3.10.7.3: an unacceptable ACK in SYN-SENT gets <SEQ=SEG.ACK><CTL=RST>. */
    script_expect(&s, .flags = R, .seq = 777777, .abs_seq = true);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    /* The SYN goes again one measured round trip later (2 ms), not at 1 s. */
    script_advance(&s, 1999);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = S, .seq = 0);
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* keel holds a CLOSE_WAIT its application leaked; the peer reconnects from
 * the same port. */
TEST(close_wait_answers_new_syn_with_challenge_then_accepts_after_rst)
{
    struct script s;
    script_init(&s, NULL);
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr any = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s.st, ls, &any), 0);
    CHECK_EQ(keel_listen(s.st, ls, 8), 0);
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 2);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSE_WAIT);
    /* The peer forgot (its FIN-WAIT-2 timed out) and reconnects. */
    script_advance(&s, 60000000);
    script_send(&s, .flags = S, .seq = 900000, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 2); /* RFC 5961 §4: challenge ACK */
    struct keel_counters k;
    keel_counters(s.st, &k);
    CHECK_EQ_U(k.v[KEEL_C_TCPSYNChallenge], 1);
    CHECK_EQ_U(k.v[KEEL_C_WatchdogHalfOpen], 0); /* one SYN: not yet a stall */
    /* The peer's RST carries the challenge's ACK number: exact, so it resets. */
    script_send(&s, .flags = R, .seq = 2);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_send(&s, .flags = S, .seq = 900000, .opts = OPTS_MSS_ONLY);
    /* A new connection: a SYN-ACK with a fresh ISN, acknowledging the SYN. */
    CHECK_EQ(script_pending(&s), 1);
    const struct captured *sa = &s.out[s.nout - 1];
    CHECK_EQ(sa->h.flags, S | A);
    CHECK_EQ_U(sa->h.ack, PEER_ISN + 900001);
    script_free(&s);
}

/* A second SYN on a connection that survived the challenge is a half-open
 * stall, and the watchdog names it. */
TEST(second_syn_on_stale_connection_is_named_half_open)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = S, .seq = 900000, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_advance(&s, 1000000);
    script_send(&s, .flags = S, .seq = 900000, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    struct keel_tcp_info i;
    CHECK_EQ(keel_tcp_info(s.st, c, &i), 0);
    CHECK(i.stalls & (1u << KEEL_STALL_HALF_OPEN));
    struct keel_counters k;
    keel_counters(s.st, &k);
    CHECK_EQ_U(k.v[KEEL_C_WatchdogHalfOpen], 1);
    struct keel_trace_event ev[64];
    int n = keel_trace_read(s.st, ev, 64, NULL);
    bool traced = false;
    for (int e = 0; e < n; e++)
        traced |= ev[e].kind == KEEL_EV_STALL && ev[e].a == KEEL_STALL_HALF_OPEN;
    CHECK(traced);
    script_free(&s);
}
