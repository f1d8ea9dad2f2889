/* RFC 5961, blind in-window attacks: a RST resets only at exactly RCV.NXT
 * (§3.2), one elsewhere in the window draws a challenge ACK, one outside is
 * dropped; a SYN in a synchronized state draws a challenge ACK (§4.2); ACKs
 * too old or for unsent data are refused (§5.2); challenge ACKs are rate
 * limited per connection (§7; keel_config.challenge_ack_per_sec). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define P TCP_FLAG_PSH
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN

#define SEC 1000000ull
#define WIN 64240u /* keel's window after the handshake */

static void expect_challenge_ack_to(struct script *s, uint32_t ack)
{
    script_expect(s, .flags = A, .seq = 1, .ack = ack, .len = 0);
    script_expect_none(s);
}

static void expect_challenge_ack(struct script *s)
{
    expect_challenge_ack_to(s, 1);
}

/* A RST at exactly RCV.NXT resets: the next call reports ECONNRESET once
 * (Linux tcp_reset, sock_error), after which reading gives end of stream and
 * writing EPIPE. Nothing is sent in answer. */
TEST(rst_exact_seq_resets_recv_econnreset)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = R, .seq = 1);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLERR);
    char buf[8];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), KEEL_ECONNRESET);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 0);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EPIPE);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpEstabResets), 1);
    script_free(&s);
}

TEST(rst_exact_seq_resets_send_econnreset)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = R | A, .seq = 1, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_ECONNRESET);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EPIPE);
    int err = -1;
    size_t len = sizeof err;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &err, &len), 0);
    CHECK_EQ(err, 0); /* already reported */
    script_free(&s);
}

/* Unread data does not hide the reset: it stays readable, then the error
 * comes (Linux: recv returns queued bytes first). */
TEST(rst_after_data_reads_data_then_econnreset)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 4);
    script_expect(&s, .flags = A, .seq = 1, .ack = 5);
    script_send(&s, .flags = R, .seq = 5);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    char buf[8];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 4);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), KEEL_ECONNRESET);
    script_free(&s);
}

/* A RST anywhere else in the window (here RCV.NXT + 1, the middle and the
 * last byte) is answered with a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> and
 * changes nothing; the peer's genuine RST, at RCV.NXT, then resets. */
TEST(rst_in_window_gets_challenge_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    const uint32_t seqs[] = {2, 1 + WIN / 2, WIN};
    for (int k = 0; k < 3; k++) {
        script_send(&s, .flags = R, .seq = seqs[k]);
        expect_challenge_ack(&s);
        CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    }
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 3);
    script_send(&s, .flags = R, .seq = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    script_free(&s);
}

/* A RST outside the window (before RCV.NXT, or past RCV.NXT + RCV.WND) is
 * silently dropped. */
TEST(rst_out_of_window_ignored)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = R, .seq = 0);
    script_send(&s, .flags = R, .seq = (uint32_t)-1000);
    script_send(&s, .flags = R, .seq = 1 + WIN + 1);
    script_send(&s, .flags = R | A, .seq = 1 + 100000, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 0);
    /* The connection still works. */
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    script_expect(&s, .flags = A, .seq = 1, .ack = 4);
    script_free(&s);
}

/* A SYN on an established connection, in the window or not, draws a
 * challenge ACK and nothing else (RFC 5961 §4.2, Linux syn_challenge). */
TEST(syn_in_established_gets_challenge_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = S, .seq = 100);
    expect_challenge_ack(&s);
    script_advance(&s, 1 * SEC);
    script_send(&s, .flags = S, .seq = (uint32_t)-5000);
    expect_challenge_ack(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPSYNChallenge), 2);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 2);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.rcv_nxt, PEER_ISN + 1);
    script_free(&s);
}

/* RFC 5961 §7: at most challenge_ack_per_sec challenge ACKs per connection
 * per second; the others are counted (TCPChallengeACKLimited) and dropped.
 * A new second brings a new allowance. */
TEST(challenge_ack_rate_limited_per_connection)
{
    struct script s;
    script_init(&s, &(struct keel_config){.challenge_ack_per_sec = 3});
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    for (int k = 0; k < 5; k++)
        script_send(&s, .flags = R, .seq = 10 + k);
    for (int k = 0; k < 3; k++)
        script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 3);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACKLimited), 2);
    /* SYNs share the allowance. */
    script_send(&s, .flags = S, .seq = 50);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACKLimited), 3);
    script_advance(&s, 1 * SEC);
    script_send(&s, .flags = R, .seq = 20);
    expect_challenge_ack(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 4);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* The limit is per connection: a second connection has its own. */
TEST(challenge_ack_limit_not_shared_between_connections)
{
    struct script s;
    script_init(&s, &(struct keel_config){.challenge_ack_per_sec = 1});
    script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = R, .seq = 10);
    expect_challenge_ack(&s);
    script_send(&s, .flags = R, .seq = 11);
    script_expect_none(&s);
    /* Another connection, from another peer port. */
    s.keel_isn = 0;
    s.peer_port = PEER_PORT;
    int c2 = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_connect(s.st, c2, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT + 1}),
             KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    s.peer_port = PEER_PORT + 1;
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_send(&s, .flags = R, .seq = 10);
    expect_challenge_ack(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 2);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACKLimited), 1);
    script_free(&s);
}

/* RFC 5961 §5.2 / RFC 9293 §3.10.7.4 fifth: an ACK for data never sent is
 * answered with an ACK and the segment (with its data) dropped; an ACK older
 * than SND.UNA - MAX.SND.WND draws a challenge ACK. */
TEST(ack_of_unsent_or_ancient_data_refused)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 100, .len = 5);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).rcv_queued, 0);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPAckForUnsent), 1);
    script_send(&s, .flags = P | A, .seq = 1, .ack = (uint32_t)-100000, .len = 5);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).rcv_queued, 0);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPChallengeACK), 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* In CLOSE-WAIT a RST at RCV.NXT resets too; the error is EPIPE, as Linux's
 * tcp_reset gives it. */
TEST(rst_in_close_wait)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 2);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSE_WAIT);
    script_send(&s, .flags = R, .seq = 3);
    expect_challenge_ack_to(&s, 2);
    script_send(&s, .flags = R, .seq = 2);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EPIPE);
    script_free(&s);
}
