/* A simulated point-to-point link in virtual time.
 *
 * Each direction (named by the end it starts from) runs every transmitted
 * packet through these stages, in this order; a packet dropped by one stage
 * never reaches the later ones (and draws no further random numbers):
 *
 *  1. MTU: len > mtu is dropped (dropped_mtu). The MTU is capped at 65535.
 *  2. Random loss with probability loss_ppm (lost_random).
 *  3. Burst loss, a Gilbert-Elliott chain (lost_burst): in the good state the
 *     packet moves the chain to the bad state with probability
 *     burst_enter_ppm; a packet that finds the chain bad (including the one
 *     that just moved it there) is lost, and then the chain returns to good
 *     with probability burst_exit_ppm. A loss run thus has mean length
 *     1e6 / burst_exit_ppm. burst_enter_ppm == 0 turns it off (and resets the
 *     chain to good).
 *  4. Bandwidth (only when rate_bps > 0): a FIFO serializer. The packet
 *     departs at max(now, serializer free) + len * 8 * 1e6 / rate_bps
 *     microseconds, computed exactly (fractions of a microsecond carry over
 *     to the next packet; the departure is rounded up to whole microseconds).
 *     If the bytes of packets that have not yet departed plus len exceed
 *     queue_bytes, the packet is tail-dropped (dropped_queue). Otherwise, if
 *     ce_mark_bytes > 0, the packet is IPv4 and ECN-capable (ECT(0) or
 *     ECT(1)) and it finds more than ce_mark_bytes waiting, its ECN field
 *     becomes CE, the header checksum updated (ce_marked).
 *     Without a rate limit the packet departs at now.
 *  5. Propagation: arrival = departure + delay_us + uniform [0, jitter_us],
 *     plus spike_us with probability spike_ppm (drawn only when spike_ppm
 *     is set), then raised to the previous arrival in this direction, so
 *     that jitter (and a rate change) never reorders packets and the packets
 *     behind a spike wait for it.
 *  6. Reordering: when no packet is being held, the packet is held back with
 *     probability reorder_ppm. The next packet that reaches this stage in the
 *     same direction releases it: the held packet then arrives at the same
 *     time as that packet, ordered right after it (an adjacent swap, counted
 *     in `reordered`); a releasing packet is never held itself, so 1,2,3,4
 *     with reorder_ppm = 1e6 arrive as 2,1,4,3. If no packet reaches this
 *     stage before the hold time has passed, the held packet arrives at
 *     max(its own arrival, send time + reorder_hold_us), in order.
 *  7. Duplication with probability dup_ppm: a second copy arrives 1 us after
 *     the first (it follows a held packet). Counted in `duplicated`. When
 *     memory for the copy runs out the copy is silently skipped.
 *  8. Corruption, decided independently for each copy with probability
 *     corrupt_ppm: one uniformly chosen bit is flipped (counted per copy in
 *     `corrupted`).
 *
 * receive() delivers packets whose arrival time is <= now in arrival order,
 * ties in the order in which they were scheduled. A packet longer than the
 * caller's buffer is dropped (dropped_rx_too_big) and the next ready packet,
 * if any, is delivered instead.
 *
 * Per direction, every copy is accounted for: sent + duplicated = delivered +
 * lost_random + lost_burst + dropped_queue + dropped_mtu + dropped_rx_too_big
 * + copies still in flight (held ones included).
 *
 * transmit() returns KEEL_EINVAL for a NULL or empty packet and KEEL_ENOMEM
 * when memory runs out (neither is counted in `sent`); a packet lost to an
 * impairment is accepted silently (returns 0), as a real network would.
 *
 * All randomness of a direction comes from its own generator, seeded from the
 * link seed, so a run replays exactly for a given seed and call sequence. */
#include "sim/link.h"

#include "link/gso.h"
#include "wire/wire.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "keel/keel.h"

