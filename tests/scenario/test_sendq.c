/* The send queue's Linux semantics (src/tcp/sendq.c): how writes fill it
 * (chunks, SO_SNDBUF, TCP_NOTSENT_LOWAT), when the socket is writable,
 * record ends (MSG_EOR) and corking (MSG_MORE, TCP_CORK).
 * Each case pins what a packetdrill script of gtests/net/tcp shows Linux
 * doing (named in the comment). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

/* The peer's SYN of the notsent_lowat/ and eor/ scripts: MSS 1000, SACK,
 * window scale 7 (its windows here are 65535 >> 7 = 511 units, 65408
 * bytes, so Linux's chunks are 32 segments: half that window). */
static const struct tcp_opts OPTS_MSS_1000_WS = {
    .present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_WSCALE, .mss = 1000, .wscale = 7};
/* The nagle/ scripts' peer: MSS 1000 only. */
static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

static long app_send(struct script *s, int sock, uint32_t n, int flags)
{
    static uint8_t buf[200000];
    return keel_send(s->st, sock, buf, n, flags);
}

static int set_int(struct script *s, int sock, int name, int v)
{
    return keel_setsockopt(s->st, sock, KEEL_IPPROTO_TCP, name, &v, sizeof v);
}

static int get_int(struct script *s, int sock, int name)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, KEEL_IPPROTO_TCP, name, &v, &len), 0);
    return v;
}

static bool writable(struct script *s, int sock)
{
    return (keel_readiness(s->st, sock) & KEEL_POLLOUT) != 0;
}

/* ---- TCP_NOTSENT_LOWAT ---- */

/* notsent_lowat/notsent-lowat-setsockopt.pkt: with a mark of 4000, a write
 * starts no new chunk once 4000 bytes are unsent, but the chunk it started
 * fills: the first chunk (32000) leaves as far as cwnd allows (10000), the
 * 22000 left of it grow back to 32000, and the write stops at 42000.
 * POLLOUT waits for the unsent bytes to fall under half the mark. */
TEST(notsent_lowat_bounds_the_write_and_pollout)
{
    struct keel_config cfg = {.sndbuf = 262144}; /* the suite's tcp_wmem[1] */
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &OPTS_MSS_1000_WS);
    CHECK_EQ(get_int(&s, c, KEEL_TCP_NOTSENT_LOWAT), 0);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NOTSENT_LOWAT, 4000), 0);
    CHECK_EQ(get_int(&s, c, KEEL_TCP_NOTSENT_LOWAT), 4000);
    CHECK_EQ(app_send(&s, c, 59000, 0), 42000);
    CHECK_EQ(app_send(&s, c, 1000, 0), KEEL_EAGAIN);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_expect_none(&s);
    /* 32000 unsent: writable under a mark above 64000, not at 64000; a
     * lower mark takes effect at once. */
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NOTSENT_LOWAT, 64001), 0);
    CHECK(writable(&s, c));
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NOTSENT_LOWAT, 64000), 0);
    CHECK(!writable(&s, c));
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NOTSENT_LOWAT, 4000), 0);
    /* ACK everything in flight, round after round: POLLOUT exactly when
     * the unsent bytes, doubled, are under the mark (Linux
     * tcp_stream_memory_free with wake = 1), until all is sent. */
    for (int round = 0; round < 10; round++) {
        struct keel_tcp_info i = script_info(&s, c);
        uint32_t notsent = i.snd_queued - (i.snd_nxt - i.snd_una);
        CHECK_EQ(writable(&s, c), 2 * notsent < 4000);
        if (!notsent)
            break;
        s.next_out = s.nout; /* the packets themselves are not the point */
        script_send(&s, .flags = A, .seq = 1, .ack = i.snd_nxt, .abs_ack = true);
    }
    CHECK(writable(&s, c));
    script_free(&s);
}

/* notsent_lowat/notsent-lowat-sysctl.pkt: the stack's default (Linux
 * net.ipv4.tcp_notsent_lowat) applies to sockets that set none, and
 * getsockopt still answers the socket's own 0. */
