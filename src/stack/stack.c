/* The stack object: creation from a config, the clock, the poll loop, the
 * next deadline, handles and the graveyard of closed connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

#define DEFAULT(field, value)                                                 \
    do {                                                                      \
        if (!cfg->field)                                                      \
            cfg->field = (value);                                             \
    } while (0)

static void resolve_defaults(struct keel_config *cfg)
{
    DEFAULT(max_sockets, 65536);
    DEFAULT(ephemeral_lo, 32768);
    DEFAULT(ephemeral_hi, 60999);
    DEFAULT(sndbuf, 16384);
    DEFAULT(rcvbuf, 131072);
    DEFAULT(sndbuf_max, 4194304);
    DEFAULT(rcvbuf_max, 6291456);
    DEFAULT(syn_retries, 6);
    DEFAULT(synack_retries, 5);
    DEFAULT(retries2, 15);
    DEFAULT(time_wait_us, 60000000);
    DEFAULT(fin_timeout_us, 60000000);
    DEFAULT(max_syn_backlog, 4096);
    DEFAULT(challenge_ack_per_sec, 1000);
    DEFAULT(ofo_max_ranges, 32);
    DEFAULT(pacing_ss_ratio, 200);
    DEFAULT(pacing_ca_ratio, 120);
    DEFAULT(min_tso_segs, 2);
    DEFAULT(base_mss, 1024); /* Linux tcp_base_mss */
    if (cfg->ofo_max_ranges > RANGESET_MAX)
        cfg->ofo_max_ranges = RANGESET_MAX;
    DEFAULT(congestion_control, "cubic");
    DEFAULT(close_wait_idle_us, 60000000);
    DEFAULT(trace_events, 4096);
}

static int init_handles(keel_stack *st)
{
    uint32_t n = st->cfg.max_sockets;
    st->handles = calloc(n, sizeof *st->handles);
    st->free_handles = malloc(n * sizeof *st->free_handles);
    if (!st->handles || !st->free_handles)
        return KEEL_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        st->free_handles[i] = (int)(n - 1 - i); /* lowest handle first */
    st->nfree = n;
    return 0;
}

static bool config_valid(const struct keel_config *cfg, const struct keel_device *dev)
{
    return dev && dev->ops && dev->ops->transmit && dev->mtu >= 68 && dev->mtu <= 65535 &&
           cfg->ephemeral_lo <= cfg->ephemeral_hi && cfg->ephemeral_lo > 0 &&
           cc_find(cfg->congestion_control) != NULL;
}

keel_stack *keel_stack_new(const struct keel_config *user_cfg, struct keel_device *dev,
                           uint64_t now_us, int *err)
{
    keel_stack *st = calloc(1, sizeof *st);
    if (!st) {
        *err = KEEL_ENOMEM;
        return NULL;
    }
    st->cfg = *user_cfg;
    resolve_defaults(&st->cfg);
    if (!config_valid(&st->cfg, dev)) {
        free(st);
        *err = KEEL_EINVAL;
        return NULL;
    }
    st->dev = dev;
    st->now_us = now_us;
    st->default_cc = cc_find(st->cfg.congestion_control);
    rng_seed(&st->rng, st->cfg.seed);
    wheel_init(&st->wheel, now_us);
    if (demux_init(&st->demux, rng_next(&st->rng)) < 0 || init_handles(st) < 0 ||
        trace_init(&st->trace, st->cfg.trace_events) < 0) {
        keel_stack_free(st);
        *err = KEEL_ENOMEM;
        return NULL;
    }
    *err = 0;
    return st;
}

static int free_orphan(void *arg, struct tcb *tcb)
{
    struct tcb **list = arg;
    if (tcb->handle < 0 && !tcb->buried) {
        tcb->buried = true;
        tcb->aq_next = *list; /* demux chains stay intact while visiting */
        *list = tcb;
    }
    return 0;
}

void keel_stack_free(keel_stack *st)
{
    if (!st)
        return;
    if (st->demux.conn) {
        struct tcb *orphans = NULL;
        demux_visit(&st->demux, free_orphan, &orphans);
        while (orphans) {
            struct tcb *next = orphans->aq_next;
            tcb_free(orphans);
            orphans = next;
        }
    }
    for (uint32_t i = 0; st->handles && i < st->cfg.max_sockets; i++)
        if (st->handles[i])
            tcb_free(st->handles[i]);
    stack_reap(st);
    demux_free(&st->demux);
    free(st->handles);
    free(st->free_handles);
    free(st->events.sock);
    trace_free(&st->trace);
    free(st);
}

void stack_bug(keel_stack *st, const char *what)
{
    CTR_INC(st, TCPInvariantViolations);
#ifdef KEEL_INVARIANTS
    fprintf(stderr, "keel: internal rule broken: %s\n", what);
    abort();
#else
    (void)what;
#endif
}

void stack_set_time(keel_stack *st, uint64_t now_us)
{
    if (now_us > st->now_us)
        st->now_us = now_us;
}

void stack_reap(keel_stack *st)
{
    while (st->graveyard) {
        struct tcb *t = st->graveyard;
        st->graveyard = t->hash_next;
        tcb_free(t);
    }
}

static void run_timers(keel_stack *st)
{
    struct timer *t;
    while ((t = wheel_pop_expired(&st->wheel, st->now_us)) != NULL) {
        tcb_timer_fired(t);
        tcb_check_invariants(container_of(t - t->kind, struct tcb, timers));
    }
}

void keel_poll(keel_stack *st, uint64_t now_us)
{
    stack_set_time(st, now_us);
    long n;
    while ((n = st->dev->ops->receive ? st->dev->ops->receive(st->dev, st->rxbuf,
                                                              sizeof st->rxbuf, st->now_us)
                                      : 0) > 0)
        keel_input(st, st->rxbuf, (size_t)n, st->now_us);
    run_timers(st);
    stack_reap(st);
}

uint64_t keel_next_deadline(const keel_stack *st)
{
    return wheel_next_deadline(&st->wheel);
}

int handle_alloc(keel_stack *st, struct tcb *tcb)
{
    if (!st->nfree)
        return KEEL_EMFILE;
    int h = st->free_handles[--st->nfree];
    st->handles[h] = tcb;
    tcb->handle = h;
    return h;
}

void handle_release(keel_stack *st, int sock)
{
    st->handles[sock] = NULL;
    st->free_handles[st->nfree++] = sock;
}

struct tcb *handle_get(const keel_stack *st, int sock)
{
    if (sock < 0 || (uint32_t)sock >= st->cfg.max_sockets)
        return NULL;
    return st->handles[sock];
}
