/* Undoing a cut that proved unneeded (src/tcp/undo.c), as Linux does: by
 * the Eifel detection (RFC 3522, Linux tcp_packet_delayed), an ACK that
 * echoes a timestamp older than the first retransmission. Each test
 * follows a packetdrill script that Linux 6.18 passed on this machine
 * (tests/packetdrill/undo). MSS 1012 less 12 bytes of timestamps: 1000 of
 * data per segment; a 10 ms RTT from the handshake. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define SEG 1000u

static const struct tcp_opts OPTS_TS_SACK = {
    .present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS, .mss = 1012, .tsval = 1000};

/* An ACK of `ack` (with `flags`) echoing tsecr, SACKing [left, right)
 * when right > 0 (sequence numbers relative). */
static void ack_flags_echo(struct script *s, uint8_t flags, uint32_t ack, uint32_t tsecr,
                           uint32_t left, uint32_t right)
{
    struct seg g = {.flags = flags, .seq = 1, .ack = ack};
    g.opts.present = TCP_OPT_TS;
    g.opts.tsval = s->peer_tsval;
    g.opts.tsecr = tsecr;
    if (right) {
        g.opts.present |= TCP_OPT_SACK;
        g.opts.sack_count = 1;
        g.opts.sack[0].left = s->keel_isn + left;
        g.opts.sack[0].right = s->keel_isn + right;
    }
    script_inject(s, &g);
}

static void ack_echo(struct script *s, uint32_t ack, uint32_t tsecr, uint32_t left, uint32_t right)
{
    ack_flags_echo(s, A, ack, tsecr, left, right);
}

/* keel listens; the peer asks for ECN (ECE and CWR on its SYN), with
 * timestamps and SACK; a 10 ms RTT. */
static int ecn_ts_sack_connection(struct script *s)
{
    script_init(s, NULL);
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s->st, ls, &a), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    script_send(s, .flags = TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR, .seq = 0,
                .opts = OPTS_TS_SACK);
    uint32_t tsval = script_expect(s, .flags = TCP_FLAG_SYN | A | TCP_FLAG_ECE, .seq = 0,
                                   .ack = 1)->h.opts.tsval;
    script_advance(s, 10000);
    ack_echo(s, 1, tsval, 0, 0);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0 && script_info(s, c).ecn_ok);
    CHECK_EQ(keel_close(s->st, ls), 0);
    return c;
}

/* 1:1001 is delayed, not lost: 1001:4001 SACKed make RACK resend it, and
 * a fast recovery cuts cwnd to 7. Returns the connection (with ECN when
 * `ecn`); *orig_tsval and *rxt_tsval are the TSvals of its first
 * transmission and of the resend. */
static int delay_the_first_segment_ecn(struct script *s, bool ecn, uint32_t *orig_tsval,
                                       uint32_t *rxt_tsval)
{
    int c;
    if (ecn) {
        c = ecn_ts_sack_connection(s);
    } else {
        script_init(s, NULL);
        c = script_active_open_rtt(s, &OPTS_TS_SACK, 10000);
    }
    script_write(s, c, 10 * SEG);
    for (uint32_t k = 0; k < 10; k++) {
        const struct captured *o = script_expect(s, .flags = (uint8_t)(k == 9 ? P | A : A),
                                                 .seq = 1 + k * SEG, .ack = 1, .len = SEG);
        if (k == 0)
            *orig_tsval = o->h.opts.tsval;
    }
    script_advance(s, 10000);
    for (uint32_t k = 2; k <= 4; k++)
        ack_echo(s, 1, *orig_tsval, 1001, 1 + k * SEG);
    script_run_timer(s); /* RACK's reordering window */
    *rxt_tsval = script_expect(s, .flags = A, .seq = 1, .ack = 1, .len = SEG)->h.opts.tsval;
    CHECK(*rxt_tsval != *orig_tsval);
    script_expect_none(s);
    struct keel_tcp_info i = script_info(s, c);
    CHECK(i.in_recovery);
    CHECK_EQ_U(i.cwnd, 7 * SEG);
    script_advance(s, 5000);
    return c;
}

