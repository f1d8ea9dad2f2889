/* The TUN device backend (linux/if_tun.h, Documentation/networking/tuntap.rst)
 * with a virtio_net_hdr on every packet (virtio spec 1.2 §5.1.6). */
#include "link/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "link/gso.h"
#include "wire/wire.h"

/* struct virtio_net_hdr (linux/virtio_net.h), laid out by hand: the fields
 * are little-endian once TUNSETVNETLE is set (and on little-endian hosts
 * before, as legacy virtio is native-endian). */
#define VNET_F_NEEDS_CSUM 1  /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define VNET_GSO_NONE 0      /* VIRTIO_NET_HDR_GSO_NONE */
#define VNET_GSO_TCPV4 1     /* VIRTIO_NET_HDR_GSO_TCPV4 */
#define VNET_GSO_ECN 0x80    /* VIRTIO_NET_HDR_GSO_ECN */

struct vnet_hdr {
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

#define TCP_CSUM_OFFSET 16 /* RFC 9293 §3.1: the checksum's place in the TCP header */

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void vnet_encode(uint8_t out[TUN_VNET_HDR_LEN], const struct vnet_hdr *h)
{
    out[0] = h->flags;
    out[1] = h->gso_type;
    put_le16(out + 2, h->hdr_len);
    put_le16(out + 4, h->gso_size);
    put_le16(out + 6, h->csum_start);
    put_le16(out + 8, h->csum_offset);
}

static void vnet_decode(const uint8_t in[TUN_VNET_HDR_LEN], struct vnet_hdr *h)
{
    h->flags = in[0];
    h->gso_type = in[1];
    h->hdr_len = get_le16(in + 2);
    h->gso_size = get_le16(in + 4);
    h->csum_start = get_le16(in + 6);
    h->csum_offset = get_le16(in + 8);
}

/* ---- transmit ---- */

static int write_iov(struct tun_device *t, const struct iovec *iov, int n, size_t len)
{
    ssize_t w = writev(t->fd, iov, n);
    if (w < 0) {
        t->stats.tx_errors++;
        return errno == EAGAIN ? KEEL_EAGAIN : errno == EINVAL ? KEEL_EINVAL : KEEL_EIO;
    }
    t->stats.tx_packets++;
    t->stats.tx_bytes += len;
    return 0;
}

/* A plain packet: a zeroed header (no GSO, checksums complete). */
static int tun_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    struct tun_device *t = (struct tun_device *)dev;
    uint8_t hdr[TUN_VNET_HDR_LEN] = {0};
    struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)pkt, len}};
    return write_iov(t, iov, 2, len);
}

static int emit_segment(void *arg, const uint8_t *seg, size_t len)
{
    return tun_transmit(arg, seg, len, 0);
}

/* The headers of a TSO packet with the TCP checksum field holding the
 * pseudo-header sum over the whole TCP length, uncomplemented, as
 * NEEDS_CSUM requires (virtio spec 1.2 §5.1.6.2: the device sums from
 * csum_start to the end and stores the result at csum_start + csum_offset;
 * Linux's tcp_gso_segment then adjusts the length per segment). */
static size_t tso_headers(const uint8_t *pkt, size_t len, uint8_t *hdrs, size_t *ihl_out)
{
    struct ipv4_hdr ip;
    const uint8_t *tcp;
    size_t tcp_len;
    if (ipv4_parse(pkt, len, &ip, &tcp, &tcp_len) != WIRE_OK || ip.proto != IPV4_PROTO_TCP ||
        tcp_len < TCP_HDR_LEN)
        return 0;
    size_t ihl = (size_t)ip.ihl * 4, thl = (size_t)(tcp[12] >> 4) * 4;
    if (thl < TCP_HDR_LEN || thl > tcp_len)
        return 0;
    memcpy(hdrs, pkt, ihl + thl);
    uint16_t pseudo = (uint16_t)~wire_csum_fold(
        wire_pseudo_sum(ip.src, ip.dst, IPV4_PROTO_TCP, (uint16_t)tcp_len));
    hdrs[ihl + TCP_CSUM_OFFSET] = (uint8_t)(pseudo >> 8);
    hdrs[ihl + TCP_CSUM_OFFSET + 1] = (uint8_t)pseudo;
    *ihl_out = ihl;
    return ihl + thl;
}

static int sw_segment(struct tun_device *t, const uint8_t *pkt, size_t len, uint16_t mss)
{
    t->stats.tx_sw_segmented++;
    int rc = gso_segment(pkt, len, mss, emit_segment, t);
    return rc == -1 ? KEEL_EINVAL : rc;
}

/* One large TCP packet for the kernel to cut (virtio_net_hdr_to_skb). If the
 * kernel refuses it, keel's TSO stops here and segments go out one by one. */
