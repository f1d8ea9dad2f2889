/* ICMP (RFC 792, RFC 1122 §3.2.2 and §4.2.3.9, RFC 1191, RFC 5927): echo
 * requests answered; "fragmentation needed" lowering the MSS with an
 * immediate retransmission; port unreachable failing a connect; soft errors
 * reported when the connection times out; errors quoting a sequence number
 * outside the window ignored. */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN

#define MS 1000ull
#define SEC 1000000ull
#define ROUTER_ADDR 0xc0000263u /* 192.0.2.99 */

static char data[4096];

static int so_error(struct script *s, int sock)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &v, &len), 0);
    return v;
}

/* Sends ICMP message m from src to keel. */
static void inject_icmp(struct script *s, uint32_t src, const struct icmp_msg *m)
{
    uint8_t pkt[1600];
    size_t n = icmp_emit(pkt + IPV4_HDR_LEN, sizeof pkt - IPV4_HDR_LEN, m);
    CHECK(n > 0);
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 64, .proto = IPV4_PROTO_ICMP, .src = src,
                          .dst = KEEL_ADDR};
    ipv4_emit(pkt, &ip, n);
    script_inject_raw(s, pkt, IPV4_HDR_LEN + n);
}

/* An ICMP error quoting (RFC 792: IP header and 8 bytes) a segment keel sent
 * to the peer with absolute sequence number seq. */
static void inject_error(struct script *s, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
    uint8_t quote[IPV4_HDR_LEN + 8];
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 63, .proto = IPV4_PROTO_TCP, .src = KEEL_ADDR,
                          .dst = PEER_ADDR, .frag = IPV4_FLAG_DF};
    ipv4_emit(quote, &ip, 1460 + 20); /* the quoted datagram was longer than the quote */
    uint8_t *t = quote + IPV4_HDR_LEN;
    t[0] = (uint8_t)(s->keel_port >> 8);
    t[1] = (uint8_t)s->keel_port;
    t[2] = (uint8_t)(s->peer_port >> 8);
    t[3] = (uint8_t)s->peer_port;
    for (int k = 0; k < 4; k++)
        t[4 + k] = (uint8_t)(seq >> (24 - 8 * k));
    struct icmp_msg m = {.type = type, .code = code, .next_hop_mtu = mtu, .body = quote,
                         .body_len = sizeof quote};
    inject_icmp(s, ROUTER_ADDR, &m);
}

/* RFC 1122 §3.2.2.6: an echo request is answered with an echo reply carrying
 * the same identifier, sequence number and data, from the address it was
 * sent to. */
TEST(echo_request_answered)
{
    struct script s;
    script_init(&s, NULL);
    static const uint8_t payload[] = "keel ping payload";
    struct icmp_msg req = {.type = ICMP_ECHO_REQUEST, .id = 0x1234, .seq = 7, .body = payload,
                           .body_len = sizeof payload};
    inject_icmp(&s, PEER_ADDR, &req);
    script_expect_none(&s);
    CHECK_EQ(script_raw_pending(&s), 1);
    const struct captured_raw *r = script_expect_raw(&s);
    struct ipv4_hdr ip;
    const uint8_t *p;
    size_t plen;
    CHECK_EQ(ipv4_parse(r->pkt, r->len, &ip, &p, &plen), WIRE_OK);
    CHECK_EQ(ip.proto, IPV4_PROTO_ICMP);
    CHECK_EQ_U(ip.src, KEEL_ADDR);
    CHECK_EQ_U(ip.dst, PEER_ADDR);
    struct icmp_msg rep;
    CHECK_EQ(icmp_parse(p, plen, &rep), WIRE_OK); /* checksum verified */
    CHECK_EQ(rep.type, ICMP_ECHO_REPLY);
    CHECK_EQ(rep.code, 0);
    CHECK_EQ(rep.id, 0x1234);
    CHECK_EQ(rep.seq, 7);
    CHECK_EQ(rep.body_len, sizeof payload);
    CHECK_MEM(rep.body, payload, sizeof payload);
    CHECK_EQ(script_counter(&s, KEEL_C_IcmpInEchos), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_IcmpOutEchoReps), 1);
    script_free(&s);
}

