/* A simulated world: stacks joined by simulated links, all in one virtual
 * clock. Applications run between steps, driven by each stack's events. */
#ifndef KEEL_SIM_WORLD_H
#define KEEL_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/keel.h"
#include "link/pcap.h"
#include "link/trace.h"
#include "sim/link.h"
#include <stdio.h>

#define WORLD_MAX_HOSTS 16
#define WORLD_MAX_LINKS 16

struct sim_world {
    uint64_t now_us;
    uint64_t seed;
    int nhosts, nlinks;
    keel_stack *host[WORLD_MAX_HOSTS];
    struct sim_link *link[WORLD_MAX_LINKS];
    FILE *trace; /* every packet of every host, when set (env KEEL_TRACE) */
    struct trace_device tracers[WORLD_MAX_HOSTS];
    FILE *pcap;  /* when set before the first host is added: its packets, as pcap */
    struct pcap_device pcap_dev;
};

/* Virtual time starts at 1 s (0 would hide "unset" timestamps). */
void world_init(struct sim_world *w, uint64_t seed);
/* Frees every host and link. */
void world_free(struct sim_world *w);
/* A link with the given impairments, seeded from the world's seed. */
struct sim_link *world_add_link(struct sim_world *w, const struct sim_link_config *cfg);
/* A stack on end `end` of link, with cfg (its seed is derived from the
 * world's unless cfg->seed is set). Returns NULL on error. */
keel_stack *world_add_host(struct sim_world *w, const struct keel_config *cfg,
                           struct sim_link *link, int end);
/* The earliest time any host has work: a timer or an arriving packet. */
uint64_t world_next_event(const struct sim_world *w);
/* Advances to the next event no later than limit_us and processes it (or
 * to limit_us if nothing happens before). Returns false when time reached
 * limit_us with nothing left to do before it. */
bool world_step(struct sim_world *w, uint64_t limit_us);

#endif
