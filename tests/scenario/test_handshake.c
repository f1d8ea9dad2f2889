/* Connection establishment and teardown, segment by segment. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

TEST(passive_open_linux_options)
{
    struct script s;
    script_init(&s, NULL);
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s.st, ls, &a), 0);
    CHECK_EQ(keel_listen(s.st, ls, 16), 0);
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_LINUX);
    /* Linux's SYN-ACK: MSS, SACK-permitted, TS echoing ours, window scale 7. */
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1, .win = 64240, /* 44 * 1460 */
                  .opts_set = true,
                  .opts = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS | TCP_OPT_WSCALE,
                           .mss = 1460, .wscale = 7, .tsecr = 1000});
    s.peer_ts = true;
    s.peer_wscale = 7;
    s.peer_tsval = 1001;
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    struct keel_tcp_info i;
    CHECK_EQ(keel_tcp_info(s.st, c, &i), 0);
    CHECK_EQ(i.snd_mss, 1448); /* 1460 less the timestamp option */
    CHECK_EQ(i.snd_wscale, 7);
    CHECK_EQ(i.rcv_wscale, 7);
    CHECK_EQ(i.cwnd, 10 * 1448);
    CHECK(i.ts_ok && i.sack_ok && i.wscale_ok);
    script_expect_none(&s);
    script_free(&s);
}

TEST(active_open_and_data_both_ways)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), 5);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 6, .len = 3);
    /* Quick-ACK mode at the start of a connection: acknowledged at once. */
    script_expect(&s, .flags = A, .seq = 6, .ack = 4);
    char buf[8];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 3);
    for (int k = 0; k < 3; k++) /* the default payload pattern */
        CHECK_EQ(buf[k], 'a' + (PEER_ISN + 1 + k) % 26);
    script_free(&s);
}

TEST(active_close_to_time_wait)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 2);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(&s, .flags = A, .seq = 2, .ack = 2);
    script_expect_none(&s);
    /* TIME-WAIT lasts 60 s, then the connection is gone: a segment gets a RST. */
    script_advance(&s, 60000000);
    script_send(&s, .flags = A, .seq = 2, .ack = 2);
    script_expect(&s, .flags = R, .seq = 2);
    script_free(&s);
}
