/* The pcap middleware: file header, one record per packet each way, bytes
 * passed through unchanged. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "keel/keel.h"
#include "link/pcap.h"

struct sink {
    struct keel_device dev;
    uint8_t last[64];
    size_t last_len;
    int pending; /* packets receive() will hand out */
};

static int sink_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct sink *s = (struct sink *)dev;
    (void)now;
    memcpy(s->last, pkt, len);
    s->last_len = len;
    return 0;
}

static long sink_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now)
{
    struct sink *s = (struct sink *)dev;
    (void)cap, (void)now;
    if (!s->pending)
        return 0;
    s->pending--;
    memset(buf, 0x45, 20);
    return 20;
}

static const struct keel_device_ops sink_ops = {.transmit = sink_transmit, .receive = sink_receive};

static uint32_t u32_at(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

TEST(pcap_header_and_records_both_ways)
{
    struct sink s = {.dev = {.ops = &sink_ops, .mtu = 1500}, .pending = 1};
    FILE *f = tmpfile();
    CHECK(f);
    struct pcap_device p;
    CHECK_EQ(pcap_device_init(&p, &s.dev, f), 0);
    CHECK_EQ(p.dev.mtu, 1500);
    uint8_t pkt[28];
    for (int i = 0; i < 28; i++)
        pkt[i] = (uint8_t)i;
    CHECK_EQ(p.dev.ops->transmit(&p.dev, pkt, sizeof pkt, 3000001), 0);
    CHECK_EQ_U(s.last_len, 28);
    CHECK_MEM(s.last, pkt, 28);
    uint8_t in[64];
    CHECK_EQ(p.dev.ops->receive(&p.dev, in, sizeof in, 4500000), 20);
    CHECK_EQ(p.dev.ops->receive(&p.dev, in, sizeof in, 4500000), 0);
    CHECK_EQ_U(p.packets, 2);
    fflush(f);
    rewind(f);
    uint8_t file[256];
    size_t n = fread(file, 1, sizeof file, f);
    CHECK_EQ_U(n, 24 + 16 + 28 + 16 + 20);
    CHECK_EQ_U(u32_at(file), 0xa1b2c3d4u);    /* magic, microsecond timestamps */
    CHECK_EQ(file[4] | file[5] << 8, 2);     /* version 2.4 (little-endian host) */
    CHECK_EQ(file[6] | file[7] << 8, 4);
    CHECK_EQ_U(u32_at(file + 16), 65535);    /* snaplen */
    CHECK_EQ_U(u32_at(file + 20), 101);      /* LINKTYPE_RAW */
    CHECK_EQ_U(u32_at(file + 24), 3);        /* ts seconds */
    CHECK_EQ_U(u32_at(file + 28), 1);        /* ts microseconds */
    CHECK_EQ_U(u32_at(file + 32), 28);       /* captured length */
    CHECK_EQ_U(u32_at(file + 36), 28);       /* original length */
    CHECK_MEM(file + 40, pkt, 28);
    CHECK_EQ_U(u32_at(file + 68), 4);
    CHECK_EQ_U(u32_at(file + 72), 500000);
    CHECK_EQ_U(u32_at(file + 76), 20);
    fclose(f);
}