static int delay_the_first_segment(struct script *s, uint32_t *orig_tsval, uint32_t *rxt_tsval)
{
    return delay_the_first_segment_ecn(s, false, orig_tsval, rxt_tsval);
}

/* Whether c is in a fast recovery, its cwnd in segments and ssthresh. */
static void check_cut(struct script *s, int c, bool in_recovery, uint32_t cwnd_segs,
                      uint32_t ssthresh)
{
    struct keel_tcp_info i = script_info(s, c);
    CHECK_EQ(i.in_recovery, in_recovery);
    CHECK_EQ_U(i.cwnd, cwnd_segs * SEG);
    CHECK_EQ_U(i.ssthresh, ssthresh);
}

/* The recovery was undone by the ACK just taken (counted in `undo`), and
 * cwnd is cwnd_segs, ssthresh unbounded again. */
static void check_undone(struct script *s, int c, uint32_t cwnd_segs, enum keel_counter_id undo)
{
    check_cut(s, c, false, cwnd_segs, UINT32_MAX);
    CHECK_EQ_U(script_counter(s, undo), 1);
}

/* Then the ACK of all ten segments echoes the original's TSval, older than
 * the retransmission's: the recovery is undone before the ACK grows cwnd:
 * 10, then 17 by slow start, ssthresh unbounded again (Linux 6.18: cwnd 7,
 * then 17). The retransmission's D-SACK after changes nothing more. */
TEST(eifel_ack_of_the_original_undoes_a_fast_recovery)
{
    struct script s;
    uint32_t orig_tsval, rxt_tsval;
    int c = delay_the_first_segment(&s, &orig_tsval, &rxt_tsval);
    ack_echo(&s, 1 + 10 * SEG, orig_tsval, 0, 0);
    check_undone(&s, c, 17, KEEL_C_TCPFullUndo);
    script_advance(&s, 5000);
    ack_echo(&s, 1 + 10 * SEG, rxt_tsval, 1, 1001);
    CHECK_EQ_U(script_info(&s, c).cwnd, 17 * SEG);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPDSACKUndo), 0);
    script_free(&s);
}

/* The same ACK echoing the retransmission's TSval: the retransmission
 * repaired a loss, the cut stays (cwnd = ssthresh = 7, and CUBIC grows it
 * to 8 on this ACK; Linux 6.18: the same). */
TEST(eifel_ack_of_the_retransmission_keeps_the_cut)
{
    struct script s;
    uint32_t orig_tsval, rxt_tsval;
    int c = delay_the_first_segment(&s, &orig_tsval, &rxt_tsval);
    ack_echo(&s, 1 + 10 * SEG, rxt_tsval, 0, 0);
    check_cut(&s, c, false, 8, 7 * SEG);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFullUndo), 0);
    script_free(&s);
}

/* Linux tcp_try_undo_partial: the partial ACK of 4001 (the recovery point
 * is 10001) echoes the original's TSval, and no retransmission is left
 * beyond it: the delayed original filled the hole. The cut is undone
 * before the ACK grows cwnd (10, then 11 by slow start) and the recovery
 * ends (Linux 6.18: the same;
 * tests/packetdrill/undo/eifel-partial-ack-undoes-recovery.pkt). */
TEST(eifel_partial_ack_of_the_original_undoes_the_recovery)
{
    struct script s;
    uint32_t orig_tsval, rxt_tsval;
    int c = delay_the_first_segment(&s, &orig_tsval, &rxt_tsval);
    ack_echo(&s, 1 + 4 * SEG, orig_tsval, 0, 0);
    check_undone(&s, c, 11, KEEL_C_TCPPartialUndo);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.reord_seen, 1);
    CHECK_EQ_U(i.reordering, 4);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPTSReorder), 1);
    script_advance(&s, 5000);
    ack_echo(&s, 1 + 5 * SEG, orig_tsval, 0, 0);
    CHECK_EQ_U(script_info(&s, c).cwnd, 12 * SEG);
    script_free(&s);
}