TEST(notsent_lowat_default_from_the_stack)
{
    struct keel_config cfg = {.notsent_lowat = 4000, .sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &OPTS_MSS_1000_WS);
    CHECK_EQ(get_int(&s, c, KEEL_TCP_NOTSENT_LOWAT), 0);
    CHECK_EQ(app_send(&s, c, 59000, 0), 42000);
    /* A socket's own mark takes precedence; UINT32_MAX lifts the limit. */
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NOTSENT_LOWAT, -1), 0);
    CHECK_EQ(app_send(&s, c, 17000, 0), 17000);
    script_free(&s);
}

/* Without a mark, SO_SNDBUF bounds new chunks (Linux sk_stream_memory_free):
 * tcp_wmem[1] 50000 as in notsent-lowat-default.pkt gives two chunks of
 * 32000 (the second starts at 42000 queued), and the write stops at 74000. */
TEST(sndbuf_bounds_new_chunks_not_bytes)
{
    struct keel_config cfg = {.sndbuf = 50000};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &OPTS_MSS_1000_WS);
    CHECK_EQ(app_send(&s, c, 100000, 0), 74000);
    CHECK(!writable(&s, c));
    script_free(&s);
}

/* blocking/blocking-write.pkt's rule: with SO_SNDBUF 20000 (40000 stored)
 * and the peer's largest window 65535 (chunks of 32000), a write of 61000
 * queues a chunk, sends 10000 of it, grows it back to 32000 and stops at
 * 42000, past SO_SNDBUF; the socket turns writable only once the free
 * part is half the queued part, 26666 queued or less (Linux
 * sk_stream_wspace >= sk_stream_min_wspace). */
TEST(sndbuf_writable_again_at_a_third_free)
{
    struct script s;
    script_init(&s, NULL);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    int sndbuf = 20000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf),
             0);
    CHECK_EQ(app_send(&s, c, 61000, 0), 42000);
    bool was_writable = false;
    for (int round = 0; round < 10 && !was_writable; round++) {
        struct keel_tcp_info i = script_info(&s, c);
        was_writable = writable(&s, c);
        CHECK_EQ(was_writable, i.snd_queued <= 26666);
        s.next_out = s.nout;
        script_send(&s, .flags = A, .seq = 1, .ack = i.snd_nxt, .abs_ack = true);
    }
    CHECK(was_writable);
    script_free(&s);
}

/* Active open as timestamping/partial.pkt's peer answers: SACK, window
 * scale 7 and, 10 ms after the SYN, a SYN-ACK window of 2000, the largest
 * the peer offers before data flows (chunks of one segment: half of it). */
static int open_to_small_window(struct script *s, uint16_t mss)
{
    struct tcp_opts opts = OPTS_MSS_1000_WS;
    opts.mss = mss;
    int c = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(s->st, c, &a), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(s, .flags = TCP_FLAG_SYN, .seq = 0);
    s->keel_port = syn->h.sport;
    s->peer_port = PEER_PORT;
    s->peer_wscale = 7;
    script_advance(s, 10000);
    script_send(s, .flags = TCP_FLAG_SYN | A, .seq = 0, .ack = 1, .win = 2000,
                .opts = opts);
    script_expect(s, .flags = A, .seq = 1, .ack = 1);
    return c;
}

/* timestamping/partial.pkt: SO_SNDBUF 1000 (4608 stored) and chunks of
 * 1000 bytes. Each chunk costs its bytes and Linux's skb overhead (832),
 * so after two (3664 charged) a third starts and after three (5496) no
 * more: the write returns 3000, where bytes alone would allow five. */
TEST(sndbuf_charges_each_chunk_overhead)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_to_small_window(&s, 1000);
    int sndbuf = 1000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf),
             0);
    CHECK_EQ(app_send(&s, c, 10000, 0), 3000);
    CHECK(!writable(&s, c));
    script_free(&s);
}

/* Linux forced_push, as in timestamping/partial.pkt: in one long write,
 * the chunk that takes the queue more than half the peer's largest window
 * (1000) past the last push point ends with one and goes at once; the
 * first chunk does not (1000 is not more than 1000). The write's own end
 * is a push point too, sent once the window opens. */
