/* SYN-RECEIVED, reached by a passive open (a listener got the peer's SYN)
 * and by a simultaneous open (keel's SYN crossed the peer's). keel sent its
 * SYN-ACK: RCV.NXT 1, window 1152 (right edge 1153), SND.UNA 0, SND.NXT 1.
 * RFC 9293 §3.10.7.4 with RFC 5961; see support/states.h.
 *
 * Not here: a passive open's SYN-RECEIVED getting a SYN that is not the
 * peer's first one again but lies in the window (RFC 9293 §3.10.7.4 fourth:
 * back to LISTEN; Linux: a RST; keel: a challenge ACK); and a simultaneous
 * open's getting the peer's SYN (no ACK) again (old by §3.10.7.4 first, so
 * an ACK; Linux: a challenge ACK; keel: its SYN-ACK again). */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

#define SR KEEL_TCP_SYN_RECEIVED

/* The child of a passive open, accepted once it is established. */
static void accept_it(struct conn *c)
{
    c->sock = keel_accept(c->s.st, c->listener, NULL);
    CHECK(c->sock >= 0);
}

/* Still embryonic: nothing to accept. */
static void nothing_to_accept(struct conn *c)
{
    CHECK_EQ(keel_accept(c->s.st, c->listener, NULL), KEEL_EAGAIN);
}

/* ==== SYN-RECEIVED, passive open ==== */

/* ---- SYN ---- */

TEST(rcv_syn_old_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* The peer's SYN again: our SYN-ACK again (as Linux and BSD do). */
TEST(rcv_syn_retransmit_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = S | A, .seq = 0, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_syn_beyond_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ---- SYN-ACK ---- */

TEST(rcv_synack_old_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_synack_beyond_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ---- ACK of our SYN: ESTABLISHED if the segment is acceptable ---- */

TEST(rcv_ack_old_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_ack_left_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 1);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_ack_mid_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = 1);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

/* Acceptable as Linux takes it. */
TEST(rcv_ack_right_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = 1);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_ack_beyond_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ---- the ACK field: SND.UNA < SEG.ACK =< SND.NXT, else
 * <SEQ=SEG.ACK><CTL=RST> (§3.10.7.4 fifth) ---- */

TEST(rcv_ack_ackiss_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 0);
    script_expect(&c.s, .flags = R, .seq = 0);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_ack_ackold_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = (uint32_t)-1000);
    script_expect(&c.s, .flags = R, .seq = (uint32_t)-1000);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_ack_ackunsent_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 2);
    script_expect(&c.s, .flags = R, .seq = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_data_ackunsent_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 2, .len = 10);
    script_expect(&c.s, .flags = R, .seq = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ---- data with the ACK of our SYN ---- */

TEST(rcv_data_old_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_data_left_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 1, .len = 10);
    conn_expect_ack(&c, 11, SYN_WINDOW - 10);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_read(&c, 1, 10);
    conn_done(&c);
}

TEST(rcv_data_mid_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 10);
    conn_done(&c);
}