/* The same, with 5001:10001 SACKed first: RACK resends 4001:5001 too,
 * which is still out when the ACK of 4001 echoes the original's TSval, so
 * nothing is undone (Linux: retrans_out) and the recovery goes on
 * (tests/packetdrill/undo/eifel-partial-ack-keeps-cut-with-retransmission-beyond.pkt). */
TEST(eifel_partial_ack_keeps_the_cut_with_a_retransmission_beyond)
{
    struct script s;
    uint32_t orig_tsval, rxt_tsval;
    int c = delay_the_first_segment(&s, &orig_tsval, &rxt_tsval);
    ack_echo(&s, 1, orig_tsval, 5001, 10001);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = SEG);
    script_expect_none(&s);
    script_advance(&s, 3000);
    ack_echo(&s, 1 + 4 * SEG, orig_tsval, 5001, 10001);
    check_cut(&s, c, true, 7, 7 * SEG);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPPartialUndo), 0);
    script_free(&s);
}

/* Linux tcp_fastretrans_alert, step A: an ACK that echoes congestion
 * during the recovery makes its cut stand. The partial ACK that proves
 * the hole was filled by the delayed original then ends the recovery
 * (TCPPartialUndo) but restores nothing: cwnd and ssthresh stay 7, and
 * that ACK, itself without ECE, starts no ECN reduction (Linux 6.18: cwnd
 * 7, ssthresh 7, Open;
 * tests/packetdrill/undo/ece-during-recovery-forbids-undo.pkt). */
TEST(ece_during_a_recovery_leaves_the_cut_to_a_partial_undo)
{
    struct script s;
    uint32_t orig_tsval, rxt_tsval;
    int c = delay_the_first_segment_ecn(&s, true, &orig_tsval, &rxt_tsval);
    ack_flags_echo(&s, A | TCP_FLAG_ECE, 1, orig_tsval, 1001, 4001);
    script_advance(&s, 3000);
    ack_echo(&s, 1 + 4 * SEG, orig_tsval, 0, 0);
    check_cut(&s, c, false, 7, 7 * SEG);
    CHECK(!script_info(&s, c).in_cwr);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPPartialUndo), 1);
    script_free(&s);
}

/* The same with the echo on the partial ACK itself: the undo restores
 * nothing, and that ACK starts no ECN reduction either: Linux leaves
 * tcp_fastretrans_alert before tcp_try_to_open, which would enter CWR
 * (Linux 6.18: cwnd 7, ssthresh 7, Open;
 * tests/packetdrill/undo/ece-on-partial-undo-ack.pkt). */
TEST(ece_on_the_partial_ack_leaves_the_cut_and_starts_no_reduction)
{
    struct script s;
    uint32_t orig_tsval, rxt_tsval;
    int c = delay_the_first_segment_ecn(&s, true, &orig_tsval, &rxt_tsval);
    ack_flags_echo(&s, A | TCP_FLAG_ECE, 1 + 4 * SEG, orig_tsval, 0, 0);
    check_cut(&s, c, false, 7, 7 * SEG);
    CHECK(!script_info(&s, c).in_cwr);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPPartialUndo), 1);
    script_free(&s);
}

/* A partial undo with SACKed holes left (1:4001 lost in part, 4001:7001
 * SACKed): the ACK that undoes the recovery shows reordering and starts
 * no new one on its own, although the holes below the SACKed data count
 * lost (Linux 6.18: cwnd 12, ssthresh unbounded, no retransmission). */
TEST(eifel_partial_undo_starts_no_recovery_on_its_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_TS_SACK, 10000);
    script_write(&s, c, 10 * SEG);
    uint32_t orig_tsval = script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = SEG)->h.opts.tsval;
    while (script_pending(&s))
        s.next_out++;
    script_advance(&s, 10000);
    for (uint32_t k = 5; k <= 7; k++)
        ack_echo(&s, 1, orig_tsval, 4001, 1 + k * SEG);
    script_run_timer(&s); /* RACK's reordering window */
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = SEG);
    script_expect_none(&s);
    CHECK(script_info(&s, c).in_recovery);
    script_advance(&s, 5000);
    ack_echo(&s, 2001, orig_tsval, 4001, 7001);
    script_expect_none(&s);
    check_cut(&s, c, false, 12, UINT32_MAX);
    script_free(&s);
}

