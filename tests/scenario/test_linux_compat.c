/* Where keel answers as Linux does, segment by segment: the differences the
 * upstream packetdrill suite (gtests/net/tcp, run with
 * tools/packetdrill/run-suite.sh) found, each pinned here without
 * packetdrill. See docs/conformance.md. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define F TCP_FLAG_FIN

#define MSS 1000u

/* The peer's SYN in most of the suite: MSS 1000, nothing else. */
static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

/* Linux forces PSH on every TSO/GSO packet (commit 051ba67447de, "tcp:
 * force a PSH flag on TSO packets"), and sends no TSO packet of more than
 * half the congestion window (tcp_cwnd_test): the initial window of 10
 * segments leaves as two packets of 5, both with PSH, although the write
 * is not yet all sent.
 * (packetdrill: slow_start/slow-start-after-win-update.pkt's
 * `P. 1:5001(5000)`, `P. 5001:10001(5000)`; mss/mss-setsockopt-*.pkt.) */
TEST(tso_packets_carry_psh_and_half_the_cwnd)
{
    struct keel_config cfg = {.sndbuf = 262144}; /* the suite's tcp_wmem[1] */
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    script_write(&s, c, 30000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_expect_none(&s);
    /* Two segments acknowledged: slow start, cwnd 12, half of it 6. */
    script_send(&s, .flags = A, .seq = 1, .ack = 2001);
    script_expect(&s, .flags = P | A, .seq = 10001, .ack = 1, .len = 4000);
    script_expect_none(&s);
    script_free(&s);
}

/* Without offload each segment is one MSS, and only the one that empties
 * the send queue carries PSH, as before. */
TEST(mss_segments_psh_only_at_the_end)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    script_write(&s, c, 3000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = P | A, .seq = 2001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_free(&s);
}

/* Linux tcp_cleanup_rbuf announces a window after a read only if the
 * window it can advertise at least doubles; without window scaling that
 * is at most 65535 however large the buffer, so a read that frees space
 * behind a full-size window sends nothing (ioctl/ioctl-siocinq-fin.pkt). */
TEST(no_window_update_a_64k_window_cannot_show)
{
    struct keel_config cfg = {.rcvbuf = 540000}; /* the suite's tcp_rmem[1] */
    struct script s;
    script_init(&s, &cfg);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1001, .win = 65535, .win_set = true);
    uint8_t buf[1000];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 1000);
    script_expect_none(&s);
    /* The window is what it was: the delayed-ACK timer has nothing to add. */
    script_advance(&s, 200000);
    script_expect_none(&s);
    script_free(&s);
}

/* The window update still goes where the advertised window can double:
 * the same read behind a scaled window that the data had halved. */
TEST(window_update_when_the_window_doubles)
{
    struct keel_config cfg = {.rcvbuf = 4096}; /* 1460 bytes of window */
    struct script s;
    script_init(&s, &cfg);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    uint16_t before = script_expect(&s, .flags = A, .seq = 1, .ack = 1001)->h.wnd;
    uint8_t buf[1000];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 1000);
    const struct captured *u = script_expect(&s, .flags = A, .seq = 1, .ack = 1001);
    CHECK(u->h.wnd >= 2 * before);
    script_free(&s);
}

/* Linux tcp_cwnd_test: "Don't be strict about the congestion window for
 * the final FIN". With the initial window in flight, shutdown() sends the
 * FIN at once rather than after the next ACK
 * (shutdown/shutdown-rdwr-write-queue-close.pkt). */
TEST(fin_not_held_by_a_full_cwnd)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    script_write(&s, c, 10 * MSS);
    for (uint32_t k = 0; k < 10; k++)
        script_expect(&s, .flags = (uint8_t)(k == 9 ? P | A : A), .seq = 1 + k * MSS, .ack = 1,
                      .len = MSS);
    script_expect_none(&s);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = F | A, .seq = 10001, .ack = 1);
    script_expect_none(&s);
    script_free(&s);
}

/* The peer's window still holds a FIN back: with the window full, the FIN
 * waits (it occupies a sequence number the peer has not offered). */
