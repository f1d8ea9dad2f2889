/* TCP options: MSS (RFC 9293 §3.7.1, RFC 6691) with Linux's floor against a
 * tiny MSS, window scaling (RFC 7323 §2), timestamps and PAWS (RFC 7323 §3,
 * §5), SACK (RFC 2018) and D-SACK (RFC 2883), and options with a wrong
 * length or an unknown kind (RFC 9293 §3.2). */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define S TCP_FLAG_SYN

#define MSS 1460u

static const struct tcp_opts OPTS_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1460};
static char data[8192];

static int nodelay(struct script *s, int c)
{
    int one = 1;
    return keel_setsockopt(s->st, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &one, sizeof one);
}

/* keel listens; the peer's SYN carries `opts` (or raw option bytes). */
static int listen_on(struct script *s)
{
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_bind(s->st, ls, &(struct keel_sockaddr){0, KEEL_PORT}), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    return ls;
}

static int accept_after_ack(struct script *s, int ls)
{
    script_send(s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(script_state(s, c), KEEL_TCP_ESTABLISHED);
    return c;
}

/* ---- MSS ---- */

/* keel announces 1460 (MTU 1500) and sends no more than the peer's 1000. */
TEST(mss_negotiated_down_to_peers)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    script_send(&s, .flags = S, .seq = 0, .opts = {.present = TCP_OPT_MSS, .mss = 1000});
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS, .mss = 1460});
    int c = accept_after_ack(&s, ls);
    CHECK_EQ(script_info(&s, c).snd_mss, 1000);
    CHECK_EQ(nodelay(&s, c), 0);
    CHECK_EQ(keel_send(s.st, c, data, 2500, 0), 2500);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = P | A, .seq = 2001, .ack = 1, .len = 500);
    script_free(&s);
}

/* Linux tcp_min_snd_mss: a peer announcing MSS 1 gets 48-byte segments (the
 * CVE-2019-11479 floor), and the clamp is counted. */
TEST(tiny_peer_mss_clamped_to_48)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    script_send(&s, .flags = S, .seq = 0, .opts = {.present = TCP_OPT_MSS, .mss = 1});
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1);
    int c = accept_after_ack(&s, ls);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMinMssClamped), 1);
    CHECK_EQ(script_info(&s, c).snd_mss, 48);
    CHECK_EQ(nodelay(&s, c), 0);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 48);
    script_expect(&s, .flags = A, .seq = 49, .ack = 1, .len = 48);
    script_expect(&s, .flags = P | A, .seq = 97, .ack = 1, .len = 4);
    script_expect_none(&s);
    script_free(&s);
}

/* With timestamps the 48 bytes include the 12 of the option (Linux
 * tcp_mtu_to_mss applies the floor before taking the options off). */
TEST(tiny_peer_mss_with_timestamps)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    script_send(&s, .flags = S, .seq = 0,
                .opts = {.present = TCP_OPT_MSS | TCP_OPT_TS, .mss = 10, .tsval = 7});
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1);
    s.peer_ts = true;
    s.peer_tsval = 8;
    int c = accept_after_ack(&s, ls);
    CHECK_EQ(script_info(&s, c).snd_mss, 36);
    script_free(&s);
}

/* RFC 9293 §3.7.1 (RFC 6691): no MSS option means 536. */
TEST(no_mss_option_means_536)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    script_send(&s, .flags = S, .seq = 0);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS, .mss = 1460});
    int c = accept_after_ack(&s, ls);
    CHECK_EQ(script_info(&s, c).snd_mss, 536);
    CHECK_EQ(nodelay(&s, c), 0);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 536);
    script_expect(&s, .flags = P | A, .seq = 537, .ack = 1, .len = 464);
    script_free(&s);
}

/* ---- window scaling ---- */

/* RFC 7323 §2.2: the window field of a SYN or SYN-ACK is never scaled, in
 * either direction; later segments are. The shift keel offers comes from
 * the largest buffer the socket may grow to (tcp_rmem[2] = 6 MiB): 7. */
