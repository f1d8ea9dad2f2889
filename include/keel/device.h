/* Devices: where a stack's IPv4 packets leave and arrive. A device is a small
 * vtable; the simulator's links, a TUN device and middleware that wraps another
 * device (a pcap writer, a tracer) all present this one interface. */
#ifndef KEEL_DEVICE_H
#define KEEL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

struct keel_device;

struct keel_device_ops {
    /* Sends one IPv4 packet of len bytes (len <= dev->mtu). The device copies
     * what it keeps; pkt belongs to the caller. Returns 0, or a negative
     * keel_err when the packet was not sent: KEEL_ENOBUFS when the device
     * refused it for local congestion (a full queue, Linux's NET_XMIT_DROP),
     * so that TCP treats it as never sent and tries again later; any other
     * error counts as a packet lost on the way. */
    int (*transmit)(struct keel_device *dev, const uint8_t *pkt, size_t len,
                    uint64_t now_us);
    /* Copies the next packet that has arrived by now_us into buf. Returns its
     * length, 0 when none is waiting, or a negative keel_err. A packet longer
     * than cap is dropped and counted by the device. */
    long (*receive)(struct keel_device *dev, uint8_t *buf, size_t cap,
                    uint64_t now_us);
    /* Virtual-time devices: when the next packet will be ready for receive,
     * or UINT64_MAX if none is in flight. NULL for real devices (poll their
     * descriptor instead). */
    uint64_t (*next_arrival_us)(const struct keel_device *dev);
    /* Segmentation offload (devices with tso_max > 0 only): sends one
     * TCP/IPv4 packet of up to IPv4 length 65535 whose payload is larger
     * than mss; the device cuts it into segments of mss payload bytes as
     * Linux GSO does (src/link/gso.c does it in software). Same ownership
     * and return values as transmit. */
    int (*transmit_tso)(struct keel_device *dev, const uint8_t *pkt, size_t len, uint16_t mss,
                        uint64_t now_us);
};

struct keel_device {
    const struct keel_device_ops *ops;
    uint32_t mtu;     /* largest IPv4 packet on the wire, header included */
    uint32_t tso_max; /* largest TCP payload transmit_tso takes; 0: no offload */
};

#endif