TEST(fin_held_by_a_full_peer_window)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 2000);
    script_write(&s, c, 2 * MSS);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = MSS);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 2001, .win = 2000);
    script_expect(&s, .flags = F | A, .seq = 2001, .ack = 1);
    script_free(&s);
}

/* The peer's SYN with SACK permitted, MSS 1000. */
static const struct tcp_opts OPTS_MSS_1000_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                                   .mss = 1000};

/* script_passive_open with the handshake's ACK rtt_us after the SYN-ACK:
 * the connection starts with an RTT sample, as in the packetdrill scripts
 * (a loss detector that waits a fraction of the RTT then sees the same
 * timing as Linux did). */
static int passive_open_rtt(struct script *s, const struct tcp_opts *opts, uint64_t rtt_us)
{
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s->st, ls, &a), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    script_send(s, .flags = TCP_FLAG_SYN, .seq = 0, .opts = *opts);
    script_expect(s, .flags = TCP_FLAG_SYN | A, .seq = 0, .ack = 1);
    script_advance(s, rtt_us);
    script_send(s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(keel_close(s->st, ls), 0);
    script_expect_none(s);
    return c;
}

/* The initial window of 10 segments leaves as five TSO packets of 2, each
 * with PSH: Linux sizes them to about 1 ms at the pacing rate, at least
 * tcp_min_tso_segs (tcp_tso_autosize). */
static void expect_initial_window_in_pairs(struct script *s)
{
    for (uint32_t k = 0; k < 5; k++)
        script_expect(s, .flags = P | A, .seq = 1 + 2000 * k, .ack = 1, .len = 2000);
}

/* RFC 3042 limited transmit, then the ACK that shows it was reordering:
 * 1:1001 arrives late, with 1001:3001 reported by the two duplicates.
 * Linux counts those two segments delivered when the duplicates (or their
 * SACKs) came (tcp_remove_reno_sacks, tcp_clean_rtx_queue), so the ACK of
 * 3001 delivers one segment: slow start takes cwnd from 10 to 11, and 9
 * in flight leave room for 2, one TSO packet of 2 segments
 * (limited_transmit/limited-transmit-{no-,}sack.pkt). */
static void limited_transmit_then_reordering(bool sack)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = passive_open_rtt(&s, sack ? &OPTS_MSS_1000_SACK : &OPTS_MSS_1000, 100000);
    script_write(&s, c, 15000);
    expect_initial_window_in_pairs(&s);
    script_advance(&s, 110000);
    script_ack_sack(&s, 1, 1001, sack ? 2001 : 0);
    script_expect(&s, .flags = A, .seq = 10001, .ack = 1, .len = 1000);
    script_advance(&s, 10000);
    script_ack_sack(&s, 1, 1001, sack ? 3001 : 0);
    script_expect(&s, .flags = A, .seq = 11001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 3001);
    script_expect(&s, .flags = P | A, .seq = 12001, .ack = 1, .len = 2000);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 11 * MSS);
    script_free(&s);
}

TEST(limited_transmit_dupacks_delivered_once_without_sack)
{
    limited_transmit_then_reordering(false);
}

TEST(limited_transmit_sacked_delivered_once)
{
    limited_transmit_then_reordering(true);
}

/* A duplicate ACK of `ack`, SACKing [l1, r1) and, when r2 > 0, [l2, r2). */
static void ack_sack2(struct script *s, uint32_t ack, uint32_t l1, uint32_t r1, uint32_t l2,
                      uint32_t r2)
{
    struct seg g = {.flags = A, .seq = 1, .ack = ack};
    g.opts.present = TCP_OPT_SACK;
    g.opts.sack_count = r2 ? 2 : 1;
    g.opts.sack[0].left = s->keel_isn + l1;
    g.opts.sack[0].right = s->keel_isn + r1;
    g.opts.sack[1].left = s->keel_isn + l2;
    g.opts.sack[1].right = s->keel_isn + r2;
    script_inject(s, &g);
}

