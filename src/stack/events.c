/* Readiness (poll(2) semantics) and the edge-triggered event queue. */
#include <stdlib.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

static bool connection_over(const struct tcb *tcb)
{
    return tcb->state == KEEL_TCP_CLOSED && tcb->rport;
}

int tcb_readiness(const struct tcb *tcb)
{
    if (tcb->state == KEEL_TCP_LISTEN)
        return tcb->aq_head ? KEEL_POLLIN : 0;
    int r = 0;
    if (tcb->rcvq.len > tcp_urgent_skip(tcb) || tcb->rcv_fin || tcb->shut_rd ||
        connection_over(tcb))
        r |= KEEL_POLLIN;
    if (tcb->urg_state == TCP_URG_VALID)
        r |= KEEL_POLLPRI; /* Linux tcp_poll */
    if (tcb->rcv_fin)
        r |= KEEL_POLLRDHUP;
    /* Linux tcp_poll: a deferred Fast Open connect is writable. */
    bool sending = tcb->state == KEEL_TCP_ESTABLISHED || tcb->state == KEEL_TCP_CLOSE_WAIT ||
                   tcb->fo_deferred;
    if ((sending && !tcb->shut_wr && sendq_writable(tcb)) || connection_over(tcb))
        r |= KEEL_POLLOUT;
    if (connection_over(tcb) || (tcb->shut_wr && tcb->rcv_fin))
        r |= KEEL_POLLHUP;
    if (tcb->soerror || tstamp_queued(tcb))
        r |= KEEL_POLLERR; /* Linux sock_poll: sk_err, or an error queue */
    return r;
}

int keel_readiness(const keel_stack *st, int sock)
{
    const struct tcb *tcb = handle_get(st, sock);
    return tcb ? tcb_readiness(tcb) : KEEL_EBADF;
}

static bool queue_grow(struct event_queue *q)
{
    uint32_t cap = q->cap ? q->cap * 2 : 64;
    int *s = malloc(cap * sizeof *s);
    if (!s)
        return false;
    for (uint32_t i = 0; i < q->len; i++)
        s[i] = q->sock[(q->head + i) % q->cap];
    free(q->sock);
    q->sock = s;
    q->cap = cap;
    q->head = 0;
    return true;
}

void event_notify(keel_stack *st, struct tcb *tcb)
{
    struct event_queue *q = &st->events;
    if (tcb->handle < 0 || tcb->event_queued)
        return;
    if (q->len == q->cap && !queue_grow(q))
        return;
    q->sock[(q->head + q->len) % q->cap] = tcb->handle;
    q->len++;
    tcb->event_queued = true;
}

int keel_take_events(keel_stack *st, struct keel_event *ev, int max)
{
    struct event_queue *q = &st->events;
    int n = 0;
    while (n < max && q->len) {
        int sock = q->sock[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        struct tcb *tcb = handle_get(st, sock);
        if (!tcb || !tcb->event_queued)
            continue; /* closed, or its handle reused since */
        tcb->event_queued = false;
        ev[n].sock = sock;
        ev[n].readiness = (uint32_t)tcb_readiness(tcb);
        n++;
    }
    return n;
}