/* An echo request with a bad checksum is dropped and counted. */
TEST(echo_request_bad_checksum_dropped)
{
    struct script s;
    script_init(&s, NULL);
    uint8_t pkt[64];
    static const uint8_t payload[] = "abcd";
    struct icmp_msg req = {.type = ICMP_ECHO_REQUEST, .id = 1, .seq = 1, .body = payload,
                           .body_len = sizeof payload};
    size_t n = icmp_emit(pkt + IPV4_HDR_LEN, sizeof pkt - IPV4_HDR_LEN, &req);
    pkt[IPV4_HDR_LEN + 2] ^= 0x55; /* corrupt the checksum */
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 64, .proto = IPV4_PROTO_ICMP, .src = PEER_ADDR,
                          .dst = KEEL_ADDR};
    ipv4_emit(pkt, &ip, n);
    script_inject_raw(&s, pkt, IPV4_HDR_LEN + n);
    CHECK_EQ(script_raw_pending(&s), 0);
    CHECK_EQ(script_counter(&s, KEEL_C_IcmpInErrors), 1);
    script_free(&s);
}

/* RFC 1191 §6: "fragmentation needed" with a next-hop MTU of 1000 quoting
 * the segment in flight: the MSS drops to 960 and the head goes again at
 * once, cut to the new size; new data uses it too. */
TEST(frag_needed_lowers_mss_and_retransmits)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    CHECK_EQ(keel_send(s.st, c, data, 1460, 0), 1460);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1460);
    script_advance(&s, 10 * MS);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 1000, s.keel_isn + 1);
    const struct captured *r = script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 960);
    CHECK_EQ_U(r->at_us, s.now_us);
    CHECK_EQ(script_info(&s, c).snd_mss, 960);
    CHECK_EQ(script_counter(&s, KEEL_C_IcmpInDestUnreachs), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpRetransSegs), 1);
    /* The peer got the 960; the rest goes again (by the retransmission
     * timer); then new data is cut to 960-byte segments. */
    script_send(&s, .flags = A, .seq = 1, .ack = 961);
    script_advance_to(&s, s.now_us + 1 * SEC);
    CHECK(script_pending(&s) > 0);
    while (script_pending(&s))
        script_expect(&s, .flags = P | A, .seq = 961, .ack = 1, .len = 500);
    script_send(&s, .flags = A, .seq = 1, .ack = 1461);
    CHECK_EQ(keel_send(s.st, c, data, 2000, 0), 2000);
    script_expect(&s, .flags = A, .seq = 1461, .ack = 1, .len = 960);
    script_free(&s);
}

/* A "fragmentation needed" that would not lower the MSS changes nothing. */
TEST(frag_needed_with_larger_mtu_ignored)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 1500, s.keel_isn + 1);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).snd_mss, 1460);
    script_free(&s);
}

/* RFC 1122 §4.2.3.9: port unreachable is a hard error; during the handshake
 * it fails the connect with ECONNREFUSED (Linux tcp_v4_err). */
TEST(port_unreachable_fails_connect)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    script_advance(&s, 5 * MS);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, s.keel_isn);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLERR);
    CHECK_EQ(so_error(&s, c), -KEEL_ECONNREFUSED);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpAttemptFails), 1);
    script_expect_none(&s);
    /* No SYN retransmission follows. */
    script_advance(&s, 5 * SEC);
    script_expect_none(&s);
    script_free(&s);
}

/* Host unreachable is a soft error (RFC 1122 §4.2.3.9: it must not abort):
 * the connection keeps retransmitting, and when it times out the error
 * reported is the ICMP one (Linux tcp_write_err: sk_err_soft ?: ETIMEDOUT). */
