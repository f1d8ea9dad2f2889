/* Device middleware that prints every packet crossing a device, one line
 * each, tcpdump style, then passes it on unchanged. */
#ifndef KEEL_LINK_TRACE_H
#define KEEL_LINK_TRACE_H

#include <stdio.h>

#include "keel/device.h"

struct trace_device {
    struct keel_device dev; /* what the stack uses */
    struct keel_device *inner;
    FILE *out;
    const char *name;
};

/* Wraps inner; t must outlive its use. */
void trace_device_init(struct trace_device *t, struct keel_device *inner, FILE *out,
                       const char *name);
/* Formats one IPv4 packet on a line: TCP segments as tcp_format does. */
void trace_format_packet(char *buf, size_t cap, const uint8_t *pkt, size_t len);

#endif