/* PRR (RFC 9937) as Linux tcp_cwnd_reduction runs it: below ssthresh, an
 * ACK lets out what it delivered, and one segment more only if it is a
 * SafeACK (SND.UNA advances, no further loss). The entering ACK does not
 * advance SND.UNA: the fast retransmission goes alone; the first ACK that
 * advances it lets out 1 delivered + 1, one TSO packet of 2 with PSH
 * (fast_recovery/prr-ss-30pkt-lost-1_4-11_16.pkt, to its line 41). */
TEST(prr_extra_segment_only_on_a_safe_ack)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = passive_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 20000);
    expect_initial_window_in_pairs(&s);
    script_advance(&s, 10000);
    script_ack_sack(&s, 1, 4001, 5001);
    script_expect(&s, .flags = A, .seq = 10001, .ack = 1, .len = 1000);
    script_advance(&s, 2000);
    script_ack_sack(&s, 1, 4001, 6001);
    script_expect(&s, .flags = A, .seq = 11001, .ack = 1, .len = 1000);
    script_advance(&s, 2000);
    script_ack_sack(&s, 1, 4001, 7001);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect_none(&s);
    for (uint32_t k = 1; k < 4; k++) {
        script_advance(&s, 2000);
        script_ack_sack(&s, 1, 4001, 7001 + k * 1000);
        script_expect(&s, .flags = A, .seq = 1 + k * 1000, .ack = 1, .len = 1000);
        script_expect_none(&s);
    }
    script_advance(&s, 2000);
    script_ack_sack(&s, 1, 4001, 11001);
    script_expect(&s, .flags = A, .seq = 12001, .ack = 1, .len = 1000);
    script_advance(&s, 2000);
    script_ack_sack(&s, 1, 4001, 12001);
    script_expect(&s, .flags = A, .seq = 13001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_advance(&s, 10000);
    ack_sack2(&s, 1001, 4001, 12001, 0, 0);
    script_expect(&s, .flags = P | A, .seq = 14001, .ack = 1, .len = 2000);
    script_expect_none(&s);
    script_free(&s);
}

/* An ACK below SND.UNA (reordered) still brings SACK information, which
 * Linux takes (tcp_ack's old_ack path): pipe falls by what it newly
 * SACKs, but cwnd stays where the last ACK put it, and what that leaves
 * room for goes out (fast_recovery/prr-ss-ack-below-snd_una-cubic.pkt,
 * with a loss pattern on which RFC 6675's IsLost and RACK agree). */
