/* Path impairment between keel and a real device (impair.h). */
#include "impair.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/keel.h"

struct impair_pkt {
    struct impair_pkt *prev, *next;
    uint64_t at;               /* release time */
    size_t len;
    uint8_t data[];
};

int impair_parse(const char *spec, struct impair_config *cfg)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return -1;
        *eq = 0;
        double v = strtod(eq + 1, NULL);
        if (v < 0)
            return -1;
        if (strcmp(kv, "loss") == 0)
            cfg->loss_ppm = (uint32_t)(v * 1e4 + 0.5);
        else if (strcmp(kv, "reorder") == 0)
            cfg->reorder_ppm = (uint32_t)(v * 1e4 + 0.5);
        else if (strcmp(kv, "delay") == 0)
            cfg->delay_us = (uint64_t)(v * 1e3);
        else if (strcmp(kv, "jitter") == 0)
            cfg->jitter_us = (uint64_t)(v * 1e3);
        else if (strcmp(kv, "seed") == 0)
            cfg->seed = (uint64_t)v;
        else
            return -1;
    }
    return 0;
}

/* splitmix64 */
static uint64_t next_rand(struct impair_device *d)
{
    uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool chance(struct impair_device *d, uint32_t ppm)
{
    return ppm && next_rand(d) % 1000000 < ppm;
}

/* Inserts in release order, searching from the tail (most packets go there). */
static void enqueue(struct impair_queue *q, struct impair_pkt *p)
{
    struct impair_pkt *after = q->tail;
    while (after && after->at > p->at)
        after = after->prev;
    p->prev = after;
    p->next = after ? after->next : q->head;
    if (p->next)
        p->next->prev = p;
    else
        q->tail = p;
    if (after)
        after->next = p;
    else
        q->head = p;
}

static struct impair_pkt *dequeue_due(struct impair_queue *q, uint64_t now)
{
    struct impair_pkt *p = q->head;
    if (!p || p->at > now)
        return NULL;
    q->head = p->next;
    if (q->head)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    return p;
}

/* The delay a packet gets: none, or delay + jitter, plus a hold-back when it
 * is to be reordered. Returns UINT64_MAX to drop it. */
static uint64_t fate(struct impair_device *d, int dir, uint64_t now)
{
    if (chance(d, d->cfg.loss_ppm)) {
        d->dropped[dir]++;
        return UINT64_MAX;
    }
    uint64_t delay = d->cfg.delay_us;
    if (d->cfg.jitter_us)
        delay += next_rand(d) % (d->cfg.jitter_us + 1);
    if (chance(d, d->cfg.reorder_ppm)) {
        d->reordered[dir]++;
        delay += d->cfg.delay_us / 2 + 1000;
    }
    return now + delay;
}

static bool hold(struct impair_queue *q, const uint8_t *pkt, size_t len, uint64_t at)
{
    struct impair_pkt *p = malloc(sizeof *p + len);
    if (!p)
        return false;
    p->at = at;
    p->len = len;
    memcpy(p->data, pkt, len);
    enqueue(q, p);
    return true;
}

static void flush_out(struct impair_device *d, uint64_t now)
{
    struct impair_pkt *p;
    while ((p = dequeue_due(&d->out, now)) != NULL) {
        d->inner->ops->transmit(d->inner, p->data, p->len, now);
        free(p);
    }
}

static int impair_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct impair_device *d = (struct impair_device *)dev;
    flush_out(d, now);
    uint64_t at = fate(d, 0, now);
    if (at == UINT64_MAX)
        return 0; /* lost on the way, as on a wire */
    if (at <= now && !d->out.head)
        return d->inner->ops->transmit(d->inner, pkt, len, now);
    return hold(&d->out, pkt, len, at) ? 0 : KEEL_ENOMEM;
}

static long impair_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now)
{
    struct impair_device *d = (struct impair_device *)dev;
    flush_out(d, now);
    for (;;) {
        struct impair_pkt *p = dequeue_due(&d->in, now);
        if (p) {
            long n = p->len <= cap ? (long)p->len : 0;
            memcpy(buf, p->data, (size_t)n);
            free(p);
            if (n)
                return n;
            continue;
        }
        long n = d->inner->ops->receive(d->inner, buf, cap, now);
        if (n <= 0)
            return n;
        uint64_t at = fate(d, 1, now);
        if (at == UINT64_MAX)
            continue;
        if (at <= now && !d->in.head)
            return n;
        hold(&d->in, buf, (size_t)n, at);
    }
}

static uint64_t impair_next(const struct keel_device *dev)
{
    const struct impair_device *d = (const struct impair_device *)dev;
    uint64_t a = d->out.head ? d->out.head->at : UINT64_MAX;
    uint64_t b = d->in.head ? d->in.head->at : UINT64_MAX;
    return a < b ? a : b;
}

static const struct keel_device_ops impair_ops = {
    .transmit = impair_transmit,
    .receive = impair_receive,
    /* when held packets fall due: the loop wakes for them */
    .next_arrival_us = impair_next,
};

void impair_device_init(struct impair_device *d, struct keel_device *inner,
                        const struct impair_config *cfg)
{
    memset(d, 0, sizeof *d);
    d->dev.ops = &impair_ops;
    d->dev.mtu = inner->mtu;
    d->dev.tso_max = 0;
    d->inner = inner;
    d->cfg = *cfg;
    d->rng = cfg->seed ^ 0x6b65656c;
}

static void free_queue(struct impair_queue *q)
{
    while (q->head) {
        struct impair_pkt *p = q->head;
        q->head = p->next;
        free(p);
    }
    q->tail = NULL;
}

void impair_device_free(struct impair_device *d)
{
    free_queue(&d->out);
    free_queue(&d->in);
}
