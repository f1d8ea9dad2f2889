/* LISTEN and CLOSED: no window yet, or no connection at all. The RFC 9293
 * §3.10.7.1 and §3.10.7.2 rules; positions do not apply. In CLOSED keel's ISN
 * is unknown: numbers in .ack (and .seq of an expected RST) are absolute. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

/* ==== LISTEN (§3.10.7.2) ==== */

/* A SYN: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED. */
TEST(rcv_syn_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&c.s, .flags = S | A, .seq = 0, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_SYN_RECEIVED);
    conn_done(&c);
}

/* Data on the SYN is not acknowledged by the SYN-ACK: RCV.NXT = SEG.SEQ + 1. */
TEST(rcv_syn_data_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY, .len = 10);
    script_expect(&c.s, .flags = S | A, .seq = 0, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_SYN_RECEIVED);
    conn_done(&c);
}

/* Any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>. */
TEST(rcv_synack_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = S | A, .seq = 1, .ack = 5000);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

TEST(rcv_ack_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = A, .seq = 1, .ack = 5000);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

TEST(rcv_data_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = P | A, .seq = 1, .ack = 5000, .len = 10);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

TEST(rcv_fin_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = F | A, .seq = 1, .ack = 5000);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

/* A RST is ignored (checked first). */
TEST(rcv_rst_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = R, .seq = 1);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

TEST(rcv_rstack_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = R | A, .seq = 1, .ack = 5000);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

TEST(rcv_synrst_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = S | R, .seq = 1);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

/* Neither SYN, RST nor ACK: dropped (§3.10.7.2 fourth). */
TEST(rcv_data_noack_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = P, .seq = 1, .len = 10);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

TEST(rcv_fin_noack_listen)
{
    struct conn c;
    reach_listen(&c);
    script_send(&c.s, .flags = F, .seq = 1);
    conn_expect_none(&c);
    conn_expect_closed(&c, 0); /* no connection was made */
    conn_done(&c);
}

/* A port nobody listens on is CLOSED. */
TEST(rcv_syn_listen_other_port)
{
    struct conn c;
    reach_listen(&c);
    c.s.keel_port = KEEL_PORT + 1;
    script_send(&c.s, .flags = S, .seq = 0);
    script_expect(&c.s, .flags = R | A, .seq = 0, .abs_seq = true, .ack = 1);
    conn_expect_none(&c);
    conn_done(&c);
}

/* ==== CLOSED: no connection, no listener (§3.10.7.1) ==== */

/* With an ACK: <SEQ=SEG.ACK><CTL=RST>. */
TEST(rcv_synack_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = S | A, .seq = 1, .ack = 5000);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_ack_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = A, .seq = 1, .ack = 5000);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_data_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = P | A, .seq = 1, .ack = 5000, .len = 10);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_fin_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = F | A, .seq = 1, .ack = 5000);
    script_expect(&c.s, .flags = R, .seq = 5000);
    conn_expect_none(&c);
    conn_done(&c);
}

/* Without an ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the SYN counts. */
TEST(rcv_syn_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = S, .seq = 0);
    script_expect(&c.s, .flags = R | A, .seq = 0, .abs_seq = true, .ack = 1);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_data_noack_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = P, .seq = 1, .len = 10);
    script_expect(&c.s, .flags = R | A, .seq = 0, .abs_seq = true, .ack = 11);
    conn_expect_none(&c);
    conn_done(&c);
}

/* The FIN counts too. */
TEST(rcv_fin_noack_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = F, .seq = 1, .len = 10);
    script_expect(&c.s, .flags = R | A, .seq = 0, .abs_seq = true, .ack = 12);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_syn_fin_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = S | F, .seq = 0);
    script_expect(&c.s, .flags = R | A, .seq = 0, .abs_seq = true, .ack = 2);
    conn_expect_none(&c);
    conn_done(&c);
}

/* A RST is never answered. */
TEST(rcv_rst_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = R, .seq = 1);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_rstack_closed)
{
    struct conn c;
    conn_start(&c);
    script_send(&c.s, .flags = R | A, .seq = 1, .ack = 5000);
    conn_expect_none(&c);
    conn_done(&c);
}

/* A connection the peer reset is CLOSED: its segments are answered as such
 * even while the application still holds the socket. */
TEST(rcv_ack_closed_after_reset)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_closed(&c, KEEL_ECONNRESET);
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    script_expect(&c.s, .flags = R, .seq = c.snd_una);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_data_closed_after_reset)
{
    struct conn c;
    reach_established(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_closed(&c, KEEL_ECONNRESET);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    script_expect(&c.s, .flags = R, .seq = c.snd_una);
    conn_expect_none(&c);
    conn_done(&c);
}
