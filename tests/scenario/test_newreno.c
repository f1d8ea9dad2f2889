/* Loss recovery without SACK, as Linux does it: NewReno (RFC 6582) paced
 * by PRR (RFC 9937), where each duplicate ACK stands for a segment that
 * arrived (tcp_add_reno_sack) and the head segment is lost on entry and
 * after each partial ACK (tcp_newreno_mark_lost). Every figure below is
 * what Linux 6.18 reports in TCP_INFO at the same point
 * (tests/packetdrill/recovery/newreno-*.pkt). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define MSS 1000u

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

/* A connection with a 100 ms RTT, no SACK, that wrote `bytes` and sent
 * its initial window of 10 segments. */
static int open_and_send(struct script *s, uint32_t bytes)
{
    struct keel_config cfg = {.sndbuf = 262144};
    script_init(s, &cfg);
    int c = script_active_open_rtt(s, &OPTS_MSS_1000, 100000);
    script_write(s, c, bytes);
    for (uint32_t k = 0; k < 10; k++) {
        bool last = bytes == 10 * MSS && k == 9;
        script_expect(s, .flags = A | (last ? TCP_FLAG_PSH : 0), .seq = 1 + k * MSS, .ack = 1,
                      .len = MSS);
    }
    script_expect_none(s);
    script_advance(s, 100000);
    return c;
}

static void ack_after(struct script *s, uint64_t wait_us, uint32_t ack)
{
    script_advance(s, wait_us);
    script_send(s, .flags = A, .seq = 1, .ack = ack);
}

static void dupack(struct script *s, uint32_t ack)
{
    ack_after(s, 1000, ack);
}

/* The same, echoing tsecr in a timestamp option. */
static void ack_echo(struct script *s, uint64_t wait_us, uint32_t ack, uint32_t tsecr)
{
    struct seg g = {.flags = A, .seq = 1, .ack = ack};
    g.opts.present = TCP_OPT_TS;
    g.opts.tsval = s->peer_tsval;
    g.opts.tsecr = tsecr;
    script_advance(s, wait_us);
    script_inject(s, &g);
}

struct reno_view {
    uint32_t cwnd, sacked, lost, retrans; /* in segments */
    bool in_recovery;
};

static struct reno_view view(struct script *s, int c)
{
    struct keel_tcp_info i = script_info(s, c);
    return (struct reno_view){.cwnd = i.cwnd / MSS, .sacked = i.sacked_bytes / MSS,
                              .lost = i.lost_bytes / MSS, .retrans = i.retrans_out / MSS,
                              .in_recovery = i.in_recovery};
}

#define CHECK_VIEW(s, c, cw, sa, lo, re, rec)                                                      \
    do {                                                                                           \
        struct reno_view v_ = view(s, c);                                                          \
        CHECK_EQ_U(v_.cwnd, cw);                                                                   \
        CHECK_EQ_U(v_.sacked, sa);                                                                 \
        CHECK_EQ_U(v_.lost, lo);                                                                   \
        CHECK_EQ_U(v_.retrans, re);                                                                \
        CHECK_EQ(v_.in_recovery, rec);                                                             \
    } while (0)

/* 1:1001 and 4001:5001 lost, 30 kB to send. Two duplicates let two new
 * segments go (RFC 3042); the third starts the recovery (ssthresh 7,
 * RecoverFS the cwnd of 10) and resends the head. PRR then lets new data
 * go by what the duplicates report delivered; the partial ACK of 4001
 * makes the new head lost and resends it; the ACK of the recovery point
 * keeps the recovery (Linux holds it until an ACK goes beyond, against
 * false fast retransmits, RFC 6582 §3.2 step 1), and the next ACK ends it
 * with cwnd = ssthresh. */