#define MAX_PACKET_BYTES 65535u
#define DEFAULT_MTU 1500u
#define DEFAULT_QUEUE_BYTES (1u << 20)
#define DEFAULT_HOLD_EXTRA_US 1000u
#define DUPLICATE_GAP_US 1u
#define MIN_HEAP_CAPACITY 64u
#define MIN_BACKLOG_CAPACITY 64u
#define US_PER_SECOND 1000000u

/* One copy of a packet on its way. */
struct flight {
    uint64_t arrival_us;
    uint64_t seq; /* breaks arrival ties: scheduling order */
    uint32_t len;
    uint8_t data[];
};

/* Binary min-heap of packets in flight, keyed by (arrival_us, seq). */
struct flight_heap {
    struct flight **items;
    size_t count, cap;
};

/* A packet in the serializer's queue: its bytes count until it departs. */
struct departure {
    uint64_t at_us;
    uint32_t len;
};

/* Ring of departures, oldest first (departure times never decrease). */
struct backlog {
    struct departure *items;
    size_t head, count, cap;
    uint64_t bytes;
};

/* The packet held back for reordering, with its duplicate if it has one. */
struct held {
    struct flight *pkt; /* NULL: nothing held */
    struct flight *dup;
    uint64_t expires_us; /* send time + hold: later packets no longer swap */
    uint64_t release_us; /* its arrival unless a packet releases it first */
};

struct direction {
    struct rng rng;
    struct flight_heap flights;
    struct backlog backlog;
    struct held held;
    uint64_t next_seq;
    uint64_t last_arrival_us;
    /* The serializer is busy until free_at_us + free_frac / rate_bps. */
    uint64_t free_at_us;
    uint64_t free_frac;
    int burst_bad;
    struct sim_link_stats stats;
};

struct link_end {
    struct keel_device dev;
    struct sim_link *link;
    int index;
};

struct sim_link {
    struct sim_link_config cfg; /* defaults resolved */
    struct link_end ends[2];
    struct direction dirs[2]; /* dirs[i]: from end i to end 1 - i */
};

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* ---- the heap of packets in flight ---- */

static int flight_before(const struct flight *a, const struct flight *b)
{
    if (a->arrival_us != b->arrival_us)
        return a->arrival_us < b->arrival_us;
    return a->seq < b->seq;
}

static int heap_reserve(struct flight_heap *h, size_t want)
{
    if (want <= h->cap)
        return 1;
    size_t cap = h->cap ? h->cap : MIN_HEAP_CAPACITY;
    while (cap < want)
        cap *= 2;
    struct flight **items = realloc(h->items, cap * sizeof *items);
    if (!items)
        return 0;
    h->items = items;
    h->cap = cap;
    return 1;
}

static void heap_swap(struct flight_heap *h, size_t i, size_t j)
{
    struct flight *t = h->items[i];
    h->items[i] = h->items[j];
    h->items[j] = t;
}

static void heap_sift_up(struct flight_heap *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!flight_before(h->items[i], h->items[parent]))
            return;
        heap_swap(h, i, parent);
        i = parent;
    }
}

static void heap_sift_down(struct flight_heap *h, size_t i)
{
    for (;;) {
        size_t least = i, left = 2 * i + 1, right = left + 1;
        if (left < h->count && flight_before(h->items[left], h->items[least]))
            least = left;
        if (right < h->count && flight_before(h->items[right], h->items[least]))
            least = right;
        if (least == i)
            return;
        heap_swap(h, i, least);
        i = least;
    }
}

/* The caller has reserved room (see reserve_for_transmit). */
static void heap_push(struct flight_heap *h, struct flight *f)
{
    h->items[h->count++] = f;
    heap_sift_up(h, h->count - 1);
}

static struct flight *heap_top(const struct flight_heap *h)
{
    return h->count ? h->items[0] : NULL;
}

static struct flight *heap_pop(struct flight_heap *h)
{
    struct flight *top = h->items[0];
    h->items[0] = h->items[--h->count];
    heap_sift_down(h, 0);
    return top;
}

