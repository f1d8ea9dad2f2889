/* TCP Fast Open, the client side (RFC 7413 §4.1-4.2, as Linux): the cookie
 * request of a TCP_FASTOPEN_CONNECT SYN, the cookie cache, and the connect()
 * deferred until the first send. */
#include "harness.h"
#include "script.h"

#include <string.h>

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define P TCP_FLAG_PSH

static const uint8_t COOKIE[4] = {0xab, 0xcd, 0x12, 0x34};

static int fastopen_socket(struct script *s)
{
    int c = keel_socket(s->st, KEEL_SOCK_STREAM), one = 1;
    CHECK_EQ(keel_setsockopt(s->st, c, KEEL_IPPROTO_TCP, KEEL_TCP_FASTOPEN_CONNECT, &one,
                             sizeof one), 0);
    return c;
}

static int connect_peer(struct script *s, int c)
{
    return keel_connect(s->st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT});
}

/* MSS 1460 and, when cookie_len, a Fast Open option with that cookie. */
static struct tcp_opts synack_opts(uint8_t cookie_len)
{
    struct tcp_opts o = {.present = TCP_OPT_MSS, .mss = 1460};
    if (cookie_len) {
        o.present |= TCP_OPT_FASTOPEN;
        o.fo_len = cookie_len;
        memcpy(o.fo_cookie, COOKIE, cookie_len);
    }
    return o;
}

/* Takes keel's SYN (port and ISN learned) and answers it with opts. */
static const struct captured *answer_syn(struct script *s, struct tcp_opts opts)
{
    s->keel_isn = 0; /* a new connection: learn its ISN */
    const struct captured *syn = script_expect(s, .flags = S, .seq = 0);
    s->keel_port = syn->h.sport;
    s->peer_port = PEER_PORT;
    script_send(s, .flags = S | A, .seq = 0, .ack = 1, .opts = opts);
    script_expect(s, .flags = A, .seq = 1, .ack = 1);
    return syn;
}

/* A first connection asks for a cookie and the server gives COOKIE. */
static void learn_cookie(struct script *s)
{
    int c = fastopen_socket(s);
    CHECK_EQ(connect_peer(s, c), KEEL_EINPROGRESS);
    answer_syn(s, synack_opts(sizeof COOKIE));
}

/* RFC 7413 §4.1.1: without a cookie the SYN carries an empty option, after
 * the others (Linux: mss, nop, nop, sackOK, nop, wscale, FO, nop, nop). */
TEST(fastopen_connect_without_cookie_requests_one)
{
    struct script s;
    struct keel_config cfg = {.no_timestamps = true};
    script_init(&s, &cfg);
    int c = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, c), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(
        &s, .flags = S, .seq = 0, .opts_set = true,
        .opts = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_WSCALE | TCP_OPT_FASTOPEN,
                 .mss = 1460, .wscale = 7});
    CHECK_EQ(syn->h.opts.fo_len, 0);
    CHECK_EQ(syn->h.doff, 9);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenCookieRequested), 1);
    script_expect_none(&s);
    script_free(&s);
}

/* Linux tcp_fastopen_defer_connect: with a cookie cached for the peer,
 * connect() returns 0 and sends nothing; the socket is writable, and the
 * first send sends the SYN with the cookie. keel's SYN carries no data:
 * that send takes none and answers EINPROGRESS (as Linux when its SYN
 * carries none); data is written once the connection is established. */
TEST(fastopen_cached_cookie_defers_the_syn_to_the_first_send)
{
    struct script s;
    script_init(&s, &(struct keel_config){.no_timestamps = true});
    learn_cookie(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenCookieCached), 1);
    int c = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, c), 0);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLOUT);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenDeferredConnect), 1);
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), KEEL_EINPROGRESS);
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), KEEL_EAGAIN);
    const struct captured *syn = answer_syn(&s, synack_opts(0));
    CHECK(syn->h.opts.present & TCP_OPT_FASTOPEN);
    CHECK_EQ(syn->h.opts.fo_len, 4);
    CHECK_MEM(syn->h.opts.fo_cookie, COOKIE, sizeof COOKIE);
    CHECK_EQ(syn->len, 0);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), 5);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    script_free(&s);
}

/* An empty write on a deferred socket sends the SYN too. Closing a
 * deferred socket sends nothing. */
TEST(fastopen_deferred_empty_send_starts_the_handshake)
{
    struct script s;
    script_init(&s, &(struct keel_config){.no_timestamps = true});
    learn_cookie(&s);
    int c = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, c), 0);
    CHECK_EQ(keel_send(s.st, c, "", 0, 0), KEEL_EINPROGRESS);
    answer_syn(&s, synack_opts(0));
    int d = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, d), 0);
    CHECK_EQ(keel_close(s.st, d), 0);
    script_advance(&s, 10000000);
    script_expect_none(&s);
    script_free(&s);
}

