/* The simulated world's event loop. */
#include "sim/world.h"

#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "link/trace.h"

void world_init(struct sim_world *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->now_us = 1000000;
    if (getenv("KEEL_TRACE"))
        w->trace = stderr;
}

void world_free(struct sim_world *w)
{
    for (int i = 0; i < w->nhosts; i++)
        keel_stack_free(w->host[i]);
    for (int i = 0; i < w->nlinks; i++)
        sim_link_free(w->link[i]);
    w->nhosts = w->nlinks = 0;
}

struct sim_link *world_add_link(struct sim_world *w, const struct sim_link_config *cfg)
{
    if (w->nlinks == WORLD_MAX_LINKS)
        return NULL;
    struct sim_link *l = sim_link_new(cfg, rng_mix64(w->seed ^ (0x1f00u + (unsigned)w->nlinks)));
    if (l)
        w->link[w->nlinks++] = l;
    return l;
}

keel_stack *world_add_host(struct sim_world *w, const struct keel_config *cfg,
                           struct sim_link *link, int end)
{
    if (w->nhosts == WORLD_MAX_HOSTS)
        return NULL;
    struct keel_config c = *cfg;
    if (!c.seed)
        c.seed = rng_mix64(w->seed ^ (0x2f00u + (unsigned)w->nhosts));
    int err;
    struct keel_device *dev = sim_link_device(link, end);
    if (w->pcap && w->nhosts == 0 && pcap_device_init(&w->pcap_dev, dev, w->pcap) == 0)
        dev = &w->pcap_dev.dev;
    if (w->trace) {
        struct trace_device *t = &w->tracers[w->nhosts];
        trace_device_init(t, dev, w->trace, w->nhosts ? "B" : "A");
        dev = &t->dev;
    }
    keel_stack *st = keel_stack_new(&c, dev, w->now_us, &err);
    if (st)
        w->host[w->nhosts++] = st;
    return st;
}

uint64_t world_next_event(const struct sim_world *w)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < w->nhosts; i++) {
        uint64_t t = keel_next_deadline(w->host[i]);
        if (t < next)
            next = t;
    }
    for (int i = 0; i < w->nlinks; i++) {
        for (int end = 0; end < 2; end++) {
            const struct keel_device *d = sim_link_device(w->link[i], end);
            uint64_t t = d->ops->next_arrival_us(d);
            if (t < next)
                next = t;
        }
    }
    return next;
}

bool world_step(struct sim_world *w, uint64_t limit_us)
{
    uint64_t next = world_next_event(w);
    if (next > limit_us) {
        if (limit_us > w->now_us)
            w->now_us = limit_us;
        for (int i = 0; i < w->nhosts; i++)
            keel_poll(w->host[i], w->now_us);
        return false;
    }
    if (next > w->now_us)
        w->now_us = next;
    for (int i = 0; i < w->nhosts; i++)
        keel_poll(w->host[i], w->now_us);
    return true;
}
