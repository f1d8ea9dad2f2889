/* Device middleware that writes every packet crossing a device, both ways, to
 * a classic pcap file (LINKTYPE_RAW: packets start with the IPv4 header), as
 * tcpdump, tshark and Wireshark read it. Timestamps are the stack's clock. */
#ifndef KEEL_LINK_PCAP_H
#define KEEL_LINK_PCAP_H

#include <stdio.h>

#include "keel/device.h"

struct pcap_device {
    struct keel_device dev; /* what the stack uses */
    struct keel_device *inner;
    FILE *out;
    uint64_t packets;
    int error;              /* first write error (negative keel_err), 0 if none */
};

/* Wraps inner and writes the pcap file header to out (which the caller opens
 * and closes). Returns 0, or a negative keel_err if the header could
 * not be written (the write error is kept in p->error too). */
int pcap_device_init(struct pcap_device *p, struct keel_device *inner, FILE *out);

#endif
