/* The TUN backend's packet format, on a SOCK_SEQPACKET socketpair standing in
 * for /dev/net/tun (one virtio_net_hdr and one packet per message): plain
 * packets, TSO packets for the kernel to cut, the kernel's GSO packets whose
 * checksum the device completes, and the loop's read batches. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "keel/keel.h"
#include "link/tun.h"
#include "wire/wire.h"

#define SRC 0xc0000201u
#define DST 0xc0000202u
#define HDR TUN_VNET_HDR_LEN

struct pair {
    struct tun_device t;
    int peer; /* the kernel's end */
};

static void open_pair(struct pair *p, unsigned rx_batch)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    memset(&p->t, 0, sizeof p->t);
    tun_device_init_fd(&p->t, sv[0], 1500, true, rx_batch);
    p->peer = sv[1];
}

static void close_pair(struct pair *p)
{
    close(p->t.fd);
    close(p->peer);
}

static uint16_t le16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* A TCP/IPv4 packet with a timestamp option and payload bytes i * 7. */
static size_t build_tcp(uint8_t *pkt, uint32_t payload)
{
    struct tcp_hdr h = {.sport = 80, .dport = 5000, .seq = 1000, .ack = 9,
                        .flags = TCP_FLAG_ACK | TCP_FLAG_PSH, .wnd = 100};
    h.opts.present = TCP_OPT_TS;
    h.opts.tsval = 5;
    size_t hlen = tcp_hdr_len(&h);
    for (uint32_t i = 0; i < payload; i++)
        pkt[IPV4_HDR_LEN + hlen + i] = (uint8_t)(i * 7);
    tcp_emit(pkt + IPV4_HDR_LEN, hlen + payload, &h, SRC, DST);
    struct ipv4_hdr ip = {.ihl = 5, .id = 40, .ttl = 64, .proto = IPV4_PROTO_TCP, .src = SRC,
                          .dst = DST};
    return ipv4_emit(pkt, &ip, hlen + payload) + hlen + payload;
}

static bool tcp_checksum_ok(const uint8_t *pkt, size_t len)
{
    struct ipv4_hdr ip;
    const uint8_t *tcp, *data;
    size_t tlen, dlen;
    struct tcp_hdr h;
    return ipv4_parse(pkt, len, &ip, &tcp, &tlen) == WIRE_OK &&
           tcp_parse(tcp, tlen, ip.src, ip.dst, true, &h, &data, &dlen) == WIRE_OK;
}

TEST(tun_transmit_prepends_a_zeroed_vnet_header)
{
    struct pair p;
    open_pair(&p, 0);
    uint8_t pkt[200], got[300], zero[HDR] = {0};
    size_t len = build_tcp(pkt, 100);
    CHECK_EQ(p.t.dev.ops->transmit(&p.t.dev, pkt, len, 0), 0);
    CHECK_EQ(read(p.peer, got, sizeof got), (long)(HDR + len));
    CHECK_MEM(got, zero, HDR);
    CHECK_MEM(got + HDR, pkt, len);
    CHECK_EQ_U(p.t.stats.tx_packets, 1);
    close_pair(&p);
}

/* virtio spec 1.2 §5.1.6.2: NEEDS_CSUM with the pseudo-header sum in the
 * checksum field; completing it as the device would gives the true sum. */
TEST(tun_tso_hands_the_kernel_one_packet_and_the_mss)
{
    struct pair p;
    open_pair(&p, 0);
    static uint8_t pkt[9000], got[9100];
    size_t len = build_tcp(pkt, 8000), thl = 32;
    uint16_t full = be16(pkt + IPV4_HDR_LEN + 16);
    CHECK_EQ(p.t.dev.ops->transmit_tso(&p.t.dev, pkt, len, 1448, 0), 0);
    CHECK_EQ(read(p.peer, got, sizeof got), (long)(HDR + len));
    CHECK_EQ(got[0], 1);                       /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
    CHECK_EQ(got[1], 1);                       /* VIRTIO_NET_HDR_GSO_TCPV4 */
    CHECK_EQ(le16(got + 2), IPV4_HDR_LEN + thl); /* hdr_len */
    CHECK_EQ(le16(got + 4), 1448);             /* gso_size */
    CHECK_EQ(le16(got + 6), IPV4_HDR_LEN);     /* csum_start */
    CHECK_EQ(le16(got + 8), 16);               /* csum_offset */
    uint8_t *tcp = got + HDR + IPV4_HDR_LEN;
    CHECK_EQ_U(be16(tcp + 16),
               (uint16_t)~wire_csum_fold(wire_pseudo_sum(SRC, DST, IPV4_PROTO_TCP,
                                                         (uint16_t)(len - IPV4_HDR_LEN))));
    CHECK_EQ_U(wire_csum_fold(wire_csum_add(0, tcp, len - IPV4_HDR_LEN)), full);
    CHECK_MEM(tcp + 18, pkt + IPV4_HDR_LEN + 18, len - IPV4_HDR_LEN - 18);
    CHECK_EQ_U(p.t.stats.tx_tso, 1);
    close_pair(&p);
}