static int tun_transmit_tso(struct keel_device *dev, const uint8_t *pkt, size_t len, uint16_t mss,
                            uint64_t now_us)
{
    struct tun_device *t = (struct tun_device *)dev;
    uint8_t hdrs[60 + TCP_MAX_HDR_LEN], vh[TUN_VNET_HDR_LEN];
    size_t ihl = 0, hl = t->dev.tso_max ? tso_headers(pkt, len, hdrs, &ihl) : 0;
    if (!hl)
        return sw_segment(t, pkt, len, mss);
    struct vnet_hdr h = {VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, (uint16_t)hl, mss, (uint16_t)ihl,
                         TCP_CSUM_OFFSET};
    vnet_encode(vh, &h);
    struct iovec iov[3] = {{vh, sizeof vh}, {hdrs, hl}, {(void *)(pkt + hl), len - hl}};
    int rc = write_iov(t, iov, 3, len);
    if (rc == KEEL_EINVAL) {
        t->dev.tso_max = 0;
        return sw_segment(t, pkt, len, mss);
    }
    if (!rc)
        t->stats.tx_tso++;
    return rc;
}

/* ---- receive ---- */

/* The Internet checksum's sum over p[0..len), folded to 16 bits, as
 * wire_csum_add would give it but 4 bytes at a time: RFC 1071 §2(B), the sum
 * does not depend on byte order, so native-order words are added in a wide
 * accumulator and the folded result is swapped once on little-endian hosts. */
static uint16_t sum16(const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        acc += w;
    }
    for (; i + 2 <= len; i += 2) {
        uint16_t w;
        memcpy(&w, p + i, 2);
        acc += w;
    }
    if (i < len) {
        const uint8_t pad[2] = {p[i], 0};
        uint16_t w;
        memcpy(&w, pad, 2);
        acc += w;
    }
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    const uint16_t probe = 1;
    uint16_t v = (uint16_t)acc;
    return *(const uint8_t *)&probe ? (uint16_t)(v << 8 | v >> 8) : v;
}

/* NEEDS_CSUM: the checksum field holds the pseudo-header sum; the device sums
 * from csum_start to the end and stores the complement at csum_start +
 * csum_offset (virtio spec 1.2 §5.1.6.2). */
static bool complete_csum(uint8_t *pkt, size_t len, const struct vnet_hdr *h)
{
    size_t at = (size_t)h->csum_start + h->csum_offset;
    if (h->csum_start >= len || at + 2 > len)
        return false;
    uint16_t c = wire_csum_fold(sum16(pkt + h->csum_start, len - h->csum_start));
    pkt[at] = (uint8_t)(c >> 8);
    pkt[at + 1] = (uint8_t)c;
    return true;
}

/* A GSO packet goes to keel whole: only TCP over IPv4 is offered
 * (TUN_F_TSO4), and it must be one IPv4 packet (total length <= 65535). */
static bool take_packet(struct tun_device *t, uint8_t *pkt, size_t len, const struct vnet_hdr *h)
{
    uint8_t kind = h->gso_type & (uint8_t)~VNET_GSO_ECN;
    if (kind != VNET_GSO_NONE && (kind != VNET_GSO_TCPV4 || len > 65535))
        return false;
    if ((h->flags & VNET_F_NEEDS_CSUM) && !complete_csum(pkt, len, h))
        return false;
    if (h->flags & VNET_F_NEEDS_CSUM)
        t->stats.rx_csum_done++;
    if (kind != VNET_GSO_NONE)
        t->stats.rx_gso++;
    return true;
}

static long tun_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    struct tun_device *t = (struct tun_device *)dev;
    uint8_t vh[TUN_VNET_HDR_LEN], spill[64];
    if (t->rx_batch && !t->rx_left)
        return 0; /* this turn's batch is done: the application goes next */
    for (;;) {
        struct iovec iov[3] = {{vh, sizeof vh}, {buf, cap}, {spill, sizeof spill}};
        ssize_t n = readv(t->fd, iov, 3);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : KEEL_EIO;
        if ((size_t)n < sizeof vh)
            return KEEL_EIO;
        size_t len = (size_t)n - sizeof vh;
        struct vnet_hdr h;
        vnet_decode(vh, &h);
        if (len > cap || !take_packet(t, buf, len, &h)) {
            t->stats.rx_dropped++;
            continue;
        }
        t->stats.rx_packets++;
        t->stats.rx_bytes += len;
        if (t->rx_batch)
            t->rx_left--;
        return (long)len;
    }
}

static const struct keel_device_ops tun_ops = {
    .transmit = tun_transmit,
    .receive = tun_receive,
    .next_arrival_us = NULL, /* a real device: poll its descriptor */
    .transmit_tso = tun_transmit_tso,
};