/* An ECN connection (keel listens; the peer asks with ECE and CWR), MSS
 * 1000, SACK, a 10 ms RTT; 20 segments written and sent. */
static int ecn_sack_connection(struct script *s)
{
    static const struct tcp_opts syn = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1000};
    struct keel_config cfg = {.sndbuf = 262144};
    script_init(s, &cfg);
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s->st, ls, &a), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    script_send(s, .flags = TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR, .seq = 0, .opts = syn);
    script_expect(s, .flags = TCP_FLAG_SYN | A | TCP_FLAG_ECE, .seq = 0, .ack = 1);
    script_advance(s, 10000);
    script_send(s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0 && script_info(s, c).ecn_ok);
    script_write(s, c, 20 * 1000);
    while (script_pending(s))
        s->next_out++;
    script_advance(s, 10000);
    return c;
}

/* Linux tcp_enter_cwr: an ECN reduction leaves nothing to undo. A fast
 * recovery ends without an undo; an ECE then cuts cwnd again; the D-SACK
 * of the recovery's retransmission that comes after does not restore the
 * cwnd from before the recovery (it would drop the ECN response). */
TEST(an_ecn_reduction_is_not_undone_by_an_older_dsack)
{
    struct script s;
    int c = ecn_sack_connection(&s);
    script_ack_sack(&s, 1, 1001, 5001); /* 1:1001 lost: a fast recovery */
    CHECK(script_info(&s, c).in_recovery);
    script_send(&s, .flags = A, .seq = 1, .ack = 10001);
    CHECK(!script_info(&s, c).in_recovery);
    while (script_pending(&s))
        s.next_out++;
    script_send(&s, .flags = A | TCP_FLAG_ECE, .seq = 1, .ack = 11001);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_cwr);
    uint32_t ssthresh = i.ssthresh;
    script_ack_sack(&s, 11001, 1, 1001); /* the D-SACK of 1:1001 */
    i = script_info(&s, c);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPDSACKUndo), 0);
    CHECK_EQ_U(i.ssthresh, ssthresh);
    CHECK(i.in_cwr);
    script_free(&s);
}

/* Linux tcp_enter_recovery(sk, ece_ack): when the ACK that starts a fast
 * recovery also echoes congestion, its cut answers the ECE too and stands:
 * the D-SACK of the only retransmission ends the recovery as an undo
 * (TCPFullUndo, as Linux counts it) that restores nothing (ssthresh 7).
 * Linux 6.18, with 10 segments: cwnd 7, then 8, ssthresh 7, TCPFullUndo 1. */
TEST(a_recovery_started_by_an_ece_ack_is_not_undone)
{
    struct script s;
    int c = ecn_sack_connection(&s);
    struct seg g = {.flags = A | TCP_FLAG_ECE, .seq = 1, .ack = 1};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 1;
    g.opts.sack[0].left = s.keel_isn + 1001;
    g.opts.sack[0].right = s.keel_isn + 5001;
    script_inject(&s, &g);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_recovery);
    uint32_t ssthresh = i.ssthresh;
    script_ack_sack(&s, 10001, 1, 1001); /* all of it, and the D-SACK of 1:1001 */
    i = script_info(&s, c);
    CHECK(!i.in_recovery);
    CHECK_EQ_U(i.ssthresh, ssthresh);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFullUndo), 1);
    script_free(&s);
}

