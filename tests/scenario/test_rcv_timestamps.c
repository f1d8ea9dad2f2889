/* ESTABLISHED with Linux's options (timestamps, SACK, window scale 7 from the
 * peer; keel's window is unscaled): PAWS and TS.Recent (RFC 7323 §4.3, §5.3),
 * SACK and D-SACK blocks (RFC 2018, RFC 2883) in keel's replies.
 * RCV.NXT 101, window 1052, TS.Recent 1000; see support/states.h. */
#include "harness.h"
#include "states.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

/* keel's ACK: SEQ = SND.NXT, its window, the timestamp echoing ecr and the
 * SACK blocks given (none if n is 0). */
static void expect_ack_ts(struct conn *c, uint32_t ack, uint32_t win, uint32_t ecr,
                          const struct tcp_sack_block *blocks, uint8_t n, int line)
{
    struct seg want = {.flags = A, .seq = c->snd_nxt, .ack = ack, .win = (uint16_t)win,
                       .win_set = true, .opts_set = true,
                       .opts = {.present = TCP_OPT_TS, .tsecr = ecr}};
    for (uint8_t i = 0; i < n; i++)
        want.opts.sack[i] = blocks[i];
    if (n) {
        want.opts.present |= TCP_OPT_SACK;
        want.opts.sack_count = n;
    }
    script_expect_at(&c->s, &want, __FILE__, line);
}
#define EXPECT_ACK_TS(c, ack, win, ecr) expect_ack_ts((c), (ack), (win), (ecr), NULL, 0, __LINE__)
#define EXPECT_ACK_SACK(c, ack, win, ecr, l, r)                                \
    expect_ack_ts((c), (ack), (win), (ecr),                                   \
                  (struct tcp_sack_block[]){{PEER_ISN + (l), PEER_ISN + (r)}}, 1, __LINE__)
#define TS_RECENT 1000 /* the peer's TSval so far */

/* ---- PAWS (RFC 7323 §5.3): an older TSval makes a segment unacceptable ---- */

TEST(rcv_data_left_paws_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT - 1;
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_TS(&c, 101, EST_WINDOW, TS_RECENT);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_ack_left_paws_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT - 1;
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 101);
    EXPECT_ACK_TS(&c, 101, EST_WINDOW, TS_RECENT);
    conn_expect_none(&c);
    conn_done(&c);
}

/* Its ACK field is not looked at either. */
TEST(rcv_ack_left_paws_acknew_established)
{
    struct conn c;
    reach_established_linux(&c);
    conn_keel_sends(&c, 100);
    c.s.peer_tsval = TS_RECENT - 1;
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 201);
    EXPECT_ACK_TS(&c, 101, EST_WINDOW, TS_RECENT);
    conn_expect_none(&c);
    CHECK_EQ(conn_snd_una(&c), 101);
    conn_done(&c);
}

TEST(rcv_fin_left_paws_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT - 1;
    script_send(&c.s, .flags = F | A, .seq = POS_LEFT(&c), .ack = c.snd_una);
    EXPECT_ACK_TS(&c, 101, EST_WINDOW, TS_RECENT);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

TEST(rcv_syn_left_paws_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT - 1;
    script_send(&c.s, .flags = S, .seq = POS_LEFT(&c));
    EXPECT_ACK_TS(&c, 101, EST_WINDOW, TS_RECENT);
    conn_expect_none(&c);
    conn_expect_state(&c, KEEL_TCP_ESTABLISHED);
    conn_done(&c);
}

/* A RST is exempt from PAWS (RFC 7323 §5.3 R1). */
TEST(rcv_rst_left_paws_established)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c),
                .opts = {.present = TCP_OPT_TS, .tsval = TS_RECENT - 1});
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

/* Nor may a RST be dropped for lacking a timestamp (RFC 7323 §3.2). */
TEST(rcv_rst_left_nots_established)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = R, .seq = POS_LEFT(&c));
    conn_expect_none(&c);
    conn_expect_closed(&c, KEEL_ECONNRESET);
    conn_done(&c);
}

/* An equal TSval passes. */
TEST(rcv_data_left_samets_established)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_TS(&c, 111, EST_WINDOW - 10, TS_RECENT);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

/* ---- TS.Recent follows the segment at the left edge only (§4.3) ---- */

TEST(rcv_data_left_newts_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT + 1;
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_TS(&c, 111, EST_WINDOW - 10, TS_RECENT + 1);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 10);
    conn_done(&c);
}

/* A bare ACK at RCV.NXT updates it too (seen in the next ACK keel sends). */
TEST(rcv_ack_left_newts_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT + 1;
    script_send(&c.s, .flags = A, .seq = POS_LEFT(&c), .ack = 101);
    conn_expect_none(&c);
    c.s.peer_tsval = TS_RECENT + 2;
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_SACK(&c, 101, EST_WINDOW, TS_RECENT + 1, POS_OLD(&c), POS_OLD(&c) + 10);
    conn_expect_none(&c);
    conn_done(&c);
}

/* Out of order: held and SACKed (RFC 2018), its TSval not taken. */
TEST(rcv_data_mid_newts_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT + 1;
    script_send(&c.s, .flags = P | A, .seq = POS_MID(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_SACK(&c, 101, EST_WINDOW, TS_RECENT, POS_MID(&c), POS_MID(&c) + 10);
    conn_expect_none(&c);
    conn_done(&c);
}

TEST(rcv_data_beyond_newts_established)
{
    struct conn c;
    reach_established_linux(&c);
    c.s.peer_tsval = TS_RECENT + 1;
    script_send(&c.s, .flags = P | A, .seq = POS_BEYOND(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_TS(&c, 101, EST_WINDOW, TS_RECENT);
    conn_expect_none(&c);
    conn_done(&c);
}

/* The hole filled, no SACK block is left to report. */
TEST(rcv_data_mid_then_fill_established_sack)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = P | A, .seq = 111, .ack = c.snd_una, .len = 10);
    EXPECT_ACK_SACK(&c, 101, EST_WINDOW, TS_RECENT, 111, 121);
    script_send(&c.s, .flags = P | A, .seq = POS_LEFT(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_TS(&c, 121, EST_WINDOW - 20, TS_RECENT);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 20);
    conn_done(&c);
}

/* ---- duplicates are reported with a D-SACK (RFC 2883) ---- */

TEST(rcv_data_old_dsack_established)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = P | A, .seq = POS_OLD(&c), .ack = c.snd_una, .len = 10);
    EXPECT_ACK_SACK(&c, 101, EST_WINDOW, TS_RECENT, POS_OLD(&c), POS_OLD(&c) + 10);
    conn_expect_none(&c);
    conn_expect_no_read(&c);
    conn_done(&c);
}

TEST(rcv_data_retransmit_dsack_established)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = P | A, .seq = 91, .ack = c.snd_una, .len = 10);
    EXPECT_ACK_SACK(&c, 101, EST_WINDOW, TS_RECENT, 91, 101);
    conn_expect_none(&c);
    conn_done(&c);
}

/* Only the duplicate part is reported. */
TEST(rcv_data_straddleleft_dsack_established)
{
    struct conn c;
    reach_established_linux(&c);
    script_send(&c.s, .flags = P | A, .seq = 96, .ack = c.snd_una, .len = 10);
    EXPECT_ACK_SACK(&c, 106, EST_WINDOW - 5, TS_RECENT, 96, 101);
    conn_expect_none(&c);
    conn_expect_read(&c, 101, 5);
    conn_done(&c);
}
