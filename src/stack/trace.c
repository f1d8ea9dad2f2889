/* The event trace: a ring of notable connection events, newest kept. */
#include <stdlib.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

int trace_init(struct trace_ring *t, uint32_t cap)
{
    t->ev = calloc(cap, sizeof *t->ev);
    if (!t->ev)
        return KEEL_ENOMEM;
    t->cap = cap;
    t->head = t->len = 0;
    t->lost = 0;
    return 0;
}

void trace_free(struct trace_ring *t)
{
    free(t->ev);
    t->ev = NULL;
}

void trace_event(struct tcb *tcb, enum keel_trace_kind kind, uint32_t a, uint32_t b)
{
    struct trace_ring *t = &tcb->st->trace;
    if (!t->cap)
        return;
    if (t->len == t->cap) { /* overwrite the oldest */
        t->head = (t->head + 1) % t->cap;
        t->len--;
        t->lost++;
    }
    struct keel_trace_event *e = &t->ev[(t->head + t->len) % t->cap];
    t->len++;
    e->time_us = tcb->st->now_us;
    e->local_addr = tcb->laddr;
    e->remote_addr = tcb->raddr;
    e->local_port = tcb->lport;
    e->remote_port = tcb->rport;
    e->kind = (uint8_t)kind;
    e->state = tcb->state;
    e->a = a;
    e->b = b;
}

int keel_trace_read(keel_stack *st, struct keel_trace_event *ev, int max, uint64_t *lost)
{
    struct trace_ring *t = &st->trace;
    int n = 0;
    while (n < max && t->len) {
        ev[n++] = t->ev[t->head];
        t->head = (t->head + 1) % t->cap;
        t->len--;
    }
    if (lost)
        *lost = t->lost;
    t->lost = 0;
    return n;
}
