/* Demultiplexing: connections by 4-tuple and listeners by local port, in
 * chained hash tables keyed against collision flooding. O(1) per segment. */
#include <stdlib.h>

#include "base/rng.h"
#include "tcp/tcb.h"

#define DEMUX_INITIAL_BUCKETS 256

static uint32_t hash_tuple(uint64_t key, uint32_t laddr, uint16_t lport, uint32_t raddr,
                           uint16_t rport)
{
    uint64_t x = ((uint64_t)raddr << 32 | (uint64_t)rport << 16 | lport) ^ key;
    return (uint32_t)rng_mix64(x ^ rng_mix64(laddr ^ (key >> 7)));
}

static uint32_t hash_port(uint64_t key, uint16_t lport)
{
    return (uint32_t)rng_mix64(lport ^ key);
}

static struct tcb **alloc_buckets(uint32_t n)
{
    return calloc(n, sizeof(struct tcb *));
}

int demux_init(struct demux *d, uint64_t key)
{
    d->key = key;
    d->conn = alloc_buckets(DEMUX_INITIAL_BUCKETS);
    d->listen = alloc_buckets(DEMUX_INITIAL_BUCKETS);
    if (!d->conn || !d->listen) {
        demux_free(d);
        return KEEL_ENOMEM;
    }
    d->conn_mask = d->listen_mask = DEMUX_INITIAL_BUCKETS - 1;
    d->conn_count = d->listen_count = 0;
    return 0;
}

void demux_free(struct demux *d)
{
    free(d->conn);
    free(d->listen);
    d->conn = d->listen = NULL;
}

static uint32_t conn_bucket(const struct demux *d, const struct tcb *t, uint32_t mask)
{
    return hash_tuple(d->key, t->laddr, t->lport, t->raddr, t->rport) & mask;
}

/* Doubles the bucket array once the load passes 1: amortised, never per segment. */
static void grow_conn(struct demux *d)
{
    uint32_t n = (d->conn_mask + 1) * 2;
    struct tcb **b = alloc_buckets(n);
    if (!b)
        return; /* keep the old table: longer chains, still correct */
    for (uint32_t i = 0; i <= d->conn_mask; i++) {
        struct tcb *t = d->conn[i];
        while (t) {
            struct tcb *next = t->hash_next;
            uint32_t h = conn_bucket(d, t, n - 1);
            t->hash_next = b[h];
            b[h] = t;
            t = next;
        }
    }
    free(d->conn);
    d->conn = b;
    d->conn_mask = n - 1;
}

struct tcb *demux_lookup(const struct demux *d, uint32_t laddr, uint16_t lport,
                         uint32_t raddr, uint16_t rport)
{
    uint32_t h = hash_tuple(d->key, laddr, lport, raddr, rport) & d->conn_mask;
    for (struct tcb *t = d->conn[h]; t; t = t->hash_next)
        if (t->lport == lport && t->rport == rport && t->raddr == raddr && t->laddr == laddr)
            return t;
    return NULL;
}

int demux_insert(struct demux *d, struct tcb *tcb)
{
    if (demux_lookup(d, tcb->laddr, tcb->lport, tcb->raddr, tcb->rport))
        return KEEL_EADDRINUSE;
    if (d->conn_count > d->conn_mask)
        grow_conn(d);
    uint32_t h = conn_bucket(d, tcb, d->conn_mask);
    tcb->hash_next = d->conn[h];
    d->conn[h] = tcb;
    d->conn_count++;
    return 0;
}

static void unlink_from(struct tcb **head, struct tcb *tcb, uint32_t *count)
{
    for (struct tcb **pp = head; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tcb) {
            *pp = tcb->hash_next;
            tcb->hash_next = NULL;
            (*count)--;
            return;
        }
    }
}

void demux_remove(struct demux *d, struct tcb *tcb)
{
    unlink_from(&d->conn[conn_bucket(d, tcb, d->conn_mask)], tcb, &d->conn_count);
}

/* Listeners: one per port (address 0 listens on the stack's address). */
struct tcb *demux_listener(const struct demux *d, uint32_t laddr, uint16_t lport)
{
    uint32_t h = hash_port(d->key, lport) & d->listen_mask;
    for (struct tcb *t = d->listen[h]; t; t = t->hash_next)
        if (t->lport == lport && (t->laddr == 0 || t->laddr == laddr))
            return t;
    return NULL;
}

int demux_listen_insert(struct demux *d, struct tcb *tcb)
{
    uint32_t h = hash_port(d->key, tcb->lport) & d->listen_mask;
    for (struct tcb *t = d->listen[h]; t; t = t->hash_next)
        if (t->lport == tcb->lport)
            return KEEL_EADDRINUSE;
    tcb->hash_next = d->listen[h];
    d->listen[h] = tcb;
    d->listen_count++;
    return 0;
}

void demux_listen_remove(struct demux *d, struct tcb *tcb)
{
    unlink_from(&d->listen[hash_port(d->key, tcb->lport) & d->listen_mask], tcb,
                &d->listen_count);
}

bool demux_port_in_use(const struct demux *d, uint16_t lport)
{
    if (demux_listener(d, 0, lport))
        return true;
    for (uint32_t i = 0; i <= d->conn_mask; i++)
        for (struct tcb *t = d->conn[i]; t; t = t->hash_next)
            if (t->lport == lport)
                return true;
    return false;
}

void demux_visit(const struct demux *d, int (*fn)(void *, struct tcb *), void *arg)
{
    for (uint32_t i = 0; i <= d->listen_mask; i++)
        for (struct tcb *t = d->listen[i]; t; t = t->hash_next)
            if (fn(arg, t))
                return;
    for (uint32_t i = 0; i <= d->conn_mask; i++)
        for (struct tcb *t = d->conn[i]; t; t = t->hash_next)
            if (fn(arg, t))
                return;
}
