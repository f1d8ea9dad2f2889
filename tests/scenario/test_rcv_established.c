/* ESTABLISHED: every kind of segment at every position of the receive window
 * (RFC 9293 §3.10.7.4, RFC 5961), and the ACK field against SND.UNA/SND.NXT.
 * keel: RCV.NXT 101, window 1052 (right edge 1153), SND.UNA = SND.NXT = 101;
 * see support/states.h. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH
#define EST KEEL_TCP_ESTABLISHED

/* ---- SYN: a challenge ACK wherever it falls (RFC 5961 §4.2); outside the
 * window it is simply not acceptable, which is answered the same way. ---- */

TEST(rcv_syn_old_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_syn_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_syn_mid_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_syn_right_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_syn_beyond_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* A SYN with data is challenged too: the data is not taken. */
TEST(rcv_syn_data_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c), .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* ---- SYN-ACK: the SYN check comes before the ACK's (§3.10.7.4 fourth). ---- */

TEST(rcv_synack_old_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_synack_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_synack_mid_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_synack_right_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_synack_beyond_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* The peer's SYN-ACK again (its ACK of ours was lost, or it is a duplicate):
 * the SYN is old; answered with an ACK, nothing else changes. */
TEST(rcv_synack_retransmit_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* ---- pure ACK ---- */

TEST(rcv_ack_old_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* RCV.NXT - 1: Linux's keepalive probe, which must be answered. */
TEST(rcv_ack_leftminus1_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c) - 1, .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_ack_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_ack_mid_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* Acceptable as Linux takes it (a peer that filled the window sends its
 * ACKs from there); the RFC's table would answer it. */
TEST(rcv_ack_right_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_ack_beyond_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* Unacceptable pure segments are answered at most once per 500 ms (Linux's
 * tcp_invalid_ratelimit): no ACK loop with a confused peer. */
TEST(rcv_ack_old_ratelimited_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    script_advance(&c.s, 499999);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    script_advance(&c.s, 1);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_done(&c);
}

/* ---- data (10 bytes, with ACK) ---- */

TEST(rcv_data_old_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* Old data is always answered: it is no ACK loop. */
TEST(rcv_data_old_twice_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_done(&c);
}

/* A retransmission of the last bytes received, ending at RCV.NXT. */
TEST(rcv_data_retransmit_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c) - 10, .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* Straddling RCV.NXT: only the new part is taken (§3.10.7.4 first). */
TEST(rcv_data_straddleleft_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c) - 5, .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 106, EST_WINDOW - 5);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 5);
    conn_done(&c);
}

TEST(rcv_data_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 111, EST_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

/* Out of order: held, and an immediate duplicate ACK (RFC 5681 §4.2). */
TEST(rcv_data_mid_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 10);
    conn_done(&c);
}

/* The held bytes are delivered once the hole before them is filled. */
TEST(rcv_data_mid_then_fill_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = 111, .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = 101, .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 121, EST_WINDOW - 20);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 20);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

/* Starting at the right edge: acceptable (as Linux), but nothing of it fits. */
TEST(rcv_data_right_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

/* Straddling the right edge: the part inside the window is held. */
TEST(rcv_data_straddleright_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c) - 5, .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 5);
    conn_done(&c);
}

TEST(rcv_data_beyond_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

/* Exactly the window: taken whole, the window closes. */
TEST(rcv_data_fillwindow_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = EST_WINDOW);
    conn_expect_ack(&c, 101 + EST_WINDOW, 0);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, EST_WINDOW);
    conn_done(&c);
}

/* More than the window: trimmed to it (§3.10.7.4 first). */
TEST(rcv_data_overwindow_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = EST_WINDOW + 50);
    conn_expect_ack(&c, 101 + EST_WINDOW, 0);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, EST_WINDOW);
    conn_done(&c);
}

/* ---- FIN (with ACK) ---- */

TEST(rcv_fin_old_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_fin_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_ack(&c, 102, FIN_WINDOW);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_data_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 112, FIN_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_read(&c, 101, 10);
    conn_expect_eof(&c);
    conn_done(&c);
}

