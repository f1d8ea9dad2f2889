/* A simulated point-to-point link between two devices (ends 0 and 1), in
 * virtual time, seeded. Each direction applies, in order: MTU check, random
 * and burst loss, the bandwidth limit with a bounded queue (tail drop),
 * propagation delay with jitter, reordering, duplication and corruption.
 * Packets are delivered by receive() once their arrival time has come. */
#ifndef KEEL_SIM_LINK_H
#define KEEL_SIM_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/device.h"

struct sim_link_config {
    uint64_t delay_us;        /* one-way propagation delay */
    uint64_t jitter_us;       /* extra delay, uniform in [0, jitter_us]; never reorders */
    /* Delay spikes: with probability spike_ppm a packet is held spike_us
     * longer, and the packets behind it wait for it (a link that stalls,
     * as a radio link retransmitting or handing over does). 0: off. */
    uint32_t spike_ppm;
    uint64_t spike_us;
    uint32_t loss_ppm;        /* independent loss, parts per million */
    /* Burst loss, a Gilbert-Elliott chain: a packet in the good state enters the
     * bad state with probability burst_enter_ppm; in the bad state every packet
     * is lost and the chain leaves it with probability burst_exit_ppm. 0: off. */
    uint32_t burst_enter_ppm;
    uint32_t burst_exit_ppm;
    /* Reordering: with this probability a packet is held back and delivered
     * right after the next packet in the same direction (an adjacent swap), or
     * after reorder_hold_us if no packet follows. */
    uint32_t reorder_ppm;
    uint64_t reorder_hold_us; /* 0: 2 * delay_us + 1 ms */
    uint32_t dup_ppm;         /* a second copy, delivered just after the first */
    uint32_t corrupt_ppm;     /* one random bit flipped somewhere in the packet */
    uint64_t rate_bps;        /* serialization rate; 0: unlimited */
    uint32_t queue_bytes;     /* bottleneck queue; 0: 1 MiB (only with rate_bps) */
    /* ECN marking (RFC 3168 §5) at the bottleneck: an ECN-capable packet that
     * finds more than this many bytes queued is marked CE. 0: never. */
    uint32_t ce_mark_bytes;
    uint32_t mtu;             /* larger packets are dropped; 0: 1500 */
    bool tso;                 /* the ends offer segmentation offload (cut in software) */
};

struct sim_link_stats {
    uint64_t sent, delivered, bytes_delivered;
    uint64_t lost_random, lost_burst, dropped_queue, dropped_mtu;
    uint64_t reordered, duplicated, corrupted;
    uint64_t ce_marked;
    uint64_t dropped_rx_too_big; /* longer than the receive() buffer */
};

struct sim_link;

/* Returns NULL when out of memory. The config is copied. */
struct sim_link *sim_link_new(const struct sim_link_config *cfg, uint64_t seed);
void sim_link_free(struct sim_link *l);
/* The device of end 0 or 1: what it transmits travels to the other end. */
struct keel_device *sim_link_device(struct sim_link *l, int end);
/* Replaces the impairments from now on (packets in flight keep their fate). */
void sim_link_set_config(struct sim_link *l, const struct sim_link_config *cfg);
/* Statistics of the direction that starts at end `from`. */
const struct sim_link_stats *sim_link_stats(const struct sim_link *l, int from);

#endif