TEST(soft_error_reported_on_timeout)
{
    struct script s;
    script_init(&s, &(struct keel_config){.retries2 = 2});
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_HOST_UNREACH, 0, s.keel_isn + 1);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(so_error(&s, c), 0); /* not reported while the connection lives */
    script_advance_to(&s, t0 + 300 * MS);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    script_advance_to(&s, t0 + 900 * MS);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    script_advance_to(&s, t0 + 2100 * MS); /* 1.8 s >= 1.4 s: gives up */
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EHOSTUNREACH);
    script_free(&s);
}

/* An ACK shows the path works again: the soft error is forgotten, and a later
 * timeout reports ETIMEDOUT (Linux tcp_ack clears sk_err_soft). */
TEST(soft_error_cleared_by_ack)
{
    struct script s;
    script_init(&s, &(struct keel_config){.retries2 = 2});
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_HOST_UNREACH, 0, s.keel_isn + 1);
    script_advance(&s, 100 * MS);
    script_send(&s, .flags = A, .seq = 1, .ack = 4);
    CHECK_EQ(keel_send(s.st, c, "def", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 4, .ack = 1, .len = 3);
    script_advance_to(&s, s.now_us + 10 * SEC);
    while (script_pending(&s))
        script_expect(&s, .flags = P | A, .seq = 4, .ack = 1, .len = 3);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_ETIMEDOUT);
    script_free(&s);
}

/* RFC 5927 §4.1 (Linux tcp_v4_err): an ICMP error is believed only if the
 * sequence number it quotes lies in [SND.UNA, SND.NXT]: a forged one from
 * outside the window changes nothing. */
TEST(icmp_quoting_seq_outside_window_ignored)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    uint32_t una = s.keel_isn + 1;
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 576, una - 1);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 576, una - 100000);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 576, una + 1001);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, una + 5000);
    script_expect_none(&s);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.state, KEEL_TCP_ESTABLISHED);
    CHECK_EQ(i.snd_mss, 1460);
    CHECK_EQ(so_error(&s, c), 0);
    CHECK_EQ(script_counter(&s, KEEL_C_IcmpInDestUnreachs), 4);
    /* The same error quoting SND.UNA is believed. */
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 576, una);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 536);
    CHECK_EQ(script_info(&s, c).snd_mss, 536);
    script_free(&s);
}

/* In SYN-SENT only the ISS may be quoted: a port unreachable quoting any
 * other number leaves the connect running. */
TEST(port_unreachable_with_wrong_seq_ignored_in_syn_sent)
{
    struct script s;
    script_init(&s, NULL);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, s.keel_isn + 7);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, s.keel_isn - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    CHECK_EQ(so_error(&s, c), 0);
    /* The handshake still completes. */
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* An error for a connection keel does not have is dropped. */
TEST(icmp_for_unknown_connection_ignored)
{
    struct script s;
    script_init(&s, NULL);
    s.keel_port = 33333;
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, 12345);
    script_expect_none(&s);
    CHECK_EQ(script_raw_pending(&s), 0);
    CHECK_EQ(script_counter(&s, KEEL_C_IcmpInDestUnreachs), 1);
    script_free(&s);
}

/* IP_MTU_DISCOVER IP_PMTUDISC_DONT: the path MTU is not followed (Linux
 * tcp_v4_mtu_reduced); IP_PMTUDISC_DO follows it as the default does. */
TEST(frag_needed_ignored_without_path_mtu_discovery)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    int v = KEEL_IP_PMTUDISC_DONT;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_IP, KEEL_IP_MTU_DISCOVER, &v, sizeof v), 0);
    CHECK_EQ(keel_send(s.st, c, data, 1460, 0), 1460);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1460);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 1000, s.keel_isn + 1);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).snd_mss, 1460);

    v = KEEL_IP_PMTUDISC_DO;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_IP, KEEL_IP_MTU_DISCOVER, &v, sizeof v), 0);
    inject_error(&s, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 1000, s.keel_isn + 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 960);
    CHECK_EQ(script_info(&s, c).snd_mss, 960);
    script_free(&s);
}
