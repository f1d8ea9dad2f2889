/* FIN-WAIT-2: keel's FIN (seq 101) is acknowledged, the peer's is awaited.
 * RCV.NXT 101, window 1052 (right edge 1153), SND.UNA = SND.NXT = 102.
 * RFC 9293 §3.10.7.4 with RFC 5961; see support/states.h. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

#define FW2 KEEL_TCP_FIN_WAIT_2

/* ---- SYN and SYN-ACK: an ACK ---- */

TEST(rcv_syn_old_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_syn_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_syn_mid_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_syn_right_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_syn_beyond_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_synack_old_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_synack_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_synack_mid_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_synack_right_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_synack_beyond_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

/* ---- pure ACK ---- */

TEST(rcv_ack_old_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_ack_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_ack_mid_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_ack_right_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_ack_beyond_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

/* Above SND.NXT: an ACK, the segment dropped (§3.10.7.4 fifth). */
TEST(rcv_ack_ackunsent_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 103);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    CHECK_EQ(conn_snd_una(&c), 102);
    conn_done(&c);
}

/* An old ACK (of the data before the FIN) is ignored. */
TEST(rcv_ack_ackold_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 101);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    CHECK_EQ(conn_snd_una(&c), 102);
    conn_done(&c);
}

/* ---- data: still taken (§3.10.7.4 seventh) ---- */

TEST(rcv_data_old_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_data_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 111, EST_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

TEST(rcv_data_mid_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 10);
    conn_done(&c);
}

TEST(rcv_data_right_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

TEST(rcv_data_beyond_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* Data for an application that closed its socket: a RST (RFC 1122 §4.2.2.13)
 * answering the segment, at its SEG.ACK and without ACK (Linux
 * tcp_v4_send_reset). */
TEST(rcv_data_left_fin_wait_2_orphan)
{
    struct conn c;
    reach_fin_wait_2_orphan(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    script_expect(&c.s, .flags = R, .seq = c.snd_una);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

/* ---- FIN: TIME-WAIT once RCV.NXT reaches it ---- */

TEST(rcv_fin_old_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_fin_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_ack(&c, 102, FIN_WINDOW);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_TIME_WAIT);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_mid_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_fin_right_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_fin_beyond_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_fin_data_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 112, FIN_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_TIME_WAIT);
    conn_expect_read(&c, 101, 10);
    conn_expect_eof(&c);
    conn_done(&c);
}

/* An early FIN is held until the data before it has come. */
TEST(rcv_fin_mid_then_fill_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = F | A, .seq = 111, .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 112, FIN_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_TIME_WAIT);
    conn_expect_read(&c, 101, 10);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_left_fin_wait_2_orphan)
{
    struct conn c;
    reach_fin_wait_2_orphan(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_ack(&c, 102, FIN_WINDOW);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_TIME_WAIT);
    conn_done(&c);
}

/* ---- RST ---- */

TEST(rcv_rst_old_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_rst_left_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

TEST(rcv_rst_left_fin_wait_2_orphan)
{
    struct conn c;
    reach_fin_wait_2_orphan(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

/* RCV.NXT - 1 counts only once the peer's FIN is in. */
TEST(rcv_rst_leftminus1_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c) - 1);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_rst_mid_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

/* Acceptable as Linux takes it: challenged. */
TEST(rcv_rst_right_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}

TEST(rcv_rst_beyond_fin_wait_2)
{
    struct conn c;
    reach_fin_wait_2(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_done(&c);
}
