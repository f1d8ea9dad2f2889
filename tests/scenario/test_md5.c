/* TCP MD5 signatures (RFC 2385) with Linux's TCP_MD5SIG semantics: keyed
 * peers' segments are signed and must arrive signed; everything else that
 * carries or lacks a signature wrongly is dropped and counted. */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define S TCP_FLAG_SYN

#define KEY "secret-key"

static const struct tcp_opts OPTS_SACK = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM, .mss = 1460};

static int set_key(struct script *s, int sock, uint32_t addr, const char *key)
{
    struct keel_tcp_md5sig m = {.addr = addr, .key_len = (uint16_t)strlen(key)};
    memcpy(m.key, key, m.key_len);
    return keel_setsockopt(s->st, sock, KEEL_IPPROTO_TCP, KEEL_TCP_MD5SIG, &m, sizeof m);
}

static int listen_on(struct script *s)
{
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_bind(s->st, ls, &(struct keel_sockaddr){0, KEEL_PORT}), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    return ls;
}

/* A passive open where both ends sign with KEY; returns the connection. */
static int signed_passive_open(struct script *s, const struct tcp_opts *syn_opts)
{
    int ls = listen_on(s);
    CHECK_EQ(set_key(s, ls, PEER_ADDR, KEY), 0);
    s->md5_key = KEY;
    script_send(s, .flags = S, .seq = 0, .opts = *syn_opts, .md5_key = KEY);
    const struct captured *sa = script_expect(s, .flags = S | A, .seq = 0, .ack = 1);
    CHECK(sa->md5_valid);
    script_send(s, .flags = A, .seq = 1, .ack = 1, .md5_key = KEY);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0);
    return c;
}

/* md5/md5-only-on-client-ack: no key, yet the ACK completing the handshake
 * is signed. Linux tcp_inbound_md5_hash drops it (TCPMD5Unexpected) and the
 * connection waits for an unsigned one. */
TEST(unexpected_signature_dropped)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_SACK);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .md5_key = KEY);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .md5_key = KEY);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMD5Unexpected), 2);
    CHECK_EQ(keel_accept(s.st, ls, NULL), KEEL_EAGAIN);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* With a key for the peer every segment carries NOP, NOP, MD5 first, and
 * its 20 bytes come off the MSS. With SACK on, a passive opener gives up
 * timestamps (Linux tcp_synack_options: no room for both). */
TEST(passive_connection_signed_both_ways)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    CHECK_EQ(set_key(&s, ls, PEER_ADDR, KEY), 0);
    s.md5_key = KEY;
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_LINUX, .md5_key = KEY);
    const struct captured *sa = script_expect(
        &s, .flags = S | A, .seq = 0, .ack = 1, .opts_set = true,
        .opts = {.present = TCP_OPT_MD5 | TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_WSCALE,
                 .mss = 1460, .wscale = 7});
    CHECK(sa->md5_valid);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .md5_key = KEY);
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(script_info(&s, c).snd_mss, 1440);
    CHECK_EQ(script_info(&s, c).ts_ok, 0);
    CHECK_EQ(keel_send(s.st, c, "hello", 5, 0), 5);
    const struct captured *d = script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5);
    CHECK(d->md5_valid);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 6, .len = 3, .md5_key = KEY);
    CHECK_EQ(script_info(&s, c).bytes_received, 3);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMD5Failure) + script_counter(&s, KEEL_C_TCPMD5NotFound), 0);
    script_free(&s);
}

/* Without SACK a passive opener keeps timestamps beside the signature. */
TEST(passive_keeps_timestamps_without_sack)
{
    struct script s;
    script_init(&s, NULL);
    struct tcp_opts ts_only = {.present = TCP_OPT_MSS | TCP_OPT_TS, .mss = 1460, .tsval = 7};
    int c = signed_passive_open(&s, &ts_only);
    CHECK_EQ(script_info(&s, c).ts_ok, 1);
    CHECK_EQ(script_info(&s, c).snd_mss, 1460 - 12 - 20);
    script_free(&s);
}

/* A keyed peer's segment without the option (TCPMD5NotFound) or with a
 * wrong digest (TCPMD5Failure) is dropped: no data, no reply. */