TEST(prr_ack_below_snd_una_sacks_but_keeps_cwnd)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = passive_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 10000);
    expect_initial_window_in_pairs(&s);
    /* 1:1001 and 3001:7001 are lost: the third duplicate starts recovery
     * with 3 segments newly SACKed, nothing in flight: 3 go. */
    script_advance(&s, 10000);
    ack_sack2(&s, 1, 1001, 2001, 0, 0);
    ack_sack2(&s, 1, 1001, 3001, 0, 0);
    ack_sack2(&s, 1, 1001, 3001, 7001, 10001);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 3001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    /* 2 segments delivered, 1 in flight: 2 + 1 (a SafeACK): cwnd 4. */
    script_advance(&s, 12000);
    ack_sack2(&s, 4001, 7001, 10001, 0, 0);
    script_expect(&s, .flags = A, .seq = 5001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 6001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    uint32_t cwnd = script_info(&s, c).cwnd;
    CHECK_EQ_U(cwnd, 4 * MSS);
    script_write(&s, c, 10000);
    script_expect(&s, .flags = A, .seq = 10001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    /* The reordered ACK SACKs two of the segments resent: pipe falls from
     * 4 to 2, cwnd stays 4, two more go. */
    script_advance(&s, 2000);
    ack_sack2(&s, 3001, 5001, 10001, 0, 0);
    CHECK_EQ_U(script_info(&s, c).cwnd, cwnd);
    script_expect(&s, .flags = P | A, .seq = 11001, .ack = 1, .len = 2000);
    script_expect_none(&s);
    script_free(&s);
}

/* The same while pipe is above ssthresh, where PRR would have cut cwnd to
 * the proportional share: an old ACK leaves cwnd alone there too. One loss
 * (1:1001) after limited transmit: RecoverFS 10 (cwnd before the
 * recovery, as Linux's prior_cwnd), ssthresh 7. Checked against Linux
 * 6.18 (tests/packetdrill/recovery/prr-old-ack-above-ssthresh.pkt). */
TEST(prr_ack_below_snd_una_keeps_cwnd_above_ssthresh)
{
    struct script s;
    script_init(&s, NULL);
    int c = passive_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 20000);
    for (uint32_t k = 0; k < 10; k++)
        script_expect(&s, .flags = A, .seq = 1 + k * MSS, .ack = 1, .len = MSS);
    script_advance(&s, 10000);
    script_ack_sack(&s, 1, 1001, 2001);
    script_expect(&s, .flags = A, .seq = 10001, .ack = 1, .len = MSS);
    script_ack_sack(&s, 1, 1001, 3001);
    script_expect(&s, .flags = A, .seq = 11001, .ack = 1, .len = MSS);
    script_ack_sack(&s, 1, 1001, 4001);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(&s);
    /* The retransmission arrives: pipe 8 > ssthresh, share ceil(2 * 7 /
     * 10) = 2 segments less the 1 sent: cwnd 9, one new segment. (It comes
     * within min_rtt, so RACK does not time it, Linux tcp_rack_advance: a
     * round trip later, RACK would mark 4001:10001, sent before it, lost.) */
    script_advance(&s, 5000);
    script_send(&s, .flags = A, .seq = 1, .ack = 4001);
    script_expect(&s, .flags = A, .seq = 12001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 9 * MSS);
    /* A reordered ACK of 1001 SACKs 5001:7001: cwnd unchanged, pipe 6 (RACK
     * marks 4001:5001, sent before the retransmission that arrived), so
     * 4001:5001 is resent and two new segments go (PRR run on it would have
     * set cwnd 7: only the retransmission). */
    ack_sack2(&s, 1001, 5001, 7001, 0, 0);
    CHECK_EQ_U(script_info(&s, c).cwnd, 9 * MSS);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 13001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 14001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_free(&s);
}

/* A connection with a 10 ms RTT (MSS 1000, SACK) that sent one write of
 * 10 segments, the last with PSH. */
static int send_ten_segments(struct script *s)
{
    int c = passive_open_rtt(s, &OPTS_MSS_1000_SACK, 10000);
    script_write(s, c, 10 * MSS);
    for (uint32_t k = 0; k < 10; k++)
        script_expect(s, .flags = (uint8_t)(k == 9 ? P | A : A), .seq = 1 + k * MSS, .ack = 1,
                      .len = MSS);
    return c;
}

/* Whatever keel sent and the test does not examine. */
static bool skip_sent(struct script *s)
{
    bool head = false;
    while (script_pending(s))
        head |= s->out[s->next_out++].h.seq == s->keel_isn + 1;
    return head;
}

/* Runs timers until keel resends from the first byte: the retransmission
 * timeout (a tail loss probe, RFC 8985, may go first). */
static void run_timers_until_head_resent(struct script *s)
{
    do
        script_run_timer(s);
    while (!skip_sent(s));
}

/* After a timeout (Linux's Loss state, tcp_frto=0) an ACK that only SACKs
 * data grows nothing (tcp_may_raise_cwnd wants data acknowledged), and the
 * ACK that later covers the SACKed data counts only what it delivered
 * itself, 1:1001 and 9001:10001: slow start takes cwnd from 1 to 3 (Linux
 * 6.18: cwnd 1 after the SACK, 3 after the ACK). */
TEST(slow_start_after_timeout_counts_sacked_data_once)
{
    struct keel_config cfg = {.no_frto = true};
    struct script s;
    script_init(&s, &cfg);
    int c = send_ten_segments(&s);
    run_timers_until_head_resent(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, MSS);
    script_ack_sack(&s, 1, 1001, 9001);
    CHECK_EQ_U(script_info(&s, c).cwnd, MSS);
    skip_sent(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 10001);
    CHECK_EQ_U(script_info(&s, c).cwnd, 3 * MSS);
    script_free(&s);
}