TEST(newreno_fast_recovery_paced_by_prr_as_linux)
{
    struct script s;
    int c = open_and_send(&s, 30000);
    dupack(&s, 1);
    script_expect(&s, .flags = A, .seq = 10001, .ack = 1, .len = MSS);
    CHECK_VIEW(&s, c, 10, 1, 0, 0, false);
    dupack(&s, 1);
    script_expect(&s, .flags = A, .seq = 11001, .ack = 1, .len = MSS);
    dupack(&s, 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_VIEW(&s, c, 9, 3, 1, 1, true);
    CHECK_EQ_U(script_info(&s, c).ssthresh, 7 * MSS);
    /* PRR, pipe above ssthresh: ceil(delivered * 7 / 10) segments in all. */
    dupack(&s, 1);
    script_expect(&s, .flags = A, .seq = 12001, .ack = 1, .len = MSS);
    CHECK_VIEW(&s, c, 9, 4, 1, 1, true);
    dupack(&s, 1);
    script_expect(&s, .flags = A, .seq = 13001, .ack = 1, .len = MSS);
    CHECK_VIEW(&s, c, 9, 5, 1, 1, true);
    dupack(&s, 1);
    script_expect_none(&s);
    CHECK_VIEW(&s, c, 8, 6, 1, 1, true);
    dupack(&s, 1);
    script_expect_none(&s);
    CHECK_VIEW(&s, c, 7, 7, 1, 1, true);
    /* Pipe at ssthresh: one segment out per segment delivered. */
    for (uint32_t k = 0; k < 3; k++) {
        dupack(&s, 1);
        script_expect(&s, .flags = A, .seq = 14001 + k * MSS, .ack = 1, .len = MSS);
        script_expect_none(&s);
    }
    CHECK_VIEW(&s, c, 7, 10, 1, 1, true);
    /* The partial ACK: 4 segments, one the hole, 3 reported before. */
    ack_after(&s, 10000, 4001);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 17001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_VIEW(&s, c, 7, 7, 1, 1, true);
    dupack(&s, 4001);
    script_expect(&s, .flags = A, .seq = 18001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_VIEW(&s, c, 7, 8, 1, 1, true);
    /* The recovery point (12001): the recovery holds. */
    ack_after(&s, 10000, 12001);
    CHECK_VIEW(&s, c, 7, 0, 0, 0, true);
    /* Beyond it: the recovery ends, cwnd = ssthresh. */
    script_send(&s, .flags = A, .seq = 1, .ack = 13001);
    CHECK_VIEW(&s, c, 7, 0, 0, 0, false);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFastRetrans), 1);
    script_free(&s);
}

/* Ten duplicates of 10 segments sent, 1:1001 lost: they report at most
 * all segments in flight but one, the hole (Linux tcp_limit_reno_sacked),
 * so the tenth delivers nothing. Then the ACK of everything holds the
 * recovery with cwnd 7, and 10 kB more are written: 7 segments go. */
static int hold_at_the_recovery_point(struct script *s)
{
    int c = open_and_send(s, 10000);
    for (uint32_t k = 1; k <= 10; k++) {
        dupack(s, 1);
        if (k == 3)
            script_expect(s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
        script_expect_none(s);
    }
    CHECK_VIEW(s, c, 7, 9, 1, 1, true);
    ack_after(s, 10000, 10001);
    CHECK_VIEW(s, c, 7, 0, 0, 0, true);
    script_write(s, c, 10000);
    for (uint32_t k = 0; k < 7; k++)
        script_expect(s, .flags = A, .seq = 10001 + k * MSS, .ack = 1, .len = MSS);
    script_expect_none(s);
    return c;
}

/* An ACK beyond the recovery point ends it, with cwnd = ssthresh. */
TEST(newreno_recovery_held_until_an_ack_beyond_its_point)
{
    struct script s;
    int c = hold_at_the_recovery_point(&s);
    ack_after(&s, 10000, 12001);
    CHECK_VIEW(&s, c, 7, 0, 0, 0, false);
    script_expect(&s, .flags = A, .seq = 17001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 18001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_free(&s);
}

/* While the recovery holds, duplicates of its point report nothing and
 * send nothing (Linux returns from tcp_fastretrans_alert first): 10001,
 * lost, waits for the timeout, as on Linux 6.18
 * (tests/packetdrill/recovery/newreno-held-recovery-ignores-duplicates.pkt). */
TEST(newreno_held_recovery_ignores_duplicates)
{
    struct script s;
    int c = hold_at_the_recovery_point(&s);
    for (uint32_t k = 0; k < 4; k++)
        dupack(&s, 10001);
    script_expect_none(&s);
    CHECK_VIEW(&s, c, 7, 0, 0, 0, true);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFastRetrans), 1);
    script_run_timer(&s);
    script_expect(&s, .flags = A, .seq = 10001, .ack = 1, .len = MSS);
    script_free(&s);
}