static void heap_free(struct flight_heap *h)
{
    for (size_t i = 0; i < h->count; i++)
        free(h->items[i]);
    free(h->items);
}

/* ---- the serializer's backlog ---- */

static int backlog_reserve(struct backlog *b, size_t want)
{
    if (want <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : MIN_BACKLOG_CAPACITY;
    while (cap < want)
        cap *= 2;
    struct departure *items = malloc(cap * sizeof *items);
    if (!items)
        return 0;
    for (size_t i = 0; i < b->count; i++)
        items[i] = b->items[(b->head + i) % b->cap];
    free(b->items);
    b->items = items;
    b->head = 0;
    b->cap = cap;
    return 1;
}

/* The caller has reserved room. */
static void backlog_push(struct backlog *b, uint64_t at_us, uint32_t len)
{
    b->items[(b->head + b->count) % b->cap] = (struct departure){at_us, len};
    b->count++;
    b->bytes += len;
}

/* Forgets the packets that have departed by now_us. */
static void backlog_drain(struct backlog *b, uint64_t now_us)
{
    while (b->count && b->items[b->head].at_us <= now_us) {
        b->bytes -= b->items[b->head].len;
        b->head = (b->head + 1) % b->cap;
        b->count--;
    }
}

/* ---- packets ---- */

static struct flight *flight_new(const uint8_t *pkt, uint32_t len)
{
    struct flight *f = malloc(sizeof *f + len);
    if (!f)
        return NULL;
    f->arrival_us = 0;
    f->seq = 0;
    f->len = len;
    memcpy(f->data, pkt, len);
    return f;
}

static void schedule(struct direction *d, struct flight *f, uint64_t arrival_us)
{
    f->arrival_us = arrival_us;
    f->seq = d->next_seq++;
    heap_push(&d->flights, f);
}

/* Schedules a packet and, if it has one, its duplicate right after it. */
static void schedule_with_dup(struct direction *d, struct flight *f,
                              struct flight *dup, uint64_t arrival_us)
{
    schedule(d, f, arrival_us);
    if (dup)
        schedule(d, dup, add_saturating(arrival_us, DUPLICATE_GAP_US));
}

/* ---- the stages ---- */

static int burst_loses(struct direction *d, const struct sim_link_config *cfg)
{
    if (cfg->burst_enter_ppm == 0) {
        d->burst_bad = 0;
        return 0;
    }
    if (!d->burst_bad)
        d->burst_bad = rng_chance_ppm(&d->rng, cfg->burst_enter_ppm);
    if (!d->burst_bad)
        return 0;
    if (rng_chance_ppm(&d->rng, cfg->burst_exit_ppm))
        d->burst_bad = 0;
    return 1;
}

/* Advances the serializer by one packet; returns its departure time. */
static uint64_t serialize(struct direction *d, uint64_t rate_bps, uint32_t len,
                          uint64_t now_us)
{
    if (d->free_at_us < now_us || (d->free_at_us == now_us && !d->free_frac)) {
        d->free_at_us = now_us;
        d->free_frac = 0;
    }
    uint64_t scaled = (uint64_t)len * 8u * US_PER_SECOND;
    uint64_t whole_us = scaled / rate_bps, rest = scaled % rate_bps;
    if (d->free_frac >= rate_bps - rest) {
        d->free_frac -= rate_bps - rest;
        whole_us++;
    } else {
        d->free_frac += rest;
    }
    d->free_at_us = add_saturating(d->free_at_us, whole_us);
    return add_saturating(d->free_at_us, d->free_frac != 0);
}

/* RFC 3168 §5: a router that would signal congestion marks an ECN-capable
 * packet CE instead of dropping it. */
static void mark_ce(struct direction *d, struct flight *f)
{
    if (f->len < IPV4_HDR_LEN || (f->data[0] >> 4) != 4)
        return;
    uint8_t field = f->data[1] & IP_ECN_MASK;
    if (field != IP_ECN_ECT0 && field != IP_ECN_ECT1)
        return;
    size_t ihl = (size_t)(f->data[0] & 0x0f) * 4;
    if (ihl < IPV4_HDR_LEN || ihl > f->len)
        return;
    f->data[1] |= IP_ECN_CE;
    f->data[10] = f->data[11] = 0;
    uint16_t c = wire_csum_fold(wire_csum_add(0, f->data, ihl));
    f->data[10] = (uint8_t)(c >> 8);
    f->data[11] = (uint8_t)c;
    d->stats.ce_marked++;
}

/* Returns 1 and the departure time, or 0 when the queue is full. */
static int pass_bottleneck(struct direction *d,
                           const struct sim_link_config *cfg, struct flight *f,
                           uint64_t now_us, uint64_t *depart_us)
{
    uint32_t len = f->len;
    *depart_us = now_us;
    if (cfg->rate_bps == 0)
        return 1;
    backlog_drain(&d->backlog, now_us);
    if (d->backlog.bytes + len > cfg->queue_bytes)
        return 0;
    if (cfg->ce_mark_bytes && d->backlog.bytes > cfg->ce_mark_bytes)
        mark_ce(d, f);
    *depart_us = serialize(d, cfg->rate_bps, len, now_us);
    backlog_push(&d->backlog, *depart_us, len);
    return 1;
}

/* Uniform in [0, max]. */
static uint64_t uniform_up_to(struct rng *r, uint64_t max)
{
    if (max == 0)
        return 0;
    if (max < UINT32_MAX)
        return rng_below(r, (uint32_t)max + 1);
    if (max == UINT64_MAX)
        return rng_next(r);
    return rng_next(r) % (max + 1); /* bias below 2^-31: fine for a jitter */
}

static uint64_t propagate(struct direction *d,
                          const struct sim_link_config *cfg, uint64_t depart_us)
{
    uint64_t arrival = add_saturating(depart_us, cfg->delay_us);
    arrival = add_saturating(arrival, uniform_up_to(&d->rng, cfg->jitter_us));
    if (cfg->spike_ppm && rng_chance_ppm(&d->rng, cfg->spike_ppm))
        arrival = add_saturating(arrival, cfg->spike_us);
    arrival = max_u64(arrival, d->last_arrival_us);
    d->last_arrival_us = arrival;
    return arrival;
}

static struct flight *maybe_duplicate(struct direction *d,
                                      const struct sim_link_config *cfg,
                                      const struct flight *f)
{
    if (!rng_chance_ppm(&d->rng, cfg->dup_ppm))
        return NULL;
    struct flight *dup = flight_new(f->data, f->len);
    if (dup)
        d->stats.duplicated++;
    return dup;
}

static void maybe_corrupt(struct direction *d,
                          const struct sim_link_config *cfg, struct flight *f)
{
    if (!f || !rng_chance_ppm(&d->rng, cfg->corrupt_ppm))
        return;
    uint32_t bit = rng_below(&d->rng, f->len * 8u);
    f->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    d->stats.corrupted++;
}

/* Delivers the held packet (and its duplicate) at arrival_us. */
static void release_held(struct direction *d, uint64_t arrival_us)
{
    schedule_with_dup(d, d->held.pkt, d->held.dup, arrival_us);
    d->last_arrival_us = max_u64(d->last_arrival_us, arrival_us);
    d->held = (struct held){NULL, NULL, 0, 0};
}

/* Once the hold time has passed, the held packet can no longer be swapped:
 * it is scheduled at its release time. */
static void release_expired_hold(struct direction *d, uint64_t now_us)
{
    if (d->held.pkt && d->held.expires_us <= now_us)
        release_held(d, d->held.release_us);
}

/* Stages 6 to 8 for a packet that survived the earlier ones. */
static void reorder_and_deliver(struct direction *d,
                                const struct sim_link_config *cfg,
                                struct flight *f, uint64_t arrival_us,
                                uint64_t now_us)
{
    int hold = !d->held.pkt && rng_chance_ppm(&d->rng, cfg->reorder_ppm);
    struct flight *dup = maybe_duplicate(d, cfg, f);
    maybe_corrupt(d, cfg, f);
    maybe_corrupt(d, cfg, dup);
    if (hold) {
        uint64_t expires_us = add_saturating(now_us, cfg->reorder_hold_us);
        d->held = (struct held){f, dup, expires_us,
                                max_u64(arrival_us, expires_us)};
        return;
    }
    schedule_with_dup(d, f, dup, arrival_us);
    if (d->held.pkt) {
        release_held(d, arrival_us);
        d->stats.reordered++;
    }
}

/* ---- the device ---- */

static struct link_end *end_of(struct keel_device *dev)
{
    return (struct link_end *)((char *)dev - offsetof(struct link_end, dev));
}

static const struct link_end *const_end_of(const struct keel_device *dev)
{
    return (const struct link_end *)((const char *)dev -
                                     offsetof(struct link_end, dev));
}

/* Makes sure nothing after the random draws can fail for lack of memory:
 * room in the heap for this packet, its duplicate and whatever is held. */
static int reserve_for_transmit(struct direction *d)
{
    return heap_reserve(&d->flights, d->flights.count + 4) &&
           backlog_reserve(&d->backlog, d->backlog.count + 1);
}

/* Runs stages 2 to 8; returns 0 if the packet was lost on the way. */
static int send_through(struct direction *d, const struct sim_link_config *cfg,
                        struct flight *f, uint64_t now_us)
{
    uint64_t depart_us;
    if (rng_chance_ppm(&d->rng, cfg->loss_ppm)) {
        d->stats.lost_random++;
        return 0;
    }
    if (burst_loses(d, cfg)) {
        d->stats.lost_burst++;
        return 0;
    }
    if (!pass_bottleneck(d, cfg, f, now_us, &depart_us)) {
        d->stats.dropped_queue++;
        return 0;
    }
    uint64_t arrival_us = propagate(d, cfg, depart_us);
    reorder_and_deliver(d, cfg, f, arrival_us, now_us);
    return 1;
}

static int end_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                        uint64_t now_us)
{
    struct link_end *end = end_of(dev);
    const struct sim_link_config *cfg = &end->link->cfg;
    struct direction *d = &end->link->dirs[end->index];
    if (!pkt || len == 0)
        return KEEL_EINVAL;
    if (!reserve_for_transmit(d))
        return KEEL_ENOMEM;
    release_expired_hold(d, now_us);
    if (len > cfg->mtu) {
        d->stats.sent++;
        d->stats.dropped_mtu++;
        return 0;
    }
    struct flight *f = flight_new(pkt, (uint32_t)len);
    if (!f)
        return KEEL_ENOMEM;
    d->stats.sent++;
    if (!send_through(d, cfg, f, now_us))
        free(f);
    return 0;
}

