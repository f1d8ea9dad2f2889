#include "link/pcap.h"

#include <string.h>

#include "keel/keel.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define LINKTYPE_RAW 101u
#define PCAP_SNAPLEN 65535u

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* pcap files are in the writer's byte order */
}

static void put_u16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void write_record(struct pcap_device *p, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    uint8_t rec[16];
    put_u32(rec, (uint32_t)(now_us / 1000000));
    put_u32(rec + 4, (uint32_t)(now_us % 1000000));
    put_u32(rec + 8, (uint32_t)len);
    put_u32(rec + 12, (uint32_t)len);
    if (fwrite(rec, sizeof rec, 1, p->out) != 1 || fwrite(pkt, 1, len, p->out) != len) {
        if (!p->error)
            p->error = KEEL_EIO;
        return;
    }
    p->packets++;
}

static int pcap_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    struct pcap_device *p = (struct pcap_device *)dev;
    write_record(p, pkt, len, now_us);
    return p->inner->ops->transmit(p->inner, pkt, len, now_us);
}

/* A large TCP packet is recorded as it left keel, before the device cuts it
 * (as tcpdump on a TSO interface shows it). */
static int pcap_transmit_tso(struct keel_device *dev, const uint8_t *pkt, size_t len,
                             uint16_t mss, uint64_t now_us)
{
    struct pcap_device *p = (struct pcap_device *)dev;
    write_record(p, pkt, len, now_us);
    return p->inner->ops->transmit_tso(p->inner, pkt, len, mss, now_us);
}

static long pcap_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    struct pcap_device *p = (struct pcap_device *)dev;
    long n = p->inner->ops->receive(p->inner, buf, cap, now_us);
    if (n > 0)
        write_record(p, buf, (size_t)n, now_us);
    return n;
}

static uint64_t pcap_next_arrival(const struct keel_device *dev)
{
    const struct pcap_device *p = (const struct pcap_device *)dev;
    if (!p->inner->ops->next_arrival_us)
        return UINT64_MAX;
    return p->inner->ops->next_arrival_us(p->inner);
}

static const struct keel_device_ops pcap_ops = {
    .transmit = pcap_transmit,
    .receive = pcap_receive,
    .next_arrival_us = pcap_next_arrival,
    .transmit_tso = pcap_transmit_tso,
};

int pcap_device_init(struct pcap_device *p, struct keel_device *inner, FILE *out)
{
    uint8_t hdr[24];
    memset(p, 0, sizeof *p);
    p->dev.ops = &pcap_ops;
    p->dev.mtu = inner->mtu;
    p->dev.tso_max = inner->ops->transmit_tso ? inner->tso_max : 0;
    p->inner = inner;
    p->out = out;
    put_u32(hdr, PCAP_MAGIC_US);
    put_u16(hdr + 4, 2);
    put_u16(hdr + 6, 4);
    put_u32(hdr + 8, 0);  /* thiszone */
    put_u32(hdr + 12, 0); /* sigfigs */
    put_u32(hdr + 16, PCAP_SNAPLEN);
    put_u32(hdr + 20, LINKTYPE_RAW);
    if (fwrite(hdr, sizeof hdr, 1, out) != 1)
        return p->error = KEEL_EIO;
    return 0;
}