TEST(syn_windows_never_scaled)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    script_send(&s, .flags = S, .seq = 0, .win = 30000,
                .opts = {.present = TCP_OPT_MSS | TCP_OPT_WSCALE, .mss = 1460, .wscale = 3});
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .win = 64240, .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS | TCP_OPT_WSCALE, .mss = 1460, .wscale = 7});
    s.peer_wscale = 3;
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 1000); /* 8000 bytes */
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.snd_wnd, 8000);
    CHECK_EQ(i.snd_wscale, 3);
    CHECK_EQ(i.rcv_wscale, 7);
    /* keel's own windows are scaled from now on: 64240 - 100 bytes free,
     * in units of 128. */
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100, .win = 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 101, .win = 501, .win_set = true);
    script_free(&s);
}

/* keel's SYN window is unscaled too, and a peer's SYN-ACK window is taken
 * as it is, whatever shift it announces. */
TEST(active_syn_window_unscaled_default_shift_7)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0, .win = 64240);
    CHECK(syn->h.opts.present & TCP_OPT_WSCALE);
    CHECK_EQ(syn->h.opts.wscale, 7);
    s.keel_port = syn->h.sport;
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .win = 20000,
                .opts = {.present = TCP_OPT_MSS | TCP_OPT_WSCALE, .mss = 1460, .wscale = 9});
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .win = 501, .win_set = true);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.snd_wnd, 20000);
    CHECK_EQ(i.snd_wscale, 9);
    script_free(&s);
}

/* SO_RCVBUF 8192 before connect caps the buffer: a 7300-byte window (the
 * 8192 bytes of space in whole 1460-byte segments) needs no scaling, so the
 * shift offered is 0 (Linux: ilog2 of the window clamp, less 15). */
TEST(small_rcvbuf_means_smaller_shift)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    int v = 8192;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, &v, sizeof v), 0);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0, .win = 7300);
    CHECK(syn->h.opts.present & TCP_OPT_WSCALE);
    CHECK_EQ(syn->h.opts.wscale, 0);
    script_free(&s);
}

/* A large locked buffer: SO_RCVBUF 1 MiB (2 MiB stored) offers at most
 * 1 MiB of window, which needs a shift of 5 (Linux: the window clamp is the
 * buffer's full space, half the doubled value; ilog2(1 MiB) - 15). */
TEST(large_rcvbuf_shift_from_offered_space)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    int v = 1 << 20;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, &v, sizeof v), 0);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0, .win = 65535);
    CHECK_EQ(syn->h.opts.wscale, 5);
    script_free(&s);
}

/* Without the peer's window scale option neither side scales (RFC 7323
 * §2.2): keel's windows are plain bytes, capped at 65535. */
TEST(no_scaling_without_peer_option)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.rcv_wscale, 0);
    CHECK_EQ(i.snd_wscale, 0);
    CHECK(!i.wscale_ok);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 101, .win = 64140, .win_set = true);
    script_free(&s);
}

/* ---- timestamps and PAWS ---- */

/* RFC 7323 §5.3: a segment whose TSval is older than TS.Recent is a
 * duplicate from an earlier wrap: dropped, and answered with an ACK that
 * echoes TS.Recent. Counted as TCPPAWSRejected. */
TEST(paws_drops_old_timestamp_and_acks)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_LINUX); /* peer TSval 1000 */
    CHECK_EQ(script_info(&s, c).ts_recent, 1000);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10,
                .opts = {.present = TCP_OPT_TS, .tsval = 2000});
    script_expect(&s, .flags = A, .seq = 1, .ack = 11, .opts_set = true,
                  .opts = {.present = TCP_OPT_TS, .tsecr = 2000});
    CHECK_EQ(script_info(&s, c).ts_recent, 2000);
    /* New data, but TSval 1999 < TS.Recent. */
    script_send(&s, .flags = P | A, .seq = 11, .ack = 1, .len = 10,
                .opts = {.present = TCP_OPT_TS, .tsval = 1999});
    script_expect(&s, .flags = A, .seq = 1, .ack = 11, .opts_set = true,
                  .opts = {.present = TCP_OPT_TS, .tsecr = 2000});
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.rcv_queued, 10);
    CHECK_EQ(i.ts_recent, 2000);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPPAWSRejected), 1);
    /* The same data with a current TSval is taken. */
    script_send(&s, .flags = P | A, .seq = 11, .ack = 1, .len = 10,
                .opts = {.present = TCP_OPT_TS, .tsval = 2001});
    script_expect(&s, .flags = A, .seq = 1, .ack = 21, .opts_set = true,
                  .opts = {.present = TCP_OPT_TS, .tsecr = 2001});
    script_free(&s);
}