/* Out of order: held until RCV.NXT reaches it (§3.10.7.4 eighth). */
TEST(rcv_fin_mid_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_fin_mid_then_fill_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | A, .seq = 111, .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = 101, .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 112, FIN_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_read(&c, 101, 10);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_right_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_fin_beyond_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* ---- RST: only at exactly RCV.NXT (RFC 5961 §3.2) ---- */

TEST(rcv_rst_old_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* Before the peer's FIN, RCV.NXT - 1 is just outside. */
TEST(rcv_rst_leftminus1_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c) - 1);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_rst_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

TEST(rcv_rstack_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

/* The application learns of the reset from its next call. */
TEST(rcv_rst_left_then_calls_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    uint8_t b[4];
    CHECK_EQ(keel_recv(c.s.st, c.sock, b, sizeof b, 0), KEEL_ECONNRESET);
    CHECK_EQ(keel_send(c.s.st, c.sock, b, sizeof b, 0), KEEL_EPIPE);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_rst_mid_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_rst_leftplus1_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c) + 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* At the right edge: acceptable as Linux takes it (tcp_sequence), so the RST
 * is challenged where RFC 5961 §3.2 would drop it silently. */
TEST(rcv_rst_right_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

TEST(rcv_rst_beyond_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* ---- the ACK field, with 100 bytes of keel's in flight (SND.UNA 101,
 * SND.NXT 201; the peer's largest window is 65535) ---- */

/* Below SND.UNA - MAX.SND.WND: a challenge ACK, the segment dropped
 * (RFC 5961 §5.2). */
TEST(rcv_ack_acktooold_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una - 65535 - 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_data_acktooold_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una - 65535 - 1,
                .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* SND.UNA - MAX.SND.WND itself is still acceptable: an old ACK, ignored. */
TEST(rcv_ack_ackoldest_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una - 65535);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_ack_ackold_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 51);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

/* An old ACK does not stop the text: it is taken. */
TEST(rcv_data_ackold_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 51, .len = 10);
    conn_expect_ack(&c, 111, EST_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 10);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_ack_ackuna_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 101);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_ack_acknew_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 151);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 151);
    conn_done(&c);
}

TEST(rcv_ack_ackall_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 201);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 201);
    conn_done(&c);
}

/* An ACK of new data in the middle of the window is taken as well. */
TEST(rcv_ack_mid_acknew_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = 201);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 201);
    conn_done(&c);
}

/* An unacceptable segment's ACK field is not looked at. */
TEST(rcv_ack_beyond_acknew_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = 201);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

/* Above SND.NXT: send an ACK, drop the segment (§3.10.7.4 fifth). */
TEST(rcv_ack_ackunsent_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 202);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_data_ackunsent_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 202, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_fin_ackunsent_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = 202);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* Without the ACK bit a segment is dropped (§3.10.7.4 fifth), data and all. */
TEST(rcv_data_noack_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = P, .seq = POS_LEFT(&c), .len = 10);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_fin_noack_left_established)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = F, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* ---- a passive open's ESTABLISHED behaves the same ---- */

TEST(rcv_data_left_established_passive)
{
    struct conn c;
    reach_established_passive(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 111, EST_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

TEST(rcv_rst_left_established_passive)
{
    struct conn c;
    reach_established_passive(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

TEST(rcv_syn_left_established_passive)
{
    struct conn c;
    reach_established_passive(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* ---- a closed window: left edge = right edge = RCV.NXT 1153 ---- */

/* The peer fills the window and the application reads nothing. */
static void close_window(struct conn *c)
{
    script_send(&c->s, .flags = P | A, .seq = POS_LEFT(c), .ack = c->snd_una, .len = EST_WINDOW);
    conn_expect_ack(c, 101 + EST_WINDOW, 0);
    conn_sync(c, EST);
    CHECK_EQ(c->rcv_wnd, 0);
}

TEST(rcv_ack_old_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_done(&c);
}

/* SEG.SEQ = RCV.NXT is the one acceptable place for a bare segment. */
TEST(rcv_ack_left_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* Data cannot be taken: an ACK repeats the closed window. */
TEST(rcv_data_left_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, EST_WINDOW);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_data_beyond_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

/* "special allowance should be made to accept valid ACKs, URGs, and RSTs"
 * (§3.10.7.4 first). */
TEST(rcv_rst_left_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

TEST(rcv_rst_beyond_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, EST);
    conn_done(&c);
}

/* An ACK of new data still gets through a closed window. */
TEST(rcv_ack_left_acknew_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    close_window(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 201);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 201);
    conn_done(&c);
}

/* A bare FIN at RCV.NXT takes no buffer: taken as Linux takes it ("some
 * stacks send bare FINs in a loop even if we send RWIN 0"). RCV.NXT has
 * passed the edge offered, which cannot be held: the 100 free bytes are
 * offered (Linux would offer 0; nothing can follow a FIN either way). */
TEST(rcv_fin_left_zerowindow_established)
{
    struct conn c;
    reach_established(&c);
    close_window(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_ack(&c, 102 + EST_WINDOW, SYN_WINDOW - EST_WINDOW);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_read(&c, 101, EST_WINDOW);
    conn_expect_eof(&c);
    conn_done(&c);
}
