/* SYN-SENT: keel_connect sent keel's SYN (ISS, SND.NXT = ISS + 1, window
 * 1152). Positions in the window mean nothing yet: what matters is the ACK
 * field against ISS and SND.NXT (RFC 9293 §3.10.7.3). */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

#define SS KEEL_TCP_SYN_SENT

/* ---- SYN (no ACK): simultaneous open, SYN-RECEIVED (§3.10.7.3 fourth) ---- */

TEST(rcv_syn_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = S | A, .seq = 0, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_SYN_RECEIVED);
    conn_done(&c);
}

/* ---- SYN-ACK: the ACK must be in (ISS, SND.NXT] (§3.10.7.3 first) ---- */

TEST(rcv_synack_ackok_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = A, .seq = 1, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_no_read(&c);
    conn_done(&c);
}

/* SEG.ACK = ISS: our SYN is not acknowledged. <SEQ=SEG.ACK><CTL=RST>. */
TEST(rcv_synack_ackiss_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = R, .seq = 0);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_synack_ackold_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = (uint32_t)-1000, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = R, .seq = (uint32_t)-1000);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

/* SEG.ACK > SND.NXT. */
TEST(rcv_synack_ackunsent_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 2, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = R, .seq = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

/* Text on the SYN-ACK is processed from §3.10.7.4 sixth on: taken. */
TEST(rcv_synack_data_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY, .len = 10);
    script_expect(&c.s, .flags = A, .seq = 1, .ack = 11, .win = SYN_WINDOW - 10, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_expect_read(&c, 0, 10); /* the pattern counts from the SYN's number */
    conn_done(&c);
}

/* A FIN on the SYN-ACK: established, and at once CLOSE-WAIT. */
TEST(rcv_synack_fin_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | F | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = A, .seq = 1, .ack = 2, .win = SYN_WINDOW - 1, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_CLOSE_WAIT);
    conn_expect_eof(&c);
    conn_done(&c);
}

/* ---- ACK without SYN: dropped if acceptable (§3.10.7.3 fifth), else a RST ---- */

TEST(rcv_ack_ackok_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = A, .seq = 0, .ack = 1);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_ack_ackiss_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = A, .seq = 0, .ack = 0);
    script_expect(&c.s, .flags = R, .seq = 0);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_ack_ackunsent_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = A, .seq = 0, .ack = 2);
    script_expect(&c.s, .flags = R, .seq = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_data_ackok_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_data_ackunsent_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = P | A, .seq = 1, .ack = 5, .len = 10);
    script_expect(&c.s, .flags = R, .seq = 5);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_data_noack_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = P, .seq = 1, .len = 10);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_fin_ackok_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = F | A, .seq = 1, .ack = 1);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_fin_noack_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = F, .seq = 1);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

/* ---- RST: honoured only with an acceptable ACK (§3.10.7.3 second) ---- */

/* No ACK: dropped. */
TEST(rcv_rst_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = R, .seq = 0);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

/* Connection refused. */
TEST(rcv_rstack_ackok_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = R | A, .seq = 0, .ack = 1);
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNREFUSED);
    conn_done(&c);
}

TEST(rcv_rstack_ackiss_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = R | A, .seq = 0, .ack = 0);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

TEST(rcv_rstack_ackunsent_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = R | A, .seq = 0, .ack = 2);
    conn_expect_none(&c);
    conn_expect_state(&c, SS);
    conn_done(&c);
}

/* RST is checked before SYN. */
TEST(rcv_synrst_ackok_syn_sent)
{
    struct conn c;
    reach_syn_sent(&c);
    script_send(&c.s, .flags = S | R | A, .seq = 0, .ack = 1);
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNREFUSED);
    conn_done(&c);
}