TEST(forced_push_marks_the_chunk_past_half_the_window)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_to_small_window(&s, 1000);
    int sndbuf = 1000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf),
             0);
    CHECK_EQ(app_send(&s, c, 10000, 0), 3000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 2001, .win = 92);
    script_expect(&s, .flags = P | A, .seq = 2001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_free(&s);
}

/* timestamping/partial.pkt itself: segments of 988 bytes, so after two the
 * peer's window (2000) has room for 24. The write's end pushes (it was cut
 * short), yet no 24-byte sliver goes: sender SWS avoidance holds a pushed
 * segment too, and the third segment leaves whole when the window opens. */
TEST(push_sends_no_sliver_of_the_window)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_to_small_window(&s, 988);
    int sndbuf = 1000;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf),
             0);
    CHECK_EQ(app_send(&s, c, 10000, 0), 2964);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 988);
    script_expect(&s, .flags = P | A, .seq = 989, .ack = 1, .len = 988);
    script_expect_none(&s);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1977, .win = 92);
    script_expect(&s, .flags = P | A, .seq = 1977, .ack = 1, .len = 988);
    script_expect_none(&s);
    script_free(&s);
}

/* ---- MSG_EOR ---- */

/* eor/no-coalesce-small.pkt: data written after a record end never shares
 * a segment with the record, and the record's short last segment goes
 * without waiting for Nagle (it is not the tail of the queue). */
TEST(eor_record_end_bounds_segments)
{
    struct script s;
    script_init(&s, NULL);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &OPTS_MSS_1000_WS);
    CHECK_EQ(app_send(&s, c, 10400, 0), 10400);
    CHECK_EQ(app_send(&s, c, 400, KEEL_MSG_EOR), 400);
    CHECK_EQ(app_send(&s, c, 10000, 0), 10000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 10001);
    script_expect(&s, .flags = P | A, .seq = 10001, .ack = 1, .len = 800);
    script_expect(&s, .flags = P | A, .seq = 10801, .ack = 1, .len = 10000);
    script_expect_none(&s);
    script_free(&s);
}

/* eor/no-coalesce-retrans.pkt: a retransmission does not join records
 * either. Two 400-byte records and a write behind them: the RTO resends
 * the first record alone. */
TEST(eor_retransmission_stops_at_record_end)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NODELAY, 1), 0);
    CHECK_EQ(app_send(&s, c, 400, KEEL_MSG_EOR), 400);
    CHECK_EQ(app_send(&s, c, 400, KEEL_MSG_EOR), 400);
    CHECK_EQ(app_send(&s, c, 300, 0), 300);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 400);
    script_expect(&s, .flags = P | A, .seq = 401, .ack = 1, .len = 400);
    script_expect(&s, .flags = P | A, .seq = 801, .ack = 1, .len = 300);
    script_run_timer(&s);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 400);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 401);
    script_expect(&s, .flags = P | A, .seq = 401, .ack = 1, .len = 400);
    script_free(&s);
}

/* SACK recovery resends a hole record by record too (eor/no-coalesce-
 * retrans.pkt's recovery): ten 400-byte records, the first three lost,
 * the rest SACKed; the first retransmission is the first record alone. */
TEST(eor_sack_retransmission_stops_at_record_end)
{
    static const struct tcp_opts opts = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                         .mss = 1000};
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &opts);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NODELAY, 1), 0);
    for (uint32_t k = 0; k < 10; k++) {
        CHECK_EQ(app_send(&s, c, 400, KEEL_MSG_EOR), 400);
        script_expect(&s, .flags = P | A, .seq = 1 + 400 * k, .ack = 1, .len = 400);
    }
    struct seg dup = {.flags = A, .seq = 1, .ack = 1};
    dup.opts.present = TCP_OPT_SACK;
    dup.opts.sack_count = 1;
    dup.opts.sack[0].left = s.keel_isn + 1 + 1200;
    dup.opts.sack[0].right = s.keel_isn + 1 + 4000;
    for (int n = 0; n < 3 && !script_pending(&s); n++)
        script_inject(&s, &dup);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 400);
    script_free(&s);
}