/* keel's TSval is a millisecond clock: it advances with time. */
TEST(tsval_is_a_millisecond_clock)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_LINUX);
    CHECK_EQ(keel_send(s.st, c, "a", 1, 0), 1);
    const struct captured *d1 = script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1);
    uint32_t ts1 = d1->h.opts.tsval;
    script_send(&s, .flags = A, .seq = 1, .ack = 2);
    script_advance(&s, 250000);
    CHECK_EQ(keel_send(s.st, c, "b", 1, 0), 1);
    const struct captured *d2 = script_expect(&s, .flags = P | A, .seq = 2, .ack = 1, .len = 1);
    CHECK_EQ_U(d2->h.opts.tsval - ts1, 250);
    script_free(&s);
}

/* ---- SACK and D-SACK ---- */

static void send_block(struct script *s, uint32_t from, uint32_t len)
{
    script_send(s, .flags = A, .seq = from, .ack = 1, .len = len);
}

#define B(l, r) {PEER_ISN + (l), PEER_ISN + (r)}

/* RFC 2018 §4: the first block reports the most recently received segment
 * (the whole block holding it), the others the most recently reported
 * blocks; with no timestamps, four fit. */
TEST(sack_blocks_most_recent_first)
{
    struct script s;
    script_init(&s, NULL);
    script_active_open(&s, &OPTS_SACK);
    /* Bytes 1..200 are missing throughout. */
    send_block(&s, 201, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1, .sack = {B(201, 301)}});
    send_block(&s, 401, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 2,
                           .sack = {B(401, 501), B(201, 301)}});
    send_block(&s, 601, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 3,
                           .sack = {B(601, 701), B(401, 501), B(201, 301)}});
    /* 301..400 joins the first two blocks: the merged block comes first. */
    send_block(&s, 301, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 2,
                           .sack = {B(201, 501), B(601, 701)}});
    send_block(&s, 801, 100);
    send_block(&s, 1001, 100);
    send_block(&s, 1201, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 4,
                           .sack = {B(1201, 1301), B(1001, 1101), B(801, 901), B(201, 501)}});
    /* The hole fills: RCV.NXT jumps over 201..500, whose block goes. */
    send_block(&s, 1, 200);
    script_expect(&s, .flags = A, .seq = 1, .ack = 501, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 3,
                           .sack = {B(1201, 1301), B(1001, 1101), B(801, 901)}});
    script_free(&s);
}

/* With timestamps, three blocks fit in the 40 option bytes. */
TEST(sack_three_blocks_with_timestamps)
{
    struct script s;
    script_init(&s, NULL);
    script_active_open(&s, &OPTS_LINUX);
    for (uint32_t k = 0; k < 4; k++) {
        send_block(&s, 201 + 200 * k, 100);
        const struct captured *a = script_expect(&s, .flags = A, .seq = 1, .ack = 1);
        CHECK_EQ(a->h.opts.sack_count, k + 1 < 3 ? k + 1 : 3);
        CHECK_EQ_U(a->h.opts.sack[0].left, PEER_ISN + 201 + 200 * k);
    }
    script_free(&s);
}

/* RFC 2883: a duplicate below RCV.NXT is reported in a D-SACK block, first
 * in the option, and only once. */