/* Linux tcp_enter_loss (tcp_frto=0): a timeout keeps the SACK marks and
 * go-back-N resends only the holes (tcp_xmit_retransmit_queue skips SACKed
 * data). The SACK of 3001:9001 after the timeout lets nothing out (cwnd 1,
 * the head's retransmission in flight); the second timeout resends the
 * head alone, and its ACK 1:1001 and 1001:3001, the hole (cwnd 2: a
 * packet each), not 3001:9001 (Linux 6.18: the same data, cwnd 1, 1 and
 * 2). */
TEST(timeout_keeps_scoreboard_and_resends_holes_only)
{
    struct keel_config cfg = {.no_frto = true}; /* else the SACK undoes the timeout */
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = passive_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 10 * MSS);
    expect_initial_window_in_pairs(&s);
    run_timers_until_head_resent(&s);
    script_ack_sack(&s, 1, 3001, 9001);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, MSS);
    run_timers_until_head_resent(&s);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, MSS);
    script_advance(&s, 10000);
    ack_sack2(&s, 1001, 3001, 9001, 0, 0);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 2 * MSS);
    script_free(&s);
}

/* RFC 2018 §8, Linux tcp_timeout_mark_lost: a peer that SACKs the octet
 * at SND.UNA without acknowledging it has reneged; the next timeout drops
 * every SACK mark, and go-back-N resends 1001:2001 too. */
TEST(timeout_after_reneging_drops_the_scoreboard)
{
    struct script s;
    script_init(&s, NULL);
    int c = send_ten_segments(&s);
    run_timers_until_head_resent(&s);
    script_ack_sack(&s, 1, 1, 2001);
    skip_sent(&s);
    run_timers_until_head_resent(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, MSS);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_free(&s);
}

/* RFC 8985 §6.2, Linux tcp_rack_detect_loss on a retransmission: segments
 * 1-4 and 11-16 of 20 are lost, and so is the retransmission of 1001:2001.
 * When the retransmission of 2001:3001, sent after it, is SACKed, RACK
 * marks 1001:2001 lost (no reordering seen: no window) and recovery sends
 * it again before new data, though it lies below HighRxt
 * (fast_recovery/prr-ss-30pkt-lost-1_4-11_16.pkt). */
TEST(rack_marks_a_lost_retransmission_and_recovery_resends_it)
{
    struct script s;
    script_init(&s, NULL);
    int c = passive_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 20 * MSS);
    for (uint32_t k = 0; k < 10; k++)
        script_expect(&s, .flags = A, .seq = 1 + k * MSS, .ack = 1, .len = MSS);
    script_advance(&s, 10000);
    static const uint32_t sent[] = {10001, 11001, 1, 1001, 2001, 3001, 12001, 13001};
    for (uint32_t k = 0; k < 8; k++) {
        script_ack_sack(&s, 1, 4001, 5001 + k * MSS);
        script_expect(&s, .flags = A, .seq = sent[k], .ack = 1, .len = MSS);
        script_expect_none(&s);
        script_advance(&s, 2000);
    }
    script_advance(&s, 8000);
    ack_sack2(&s, 1001, 4001, 12001, 0, 0);
    script_expect(&s, .flags = A, .seq = 14001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 15001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_advance(&s, 2000);
    ack_sack2(&s, 1001, 2001, 12001, 0, 0);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 16001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).retrans_out, MSS); /* 1001:2001, out again */
    /* 16001:17001 left at the same instant as that retransmission, and is
     * SACKed first: a tie in time says nothing of their order, so
     * 1001:2001 is not lost yet (only one sent strictly later counts). */
    script_advance(&s, 10000);
    ack_sack2(&s, 1001, 16001, 17001, 2001, 12001);
    while (script_pending(&s))
        CHECK(s.out[s.next_out++].h.seq != s.keel_isn + 1001);
    script_free(&s);
}