/* sack/sack-route-refresh-ip-tos.pkt: a SACK retransmission resends at
 * most the packet that first sent its start (Linux keeps each as an skb
 * and __tcp_retransmit_skb sends one), whole when cwnd allows, with the
 * PSH Linux puts on every packet of several segments. Two packets of
 * 5000 went; the hole 3001:6001 spans both: 3001:5001 goes as one packet,
 * 5001:6001 (the head of the second, SACKs cut it) as another, then the
 * hole 7001:8001. */
TEST(sack_retransmission_follows_the_packets_sent)
{
    static const struct tcp_opts opts = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                         .mss = 1000};
    struct script s;
    script_init(&s, NULL);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &opts);
    CHECK_EQ(app_send(&s, c, 10000, 0), 10000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_advance(&s, 1000);
    struct seg ack = {.flags = A, .seq = 1, .ack = 3001};
    ack.opts.present = TCP_OPT_SACK;
    ack.opts.sack_count = 2;
    ack.opts.sack[0].left = s.keel_isn + 6001;
    ack.opts.sack[0].right = s.keel_isn + 7001;
    ack.opts.sack[1].left = s.keel_isn + 8001;
    ack.opts.sack[1].right = s.keel_isn + 10001;
    script_inject(&s, &ack);
    script_expect(&s, .flags = P | A, .seq = 3001, .ack = 1, .len = 2000);
    script_expect(&s, .flags = A, .seq = 5001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 7001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_free(&s);
}

/* A SACK acknowledging 5001:8001 of two 5000-byte packets leaves the hole
 * 1:5001, one packet, lost; PRR has room for three segments: one TSO
 * packet of three with PSH (Linux tcp_fragment cuts the skb to cwnd's
 * room; a retransmission is not held to half the cwnd as new data is).
 * One more segment SACKed earns one more segment. Linux 6.18 sends the
 * same. */
static struct seg sack_of(struct script *s, uint32_t right)
{
    struct seg ack = {.flags = A, .seq = 1, .ack = 1};
    ack.opts.present = TCP_OPT_SACK;
    ack.opts.sack_count = 1;
    ack.opts.sack[0].left = s->keel_isn + 5001;
    ack.opts.sack[0].right = s->keel_isn + right;
    return ack;
}

TEST(sack_retransmission_cut_to_prr_room)
{
    static const struct tcp_opts opts = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                         .mss = 1000};
    struct script s;
    script_init(&s, NULL);
    script_use_tso_device(&s);
    int c = script_passive_open(&s, &opts);
    CHECK_EQ(app_send(&s, c, 10000, 0), 10000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_advance(&s, 1000);
    struct seg ack = sack_of(&s, 8001);
    script_inject(&s, &ack);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3000);
    script_expect_none(&s);
    ack = sack_of(&s, 9001);
    script_inject(&s, &ack);
    script_expect(&s, .flags = A, .seq = 3001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_free(&s);
}

static const struct tcp_opts OPTS_MSS_1000_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM,
                                                   .mss = 1000};

/* A connection over a TSO device with a 100 ms RTT (TCP_NODELAY when
 * `nodelay`) that sent 1:1001, lost, and its tail loss probe; 250 ms
 * later, the RTO is near. */
