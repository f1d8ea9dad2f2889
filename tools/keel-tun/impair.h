/* Device middleware that impairs the path between keel and its device, both
 * ways: random loss, delay with jitter, and reordering (a packet held back
 * past the ones behind it). What tc netem would do on the kernel's side, for
 * kernels built without sch_netem; both directions, not only the kernel's
 * egress. Segmentation offload is not passed through, so every segment is
 * impaired on its own. */
#ifndef KEEL_TUN_IMPAIR_H
#define KEEL_TUN_IMPAIR_H

#include <stdint.h>

#include "keel/device.h"

struct impair_config {
    uint32_t loss_ppm, reorder_ppm;
    uint64_t delay_us, jitter_us;
    uint64_t seed;
};

struct impair_pkt;

struct impair_queue {
    struct impair_pkt *head, *tail; /* ordered by release time */
};

struct impair_device {
    struct keel_device dev;    /* what the stack uses */
    struct keel_device *inner;
    struct impair_config cfg;
    uint64_t rng;
    struct impair_queue out, in; /* held packets: keel -> device, device -> keel */
    uint64_t dropped[2], reordered[2]; /* [0]: keel -> device, [1]: device -> keel */
};

/* Parses "loss=PCT,delay=MS,jitter=MS,reorder=PCT" (any subset). Returns 0 or -1. */
int impair_parse(const char *spec, struct impair_config *cfg);
void impair_device_init(struct impair_device *d, struct keel_device *inner,
                        const struct impair_config *cfg);
/* Frees the packets still held. */
void impair_device_free(struct impair_device *d);

#endif
