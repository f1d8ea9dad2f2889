/* F-RTO (RFC 5682) as Linux runs it (tcp_frto=2): after a timeout, the
 * next ACKs tell a spurious timeout from a real loss. Each test follows a
 * packetdrill script that Linux 6.18 passed on this machine, packet for
 * packet: MSS 1000, a 10 ms RTT from the handshake (RTO 210 ms), a TSO
 * device, and 20 segments written at once, of which the initial window
 * sends 10 (here in TSO packets of 2, where packetdrill's Linux sent one
 * packet of 10: the rest is the same). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define MSS 1000u

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};
static const struct tcp_opts OPTS_MSS_1000_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                                   .mss = 1000};

/* Step 2b's new data: two segments (cwnd 2), one per packet (Linux's
 * tcp_cwnd_test keeps a TSO packet to half of cwnd; packetdrill joins the
 * two when it matches `10001:12001(2000)`). */
static void expect_two_new_segments(struct script *s, uint32_t from)
{
    script_expect(s, .flags = A, .seq = from, .ack = 1, .len = MSS);
    script_expect(s, .flags = A, .seq = from + MSS, .ack = 1, .len = MSS);
    script_expect_none(s);
}

/* Connects, writes 20 segments and sees the initial window leave, then
 * the timeout's retransmission of 1:1001 (after, with SACK, the tail loss
 * probe: the next new segment, 10001:11001). */
static int send_until_timeout(struct script *s, const struct keel_config *cfg, bool sack)
{
    script_init(s, cfg);
    script_use_tso_device(s);
    int c = script_active_open_rtt(s, sack ? &OPTS_MSS_1000_SACK : &OPTS_MSS_1000, 10000);
    script_write(s, c, 20 * MSS);
    for (uint32_t k = 0; k < 5; k++) /* TSO packets of 2 segments (tcp_tso_autosize) */
        script_expect(s, .flags = P | A, .seq = 1 + 2 * MSS * k, .ack = 1, .len = 2 * MSS);
    script_expect_none(s);
    if (sack) {
        script_run_timer(s);
        script_expect(s, .flags = A, .seq = 10001, .ack = 1, .len = MSS);
    }
    script_run_timer(s);
    script_expect(s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(s);
    CHECK_EQ_U(script_info(s, c).cwnd, MSS);
    CHECK_EQ_U(script_info(s, c).ssthresh, 7 * MSS);
    CHECK(script_info(s, c).in_loss);
    return c;
}

/* §3.1 steps 2b and 3b without SACK (Linux: the ACK of 3001 undoes the
 * timeout, cwnd 10 again and slow start from ssthresh's old value grows it
 * to 12; 9 segments in flight leave room for 3 more). */
TEST(spurious_timeout_without_sack_is_undone)
{
    struct script s;
    int c = send_until_timeout(&s, NULL, false);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    /* Step 2b: new data, not the retransmission of 1001:2001. */
    expect_two_new_segments(&s, 10001);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 2 * MSS);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 3001);
    script_expect(&s, .flags = P | A, .seq = 12001, .ack = 1, .len = 2 * MSS);
    script_expect(&s, .flags = A, .seq = 14001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.cwnd, 12 * MSS);
    CHECK_EQ_U(i.ssthresh, UINT32_MAX);
    CHECK(!i.in_loss);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 1);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossUndo), 1);
    script_free(&s);
}

/* Step 2b's new data goes with Nagle off (Linux REXMIT_NEW, TCP_NAGLE_OFF):
 * 9500 bytes leave, the last segment short and unacknowledged; after the
 * timeout the application writes 300 bytes, and the ACK of 1001 sends
 * them at once rather than holding them behind the short segment until a
 * second timeout (tests/packetdrill/frto/frto-new-data-ignores-nagle.pkt,
 * which Linux 6.18 passes). */
TEST(new_data_of_step_2b_goes_despite_nagle)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    script_write(&s, c, 9500);
    while (script_pending(&s))
        s.next_out++;
    while (!script_pending(&s))
        script_run_timer(&s);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    CHECK(script_info(&s, c).in_loss);
    script_write(&s, c, 300);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = P | A, .seq = 9501, .ack = 1, .len = 300);
    script_expect_none(&s);
    script_free(&s);
}

/* §3.1 step 3a without SACK: a duplicate ACK after step 2b's new data
 * means the loss was real; resending resumes at 1001:2001, one segment per
 * duplicate while the two new segments are in flight (Linux counts each
 * duplicate as a segment delivered), and the ACK of 2001 lets nothing out:
 * three in flight fill cwnd 3. */
TEST(duplicate_ack_after_new_data_means_loss_without_sack)
{
    struct script s;
    int c = send_until_timeout(&s, NULL, false);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    expect_two_new_segments(&s, 10001);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 2001);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.cwnd, 3 * MSS);
    CHECK_EQ_U(i.ssthresh, 7 * MSS);
    CHECK(i.in_loss);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 0);
    /* Resending goes on over the originals and then past the new data,
     * which is in flight: 10001:12001 never leaves again. */
    for (uint32_t ack = 3001; ack <= 12001; ack += MSS) {
        script_advance(&s, 10000);
        script_send(&s, .flags = A, .seq = 1, .ack = ack);
        while (script_pending(&s)) {
            uint32_t seq = s.out[s.next_out++].h.seq - s.keel_isn;
            CHECK(seq < 10001 || seq >= 12001);
        }
    }
    CHECK(!script_info(&s, c).in_loss);
    script_free(&s);
}

