/* Small segments and small windows: Nagle's algorithm (RFC 9293 §3.7.4) and
 * TCP_NODELAY, sender and receiver silly window syndrome avoidance
 * (§3.8.6.2.1, §3.8.6.2.2), and the window update sent when the application
 * reads (Linux tcp_cleanup_rbuf). */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define P TCP_FLAG_PSH

#define MS 1000ull
#define MSS 1460u

static char data[8192];

static int setopt(struct script *s, int sock, int level, int name, int v)
{
    return keel_setsockopt(s->st, sock, level, name, &v, sizeof v);
}

/* An active open whose peer offers window `win` (unscaled) in its SYN-ACK. */
static int open_with_peer_window(struct script *s, uint16_t win)
{
    int c = keel_socket(s->st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_connect(s->st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
             KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(s, .flags = TCP_FLAG_SYN, .seq = 0);
    s->keel_port = syn->h.sport;
    script_send(s, .flags = TCP_FLAG_SYN | A, .seq = 0, .ack = 1, .win = win,
                .opts = OPTS_MSS_ONLY);
    script_expect(s, .flags = A, .seq = 1, .ack = 1);
    return c;
}

/* ---- Nagle ---- */

/* A small segment goes while nothing is in flight; the next small ones wait
 * for the ACK and then leave together. */
TEST(nagle_holds_small_segments_while_unacked)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect_none(&s);
    script_advance(&s, 10 * MS);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 101);
    script_expect(&s, .flags = P | A, .seq = 101, .ack = 1, .len = 200);
    script_expect_none(&s);
    script_free(&s);
}

/* Full-sized segments are never held; only the short tail waits. */
TEST(nagle_sends_full_segments_holds_tail)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ(keel_send(s.st, c, data, 3000, 0), 3000);
    script_expect(&s, .flags = A, .seq = 101, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 101 + MSS, .ack = 1, .len = MSS);
    script_expect_none(&s); /* 80 bytes wait */
    script_send(&s, .flags = A, .seq = 1, .ack = 101 + 2 * MSS);
    script_expect(&s, .flags = P | A, .seq = 101 + 2 * MSS, .ack = 1, .len = 80);
    script_free(&s);
}

/* Minshall's rule (Linux tcp_nagle_check): full-sized segments in flight
 * do not hold the short tail; only an unacknowledged short one does. */
TEST(nagle_sends_tail_behind_full_segments)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 3000, 0), 3000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect(&s, .flags = A, .seq = 1 + MSS, .ack = 1, .len = MSS);
    script_expect(&s, .flags = P | A, .seq = 1 + 2 * MSS, .ack = 1, .len = 80);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect_none(&s); /* the 80 bytes are unacknowledged */
    script_send(&s, .flags = A, .seq = 1, .ack = 3001);
    script_expect(&s, .flags = P | A, .seq = 3001, .ack = 1, .len = 100);
    script_free(&s);
}

/* TCP_NODELAY: small segments go at once. */
TEST(nodelay_sends_small_segments_at_once)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, 1), 0);
    for (uint32_t k = 0; k < 3; k++) {
        CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
        script_expect(&s, .flags = P | A, .seq = 1 + 100 * k, .ack = 1, .len = 100);
    }
    int v = 0;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &v, &len), 0);
    CHECK_EQ(v, 1);
    script_free(&s);
}

/* Setting TCP_NODELAY pushes what Nagle was holding (Linux
 * tcp_push_pending_frames). */
TEST(nodelay_set_pushes_held_data)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ(keel_send(s.st, c, data, 50, 0), 50);
    script_expect_none(&s);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, 1), 0);
    script_expect(&s, .flags = P | A, .seq = 101, .ack = 1, .len = 50);
    script_free(&s);
}

/* The FIN is not held by Nagle: shutdown sends the held bytes with it. */
TEST(nagle_does_not_hold_fin)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ(keel_send(s.st, c, data, 50, 0), 50);
    script_expect_none(&s);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = F | P | A, .seq = 101, .ack = 1, .len = 50);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_FIN_WAIT_1);
    script_free(&s);
}

