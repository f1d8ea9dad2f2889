/* RACK-TLP (RFC 8985) as Linux runs it: the reordering window and timer,
 * the tail loss probe and its loss detection (§7.4), and the reordering
 * degree Linux reports as tcpi_reordering. The handshake gives an RTT of
 * 100 ms: SRTT 100 ms, min_rtt 100 ms, RTO 300 ms. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define MSS 1460u
#define RTT 100000u

static const struct tcp_opts OPTS_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1460};

/* An ACK of `ack` (relative) SACKing segments [first, last] (1-based), and
 * optionally a D-SACK block before them. */
static void ack_sacking(struct script *s, uint32_t ack, uint32_t first, uint32_t last)
{
    struct seg g = {.flags = A, .seq = 1, .ack = ack};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 1;
    g.opts.sack[0].left = s->keel_isn + 1 + (first - 1) * MSS;
    g.opts.sack[0].right = s->keel_isn + 1 + last * MSS;
    script_inject(s, &g);
}

/* Connects with a 100 ms RTT and sends n segments in one write, at once. */
static int open_and_send(struct script *s, uint32_t n)
{
    script_init(s, NULL);
    int c = script_active_open_rtt(s, &OPTS_SACK, RTT);
    int sndbuf = 65536;
    CHECK_EQ(keel_setsockopt(s->st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    static uint8_t data[20 * MSS];
    CHECK_EQ(keel_send(s->st, c, data, n * MSS, 0), (long)(n * MSS));
    for (uint32_t k = 0; k < n && k < 10; k++)
        script_expect(s, .flags = k == n - 1 ? A | P : A, .seq = 1 + k * MSS, .ack = 1, .len = MSS);
    script_expect_none(s);
    return c;
}

/* RFC 8985 §6.2: one SACK of the last segment, no reordering seen yet:
 * the earlier segments are lost only min_rtt / 4 (+ Linux's 2 ms timer
 * slack) after RACK.rtt has passed; the reordering timer then starts
 * recovery and the first retransmission. */
TEST(rack_reordering_timer_marks_lost_after_quarter_min_rtt)
{
    struct script s;
    int c = open_and_send(&s, 4);
    uint64_t sent = s.now_us;
    script_advance(&s, RTT);
    ack_sacking(&s, 1, 4, 4);
    script_expect_none(&s);
    CHECK(!script_info(&s, c).in_recovery);
    script_advance_to(&s, sent + RTT + RTT / 4 + 2000 - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_recovery);
    CHECK_EQ_U(i.lost_bytes, 3 * MSS);
    CHECK_EQ_U(i.retrans_out, MSS);
    CHECK_EQ_U(i.reordering, 3);
    script_free(&s);
}

/* RFC 8985 §6.2.4 as Linux: with DupThresh segments SACKed and no
 * reordering seen, the window is zero: RACK marks every earlier segment
 * lost at once (more than RFC 6675's IsLost, which leaves holes with
 * fewer than three SACKed segments above them). */
TEST(rack_dupthresh_sacked_marks_all_earlier_lost_at_once)
{
    struct script s;
    int c = open_and_send(&s, 10);
    script_advance(&s, RTT);
    ack_sacking(&s, 1, 3, 3);
    ack_sacking(&s, 1, 7, 7);
    script_expect_none(&s);
    struct seg g = {.flags = A, .seq = 1, .ack = 1};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 3;
    for (uint32_t k = 0; k < 3; k++) {
        uint32_t seg = (uint32_t[]){3, 7, 9}[k];
        g.opts.sack[k].left = s.keel_isn + 1 + (seg - 1) * MSS;
        g.opts.sack[k].right = s.keel_isn + 1 + seg * MSS;
    }
    script_inject(&s, &g);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_recovery);
    /* Segments 1-2, 4-6 and 8 are lost: 6. */
    CHECK_EQ_U(i.lost_bytes, 6 * MSS);
    script_free(&s);
}

/* Linux tcp_check_sack_reordering: a never-retransmitted segment SACKed
 * below the highest SACKed one is reordering, of degree (fack - seq) / MSS;
 * a cumulative ACK that fills never-SACKed holes below the old fack too. */
TEST(rack_reordering_degree_from_sacks_and_cumulative_ack)
{
    struct script s;
    int c = open_and_send(&s, 10);
    script_advance(&s, 20000);
    ack_sacking(&s, 1, 10, 10);
    ack_sacking(&s, 1, 4, 4);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.reordering, 7); /* 10 * MSS + 1 - (3 * MSS + 1) */
    CHECK_EQ_U(i.reord_seen, 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 10 * MSS);
    i = script_info(&s, c);
    CHECK_EQ_U(i.reordering, 10);
    CHECK_EQ_U(i.reord_seen, 2);
    CHECK(!i.in_recovery);
    script_expect_none(&s);
    script_free(&s);
}