/* Without TCP_FASTOPEN_CONNECT the SYN carries no Fast Open option, and a
 * cookie the SYN-ACK offers anyway is ignored (Linux tcp_rcv_fastopen_synack)
 * and counted: the next Fast Open connect still asks for one. */
TEST(fastopen_unsolicited_cookie_is_ignored)
{
    struct script s;
    script_init(&s, &(struct keel_config){.no_timestamps = true});
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(connect_peer(&s, c), KEEL_EINPROGRESS);
    const struct captured *syn = answer_syn(&s, synack_opts(sizeof COOKIE));
    CHECK(!(syn->h.opts.present & TCP_OPT_FASTOPEN));
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenUnsolicitedCookie), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenCookieCached), 0);
    CHECK_EQ(connect_peer(&s, fastopen_socket(&s)), KEEL_EINPROGRESS);
    script_free(&s);
}

/* A SYN-ACK's Fast Open option with a length RFC 7413 §4.1.1 forbids (an
 * odd cookie) is ignored and counted; nothing is cached. */
TEST(fastopen_malformed_cookie_is_not_cached)
{
    static const uint8_t bad[8] = {0x22, 0x07, 1, 2, 3, 4, 5, 0x01};
    struct script s;
    script_init(&s, &(struct keel_config){.no_timestamps = true});
    int c = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, c), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    s.peer_port = PEER_PORT;
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .raw_opts = bad, .raw_opts_len = 8);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpBadOptionLength), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenCookieCached), 0);
    CHECK_EQ(connect_peer(&s, fastopen_socket(&s)), KEEL_EINPROGRESS);
    script_free(&s);
}

/* A later SYN-ACK's cookie replaces the cached one (RFC 7413 §4.1.3.1). */
TEST(fastopen_new_cookie_replaces_the_cached_one)
{
    static const uint8_t longer[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    struct script s;
    script_init(&s, &(struct keel_config){.no_timestamps = true});
    learn_cookie(&s);
    int c = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, c), 0);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EINPROGRESS);
    struct tcp_opts o = synack_opts(0);
    o.present |= TCP_OPT_FASTOPEN;
    o.fo_len = sizeof longer;
    memcpy(o.fo_cookie, longer, sizeof longer);
    answer_syn(&s, o);
    int d = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, d), 0);
    CHECK_EQ(keel_send(s.st, d, "", 0, 0), KEEL_EINPROGRESS);
    s.keel_isn = 0;
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    CHECK_EQ(syn->h.opts.fo_len, sizeof longer);
    CHECK_MEM(syn->h.opts.fo_cookie, longer, sizeof longer);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastOpenCookieCached), 2);
    script_free(&s);
}

/* Linux do_tcp_setsockopt: 0 or 1, before connect(), with the client on
 * (net.ipv4.tcp_fastopen bit 0x1). */
TEST(fastopen_connect_option_rules)
{
    struct script s;
    int one = 1, two = 2, v = -1;
    size_t len = sizeof v;
    script_init(&s, &(struct keel_config){.no_fastopen_client = true});
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_FASTOPEN_CONNECT, &one,
                             sizeof one), KEEL_EOPNOTSUPP);
    script_free(&s);
    script_init(&s, &(struct keel_config){0});
    c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_FASTOPEN_CONNECT, &two,
                             sizeof two), KEEL_EINVAL);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_FASTOPEN_CONNECT, &one,
                             sizeof one), 0);
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_FASTOPEN_CONNECT, &v, &len), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(connect_peer(&s, c), KEEL_EINPROGRESS);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_FASTOPEN_CONNECT, &one,
                             sizeof one), KEEL_EINVAL);
    script_free(&s);
}

/* A SYN reaching a deferred socket opens it simultaneously (RFC 9293
 * §3.10.7.3): the SYN-ACK goes at once, and a later write is an ordinary
 * write on a connection not yet established, sending nothing more. */
TEST(fastopen_deferred_socket_takes_a_simultaneous_open)
{
    struct script s;
    script_init(&s, &(struct keel_config){.no_timestamps = true});
    learn_cookie(&s);
    int c = fastopen_socket(&s);
    CHECK_EQ(connect_peer(&s, c), 0);
    struct keel_sockaddr local;
    CHECK_EQ(keel_getsockname(s.st, c, &local), 0);
    s.keel_port = local.port;
    s.keel_isn = 0;
    script_send(&s, .flags = S, .seq = 0, .opts = synack_opts(0));
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_RECEIVED);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EAGAIN);
    script_expect_none(&s);
    script_free(&s);
}