/* A second cut in one loss episode keeps the episode's first
 * retransmission as the Eifel reference (Linux keeps retrans_stamp): all
 * ten segments are lost; the first timeout resends 1:1001 (TSval T1), its
 * ACK lets go-back-N resend 1001:3001 (T2), a second timeout cuts again and
 * resends 1001:2001 (T3). An ACK of 3001 echoing T2 was triggered by a
 * retransmission, not by an original: nothing is undone (against T3, a
 * fresh reference, it would have looked delayed). */
TEST(eifel_reference_survives_a_second_cut_in_one_episode)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_TS_SACK, 10000);
    script_write(&s, c, 10 * SEG);
    while (script_pending(&s))
        s.next_out++;
    while (script_counter(&s, KEEL_C_TCPTimeouts) < 1) {
        script_run_timer(&s);
        while (script_pending(&s) > 1)
            s.next_out++;
    }
    uint32_t t1 = script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = SEG)->h.opts.tsval;
    script_advance(&s, 10000);
    ack_echo(&s, 1001, t1, 0, 0);
    uint32_t t2 = script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = SEG)->h.opts.tsval;
    while (script_pending(&s))
        s.next_out++;
    while (script_counter(&s, KEEL_C_TCPTimeouts) < 2) {
        script_run_timer(&s);
        while (script_pending(&s) > 1)
            s.next_out++;
    }
    uint32_t t3 = script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = SEG)->h.opts.tsval;
    CHECK((int32_t)(t1 - t2) < 0 && (int32_t)(t2 - t3) < 0);
    script_advance(&s, 10000);
    ack_echo(&s, 3001, t2, 0, 0);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossUndo), 0);
    CHECK(script_info(&s, c).in_loss);
    script_free(&s);
}

/* Linux tcp_dsack_seen: a D-SACK counts every segment it covers as
 * delivered. A recovery resends 1:2001 (two segments); the ACK of all ten
 * D-SACKs both: the cut is undone and cwnd grows by the 7 segments the ACK
 * acknowledged and the 2 D-SACKed, 10 + 9 (Linux 6.18: 19;
 * tests/packetdrill/undo/dsack-of-two-segments-counts-both.pkt). */
TEST(a_dsack_of_two_segments_counts_both_delivered)
{
    static const struct tcp_opts syn = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1000};
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &syn, 100000);
    script_write(&s, c, 10 * SEG);
    while (script_pending(&s))
        s.next_out++;
    script_advance(&s, 100000);
    script_ack_sack(&s, 1, 2001, 5001);
    while (script_counter(&s, KEEL_C_TcpRetransSegs) < 2)
        script_run_timer(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_recovery);
    CHECK_EQ_U(i.cwnd, 7 * SEG);
    script_advance(&s, 10000);
    script_ack_sack(&s, 10001, 1, 2001);
    i = script_info(&s, c);
    CHECK(!i.in_recovery);
    CHECK_EQ_U(i.cwnd, 19 * SEG);
    CHECK_EQ_U(i.ssthresh, UINT32_MAX);
    script_free(&s);
}

/* Linux tcp_dsack_seen: with nothing ever retransmitted, a D-SACK reports
 * a duplicate the network made, and delivers nothing: slow start grows
 * cwnd by the 5 segments the ACK of 5001 acknowledges, then by the one
 * the ACK of 6001 does (Linux 6.18: 15, then 16;
 * tests/packetdrill/recovery/dsack-without-retransmission-delivers-nothing.pkt). */
TEST(a_dsack_with_nothing_retransmitted_delivers_nothing)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    int c = script_active_open_rtt(&s, &OPTS_TS_SACK, 10000);
    script_write(&s, c, 20 * SEG);
    uint32_t tsval = script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = SEG)->h.opts.tsval;
    while (script_pending(&s))
        s.next_out++;
    script_advance(&s, 10000);
    ack_echo(&s, 5001, tsval, 1, 1001);
    CHECK_EQ_U(script_info(&s, c).cwnd, 15 * SEG);
    script_advance(&s, 1000);
    ack_echo(&s, 6001, tsval, 1, 1001);
    CHECK_EQ_U(script_info(&s, c).cwnd, 16 * SEG);
    script_free(&s);
}