/* Linux tcp_may_raise_cwnd: while reordering stays at tcp_reordering (3),
 * only SND.UNA's advance grows cwnd; once a SACK shows more, that very
 * SACK grows it too, by the segment it delivers. The cumulative ACK then
 * delivers the 8 segments not SACKed: slow start from 10 to 11 to 19.
 * (cubic/cubic-rack-reo-timeout-retrans-failed-incoming-data.pkt.) */
TEST(sacks_grow_cwnd_once_reordering_exceeds_three)
{
    struct script s;
    int c = open_and_send(&s, 10);
    script_advance(&s, 20000);
    ack_sacking(&s, 1, 10, 10);
    CHECK_EQ_U(script_info(&s, c).cwnd, 10 * MSS);
    ack_sacking(&s, 1, 4, 4);
    CHECK_EQ_U(script_info(&s, c).reordering, 7);
    CHECK_EQ_U(script_info(&s, c).cwnd, 11 * MSS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 10 * MSS);
    CHECK_EQ_U(script_info(&s, c).cwnd, 19 * MSS);
    script_expect_none(&s);
    script_free(&s);
}

/* RFC 8985 §7.2-7.3: no ACK for 2 * SRTT + 2 ms: the probe is the last
 * segment again (nothing new to send); the RTO then runs from the probe. */
TEST(tlp_probes_with_last_segment_then_rto_from_probe)
{
    struct script s;
    int c = open_and_send(&s, 4);
    uint64_t sent = s.now_us;
    script_advance_to(&s, sent + 2 * RTT + 2000 - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A | P, .seq = 1 + 3 * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossProbes), 1);
    CHECK_EQ_U(script_info(&s, c).backoff, 0);
    uint64_t probe = s.now_us;
    script_advance_to(&s, probe + 3 * RTT - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPTimeouts), 1);
    script_free(&s);
}

/* RFC 8985 §7.3: with data waiting (cwnd full), the probe is one new
 * segment, sent beyond cwnd; its ACK ends the episode without a cwnd cut. */
TEST(tlp_probes_with_new_data_when_queued)
{
    struct script s;
    int c = open_and_send(&s, 12);
    uint32_t cwnd = script_info(&s, c).cwnd;
    script_advance(&s, 2 * RTT + 2000);
    script_expect(&s, .flags = A, .seq = 1 + 10 * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 11 * MSS);
    CHECK(script_info(&s, c).cwnd >= cwnd);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossProbeRecovery), 0);
    script_free(&s);
}

/* RFC 8985 §7.4: the probe retransmitted the last segment and an ACK
 * beyond it came without a D-SACK: the probe repaired a loss, cwnd is cut
 * once (Linux: CWR, cwnd = ssthresh, CUBIC's 0.7). */
TEST(tlp_loss_detected_without_dsack_cuts_cwnd)
{
    struct script s;
    int c = open_and_send(&s, 4);
    script_advance(&s, 2 * RTT + 2000);
    script_expect(&s, .flags = A | P, .seq = 1 + 3 * MSS, .ack = 1, .len = MSS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 4 * MSS);
    uint32_t cwnd = script_info(&s, c).cwnd;
    static uint8_t more[MSS];
    CHECK_EQ(keel_send(s.st, c, more, MSS, 0), (long)MSS);
    script_expect(&s, .flags = A | P, .seq = 1 + 4 * MSS, .ack = 1, .len = MSS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 5 * MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossProbeRecovery), 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.cwnd, i.ssthresh);
    CHECK(i.cwnd < cwnd);
    script_free(&s);
}

/* RFC 8985 §7.4: a D-SACK for the probe shows the original arrived too:
 * nothing was lost, cwnd stays. */
