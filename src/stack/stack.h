/* The stack object: configuration, clock, randomness, timers, demux tables,
 * socket handles, counters and the event queue. */
#ifndef KEEL_STACK_STACK_H
#define KEEL_STACK_STACK_H

#include "base/rng.h"
#include "base/wheel.h"
#include "keel/keel.h"

struct tcb;

/* Connections by 4-tuple, listeners by local port: chained hash tables whose
 * bucket arrays double when their load passes 1 (amortised, never per segment). */
struct demux {
    struct tcb **conn;
    uint32_t conn_mask, conn_count;
    struct tcb **listen;
    uint32_t listen_mask, listen_count;
    uint64_t key; /* keyed hash against collision flooding */
};

struct trace_ring {
    struct keel_trace_event *ev;
    uint32_t cap, head, len;
    uint64_t lost;
};
int trace_init(struct trace_ring *t, uint32_t cap);
void trace_free(struct trace_ring *t);

/* Routes (src/ip/route.c): their metrics, and a generation that changes
 * with every change, against which connections check their cached route
 * (Linux's dst check after rt_cache_flush). */
struct route_table {
    struct keel_route r[KEEL_ROUTES_MAX];
    uint32_t n;
    uint32_t gen;
};
/* The route for dst (longest prefix), or NULL: the defaults. */
const struct keel_route *route_lookup(const keel_stack *st, uint32_t dst);

struct event_queue {
    int *sock;
    uint32_t cap, head, len;
};

#define KEEL_FO_CACHE_SIZE 16

struct keel_stack {
    struct keel_config cfg; /* defaults resolved */
    const struct cc_ops *default_cc;
    struct keel_device *dev;
    uint64_t now_us;
    struct rng rng;
    struct timer_wheel wheel;
    struct keel_counters ctr;
    struct demux demux;
    struct tcb **handles;     /* handle -> tcb */
    int *free_handles;        /* stack of free handles */
    uint32_t nfree;
    struct event_queue events;
    struct trace_ring trace;
    struct route_table routes;
    struct tcb *graveyard;    /* closed orphans, freed at the end of each entry point */
    bool fast_path_disabled;  /* tests: force every segment down the slow path */
    uint16_t ip_id;
    /* RFC 7413 §4.1.3.1: the Fast Open cookies servers gave, by address. */
    struct fo_cache_entry {
        uint32_t addr;   /* 0: free */
        uint8_t len;
        uint8_t cookie[16]; /* RFC 7413 §4.1.1: at most 16 bytes */
        uint64_t stamp;  /* when last set: the oldest goes first */
    } fo_cache[KEEL_FO_CACHE_SIZE];
    uint8_t txbuf[65536];     /* one outgoing packet is assembled here */
    uint8_t rxbuf[65536];     /* one incoming packet is read here */
};

/* Advances the stack's clock (time never goes back). */
void stack_set_time(keel_stack *st, uint64_t now_us);
/* Frees connections that closed during this call (see tcb_close). */
void stack_reap(keel_stack *st);

/* A broken internal rule: counted (TCPInvariantViolations) and, in builds
 * with KEEL_INVARIANTS, fatal with the rule's text. */
void stack_bug(keel_stack *st, const char *what);

#define CTR_INC(st, name) ((st)->ctr.v[KEEL_C_##name]++)
#define CTR_ADD(st, name, n) ((st)->ctr.v[KEEL_C_##name] += (n))

/* Handles */
int handle_alloc(keel_stack *st, struct tcb *tcb);
void handle_release(keel_stack *st, int sock);
struct tcb *handle_get(const keel_stack *st, int sock);

/* Readiness changed on tcb's socket: queue an event if it has a handle. */
void event_notify(keel_stack *st, struct tcb *tcb);
int tcb_readiness(const struct tcb *tcb);

/* Demux (src/tcp/demux.c) */
int demux_init(struct demux *d, uint64_t key);
void demux_free(struct demux *d);
struct tcb *demux_lookup(const struct demux *d, uint32_t laddr, uint16_t lport,
                         uint32_t raddr, uint16_t rport);
int demux_insert(struct demux *d, struct tcb *tcb);
void demux_remove(struct demux *d, struct tcb *tcb);
struct tcb *demux_listener(const struct demux *d, uint32_t laddr, uint16_t lport);
int demux_listen_insert(struct demux *d, struct tcb *tcb);
void demux_listen_remove(struct demux *d, struct tcb *tcb);
bool demux_port_in_use(const struct demux *d, uint16_t lport);
/* Calls fn on every connection and listener; fn may not modify the tables. */
void demux_visit(const struct demux *d, int (*fn)(void *, struct tcb *), void *arg);

/* IPv4 output (src/ip/ipv4.c): sends st->txbuf[IPV4_HDR_LEN ..
 * IPV4_HDR_LEN + payload_len) as one datagram to dst. gso_mss > 0 marks a
 * TCP packet larger than the MTU for the device to segment (tso_max). */
int ip_output(keel_stack *st, uint8_t proto, uint32_t src, uint32_t dst,
              size_t payload_len, uint16_t gso_mss);
/* What a socket sets in the IPv4 headers it sends (IP_TOS, IP_MTU_DISCOVER). */
struct ip_tx {
    uint8_t tos;
    bool dont_fragment;
};
/* Returns 0, or the device's error (KEEL_ENOBUFS: refused, not sent). */
int ip_output_with(keel_stack *st, const struct ip_tx *tx, uint8_t proto, uint32_t src,
                   uint32_t dst, size_t payload_len, uint16_t gso_mss);

#endif