/* §4 (SACK): the tail loss probe's 10001:11001 went before the timeout and
 * was never retransmitted, and the SACK of 3001:9001 after it is a SACK of
 * original data: the timeout is undone (cwnd 10, ssthresh unbounded), and
 * the scoreboard then shows 1001:3001 lost, so a fast recovery starts at
 * once and cuts cwnd to 7 (Linux: tcpi_ca_state 3, cwnd 7, ssthresh 7). */
TEST(sack_of_original_data_after_timeout_is_spurious)
{
    struct script s;
    int c = send_until_timeout(&s, NULL, true);
    script_advance(&s, 10000);
    script_ack_sack(&s, 1, 3001, 9001);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 1);
    CHECK(!i.in_loss);
    CHECK(i.in_recovery);
    CHECK_EQ_U(i.cwnd, 7 * MSS);
    CHECK_EQ_U(i.ssthresh, 7 * MSS);
    script_free(&s);
}

/* §4 step 3a (SACK): after step 2b's 11001:13001, a SACK of it (of new
 * data only) means the originals were lost: resending resumes at 1001, a
 * segment per segment SACKed; the ACK of 2001 then lets out 3001:5001
 * (cwnd 3, the retransmission of 2001:3001 in flight), and
 * resending never sends 11001:13001 again. */
TEST(sack_of_new_data_after_timeout_means_loss)
{
    struct script s;
    int c = send_until_timeout(&s, NULL, true);
    script_advance(&s, 10000);
    script_ack_sack(&s, 1001, 0, 0);
    expect_two_new_segments(&s, 11001);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_ack_sack(&s, 1001, 11001, 12001);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_advance(&s, 100);
    script_expect_none(&s);
    script_ack_sack(&s, 1001, 11001, 13001);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_ack_sack(&s, 2001, 11001, 13001);
    script_expect(&s, .flags = A, .seq = 3001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 3 * MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 0);
    script_free(&s);
}

/* tcp_frto=0 (keel_config.no_frto): the first ACK after the timeout
 * resends 1001:3001, the conventional go-back-N, and nothing is undone. */
TEST(no_frto_resends_after_the_first_ack)
{
    struct keel_config cfg = {.no_frto = true};
    struct script s;
    int c = send_until_timeout(&s, &cfg, false);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 3001);
    CHECK(script_info(&s, c).in_loss);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 0);
    script_free(&s);
}

/* After step 2b, an ACK that moves SND.UNA without a verdict (it covers
 * data the fast recovery resent before the timeouts, and data SACKed)
 * resumes resending, as Linux does (REXMIT_LOST), from SND.UNA: never
 * below it, though step 2b left resending at 1001. Here a recovery resends
 * 1:1001 and 1001:2001, two timeouts follow (F-RTO starts at the second, a
 * repeated one), the ACK of 1001 lets new data out, and the ACK of 3001
 * resends the hole 3001:4001. */
TEST(resending_resumes_at_snd_una_after_acks_of_resent_data)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    struct keel_route r = {.dst = PEER_ADDR, .prefix_len = 32, .initcwnd = 20};
    CHECK_EQ(keel_route_set(s.st, &r), 0);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 60 * MSS);
    for (uint32_t k = 0; k < 20; k++)
        script_expect(&s, .flags = A, .seq = 1 + k * MSS, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_ack_sack(&s, 1, 2001, 3001);
    script_ack_sack(&s, 1, 4001, 20001);
    while (script_pending(&s))
        s.next_out++; /* the recovery's retransmissions */
    CHECK(script_info(&s, c).in_recovery);
    while (script_counter(&s, KEEL_C_TCPTimeouts) < 2) {
        script_run_timer(&s);
        while (script_pending(&s))
            s.next_out++;
    }
    script_ack_sack(&s, 1001, 4001, 20001);
    CHECK(script_pending(&s) > 0);
    while (script_pending(&s))
        CHECK(s.out[s.next_out++].h.seq - s.keel_isn >= 20001); /* step 2b: new data */
    script_ack_sack(&s, 3001, 4001, 20001);
    script_expect(&s, .flags = A, .seq = 3001, .ack = 1, .len = MSS);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 0);
    CHECK(script_info(&s, c).in_loss);
    script_free(&s);
}

/* Data a tail loss probe resent is not original data, however many
 * timeouts later its SACK comes (Linux marks the packet EVER_RETRANS): 10
 * segments, the probe resends 9001:10001, two timeouts (F-RTO on at the
 * repeated one), and then a SACK of 9001:10001 undoes nothing. */
TEST(sack_of_the_probes_copy_is_no_proof_of_a_spurious_timeout)
{
    struct script s;
    script_init(&s, NULL);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000_SACK, 10000);
    script_write(&s, c, 10 * MSS);
    while (script_pending(&s))
        s.next_out++;
    script_run_timer(&s);
    script_expect(&s, .flags = P | A, .seq = 9001, .ack = 1, .len = MSS); /* the probe */
    while (script_counter(&s, KEEL_C_TCPTimeouts) < 2) {
        script_run_timer(&s);
        while (script_pending(&s))
            s.next_out++;
    }
    script_ack_sack(&s, 1, 9001, 10001);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPSpuriousRTOs), 0);
    CHECK_EQ_U(script_counter(&s, KEEL_C_TCPLossUndo), 0);
    CHECK(script_info(&s, c).in_loss);
    script_free(&s);
}