/* ---- sender SWS avoidance (RFC 9293 §3.8.6.2.1) ---- */

/* A usable window below both a full segment and half the largest window the
 * peer has offered is not used: nothing is sent until the persist timer
 * (the override timeout), which then sends what fits. */
TEST(sender_sws_waits_for_persist_timer)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY); /* window 65535, RTO 200 ms */
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 1000);
    CHECK_EQ(script_info(&s, c).snd_wnd, 1000);
    uint64_t t = s.now_us;
    CHECK_EQ(keel_send(s.st, c, data, 2000, 0), 2000);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_PERSIST], t + i.rto_us);
    script_advance_to(&s, t + i.rto_us - 1);
    script_expect_none(&s);
    script_advance_to(&s, t + i.rto_us);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_expect_none(&s);
    /* The ACK opens the window wide: the rest goes at once. */
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 1000);
    script_free(&s);
}

/* Rule 3 of §3.8.6.2.1: a segment of at least half the largest window ever
 * offered (Fs = 1/2) goes at once, though short of a full segment. */
TEST(sender_sws_sends_half_max_window)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_with_peer_window(&s, 2000); /* max window 2000 */
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 1000);
    CHECK_EQ(keel_send(s.st, c, data, 1500, 0), 1500);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001, .win = 2000);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 500);
    script_free(&s);
}

/* With a window under half the largest, a partial segment waits for the
 * window to open rather than trickling out. (The first segment carries PSH:
 * its chunk took the write past half the largest window, Linux
 * forced_push.) */
TEST(sender_sws_partial_window_waits_for_ack)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_with_peer_window(&s, 2000);
    CHECK_EQ(keel_send(s.st, c, data, 2160, 0), 2160);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS);
    script_expect_none(&s); /* 540 usable: under half of 2000 */
    script_send(&s, .flags = A, .seq = 1, .ack = 1 + MSS, .win = 2000);
    script_expect(&s, .flags = P | A, .seq = 1 + MSS, .ack = 1, .len = 700);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).snd_unacked, 700);
    script_free(&s);
}

/* ---- receiver SWS avoidance (§3.8.6.2.2) and window updates ---- */

/* SO_RCVBUF 4096 before connecting: 8192 stored, a 4096-byte space rounded
 * down to whole segments, 2920 bytes; no window scaling. */