static int probe_sent_rto_near(struct script *s, bool nodelay)
{
    script_init(s, NULL);
    script_use_tso_device(s);
    int c = script_active_open_rtt(s, &OPTS_MSS_1000_SACK, 100000);
    if (nodelay)
        CHECK_EQ(set_int(s, c, KEEL_TCP_NODELAY, 1), 0);
    CHECK_EQ(app_send(s, c, 1000, 0), 1000);
    script_expect(s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_run_timer(s);
    script_expect(s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000); /* the probe */
    script_advance(s, 250000);
    return c;
}

/* The timeout fires: 1:1001 is resent. */
static void run_until_timeout(struct script *s)
{
    while (!script_pending(s))
        script_run_timer(s);
    CHECK_EQ_U(script_counter(s, KEEL_C_TCPTimeouts), 1);
    script_expect(s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_expect_none(s);
}

/* After a timeout, resending goes back in TSO packets as Linux's
 * tcp_xmit_retransmit_queue builds them: as much as cwnd has room for,
 * not half of it as for new data, and no more than the packet that first
 * sent the data (tests/packetdrill/recovery/rto-resends-whole-tso-packets.pkt,
 * which Linux 6.18 passes). 1:1001, its tail loss probe, then 1001:6001
 * in packets of 2000, 2000 and 1000 (sized by the pacing rate) just
 * before the timeout, which resends 1:1001 with cwnd 1; its ACK lets
 * 1001:3001 go in one packet (cwnd 2), the next ACK 3001:5001 and
 * 5001:6001 (cwnd 4), as first sent. */
TEST(timeout_resends_whole_tso_packets)
{
    struct script s;
    int c = probe_sent_rto_near(&s, false);
    CHECK_EQ(app_send(&s, c, 5000, 0), 5000);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 2000);
    script_expect(&s, .flags = P | A, .seq = 3001, .ack = 1, .len = 2000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 1000);
    run_until_timeout(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 1000);
    script_advance(&s, 50000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 2000);
    script_expect_none(&s);
    script_advance(&s, 50000);
    script_send(&s, .flags = A, .seq = 1, .ack = 3001);
    script_expect(&s, .flags = P | A, .seq = 3001, .ack = 1, .len = 2000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    CHECK_EQ_U(script_info(&s, c).cwnd, 4000);
    script_free(&s);
}

/* A packet that ended in a short segment is resent as it was sent, not
 * cut to whole segments with the tail padded from the next packet (Linux
 * resends the skb): with TCP_NODELAY, 1001:2501 and 2501:4001 leave as
 * packets of 1500 just before the timeout; after it, each ACK lets one go
 * again whole (tests/packetdrill/recovery/rto-resends-short-tails-whole.pkt,
 * which Linux 6.18 passes). */
TEST(timeout_resends_packets_with_short_tails_whole)
{
    struct script s;
    int c = probe_sent_rto_near(&s, true);
    CHECK_EQ(app_send(&s, c, 1500, 0), 1500);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 1500);
    CHECK_EQ(app_send(&s, c, 1500, 0), 1500);
    script_expect(&s, .flags = P | A, .seq = 2501, .ack = 1, .len = 1500);
    run_until_timeout(&s);
    script_advance(&s, 50000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 1500);
    script_expect_none(&s);
    script_advance(&s, 50000);
    script_send(&s, .flags = A, .seq = 1, .ack = 2501);
    script_expect(&s, .flags = P | A, .seq = 2501, .ack = 1, .len = 1500);
    script_expect_none(&s);
    script_free(&s);
}

/* Record ends are remembered in a bounded ring: past TCP_RECORD_MARKS
 * unacknowledged records, the newest two join (counted), none is lost. */
TEST(eor_marks_full_join_records_and_count)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    struct keel_counters before, after;
    keel_counters(s.st, &before);
    for (int n = 0; n < 66; n++)
        CHECK_EQ(app_send(&s, c, 10, KEEL_MSG_EOR), 10);
    keel_counters(s.st, &after);
    CHECK_EQ(after.v[KEEL_C_TCPRecordMarksMerged] - before.v[KEEL_C_TCPRecordMarksMerged], 2u);
    script_free(&s);
}

/* ---- MSG_MORE and TCP_CORK ---- */

/* nagle/sendmsg_msg_more.pkt: MSG_MORE holds a partial segment even with
 * TCP_NODELAY; with nothing in flight the probe timer sends it after an
 * RTO, with PSH (Linux tcp_write_wakeup). A later write without MSG_MORE
 * releases what waits; MSG_MORE writes mark no push point. */
TEST(msg_more_holds_until_probe_or_plain_write)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NODELAY, 1), 0);
    CHECK_EQ(app_send(&s, c, 40, KEEL_MSG_MORE), 40);
    script_expect_none(&s);
    uint64_t t0 = s.now_us;
    script_run_timer(&s);
    CHECK_EQ(s.now_us - t0, 210000u); /* RTO: 10 ms + 200 ms */
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 40);
    script_send(&s, .flags = A, .seq = 1, .ack = 41);
    CHECK_EQ(app_send(&s, c, 100, KEEL_MSG_MORE), 100);
    CHECK_EQ(app_send(&s, c, 160, KEEL_MSG_MORE), 160);
    script_expect_none(&s);
    CHECK_EQ(app_send(&s, c, 5, 0), 5);
    script_expect(&s, .flags = P | A, .seq = 41, .ack = 1, .len = 265);
    script_expect_none(&s);
    script_free(&s);
}

