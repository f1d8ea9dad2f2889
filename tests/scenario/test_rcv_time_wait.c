/* TIME-WAIT: keel closed first, then the peer; 2 MSL (60 s) is running.
 * RCV.NXT 102 (the peer's FIN was 101), window 1051 (right edge 1153),
 * SND.UNA = SND.NXT = 102. RFC 9293 §3.10.7.4, RFC 1337, RFC 1122
 * §4.2.2.13; see support/states.h. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

#define TW KEEL_TCP_TIME_WAIT

/* 2 MSL (60 s) restarted now. */
static void expect_2msl_restarted(struct conn *c)
{
    CHECK_EQ_U(conn_timer(c, KEEL_TIMER_TIME_WAIT), c->s.now_us + 60000000);
}

/* 2 MSL still runs from when TIME-WAIT began, 30 s ago. */
static void expect_2msl_running(struct conn *c)
{
    CHECK_EQ_U(conn_timer(c, KEEL_TIMER_TIME_WAIT), c->s.now_us + 30000000);
}

/* TIME-WAIT after a passive open, the application gone and the listener
 * still there: what a server's TIME-WAIT looks like. */
static void reach_time_wait_orphan_listening(struct conn *c)
{
    reach_time_wait_passive(c);
    CHECK_EQ(keel_close(c->s.st, c->sock), 0);
    c->sock = -1;
    conn_expect_state(c, TW);
}

/* ---- SYN and SYN-ACK: an ACK; no listener, so no new incarnation ---- */

TEST(rcv_syn_old_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_syn_left_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_syn_mid_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_syn_right_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_syn_beyond_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_synack_old_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_synack_left_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_synack_mid_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_synack_right_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_synack_beyond_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

/* ---- SYN with a listener on the port (RFC 1122 §4.2.2.13, RFC 6191) ---- */

/* A SYN above RCV.NXT starts a new incarnation, whose ISN is above any
 * sequence number the old one used (RFC 1122 §4.2.2.13 (1)). */
TEST(rcv_syn_mid_time_wait_listening)
{
    struct conn c;
    reach_time_wait_orphan_listening(&c);
    uint32_t old_iss = conn_snd_iss(&c);
    script_send(&c.s, .flags = S, .seq = POS_MID(&c));
    uint32_t iss = conn_snd_iss(&c);
    script_expect(&c.s, .flags = S | A, .seq = iss, .abs_seq = true, .ack = POS_MID(&c) + 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_SYN_RECEIVED);
    CHECK((int32_t)(iss - (old_iss + 102)) > 0);
    conn_done(&c);
}

TEST(rcv_syn_right_time_wait_listening)
{
    struct conn c;
    reach_time_wait_orphan_listening(&c);
    uint32_t old_iss = conn_snd_iss(&c);
    script_send(&c.s, .flags = S, .seq = POS_RIGHT(&c));
    uint32_t iss = conn_snd_iss(&c);
    script_expect(&c.s, .flags = S | A, .seq = iss, .abs_seq = true, .ack = POS_RIGHT(&c) + 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_SYN_RECEIVED);
    CHECK((int32_t)(iss - (old_iss + 102)) > 0);
    conn_done(&c);
}

/* Even beyond the window, as Linux (tcp_timewait_state_process). */
TEST(rcv_syn_beyond_time_wait_listening)
{
    struct conn c;
    reach_time_wait_orphan_listening(&c);
    uint32_t old_iss = conn_snd_iss(&c);
    script_send(&c.s, .flags = S, .seq = POS_BEYOND(&c));
    uint32_t iss = conn_snd_iss(&c);
    script_expect(&c.s, .flags = S | A, .seq = iss, .abs_seq = true, .ack = POS_BEYOND(&c) + 1);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_SYN_RECEIVED);
    CHECK((int32_t)(iss - (old_iss + 102)) > 0);
    conn_done(&c);
}

/* Not above RCV.NXT: it may be an old duplicate; challenged. */
TEST(rcv_syn_left_time_wait_listening)
{
    struct conn c;
    reach_time_wait_orphan_listening(&c);
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_syn_old_time_wait_listening)
{
    struct conn c;
    reach_time_wait_orphan_listening(&c);
    script_send(&c.s, .flags = S, .seq = POS_OLD(&c));
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

/* A SYN-ACK opens nothing. */
TEST(rcv_synack_mid_time_wait_listening)
{
    struct conn c;
    reach_time_wait_orphan_listening(&c);
    script_send(&c.s, .flags = S | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

/* ---- pure ACK: the 2 MSL timer keeps running ---- */

TEST(rcv_ack_old_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_ack_left_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_ack_mid_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_ack_right_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_ack_beyond_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_ack_ackunsent_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_nxt + 1);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

/* ---- data: answered with an ACK, ignored (§3.10.7.4 seventh); Linux
 * answers every TIME-WAIT segment but a bare ACK or RST at RCV.NXT ---- */

TEST(rcv_data_old_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_data_left_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_data_mid_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_data_right_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_RIGHT(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

TEST(rcv_data_beyond_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    conn_done(&c);
}

/* ---- FIN: acknowledged, and 2 MSL restarted (§3.10.7.4 eighth) ---- */

TEST(rcv_fin_old_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = F | A, .seq = POS_OLD(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_restarted(&c);
    conn_done(&c);
}

/* The peer's FIN again: the case 2 MSL exists for. */
TEST(rcv_fin_retransmit_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c) - 1, .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_restarted(&c);
    conn_done(&c);
}

TEST(rcv_fin_left_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_restarted(&c);
    conn_done(&c);
}

TEST(rcv_fin_mid_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = F | A, .seq = POS_MID(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_restarted(&c);
    conn_done(&c);
}

TEST(rcv_fin_right_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = F | A, .seq = POS_RIGHT(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_restarted(&c);
    conn_done(&c);
}

TEST(rcv_fin_beyond_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = F | A, .seq = POS_BEYOND(&c), .ack = c.snd_una);
    conn_expect_dup_ack(&c);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_restarted(&c);
    conn_done(&c);
}

/* ---- RST: ignored (RFC 1337) ---- */

TEST(rcv_rst_old_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = R, .seq = POS_OLD(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_rst_leftminus1_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c) - 1);
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_rst_left_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_rst_mid_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = R, .seq = POS_MID(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_rst_right_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = R, .seq = POS_RIGHT(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

TEST(rcv_rst_beyond_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 30000000);
    script_send(&c.s, .flags = R, .seq = POS_BEYOND(&c));
    conn_expect_none(&c);
    conn_expect_state(&c, TW);
    expect_2msl_running(&c);
    conn_done(&c);
}

/* ---- after 2 MSL ---- */

/* The connection is gone: a segment for it is answered as in CLOSED. */
TEST(rcv_ack_left_after_2msl_time_wait)
{
    struct conn c;
    reach_time_wait(&c);
    script_advance(&c.s, 60000000);
    conn_expect_closed(&c, 0);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    script_expect(&c.s, .flags = R, .seq = c.snd_una);
    conn_expect_none(&c);
    conn_done(&c);
}