TEST(dsack_for_duplicate_below_ack)
{
    struct script s;
    script_init(&s, NULL);
    script_active_open(&s, &OPTS_SACK);
    send_block(&s, 1, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 101, .opts_set = true, .opts = {.present = 0});
    send_block(&s, 1, 100); /* wholly duplicate */
    script_expect(&s, .flags = A, .seq = 1, .ack = 101, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1, .sack = {B(1, 101)}});
    send_block(&s, 51, 100); /* half duplicate: 51..100 */
    script_expect(&s, .flags = A, .seq = 1, .ack = 151, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1, .sack = {B(51, 101)}});
    send_block(&s, 151, 10);
    script_expect(&s, .flags = A, .seq = 1, .ack = 161, .opts_set = true, .opts = {.present = 0});
    CHECK_EQ(script_counter(&s, KEEL_C_TCPDSACKSent), 2);
    script_free(&s);
}

/* RFC 2883 §4 rule 4: a duplicate of out-of-order data is reported by a
 * D-SACK block first, then the SACK block that holds it. */
TEST(dsack_for_duplicate_out_of_order)
{
    struct script s;
    script_init(&s, NULL);
    script_active_open(&s, &OPTS_SACK);
    send_block(&s, 201, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1, .sack = {B(201, 301)}});
    send_block(&s, 301, 100);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 1, .sack = {B(201, 401)}});
    send_block(&s, 201, 100); /* again */
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_SACK, .sack_count = 2,
                           .sack = {B(201, 301), B(201, 401)}});
    CHECK_EQ(script_counter(&s, KEEL_C_TCPDSACKSent), 1);
    script_free(&s);
}

/* ---- malformed and unknown options ---- */

/* Known options with a wrong length (MSS of 3 bytes, window scale of 4, SACK
 * permitted of 3, timestamps of 8) are ignored, each counted; the segment
 * is not: the handshake completes with none of them in force. */
TEST(options_with_wrong_length_ignored)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    static const uint8_t bad[] = {2, 3, 0x05, 1,            /* MSS, length 3; NOP */
                                  3, 4, 7, 0,               /* window scale, length 4 */
                                  4, 3, 0, 1,               /* SACK permitted, length 3; NOP */
                                  8, 8, 0, 0, 0, 9, 0, 0};  /* timestamps, length 8 */
    script_send(&s, .flags = S, .seq = 0, .raw_opts = bad, .raw_opts_len = sizeof bad);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS, .mss = 1460});
    CHECK_EQ(script_counter(&s, KEEL_C_TcpBadOptionLength), 4);
    int c = accept_after_ack(&s, ls);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.snd_mss, 536);
    CHECK(!i.ts_ok && !i.sack_ok && !i.wscale_ok);
    /* Data both ways still fine. */
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    script_expect(&s, .flags = A, .seq = 1, .ack = 6);
    CHECK_EQ(keel_send(s.st, c, "hi", 2, 0), 2);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 6, .len = 2);
    script_free(&s);
}

/* Unknown kinds are skipped by their length (RFC 9293 §3.2); the options
 * after them still count. On a data segment they change nothing either. */
TEST(unknown_options_skipped)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    static const uint8_t syn_opts[] = {30, 4, 0x10, 0,            /* kind 30, length 4 */
                                       254, 6, 0xf9, 0x89, 0, 0,  /* experimental */
                                       2, 4, 0x03, 0xe8,          /* MSS 1000 */
                                       1, 1};
    script_send(&s, .flags = S, .seq = 0, .raw_opts = syn_opts, .raw_opts_len = sizeof syn_opts);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS, .mss = 1460});
    CHECK_EQ(script_counter(&s, KEEL_C_TcpUnknownOptions), 2);
    int c = accept_after_ack(&s, ls);
    CHECK_EQ(script_info(&s, c).snd_mss, 1000);
    static const uint8_t data_opts[] = {77, 6, 1, 2, 3, 4, 1, 1};
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 7, .raw_opts = data_opts,
                .raw_opts_len = sizeof data_opts);
    script_expect(&s, .flags = A, .seq = 1, .ack = 8);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpUnknownOptions), 3);
    CHECK_EQ(script_info(&s, c).rcv_queued, 7);
    script_free(&s);
}