/* ---- creation ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, const char *what)
{
    snprintf(err, errlen, fmt, what, strerror(errno));
    return code;
}

static int open_error(char *err, size_t errlen)
{
    if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
        return fail(err, errlen, KEEL_ENOENT,
                    "%s: %s (the kernel needs CONFIG_TUN and the node 10,200)", "/dev/net/tun");
    if (errno == EACCES || errno == EPERM)
        return fail(err, errlen, KEEL_EPERM,
                    "%s: %s (creating a TUN device needs root or CAP_NET_ADMIN)", "/dev/net/tun");
    return fail(err, errlen, KEEL_EIO, "%s: %s", "/dev/net/tun");
}

/* TUNSETIFF creates the interface (linux/if_tun.h). */
static int set_iff(struct tun_device *t, const struct tun_options *o, char *err, size_t errlen)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    if (o->name && o->name[0])
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o->name);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int code = errno == EPERM || errno == EACCES ? KEEL_EPERM
                   : errno == EBUSY                  ? KEEL_EADDRINUSE
                                                     : KEEL_EIO;
        return fail(err, errlen, code, "TUNSETIFF %s: %s (root or CAP_NET_ADMIN is needed; "
                    "the name must be free)", o->name && o->name[0] ? o->name : "tun%d");
    }
    snprintf(t->name, sizeof t->name, "%s", ifr.ifr_name);
    return 0;
}

/* The header's size and byte order, and the offloads the kernel may use
 * when it sends to us (TUNSETOFFLOAD: TSO4 requires CSUM). */
static int set_vnet(struct tun_device *t, const struct tun_options *o, char *err, size_t errlen)
{
    int sz = TUN_VNET_HDR_LEN, le = 1;
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0)
        return fail(err, errlen, KEEL_EIO, "%s: %s", "TUNSETVNETHDRSZ");
    const uint16_t probe = 1;
    if (ioctl(t->fd, TUNSETVNETLE, &le) < 0 && *(const uint8_t *)&probe != 1)
        return fail(err, errlen, KEEL_EIO, "%s: %s (big-endian host)", "TUNSETVNETLE");
    unsigned off = o->no_rx_offload ? 0 : TUN_F_CSUM | TUN_F_TSO4;
    if (ioctl(t->fd, TUNSETOFFLOAD, off) < 0) {
        if (!off)
            return fail(err, errlen, KEEL_EIO, "%s: %s", "TUNSETOFFLOAD");
        off = 0; /* the kernel will checksum and segment for us instead */
        ioctl(t->fd, TUNSETOFFLOAD, off);
    }
    t->rx_offload = off != 0;
    return 0;
}

int tun_open(struct tun_device *t, const struct tun_options *o, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    uint32_t mtu = o->mtu ? o->mtu : 1500;
    if (mtu < 68 || mtu > 65535) {
        snprintf(err, errlen, "MTU %u out of range (68..65535)", mtu);
        return KEEL_EINVAL;
    }
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0)
        return open_error(err, errlen);
    int rc = set_iff(t, o, err, errlen);
    if (!rc)
        rc = set_vnet(t, o, err, errlen);
    if (rc) {
        tun_close(t);
        return rc;
    }
    tun_device_init_fd(t, t->fd, mtu, !o->no_tso, o->rx_batch);
    return 0;
}

void tun_device_init_fd(struct tun_device *t, int fd, uint32_t mtu, bool tso, unsigned rx_batch)
{
    t->fd = fd;
    t->dev.ops = &tun_ops;
    t->dev.mtu = mtu;
    t->dev.tso_max = tso ? 65535 - 60 - TCP_MAX_HDR_LEN : 0;
    t->rx_batch = t->rx_left = rx_batch;
    memset(&t->stats, 0, sizeof t->stats);
}

void tun_close(struct tun_device *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

/* ---- the loop ---- */

uint64_t tun_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timespec wait_until(uint64_t deadline, uint64_t now, uint64_t max_wait_us)
{
    uint64_t wait = deadline > now ? deadline - now : 0;
    if (wait > max_wait_us)
        wait = max_wait_us;
    struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000};
    return ts;
}

uint64_t tun_loop_once(keel_stack *st, struct tun_device *t, struct pollfd *extra,
                       unsigned n_extra, uint64_t max_wait_us)
{
    struct pollfd pfd[1 + 8];
    unsigned n = n_extra > 8 ? 8 : n_extra;
    pfd[0] = (struct pollfd){.fd = t->fd, .events = POLLIN};
    for (unsigned i = 0; i < n; i++)
        pfd[1 + i] = extra[i];
    struct timespec ts = wait_until(keel_next_deadline(st), tun_now_us(), max_wait_us);
    if (ppoll(pfd, 1 + n, &ts, NULL) < 0)
        for (unsigned i = 0; i < n; i++)
            pfd[1 + i].revents = 0; /* EINTR: a signal; the caller looks at its flags */
    for (unsigned i = 0; i < n; i++)
        extra[i].revents = pfd[1 + i].revents;
    uint64_t now = tun_now_us();
    t->rx_left = t->rx_batch;
    keel_poll(st, now);
    return now;
}
