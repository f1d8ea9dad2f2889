/* libFuzzer target: a stateful peer. The input is a program: each step either
 * advances virtual time, makes a socket call, or injects a TCP segment (flags,
 * sequence and acknowledgment numbers near the connection's, window, options,
 * payload) towards a stack that has a listener and an active connection.
 * keel must never crash, hang, trip an invariant or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/keel.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEL_ADDR 0xc0000201u
#define PEER_ADDR 0xc0000202u

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct reader *r, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v <<= 8;
        if (r->n) {
            v |= *r->p++;
            r->n--;
        }
    }
    return v;
}

struct fuzz_dev {
    struct keel_device dev;
    uint32_t last_seq, last_ack; /* from keel's last segment: steer near them */
    uint16_t last_sport;
};

static int dev_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct fuzz_dev *f = (struct fuzz_dev *)dev;
    struct ipv4_hdr ip;
    const uint8_t *p;
    size_t pl;
    struct tcp_hdr h;
    (void)now;
    if (ipv4_parse(pkt, len, &ip, &p, &pl) == WIRE_OK && ip.proto == IPV4_PROTO_TCP &&
        tcp_parse(p, pl, ip.src, ip.dst, true, &h, NULL, NULL) == WIRE_OK) {
        f->last_seq = h.seq;
        f->last_ack = h.ack;
        f->last_sport = h.sport;
    } else {
        abort(); /* keel never emits a malformed packet */
    }
    return 0;
}

static long dev_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now)
{
    (void)dev, (void)buf, (void)cap, (void)now;
    return 0;
}

static const struct keel_device_ops ops = {.transmit = dev_transmit, .receive = dev_receive};

static void inject(keel_stack *st, struct fuzz_dev *f, struct reader *r, uint64_t now)
{
    uint8_t pkt[IPV4_HDR_LEN + TCP_MAX_HDR_LEN + 512];
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    uint8_t sel = (uint8_t)take(r, 1);
    h.sport = (sel & 1) ? 40000 : 40001;
    h.dport = (sel & 2) ? 8080 : f->last_sport;
    h.seq = (sel & 4) ? f->last_ack + (int16_t)take(r, 2) : take(r, 4);
    h.ack = (sel & 8) ? f->last_seq + (int16_t)take(r, 2) : take(r, 4);
    h.flags = (uint8_t)take(r, 1);
    h.wnd = (uint16_t)take(r, 2);
    h.opts.present = (uint8_t)take(r, 1) & 0x1f;
    h.opts.mss = (uint16_t)take(r, 2);
    h.opts.wscale = (uint8_t)(take(r, 1) % 15);
    h.opts.tsval = take(r, 4);
    h.opts.tsecr = take(r, 4);
    h.opts.sack_count = (uint8_t)(take(r, 1) % 4);
    for (int i = 0; i < h.opts.sack_count; i++) {
        h.opts.sack[i].left = h.ack + (int16_t)take(r, 2);
        h.opts.sack[i].right = h.opts.sack[i].left + take(r, 2);
    }
    size_t len = take(r, 2) % 512;
    size_t hlen = tcp_hdr_len(&h);
    memset(pkt + IPV4_HDR_LEN + hlen, 'x', len);
    tcp_emit(pkt + IPV4_HDR_LEN, hlen + len, &h, PEER_ADDR, KEEL_ADDR);
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 64, .proto = IPV4_PROTO_TCP, .src = PEER_ADDR,
                          .dst = KEEL_ADDR};
    size_t n = ipv4_emit(pkt, &ip, hlen + len) + hlen + len;
    keel_input(st, pkt, n, now);
}

static void socket_call(keel_stack *st, int *socks, struct reader *r)
{
    uint8_t op = (uint8_t)take(r, 1);
    int s = socks[op & 3];
    char buf[4096];
    memset(buf, 'y', sizeof buf);
    switch ((op >> 2) % 6) {
    case 0: {
        /* The length's two top bits pick MSG_MORE and MSG_EOR. */
        uint32_t n = take(r, 2);
        int flags = (n & 0x8000 ? KEEL_MSG_MORE : 0) | (n & 0x4000 ? KEEL_MSG_EOR : 0);
        keel_send(st, s, buf, n % sizeof buf, flags);
        break;
    }
    case 1: keel_recv(st, s, buf, take(r, 2) % sizeof buf, 0); break;
    case 2: keel_shutdown(st, s, (int)(take(r, 1) % 3)); break;
    case 3: {
        int a = keel_accept(st, socks[0], NULL);
        if (a >= 0)
            socks[2 + (take(r, 1) & 1)] = a;
        break;
    }
    case 4: {
        struct keel_event ev[8];
        keel_take_events(st, ev, 8);
        break;
    }
    default: {
        struct keel_tcp_info info;
        keel_tcp_info(st, s, &info);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_dev f = {.dev = {.ops = &ops, .mtu = 1500}};
    struct keel_config cfg = {.addr = KEEL_ADDR, .seed = 1, .max_sockets = 64};
    uint64_t now = 1000000;
    int err;
    keel_stack *st = keel_stack_new(&cfg, &f.dev, now, &err);
    if (!st)
        return 0;
    int socks[4] = {keel_socket(st, KEEL_SOCK_STREAM), keel_socket(st, KEEL_SOCK_STREAM), -1, -1};
    struct keel_sockaddr any = {0, 8080}, peer = {PEER_ADDR, 40000};
    keel_bind(st, socks[0], &any);
    keel_listen(st, socks[0], 4);
    keel_connect(st, socks[1], &peer);
    struct reader r = {data, size};
    while (r.n) {
        uint8_t step = (uint8_t)take(&r, 1);
        if (step < 96)
            inject(st, &f, &r, now);
        else if (step < 160)
            socket_call(st, socks, &r);
        else {
            now += (uint64_t)take(&r, 2) << (step & 15);
            keel_poll(st, now);
        }
    }
    keel_stack_free(st);
    return 0;
}