/* Small segments count as packets, not as octets over the MSS (Linux
 * packets_out): eight of 100 bytes, the first lost, and three duplicates
 * start a fast recovery, which resends the head (up to an MSS, as Linux
 * collapses small packets into its retransmission). */
TEST(newreno_small_segments_count_as_packets)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 100000);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &one, sizeof one), 0);
    for (uint32_t k = 0; k < 8; k++) {
        script_write(&s, c, 100);
        script_expect(&s, .flags = TCP_FLAG_PSH | A, .seq = 1 + k * 100, .ack = 1, .len = 100);
    }
    script_advance(&s, 100000);
    for (uint32_t k = 0; k < 3; k++)
        dupack(&s, 1);
    script_expect(&s, .flags = TCP_FLAG_PSH | A, .seq = 1, .ack = 1, .len = 800);
    script_expect_none(&s);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFastRetrans), 1);
    CHECK(script_info(&s, c).in_recovery);
    script_free(&s);
}

/* An ECN reduction (CWR) without SACK runs PRR over the same scoreboard,
 * whose pipe already leaves out what duplicates report: limited transmit
 * adds nothing on top. The ECE on the ACK of 1001 cuts (ssthresh 7,
 * RecoverFS 10: one segment, ceil(7 / 10)); a duplicate then earns one
 * more (ceil(14 / 10) - 1), not two. */
TEST(newreno_ecn_reduction_counts_a_duplicate_once)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s.st, ls, &a), 0);
    CHECK_EQ(keel_listen(s.st, ls, 16), 0);
    script_send(&s, .flags = TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR, .seq = 0,
                .opts = OPTS_MSS_1000);
    script_expect(&s, .flags = TCP_FLAG_SYN | A | TCP_FLAG_ECE, .seq = 0, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s.st, ls, NULL);
    script_write(&s, c, 30000);
    while (script_pending(&s))
        s.next_out++;
    script_advance(&s, 10000);
    script_send(&s, .flags = TCP_FLAG_ECE | A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = TCP_FLAG_CWR | A, .seq = 10001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    dupack(&s, 1001);
    script_expect(&s, .flags = A, .seq = 11001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK(script_info(&s, c).in_cwr);
    script_free(&s);
}

/* With timestamps, the ACK of the recovery point echoes the original's
 * TSval: the cut is undone (ssthresh unbounded) but the recovery holds,
 * and PRR sets cwnd on that ACK: 8 (7 delivered beyond the one resent,
 * and one for the SafeACK). Duplicates of the point then start no second
 * recovery; the ACK beyond ends it and grows cwnd by slow start, 10.
 * Linux 6.18 passes the same steps
 * (tests/packetdrill/recovery/newreno-undo-at-recovery-point-holds.pkt). */
TEST(newreno_undo_at_the_recovery_point_keeps_holding)
{
    static const struct tcp_opts ts = {.present = TCP_OPT_MSS | TCP_OPT_TS, .mss = 1012,
                                       .tsval = 1000};
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    int c = script_active_open_rtt(&s, &ts, 100000);
    script_write(&s, c, 10000);
    uint32_t tsval = script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS)->h.opts.tsval;
    while (script_pending(&s))
        s.next_out++;
    script_advance(&s, 100000);
    for (uint32_t k = 0; k < 5; k++)
        ack_echo(&s, 1000, 1, tsval);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(&s);
    ack_echo(&s, 10000, 10001, tsval);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_recovery);
    CHECK_EQ_U(i.cwnd, 8 * MSS);
    CHECK_EQ_U(i.ssthresh, UINT32_MAX);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFullUndo), 1);
    script_write(&s, c, 20000);
    for (uint32_t k = 0; k < 8; k++)
        script_expect(&s, .flags = A, .seq = 10001 + k * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    for (uint32_t k = 0; k < 3; k++)
        ack_echo(&s, 1000, 10001, tsval);
    script_expect_none(&s);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFastRetrans), 1);
    ack_echo(&s, 10000, 12001, tsval);
    i = script_info(&s, c);
    CHECK(!i.in_recovery);
    CHECK_EQ_U(i.cwnd, 10 * MSS);
    script_free(&s);
}
