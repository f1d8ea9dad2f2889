/* IP-level socket options as Linux has them: IP_TOS sets the TOS byte of
 * the connection's packets (the ECN bits stay TCP's), IP_MTU_DISCOVER
 * decides the DF bit (Linux ip_dont_fragment); both take an int or a single
 * byte, and a listener's settings pass to its connections. IP_FREEBIND
 * allows binding a foreign address. */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define S TCP_FLAG_SYN

#define IP_DF_BIT 0x40 /* in the first byte of the flags/fragment field */

/* The script's device, with the IPv4 header of the last packet noted. */
static struct keel_device_ops recording_ops;
static const struct keel_device_ops *script_ops;
static uint8_t last_tos, last_frag_hi;

static int recording_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                              uint64_t now_us)
{
    last_tos = pkt[1];
    last_frag_hi = pkt[6];
    return script_ops->transmit(dev, pkt, len, now_us);
}

static void record_ip_headers(struct script *s)
{
    script_ops = s->dev.ops;
    recording_ops = *s->dev.ops;
    recording_ops.transmit = recording_transmit;
    s->dev.ops = &recording_ops;
}

static int set_ip(struct script *s, int sock, int name, const void *val, size_t len)
{
    return keel_setsockopt(s->st, sock, KEEL_IPPROTO_IP, name, val, len);
}

static int get_ip_int(struct script *s, int sock, int name)
{
    int v = -1;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, KEEL_IPPROTO_IP, name, &v, &len), 0);
    CHECK_EQ(len, sizeof v);
    return v;
}

static void send_byte(struct script *s, int sock, uint32_t seq)
{
    CHECK_EQ(keel_send(s->st, sock, "x", 1, 0), 1);
    script_expect(s, .flags = P | A, .seq = seq, .ack = 1, .len = 1);
    script_send(s, .flags = A, .seq = 1, .ack = seq + 1);
}

TEST(ip_tos_on_every_packet)
{
    struct script s;
    script_init(&s, NULL);
    record_ip_headers(&s);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    send_byte(&s, c, 1);
    CHECK_EQ(last_tos, 0);
    int tos = 0x10;
    CHECK_EQ(set_ip(&s, c, KEEL_IP_TOS, &tos, sizeof tos), 0);
    send_byte(&s, c, 2);
    CHECK_EQ(last_tos, 0x10);
    CHECK_EQ(get_ip_int(&s, c, KEEL_IP_TOS), 0x10);
    /* One byte is enough (the packetdrill suite passes one); the ECN bits
     * of the value are not the application's to set on a TCP socket. */
    uint8_t byte = 0x2b;
    CHECK_EQ(set_ip(&s, c, KEEL_IP_TOS, &byte, 1), 0);
    send_byte(&s, c, 3);
    CHECK_EQ(last_tos, 0x28);
    uint8_t out = 0;
    size_t len = 1;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_IP, KEEL_IP_TOS, &out, &len), 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(out, 0x28);
    script_free(&s);
}

TEST(ip_mtu_discover_decides_df)
{
    struct script s;
    script_init(&s, NULL);
    record_ip_headers(&s);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(get_ip_int(&s, c, KEEL_IP_MTU_DISCOVER), KEEL_IP_PMTUDISC_WANT);
    send_byte(&s, c, 1);
    CHECK(last_frag_hi & IP_DF_BIT);
    uint8_t dont = KEEL_IP_PMTUDISC_DONT;
    CHECK_EQ(set_ip(&s, c, KEEL_IP_MTU_DISCOVER, &dont, 1), 0);
    send_byte(&s, c, 2);
    CHECK(!(last_frag_hi & IP_DF_BIT));
    int probe = KEEL_IP_PMTUDISC_PROBE;
    CHECK_EQ(set_ip(&s, c, KEEL_IP_MTU_DISCOVER, &probe, sizeof probe), 0);
    send_byte(&s, c, 3);
    CHECK(!(last_frag_hi & IP_DF_BIT));
    int bad = KEEL_IP_PMTUDISC_OMIT + 1;
    CHECK_EQ(set_ip(&s, c, KEEL_IP_MTU_DISCOVER, &bad, sizeof bad), KEEL_EINVAL);
    CHECK_EQ(get_ip_int(&s, c, KEEL_IP_MTU_DISCOVER), KEEL_IP_PMTUDISC_PROBE);
    CHECK_EQ(set_ip(&s, c, 4242, &bad, sizeof bad), KEEL_ENOPROTOOPT);
    script_free(&s);
}

/* A connection takes its listener's IP options (Linux inet_csk_clone_lock
 * copies the inet socket): the SYN-ACK already carries them. */
TEST(ip_options_pass_from_listener)
{
    struct script s;
    script_init(&s, NULL);
    record_ip_headers(&s);
    int l = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {KEEL_ADDR, KEEL_PORT};
    CHECK_EQ(keel_bind(s.st, l, &a), 0);
    int tos = 0x20, dont = KEEL_IP_PMTUDISC_DONT;
    CHECK_EQ(set_ip(&s, l, KEEL_IP_TOS, &tos, sizeof tos), 0);
    CHECK_EQ(set_ip(&s, l, KEEL_IP_MTU_DISCOVER, &dont, sizeof dont), 0);
    CHECK_EQ(keel_listen(s.st, l, 4), 0);
    s.peer_port = PEER_PORT;
    s.keel_port = KEEL_PORT;
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = S | A, .seq = 0, .ack = 1);
    CHECK_EQ(last_tos, 0x20);
    CHECK(!(last_frag_hi & IP_DF_BIT));
    script_free(&s);
}

/* IP_FREEBIND lets bind name an address the stack does not have (Linux
 * inet_bind: EADDRNOTAVAIL without it). */
TEST(ip_freebind_allows_foreign_address)
{
    struct script s;
    script_init(&s, NULL);
    int a = keel_socket(s.st, KEEL_SOCK_STREAM), b = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr foreign = {0xc6336401u /* 198.51.100.1 */, KEEL_PORT};
    CHECK_EQ(keel_bind(s.st, a, &foreign), KEEL_EADDRNOTAVAIL);
    int one = 1;
    CHECK_EQ(set_ip(&s, b, KEEL_IP_FREEBIND, &one, sizeof one), 0);
    CHECK_EQ(get_ip_int(&s, b, KEEL_IP_FREEBIND), 1);
    CHECK_EQ(keel_bind(s.st, b, &foreign), 0);
    struct keel_sockaddr name;
    CHECK_EQ(keel_getsockname(s.st, b, &name), 0);
    CHECK_EQ_U(name.addr, foreign.addr);
    script_free(&s);
}