static long end_receive(struct keel_device *dev, uint8_t *buf, size_t cap,
                        uint64_t now_us)
{
    struct link_end *end = end_of(dev);
    struct direction *d = &end->link->dirs[1 - end->index];
    release_expired_hold(d, now_us);
    for (;;) {
        struct flight *top = heap_top(&d->flights);
        if (!top || top->arrival_us > now_us)
            return 0;
        struct flight *f = heap_pop(&d->flights);
        if (f->len > cap || !buf) {
            d->stats.dropped_rx_too_big++;
            free(f);
            continue;
        }
        long len = (long)f->len;
        memcpy(buf, f->data, f->len);
        d->stats.delivered++;
        d->stats.bytes_delivered += f->len;
        free(f);
        return len;
    }
}

static uint64_t end_next_arrival_us(const struct keel_device *dev)
{
    const struct link_end *end = const_end_of(dev);
    const struct direction *d = &end->link->dirs[1 - end->index];
    const struct flight *top = heap_top(&d->flights);
    uint64_t next = top ? top->arrival_us : UINT64_MAX;
    if (d->held.pkt && d->held.release_us < next)
        next = d->held.release_us;
    return next;
}

struct tso_send {
    struct keel_device *dev;
    uint64_t now_us;
};

static int tso_emit(void *arg, const uint8_t *seg, size_t len)
{
    struct tso_send *t = arg;
    return end_transmit(t->dev, seg, len, t->now_us);
}