static int open_small_rcvbuf(struct script *s)
{
    int c = keel_socket(s->st, KEEL_SOCK_STREAM);
    CHECK_EQ(setopt(s, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, 4096), 0);
    CHECK_EQ(keel_connect(s->st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
             KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(s, .flags = TCP_FLAG_SYN, .seq = 0, .win = 2920);
    CHECK_EQ(syn->h.opts.wscale, 0);
    s->keel_port = syn->h.sport;
    script_send(s, .flags = TCP_FLAG_SYN | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(s, .flags = A, .seq = 1, .ack = 1, .win = 2920);
    return c;
}

/* The peer fills the 2920-byte window. */
static void fill_window(struct script *s)
{
    script_send(s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect(s, .flags = A, .seq = 1, .ack = 1 + MSS, .win = MSS, .win_set = true);
    script_send(s, .flags = P | A, .seq = 1 + MSS, .ack = 1, .len = MSS);
    script_expect(s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS, .win = 0, .win_set = true);
}

/* Reads that free less than min(MSS, space / 2) = 1460 bytes do not open a
 * closed window, neither by a window update nor in the answer to a window
 * probe (Linux advertises 0 while less than an MSS is free). */
TEST(receiver_sws_window_not_opened_by_small_reads)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_small_rcvbuf(&s);
    fill_window(&s);
    static char buf[4096];
    CHECK_EQ(keel_recv(s.st, c, buf, 100, 0), 100);
    script_expect_none(&s);
    CHECK_EQ(keel_recv(s.st, c, buf, 1000, 0), 1000);
    script_expect_none(&s);
    /* A zero-window probe (SEQ = RCV.NXT - 1) is answered, window still 0. */
    script_advance(&s, 200 * MS);
    script_send(&s, .flags = A, .seq = 2 * MSS, .ack = 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS, .win = 0, .win_set = true);
    CHECK_EQ(script_info(&s, c).rcv_wnd, 0);
    /* 1460 bytes free: the window opens, by a whole MSS. */
    CHECK_EQ(keel_recv(s.st, c, buf, 360, 0), 360);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS, .win = MSS, .win_set = true);
    script_expect_none(&s);
    script_free(&s);
}

/* After a read, a window update goes only when the window at least doubles
 * (Linux tcp_cleanup_rbuf); a smaller gain waits for the next ACK. */
TEST(window_update_when_window_doubles)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_small_rcvbuf(&s);
    fill_window(&s);
    static char buf[4096];
    CHECK_EQ(keel_recv(s.st, c, buf, MSS, 0), MSS); /* 0 -> 1460 */
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS, .win = MSS, .win_set = true);
    CHECK_EQ(keel_recv(s.st, c, buf, 1000, 0), 1000); /* 1460 -> 2460: not double */
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).rcv_wnd, MSS);
    CHECK_EQ(keel_recv(s.st, c, buf, 460, 0), 460); /* 1460 -> 2920: double */
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS, .win = 2 * MSS, .win_set = true);
    CHECK_EQ(script_info(&s, c).rcv_wnd, 2 * MSS);
    script_expect_none(&s);
    script_free(&s);
}

/* The right edge never moves back (RFC 9293 §3.8.6.2.2, RFC 7323 §2.4):
 * data arriving into an offered window shrinks it from the left only. */
TEST(receiver_window_right_edge_fixed_while_filling)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_small_rcvbuf(&s);
    for (uint32_t k = 0; k < 4; k++) {
        script_send(&s, .flags = P | A, .seq = 1 + 500 * k, .ack = 1, .len = 500);
        script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 500 * (k + 1),
                      .win = (uint16_t)(2920 - 500 * (k + 1)), .win_set = true);
    }
    CHECK_EQ(script_info(&s, c).rcv_queued, 2000);
    script_free(&s);
}

/* Data beyond a closed window is not accepted: it is answered with an ACK
 * that still offers window 0 (RFC 9293 §3.10.7.4 first). */
TEST(data_into_zero_window_dropped_and_acked)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_small_rcvbuf(&s);
    fill_window(&s);
    script_send(&s, .flags = P | A, .seq = 1 + 2 * MSS, .ack = 1, .len = 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS, .win = 0, .win_set = true);
    CHECK_EQ(script_info(&s, c).rcv_queued, 2 * MSS);
    script_free(&s);
}

/* RFC 3042: with the window full, each of the first two duplicate ACKs lets
 * one new segment go; the third starts fast retransmit. */
TEST(limited_transmit_on_first_two_dupacks)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    static uint8_t bulk[20 * 1460];
    int sndbuf = 65536;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    CHECK_EQ(keel_send(s.st, c, bulk, sizeof bulk, 0), (long)sizeof bulk);
    for (uint32_t k = 0; k < 10; k++) /* the initial window: 10 segments */
        script_expect(&s, .flags = TCP_FLAG_ACK, .seq = 1 + k * 1460, .ack = 1, .len = 1460);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1);
    script_expect(&s, .flags = TCP_FLAG_ACK, .seq = 1 + 10 * 1460, .ack = 1, .len = 1460);
    script_expect_none(&s);
    script_send(&s, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1);
    script_expect(&s, .flags = TCP_FLAG_ACK, .seq = 1 + 11 * 1460, .ack = 1, .len = 1460);
    script_expect_none(&s);
    script_send(&s, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1);
    script_expect(&s, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1, .len = 1460); /* fast retransmit */
    script_free(&s);
}