TEST(tlp_dsack_of_probe_means_no_loss)
{
    struct script s;
    int c = open_and_send(&s, 4);
    script_advance(&s, 2 * RTT + 2000);
    script_expect(&s, .flags = A | P, .seq = 1 + 3 * MSS, .ack = 1, .len = MSS);
    struct seg g = {.flags = A, .seq = 1, .ack = 1 + 4 * MSS};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 1;
    g.opts.sack[0].left = s.keel_isn + 1 + 3 * MSS;
    g.opts.sack[0].right = s.keel_isn + 1 + 4 * MSS;
    script_inject(&s, &g);
    uint32_t cwnd = script_info(&s, c).cwnd;
    static uint8_t more[MSS];
    CHECK_EQ(keel_send(s.st, c, more, MSS, 0), (long)MSS);
    script_expect(&s, .flags = A | P, .seq = 1 + 4 * MSS, .ack = 1, .len = MSS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + 5 * MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossProbeRecovery), 0);
    CHECK(script_info(&s, c).cwnd >= cwnd);
    script_free(&s);
}

/* RFC 8985 §7.2: no probe without SACK (Linux requires it): the RTO alone. */
TEST(tlp_needs_sack)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, RTT);
    static uint8_t data[MSS];
    CHECK_EQ(keel_send(s.st, c, data, MSS, 0), (long)MSS);
    script_expect(&s, .flags = A | P, .seq = 1, .ack = 1, .len = MSS);
    script_advance(&s, 3 * RTT - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A | P, .seq = 1, .ack = 1, .len = MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossProbes), 0);
    script_free(&s);
}

/* Segments 2-4 SACKed at once (DupThresh, no reordering seen): segment 1 is
 * lost at once and recovery cuts cwnd; returns cwnd and ssthresh before. */
static void spurious_recovery(struct script *s, int c, uint32_t *cwnd, uint32_t *ssthresh)
{
    struct keel_tcp_info i = script_info(s, c);
    *cwnd = i.cwnd;
    *ssthresh = i.ssthresh;
    script_advance(s, RTT);
    ack_sacking(s, 1, 2, 4);
    script_expect(s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(s);
    i = script_info(s, c);
    CHECK(i.in_recovery);
    CHECK(i.cwnd < *cwnd);
}

/* The ACK of all 10 segments, with a D-SACK of 1:1461 (the retransmission)
 * if dsack. */
static void ack_all(struct script *s, bool dsack)
{
    struct seg g = {.flags = A, .seq = 1, .ack = 1 + 10 * MSS};
    if (dsack) {
        g.opts.present = TCP_OPT_SACK;
        g.opts.sack_count = 1;
        g.opts.sack[0].left = s->keel_isn + 1;
        g.opts.sack[0].right = s->keel_isn + 1 + MSS;
    }
    script_inject(s, &g);
}

/* RFC 3708 §3 (Linux tcp_may_undo, tcp_try_undo_recovery): the ACK that
 * ends the recovery D-SACKs its only retransmission, so the original had
 * arrived: the cut is undone before the ACK grows cwnd, which then takes
 * the 7 segments it acknowledged and the D-SACKed one (Linux counts a
 * D-SACK delivered): 10 + 8 segments, ssthresh unbounded again (Linux
 * 6.18: cwnd 18). */
TEST(rack_dsack_of_every_retransmission_undoes_the_cut)
{
    struct script s;
    int c = open_and_send(&s, 10);
    uint32_t cwnd, ssthresh;
    spurious_recovery(&s, c, &cwnd, &ssthresh);
    ack_all(&s, true);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(!i.in_recovery);
    CHECK_EQ_U(i.cwnd, cwnd + 8 * MSS);
    CHECK_EQ_U(i.ssthresh, ssthresh);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPFullUndo), 1);
    script_free(&s);
}

/* Without the D-SACK the retransmission repaired a loss: the cut stays
 * (RFC 9937: cwnd = ssthresh at the end of recovery), and the ACK then
 * grows it as any other (CUBIC: 7 segments to 8; Linux 6.18: the same);
 * a D-SACK that comes later undoes the cut (tcp_try_undo_dsack): cwnd 10
 * again, ssthresh unbounded. */