/* Segmentation offload in software: the pieces cross the link one by one. */
static int end_transmit_tso(struct keel_device *dev, const uint8_t *pkt, size_t len,
                            uint16_t mss, uint64_t now_us)
{
    struct tso_send t = {dev, now_us};
    int rc = gso_segment(pkt, len, mss, tso_emit, &t);
    return rc == -1 ? KEEL_EINVAL : rc;
}

static const struct keel_device_ops link_device_ops = {
    .transmit = end_transmit,
    .receive = end_receive,
    .next_arrival_us = end_next_arrival_us,
    .transmit_tso = end_transmit_tso,
};

/* ---- the link ---- */

static struct sim_link_config
resolve_defaults(const struct sim_link_config *cfg)
{
    struct sim_link_config r = cfg ? *cfg : (struct sim_link_config){0};
    if (r.mtu == 0)
        r.mtu = DEFAULT_MTU;
    if (r.mtu > MAX_PACKET_BYTES)
        r.mtu = MAX_PACKET_BYTES;
    if (r.queue_bytes == 0)
        r.queue_bytes = DEFAULT_QUEUE_BYTES;
    if (r.reorder_hold_us == 0)
        r.reorder_hold_us = add_saturating(
            add_saturating(r.delay_us, r.delay_us), DEFAULT_HOLD_EXTRA_US);
    return r;
}