TEST(unsigned_or_forged_segments_dropped)
{
    struct script s;
    script_init(&s, NULL);
    int c = signed_passive_open(&s, &OPTS_SACK);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMD5NotFound), 1);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10, .md5_key = "wrong");
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMD5Failure), 1);
    script_send(&s, .flags = TCP_FLAG_RST, .seq = 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMD5NotFound), 2);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(script_info(&s, c).bytes_received, 0);
    script_expect_none(&s);
    script_free(&s);
}

/* An active opener with a key signs its SYN and sends no timestamps on it
 * (Linux tcp_syn_options). */
TEST(active_syn_signed_without_timestamps)
{
    struct script s;
    script_init(&s, NULL);
    s.md5_key = KEY;
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(set_key(&s, c, PEER_ADDR, KEY), 0);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
             KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(
        &s, .flags = S, .seq = 0, .opts_set = true,
        .opts = {.present = TCP_OPT_MD5 | TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_WSCALE,
                 .mss = 1460, .wscale = 7});
    CHECK(syn->md5_valid);
    script_free(&s);
}

/* Linux tcp_v4_parse_md5_keys: a zero length deletes (ENOENT if there is
 * no key), more than 80 bytes is refused; keel keeps up to 8 peers. A
 * deleted key no longer signs. */
TEST(key_management)
{
    struct script s;
    script_init(&s, NULL);
    int u = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_tcp_md5sig m = {.addr = PEER_ADDR, .key_len = 81};
    CHECK_EQ(keel_setsockopt(s.st, u, KEEL_IPPROTO_TCP, KEEL_TCP_MD5SIG, &m, sizeof m), KEEL_EINVAL);
    CHECK_EQ(keel_setsockopt(s.st, u, KEEL_IPPROTO_TCP, KEEL_TCP_MD5SIG, &m, 4), KEEL_EINVAL);
    m.key_len = 0;
    CHECK_EQ(keel_setsockopt(s.st, u, KEEL_IPPROTO_TCP, KEEL_TCP_MD5SIG, &m, sizeof m), KEEL_ENOENT);
    for (uint32_t i = 0; i < KEEL_TCP_MD5_MAX_KEYS; i++)
        CHECK_EQ(set_key(&s, u, PEER_ADDR + i, KEY), 0);
    CHECK_EQ(set_key(&s, u, PEER_ADDR, "replaced"), 0);
    CHECK_EQ(set_key(&s, u, PEER_ADDR + 100, KEY), KEEL_ENOMEM);
    m.addr = PEER_ADDR;
    CHECK_EQ(keel_setsockopt(s.st, u, KEEL_IPPROTO_TCP, KEEL_TCP_MD5SIG, &m, sizeof m), 0);
    CHECK_EQ(keel_connect(s.st, u, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
             KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    CHECK_EQ(syn->h.opts.present & TCP_OPT_MD5, 0);
    script_free(&s);
}

/* A keyed listener's reset to a signed ACK for no connection is signed
 * too, or the peer would have to ignore it (RFC 2385 §2.0). */
TEST(listener_reset_signed)
{
    struct script s;
    script_init(&s, NULL);
    int ls = listen_on(&s);
    CHECK_EQ(set_key(&s, ls, PEER_ADDR, KEY), 0);
    s.md5_key = KEY;
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .md5_key = KEY);
    const struct captured *rst = script_expect(&s, .flags = TCP_FLAG_RST, .seq = 1);
    CHECK(rst->md5_valid);
    script_free(&s);
}

/* A signed connection on a segmentation-offload device sends one signed
 * segment per packet: the device's copies of a larger one would all carry
 * its first segment's digest (Linux sk_gso_disable). */
TEST(signed_segments_are_not_offloaded)
{
    struct script s;
    script_init(&s, NULL);
    script_use_tso_device(&s);
    int c = signed_passive_open(&s, &OPTS_SACK);
    script_write(&s, c, 3 * 1440);
    for (uint32_t k = 0; k < 3; k++) {
        const struct captured *d = script_expect(&s, .flags = (uint8_t)(k == 2 ? P | A : A),
                                                 .seq = 1 + 1440 * k, .ack = 1, .len = 1440);
        CHECK(d->md5_valid);
    }
    script_expect_none(&s);
    script_free(&s);
}
