/* LAST-ACK: the peer closed, then keel; keel's FIN is unacknowledged.
 * RCV.NXT 102 (the peer's FIN was 101), window 1051 (right edge 1153),
 * SND.UNA 101, SND.NXT 102. RFC 9293 §3.10.7.4 with RFC 5961; see
 * support/states.h. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

/* ---- SYN and SYN-ACK: an ACK (challenge, or not acceptable) ---- */

TEST(rcv_syn_old_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_syn_left_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_syn_mid_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_syn_right_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_syn_beyond_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_synack_old_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_synack_left_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_synack_mid_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_synack_right_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_synack_beyond_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* ---- pure ACK of nothing new ---- */

TEST(rcv_ack_old_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_ack_left_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_ack_mid_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_ack_right_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_ack_beyond_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* Above SND.NXT: an ACK, the segment dropped (§3.10.7.4 fifth). */
TEST(rcv_ack_ackunsent_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_nxt + 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

/* Below SND.UNA - MAX.SND.WND: a challenge ACK (RFC 5961 §5.2). */
TEST(rcv_ack_acktooold_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una - 65535 - 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* ---- data: only what is unacceptable is tested ---- */

TEST(rcv_data_old_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_data_beyond_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* The peer's last data again, before its FIN: old. */
TEST(rcv_data_retransmit_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = 91, .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* Not here: data or a FIN at or beyond RCV.NXT in LAST-ACK, which can only come
 * after the peer's FIN. RFC 9293 §3.10.7.4 says to ignore the text; keel
 * acknowledges it, Linux drops it silently: see the matrix report. */

/* ---- FIN ---- */

TEST(rcv_fin_old_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* The peer's FIN again (our ACK was lost): acknowledged again. */
TEST(rcv_fin_retransmit_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c) - 1, .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_fin_beyond_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* ---- the ACK of keel's FIN: CLOSED, if the segment is acceptable ---- */

TEST(rcv_ack_old_ackfin_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = 102);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_ack_left_ackfin_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

TEST(rcv_ack_mid_ackfin_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

TEST(rcv_ack_right_ackfin_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

TEST(rcv_ack_beyond_ackfin_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = 102);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* The peer's FIN again with the ACK of ours: closed, nothing more to say
 * (as Linux: the connection is done before the FIN would be acknowledged). */
TEST(rcv_fin_retransmit_ackfin_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c) - 1, .ack = 102);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

/* The application closed its socket: the connection is freed. */
TEST(rcv_ack_left_ackfin_last_ack_orphan)
{
    struct conn c;
    reach_last_ack(&c);
    CHECK_EQ(keel_close(c.s.st, c.sock), 0);
    c.sock = -1;
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

/* ---- RST: at RCV.NXT, or RCV.NXT - 1 (the FIN's number, which Linux
 * accepts too, tcp_reset_check); challenged elsewhere in the window ---- */

TEST(rcv_rst_old_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_rst_leftminus1_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c) - 1);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

TEST(rcv_rst_left_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

TEST(rcv_rst_mid_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

/* Acceptable as Linux takes it: challenged. */
TEST(rcv_rst_right_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}

TEST(rcv_rst_beyond_last_ack)
{
    struct conn c;
    reach_last_ack(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_LAST_ACK);
    conn_done(&c);
}