/* nagle/sendmsg_msg_more.pkt: a corked write larger than a segment sends
 * its whole segments and keeps the partial tail (Linux
 * tcp_mss_split_point); an ACK then releases it under TCP_NODELAY, without
 * PSH, since no write without MSG_MORE ended there. */
TEST(msg_more_sends_whole_segments_keeps_the_tail)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NODELAY, 1), 0);
    CHECK_EQ(app_send(&s, c, 3100, KEEL_MSG_MORE), 3100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 2001);
    script_expect(&s, .flags = A, .seq = 3001, .ack = 1, .len = 100);
    script_expect_none(&s);
    script_free(&s);
}

/* nagle/sockopt_cork_nodelay.pkt: TCP_CORK holds small writes; uncorking
 * sends them as one segment; with the cork on, turning TCP_NODELAY on
 * pushes what waits once. */
TEST(cork_holds_until_uncork_or_nodelay)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_CORK, 1), 0);
    CHECK_EQ(get_int(&s, c, KEEL_TCP_CORK), 1);
    CHECK_EQ(app_send(&s, c, 40, 0), 40);
    script_advance(&s, 50000);
    CHECK_EQ(app_send(&s, c, 40, 0), 40);
    script_expect_none(&s);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_CORK, 0), 0);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 80);
    script_send(&s, .flags = A, .seq = 1, .ack = 81);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_CORK, 1), 0);
    CHECK_EQ(app_send(&s, c, 40, 0), 40);
    CHECK_EQ(app_send(&s, c, 40, 0), 40);
    script_expect_none(&s);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_NODELAY, 1), 0);
    script_expect(&s, .flags = P | A, .seq = 81, .ack = 1, .len = 80);
    script_expect_none(&s);
    script_free(&s);
}

/* Shutting down writing sends what the cork holds, with the FIN (Linux
 * tcp_send_fin pushes with TCP_NAGLE_OFF). */
TEST(cork_releases_its_tail_with_the_fin)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    CHECK_EQ(set_int(&s, c, KEEL_TCP_CORK, 1), 0);
    CHECK_EQ(app_send(&s, c, 2100, 0), 2100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect_none(&s);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = TCP_FLAG_FIN | P | A, .seq = 2001, .ack = 1, .len = 100);
    script_expect_none(&s);
    script_free(&s);
}

/* An accepted connection starts with its listener's TCP_NOTSENT_LOWAT,
 * TCP_CORK and SO_OOBINLINE, as Linux's sk_clone_lock copies them. */
TEST(accepted_connection_inherits_send_options)
{
    struct script s;
    script_init(&s, NULL);
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_bind(s.st, ls, &(struct keel_sockaddr){0, KEEL_PORT}), 0);
    CHECK_EQ(keel_listen(s.st, ls, 16), 0);
    int lowat = 5000, one = 1;
    CHECK_EQ(keel_setsockopt(s.st, ls, KEEL_IPPROTO_TCP, KEEL_TCP_NOTSENT_LOWAT, &lowat,
                             sizeof lowat), 0);
    CHECK_EQ(keel_setsockopt(s.st, ls, KEEL_IPPROTO_TCP, KEEL_TCP_CORK, &one, sizeof one), 0);
    CHECK_EQ(keel_setsockopt(s.st, ls, KEEL_SOL_SOCKET, KEEL_SO_OOBINLINE, &one, sizeof one), 0);
    script_send(&s, .flags = TCP_FLAG_SYN, .seq = 0, .opts = OPTS_MSS_1000);
    script_expect(&s, .flags = TCP_FLAG_SYN | A, .seq = 0, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    int v = 0;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_NOTSENT_LOWAT, &v, &len), 0);
    CHECK_EQ(v, lowat);
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_CORK, &v, &len), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_OOBINLINE, &v, &len), 0);
    CHECK_EQ(v, 1);
    script_free(&s);
}