/* The serializer's leftover fraction is in units of the old rate: round the
 * busy time up to a whole microsecond before the rate changes. */
static void change_rate(struct direction *d, uint64_t old_bps, uint64_t new_bps)
{
    if (old_bps == new_bps || !d->free_frac)
        return;
    d->free_at_us = add_saturating(d->free_at_us, 1);
    d->free_frac = 0;
}

struct sim_link *sim_link_new(const struct sim_link_config *cfg, uint64_t seed)
{
    struct sim_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    struct rng seeder;
    rng_seed(&seeder, seed);
    for (int i = 0; i < 2; i++) {
        rng_seed(&l->dirs[i].rng, rng_next(&seeder));
        l->ends[i].dev.ops = &link_device_ops;
        l->ends[i].link = l;
        l->ends[i].index = i;
    }
    sim_link_set_config(l, cfg);
    return l;
}

static void direction_free(struct direction *d)
{
    heap_free(&d->flights);
    free(d->backlog.items);
    free(d->held.pkt);
    free(d->held.dup);
}

void sim_link_free(struct sim_link *l)
{
    if (!l)
        return;
    direction_free(&l->dirs[0]);
    direction_free(&l->dirs[1]);
    free(l);
}

struct keel_device *sim_link_device(struct sim_link *l, int end)
{
    if (end != 0 && end != 1)
        return NULL;
    return &l->ends[end].dev;
}

void sim_link_set_config(struct sim_link *l, const struct sim_link_config *cfg)
{
    struct sim_link_config resolved = resolve_defaults(cfg);
    for (int i = 0; i < 2; i++) {
        change_rate(&l->dirs[i], l->cfg.rate_bps, resolved.rate_bps);
        if (resolved.burst_enter_ppm == 0)
            l->dirs[i].burst_bad = 0;
        l->ends[i].dev.mtu = resolved.mtu;
        l->ends[i].dev.tso_max = resolved.tso ? 65535 - 60 - TCP_MAX_HDR_LEN : 0;
    }
    l->cfg = resolved;
}

const struct sim_link_stats *sim_link_stats(const struct sim_link *l, int from)
{
    if (from != 0 && from != 1)
        return NULL;
    return &l->dirs[from].stats;
}
