/* FIN-WAIT-1: keel shut down writing, its FIN (seq 101) is unacknowledged.
 * RCV.NXT 101, window 1052 (right edge 1153), SND.UNA 101, SND.NXT 102.
 * RFC 9293 §3.10.7.4 with RFC 5961; see support/states.h. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

#define FW1 KEEL_TCP_FIN_WAIT_1
#define FW2 KEEL_TCP_FIN_WAIT_2

/* ---- SYN and SYN-ACK: challenged (RFC 5961 §4.2), or not acceptable;
 * either way an ACK. ---- */

TEST(rcv_syn_old_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_syn_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_syn_mid_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_syn_right_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_syn_beyond_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_synack_old_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_synack_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_synack_mid_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_synack_right_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_synack_beyond_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

/* ---- pure ACK of nothing new (keel's FIN still unacknowledged) ---- */

TEST(rcv_ack_old_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_ack_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_ack_mid_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_ack_right_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_ack_beyond_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

/* ---- the ACK of keel's FIN: FIN-WAIT-2, if the segment is acceptable ---- */

TEST(rcv_ack_old_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = 102);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_ack_left_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    CHECK_EQ(conn_snd_una(&c), 102);
    conn_done(&c);
}

TEST(rcv_ack_mid_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    CHECK_EQ(conn_snd_una(&c), 102);
    conn_done(&c);
}

TEST(rcv_ack_right_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = 102);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    CHECK_EQ(conn_snd_una(&c), 102);
    conn_done(&c);
}

TEST(rcv_ack_beyond_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = 102);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

/* ---- the ACK field ---- */

/* Above SND.NXT (past the FIN): an ACK, the segment dropped (§3.10.7.4 fifth). */
TEST(rcv_ack_ackunsent_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 103);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

/* Below SND.UNA - MAX.SND.WND: a challenge ACK (RFC 5961 §5.2). */
TEST(rcv_ack_acktooold_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una - 65535 - 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

/* With 100 bytes before the FIN: acknowledging part of them. */
TEST(rcv_ack_acknew_fin_wait_1)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    CHECK_EQ(keel_shutdown(c.s.st, c.sock, KEEL_SHUT_WR), 0);
    script_expect(&c.s, .flags = F | A, .seq = 201, .ack = 101);
    c.snd_nxt = 202;
    conn_expect_state(&c, FW1);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 151);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    CHECK_EQ(conn_snd_una(&c), 151);
    conn_done(&c);
}

/* All the data, not the FIN. */
TEST(rcv_ack_ackdata_fin_wait_1)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    CHECK_EQ(keel_shutdown(c.s.st, c.sock, KEEL_SHUT_WR), 0);
    script_expect(&c.s, .flags = F | A, .seq = 201, .ack = 101);
    c.snd_nxt = 202;
    conn_expect_state(&c, FW1);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 201);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    CHECK_EQ(conn_snd_una(&c), 201);
    conn_done(&c);
}

/* The data and the FIN. */
TEST(rcv_ack_ackfin_inflight_fin_wait_1)
{
    struct conn c;
    reach_established(&c);
    conn_keel_sends(&c, 100);
    CHECK_EQ(keel_shutdown(c.s.st, c.sock, KEEL_SHUT_WR), 0);
    script_expect(&c.s, .flags = F | A, .seq = 201, .ack = 101);
    c.snd_nxt = 202;
    conn_expect_state(&c, FW1);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 202);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    CHECK_EQ(conn_snd_una(&c), 202);
    conn_done(&c);
}

/* ---- data (10 bytes): still taken in FIN-WAIT-1 (§3.10.7.4 seventh) ---- */

TEST(rcv_data_old_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_data_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 111, EST_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

TEST(rcv_data_mid_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 10);
    conn_done(&c);
}

TEST(rcv_data_right_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_expect_no_read(&c);
    CHECK_EQ(conn_ooo_bytes(&c), 0);
    conn_done(&c);
}

TEST(rcv_data_beyond_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_data_left_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = 102, .len = 10);
    conn_expect_ack(&c, 111, EST_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, FW2);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

/* Data for an application that closed its socket: a RST (RFC 1122 §4.2.2.13,
 * as Linux does: TCPAbortOnData), answering the segment: at its SEG.ACK,
 * without ACK (Linux tcp_v4_send_reset). */
TEST(rcv_data_left_fin_wait_1_orphan)
{
    struct conn c;
    reach_fin_wait_1_orphan(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    script_expect(&c.s, .flags = R, .seq = c.snd_una);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

/* Old data lost nothing: no reset. */
TEST(rcv_data_old_fin_wait_1_orphan)
{
    struct conn c;
    reach_fin_wait_1_orphan(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

/* ---- FIN: CLOSING once RCV.NXT reaches it, if it does not ACK keel's ---- */

TEST(rcv_fin_old_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_fin_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_ack(&c, 102, FIN_WINDOW);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSING);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_mid_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_fin_right_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_fin_beyond_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

/* FIN and the ACK of keel's FIN together: straight to TIME-WAIT. */
TEST(rcv_fin_left_ackfin_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = 102);
    conn_expect_ack(&c, 102, FIN_WINDOW);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_TIME_WAIT);
    conn_expect_eof(&c);
    conn_done(&c);
}

TEST(rcv_fin_data_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_ack(&c, 112, FIN_WINDOW - 10);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSING);
    conn_expect_read(&c, 101, 10);
    conn_expect_eof(&c);
    conn_done(&c);
}

/* ---- RST: only at exactly RCV.NXT (RFC 5961 §3.2) ---- */

TEST(rcv_rst_old_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_rst_left_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

TEST(rcv_rst_left_fin_wait_1_orphan)
{
    struct conn c;
    reach_fin_wait_1_orphan(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, 0);
    conn_done(&c);
}

TEST(rcv_rst_mid_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

/* Acceptable as Linux takes it: challenged. */
TEST(rcv_rst_right_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}

TEST(rcv_rst_beyond_fin_wait_1)
{
    struct conn c;
    reach_fin_wait_1(&c);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, FW1);
    conn_done(&c);
}