/* The kernel's GSO packet: pseudo-header sum in the field, to be completed. */
static size_t kernel_gso(uint8_t *msg, uint32_t payload, uint8_t gso_type)
{
    size_t len = build_tcp(msg + HDR, payload);
    uint16_t pseudo = (uint16_t)~wire_csum_fold(
        wire_pseudo_sum(SRC, DST, IPV4_PROTO_TCP, (uint16_t)(len - IPV4_HDR_LEN)));
    msg[HDR + IPV4_HDR_LEN + 16] = (uint8_t)(pseudo >> 8);
    msg[HDR + IPV4_HDR_LEN + 17] = (uint8_t)pseudo;
    uint8_t vh[HDR] = {1, gso_type, IPV4_HDR_LEN + 32, 0, 0xa8, 0x05, IPV4_HDR_LEN, 0, 16, 0};
    memcpy(msg, vh, HDR);
    return HDR + len;
}

TEST(tun_receive_completes_the_checksum_of_a_gso_packet)
{
    struct pair p;
    open_pair(&p, 0);
    static uint8_t msg[HDR + 65535], buf[65536];
    size_t n = kernel_gso(msg, 60000, 1);
    CHECK_EQ(write(p.peer, msg, n), (long)n);
    long len = p.t.dev.ops->receive(&p.t.dev, buf, sizeof buf, 0);
    CHECK_EQ(len, (long)(n - HDR));
    CHECK(tcp_checksum_ok(buf, (size_t)len));
    CHECK_EQ_U(p.t.stats.rx_gso, 1);
    CHECK_EQ_U(p.t.stats.rx_csum_done, 1);
    CHECK_EQ(p.t.dev.ops->receive(&p.t.dev, buf, sizeof buf, 0), 0); /* nothing more */
    close_pair(&p);
}

TEST(tun_receive_completes_checksums_of_any_length)
{
    struct pair p;
    open_pair(&p, 0);
    static uint8_t msg[HDR + 9000], buf[65536];
    for (uint32_t payload = 1; payload < 2000; payload += 333) {
        size_t n = kernel_gso(msg, payload, 0); /* NEEDS_CSUM, no GSO */
        CHECK_EQ(write(p.peer, msg, n), (long)n);
        CHECK_EQ(p.t.dev.ops->receive(&p.t.dev, buf, sizeof buf, 0), (long)(n - HDR));
        CHECK(tcp_checksum_ok(buf, n - HDR));
    }
    CHECK_EQ_U(p.t.stats.rx_gso, 0);
    close_pair(&p);
}

TEST(tun_receive_drops_gso_kinds_keel_does_not_take)
{
    struct pair p;
    open_pair(&p, 0);
    static uint8_t msg[HDR + 9000], buf[65536];
    size_t n = kernel_gso(msg, 3000, 4); /* VIRTIO_NET_HDR_GSO_TCPV6 */
    CHECK_EQ(write(p.peer, msg, n), (long)n);
    n = kernel_gso(msg, 3000, 1 | 0x80); /* TCPV4 with ECN: taken */
    CHECK_EQ(write(p.peer, msg, n), (long)n);
    CHECK_EQ(p.t.dev.ops->receive(&p.t.dev, buf, sizeof buf, 0), (long)(n - HDR));
    CHECK(tcp_checksum_ok(buf, n - HDR));
    CHECK_EQ_U(p.t.stats.rx_dropped, 1);
    close_pair(&p);
}

TEST(tun_receive_drops_a_packet_longer_than_the_buffer)
{
    struct pair p;
    open_pair(&p, 0);
    static uint8_t msg[HDR + 9000], buf[1000];
    size_t n = kernel_gso(msg, 3000, 1);
    CHECK_EQ(write(p.peer, msg, n), (long)n);
    CHECK_EQ(p.t.dev.ops->receive(&p.t.dev, buf, sizeof buf, 0), 0);
    CHECK_EQ_U(p.t.stats.rx_dropped, 1);
    close_pair(&p);
}

/* ICMP echo requests to keel, written by the "kernel": each turn of the loop
 * reads at most rx_batch of them, and keel answers each it read. */
static void send_ping(int fd, uint16_t seq)
{
    uint8_t msg[HDR + 64] = {0}, body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct icmp_msg m = {.type = ICMP_ECHO_REQUEST, .id = 7, .seq = seq, .body = body,
                         .body_len = sizeof body};
    size_t n = icmp_emit(msg + HDR + IPV4_HDR_LEN, 40, &m);
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 64, .proto = IPV4_PROTO_ICMP, .src = SRC, .dst = DST};
    ipv4_emit(msg + HDR, &ip, n);
    CHECK_EQ(write(fd, msg, HDR + IPV4_HDR_LEN + n), (long)(HDR + IPV4_HDR_LEN + n));
}

static int replies(int fd)
{
    uint8_t buf[256];
    int n = 0;
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        n++;
    return n;
}

TEST(tun_loop_reads_a_batch_per_turn_and_keel_answers)
{
    struct pair p;
    open_pair(&p, 2);
    struct keel_config cfg = {.addr = DST};
    int err;
    keel_stack *st = keel_stack_new(&cfg, &p.t.dev, tun_now_us(), &err);
    CHECK(st != NULL);
    for (uint16_t i = 0; i < 3; i++)
        send_ping(p.peer, i);
    tun_loop_once(st, &p.t, NULL, 0, 100000);
    CHECK_EQ(replies(p.peer), 2);
    tun_loop_once(st, &p.t, NULL, 0, 100000);
    CHECK_EQ(replies(p.peer), 1);
    uint64_t t0 = tun_now_us();
    tun_loop_once(st, &p.t, NULL, 0, 20000); /* nothing to read: waits */
    CHECK(tun_now_us() - t0 >= 15000);
    CHECK_EQ(replies(p.peer), 0);
    keel_stack_free(st);
    close_pair(&p);
}