TEST(rack_dsack_after_recovery_undoes_the_cut)
{
    struct script s;
    int c = open_and_send(&s, 10);
    uint32_t cwnd, ssthresh;
    spurious_recovery(&s, c, &cwnd, &ssthresh);
    ack_all(&s, false);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(!i.in_recovery);
    CHECK_EQ_U(i.ssthresh, 7 * MSS);
    CHECK_EQ_U(i.cwnd, 8 * MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPDSACKUndo), 0);
    script_advance(&s, RTT / 10);
    ack_all(&s, true);
    i = script_info(&s, c);
    CHECK_EQ_U(i.cwnd, cwnd);
    CHECK_EQ_U(i.ssthresh, ssthresh);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPDSACKUndo), 1);
    script_free(&s);
}

/* Linux tcp_schedule_loss_probe with one segment out (here the FIN alone):
 * PTO = 2 * SRTT + the minimum RTO (400 ms), but never later than the RTO
 * (300 ms): the probe is the FIN again, the RTO then runs from it. */
TEST(tlp_probes_a_lone_fin_at_the_rto_bound)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_SACK, RTT);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = A | TCP_FLAG_FIN, .seq = 1, .ack = 1);
    uint64_t sent = s.now_us;
    script_advance_to(&s, sent + 3 * RTT - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A | TCP_FLAG_FIN, .seq = 1, .ack = 1);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossProbes), 1);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPTimeouts), 0);
    script_advance_to(&s, sent + 6 * RTT - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A | TCP_FLAG_FIN, .seq = 1, .ack = 1);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPTimeouts), 1);
    script_free(&s);
}

/* RACK matches a SACK against the packets as they were sent (Linux keeps
 * an skb per packet): four 400-byte records sent at one instant (MSG_EOR
 * keeps them apart) are timed one by one, so a SACK of the third alone
 * makes the two before it lost once the reordering window has passed
 * (eor/no-coalesce-retrans.pkt). */
TEST(rack_times_each_packet_sent_at_one_instant)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_SACK, RTT);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &one, sizeof one), 0);
    static uint8_t data[400];
    uint64_t sent = s.now_us;
    for (uint32_t k = 0; k < 4; k++)
        CHECK_EQ(keel_send(s.st, c, data, sizeof data, KEEL_MSG_EOR), (long)sizeof data);
    for (uint32_t k = 0; k < 4; k++)
        script_expect(&s, .flags = A | P, .seq = 1 + 400 * k, .ack = 1, .len = 400);
    script_expect_none(&s);
    script_advance(&s, RTT);
    struct seg g = {.flags = A, .seq = 1, .ack = 1};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = 1;
    g.opts.sack[0].left = s.keel_isn + 801;
    g.opts.sack[0].right = s.keel_isn + 1201;
    script_inject(&s, &g);
    script_expect_none(&s);
    script_advance_to(&s, sent + RTT + RTT / 4 + 2000 - 1);
    script_expect_none(&s);
    script_advance(&s, 1);
    script_expect(&s, .flags = A | P, .seq = 1, .ack = 1, .len = 400);
    CHECK_EQ_U(script_info(&s, c).lost_bytes, 800);
    script_free(&s);
}

/* A resent head restarts the RTO (Linux tcp_xmit_retransmit_queue), but
 * never past the end of TCP_USER_TIMEOUT, counted from the first
 * retransmission (Linux tcp_clamp_rto_to_user_timeout): the probe resends
 * 10 segments' last at 202 ms, a SACK 150 ms later starts a recovery that
 * resends the head, and with a 350 ms user timeout the connection is
 * aborted at the probe + 350 ms, not at the RTO restarted from the head
 * (300 ms after it). */
TEST(resent_head_rto_stops_at_the_user_timeout)
{
    struct script s;
    int c = open_and_send(&s, 10);
    int ut = 350;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, &ut, sizeof ut), 0);
    script_run_timer(&s);
    uint64_t probe_us = script_expect(&s, .flags = A | P, .seq = 1 + 9 * MSS, .ack = 1,
                                      .len = MSS)->at_us;
    script_advance_to(&s, probe_us + 150000);
    ack_sacking(&s, 1, 2, 4);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    CHECK(script_info(&s, c).in_recovery);
    script_advance_to(&s, probe_us + 350000 - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_advance_to(&s, probe_us + 350000);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_ETIMEDOUT);
    script_free(&s);
}
