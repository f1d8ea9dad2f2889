#include "link/trace.h"

#include <inttypes.h>

#include "wire/wire.h"

void trace_format_packet(char *buf, size_t cap, const uint8_t *pkt, size_t len)
{
    struct ipv4_hdr ip;
    const uint8_t *p;
    size_t plen;
    enum wire_result r = ipv4_parse(pkt, len, &ip, &p, &plen);
    if (r != WIRE_OK) {
        snprintf(buf, cap, "IPv4 rejected: %s (%zu bytes)", wire_result_name(r), len);
        return;
    }
    if (ip.proto != IPV4_PROTO_TCP) {
        snprintf(buf, cap, "IPv4 proto %u, %zu bytes", ip.proto, plen);
        return;
    }
    struct tcp_hdr h;
    const uint8_t *data;
    size_t dlen;
    r = tcp_parse(p, plen, ip.src, ip.dst, true, &h, &data, &dlen);
    if (r != WIRE_OK) {
        snprintf(buf, cap, "TCP rejected: %s", wire_result_name(r));
        return;
    }
    tcp_format(buf, cap, ip.src, ip.dst, &h, dlen);
}

static void trace(struct trace_device *t, const char *dir, const uint8_t *pkt, size_t len,
                  uint64_t now_us)
{
    char line[512];
    trace_format_packet(line, sizeof line, pkt, len);
    fprintf(t->out, "%" PRIu64 ".%06" PRIu64 " %s %s %s\n", now_us / 1000000,
            now_us % 1000000, t->name, dir, line);
}

static int trace_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                          uint64_t now_us)
{
    struct trace_device *t = (struct trace_device *)dev;
    trace(t, "out", pkt, len, now_us);
    return t->inner->ops->transmit(t->inner, pkt, len, now_us);
}

/* A large TCP packet is printed as it left keel, before the device cuts it. */
static int trace_transmit_tso(struct keel_device *dev, const uint8_t *pkt, size_t len,
                              uint16_t mss, uint64_t now_us)
{
    struct trace_device *t = (struct trace_device *)dev;
    trace(t, "out", pkt, len, now_us);
    return t->inner->ops->transmit_tso(t->inner, pkt, len, mss, now_us);
}

static long trace_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    struct trace_device *t = (struct trace_device *)dev;
    long n = t->inner->ops->receive(t->inner, buf, cap, now_us);
    if (n > 0)
        trace(t, "in ", buf, (size_t)n, now_us);
    return n;
}

static uint64_t trace_next_arrival(const struct keel_device *dev)
{
    const struct trace_device *t = (const struct trace_device *)dev;
    if (!t->inner->ops->next_arrival_us)
        return UINT64_MAX;
    return t->inner->ops->next_arrival_us(t->inner);
}

static const struct keel_device_ops trace_ops = {
    .transmit = trace_transmit,
    .receive = trace_receive,
    .next_arrival_us = trace_next_arrival,
    .transmit_tso = trace_transmit_tso,
};

void trace_device_init(struct trace_device *t, struct keel_device *inner, FILE *out,
                       const char *name)
{
    t->dev.ops = &trace_ops;
    t->dev.mtu = inner->mtu;
    t->dev.tso_max = inner->ops->transmit_tso ? inner->tso_max : 0;
    t->inner = inner;
    t->out = out;
    t->name = name;
}