TEST(rcv_data_right_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

TEST(rcv_data_beyond_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* No ACK bit: dropped (§3.10.7.4 fifth). */
TEST(rcv_data_noack_left_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = P, .seq = POS_LEFT(&c), .len = 10);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ---- FIN with the ACK of our SYN ---- */

TEST(rcv_fin_old_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* Established, then the FIN: CLOSE-WAIT. */
TEST(rcv_fin_left_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = 1);
    conn_expect_ack(&c, 2, SYN_WINDOW - 1);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_mid_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_MID(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    accept_it(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_fin_beyond_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ---- RST (RFC 5961 §3.2) ---- */

TEST(rcv_rst_old_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* Back to LISTEN, silently (§3.10.7.4 second): the listener is left alone
 * and treats what follows as it would any stray segment. */
TEST(rcv_rst_left_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    nothing_to_accept(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 1);
    script_expect(&c.s, .flags = R, .seq = 1);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_rst_mid_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* Acceptable as Linux takes it: challenged. */
TEST(rcv_rst_right_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

TEST(rcv_rst_beyond_syn_received)
{
    struct conn c;
    reach_syn_received(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    nothing_to_accept(&c);
    conn_done(&c);
}

/* ==== SYN-RECEIVED, simultaneous open ==== */

/* ---- SYN ---- */

TEST(rcv_syn_old_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* A SYN in the window: an active open handles it as a synchronized state
 * does (§3.10.7.4 fourth): a challenge ACK (RFC 5961 §4.2). */
TEST(rcv_syn_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_syn_mid_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_syn_right_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_syn_beyond_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* ---- SYN-ACK ---- */

TEST(rcv_synack_old_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* The peer's SYN-ACK of a simultaneous open (RFC 9293 figure 7): its SYN
 * (SEG.SEQ = IRS) is old by §3.10.7.4 first and draws a plain ACK, which
 * completes the peer's handshake; the peer's own ACK completes ours. */
/* RFC 9293 §3.5 figure 7, line 6, as Linux does it: the peer's SYN-ACK
 * acknowledges our SYN and completes the handshake; nothing more is sent. */
TEST(rcv_synack_retransmit_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

/* The same with an ACK of nothing: old all the same, not looked at further. */
TEST(rcv_synack_retransmit_ackiss_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 0, .opts = OPTS_MSS_ONLY);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_synack_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_LEFT(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_synack_mid_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_synack_right_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_RIGHT(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_synack_beyond_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* ---- ACK of our SYN: ESTABLISHED if the segment is acceptable ---- */

TEST(rcv_ack_old_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_ack_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_ack_mid_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

/* Acceptable as Linux takes it. */
TEST(rcv_ack_right_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_ack_beyond_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* ---- the ACK field: SND.UNA < SEG.ACK =< SND.NXT, else
 * <SEQ=SEG.ACK><CTL=RST> (§3.10.7.4 fifth) ---- */

TEST(rcv_ack_ackiss_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 0);
    script_expect(&c.s, .flags = R, .seq = 0);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_ack_ackold_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = (uint32_t)-1000);
    script_expect(&c.s, .flags = R, .seq = (uint32_t)-1000);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_ack_ackunsent_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 2);
    script_expect(&c.s, .flags = R, .seq = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_data_ackunsent_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 2, .len = 10);
    script_expect(&c.s, .flags = R, .seq = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* ---- data with the ACK of our SYN ---- */

TEST(rcv_data_old_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_data_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 1, .len = 10);
    conn_expect_ack(&c, 11, SYN_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_read(&c, 1, 10);
    conn_done(&c);
}

TEST(rcv_data_mid_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 10);
    conn_done(&c);
}

TEST(rcv_data_right_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

TEST(rcv_data_beyond_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = 1, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* No ACK bit: dropped (§3.10.7.4 fifth). */
TEST(rcv_data_noack_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = P, .seq = POS_LEFT(&c), .len = 10);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* ---- FIN with the ACK of our SYN ---- */

TEST(rcv_fin_old_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* Established, then the FIN: CLOSE-WAIT. */
TEST(rcv_fin_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = 1);
    conn_expect_ack(&c, 2, SYN_WINDOW - 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_mid_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_MID(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_fin_beyond_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* ---- RST (RFC 5961 §3.2) ---- */

TEST(rcv_rst_old_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* An active open: connection refused (§3.10.7.4 second). */
TEST(rcv_rst_left_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNREFUSED);
    conn_done(&c);
}

TEST(rcv_rst_mid_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

/* Acceptable as Linux takes it: challenged. */
TEST(rcv_rst_right_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}

TEST(rcv_rst_beyond_syn_received_simultaneous)
{
    struct conn c;
    reach_syn_received_simultaneous(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, SR);
    conn_done(&c);
}
