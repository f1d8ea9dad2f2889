/* Transmit timestamps (SO_TIMESTAMPING) and the socket's error queue, as
 * Linux reports them for TCP: tcp_tx_timestamp marks the last byte of each
 * send call; __dev_queue_xmit (TX_SCHED) and the driver's skb_tx_timestamp
 * (TX_SOFTWARE) report each transmission of it; tcp_ack_tstamp reports its
 * cumulative acknowledgment; __skb_complete_tx_timestamp queues each report
 * with its key (tskey less sk_tskey, for OPT_ID). Only a socket that set the
 * option has this state: the common path tests one pointer. */
#include <stdlib.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

#define TSTAMP_TX_STAGES (KEEL_SOF_TIMESTAMPING_TX_SCHED | KEEL_SOF_TIMESTAMPING_TX_SOFTWARE)
#define TSTAMP_ALL_STAGES (TSTAMP_TX_STAGES | KEEL_SOF_TIMESTAMPING_TX_ACK)
#define TSTAMP_SUPPORTED                                                        \
    (TSTAMP_ALL_STAGES | KEEL_SOF_TIMESTAMPING_SOFTWARE | KEEL_SOF_TIMESTAMPING_OPT_ID | \
     KEEL_SOF_TIMESTAMPING_OPT_TSONLY | KEEL_SOF_TIMESTAMPING_OPT_ID_TCP)

/* The last byte of one send call, and the stages still to report for it. */
struct tstamp_point {
    seq_t last;
    uint32_t stages;   /* KEEL_SOF_TIMESTAMPING_TX_* asked for at the write */
    uint32_t bytes;    /* payload of its latest transmission */
};

struct tstamp {
    uint32_t flags;    /* as set (KEEL_SOF_TIMESTAMPING_*) */
    seq_t key_base;    /* Linux sk_tskey */
    struct tstamp_point points[KEEL_ERRQUEUE_MAX];
    uint32_t points_head, points_n;
    struct keel_tx_timestamp queue[KEEL_ERRQUEUE_MAX];
    uint32_t queue_head, queue_n;
};

static bool flags_valid(const struct tcb *tcb, uint32_t flags)
{
    if (flags & ~TSTAMP_SUPPORTED)
        return false;
    if ((flags & KEEL_SOF_TIMESTAMPING_OPT_ID_TCP) && !(flags & KEEL_SOF_TIMESTAMPING_OPT_ID))
        return false;
    /* Linux sock_set_timestamping: a TCP key needs a connection's sequence. */
    bool opt_id_new = (flags & KEEL_SOF_TIMESTAMPING_OPT_ID) &&
                      !(tcb->tstamp && (tcb->tstamp->flags & KEEL_SOF_TIMESTAMPING_OPT_ID));
    return !(opt_id_new && (tcb->state == KEEL_TCP_CLOSED || tcb->state == KEEL_TCP_LISTEN));
}

int tstamp_set_flags(struct tcb *tcb, int v)
{
    uint32_t flags = (uint32_t)v;
    if (v < 0 || !flags_valid(tcb, flags))
        return KEEL_EINVAL;
    if (!tcb->tstamp) {
        if (!flags)
            return 0;
        tcb->tstamp = calloc(1, sizeof *tcb->tstamp);
        if (!tcb->tstamp)
            return KEEL_ENOMEM;
    }
    struct tstamp *ts = tcb->tstamp;
    if ((flags & KEEL_SOF_TIMESTAMPING_OPT_ID) && !(ts->flags & KEEL_SOF_TIMESTAMPING_OPT_ID))
        ts->key_base = (flags & KEEL_SOF_TIMESTAMPING_OPT_ID_TCP) ? tcb_snd_end(tcb)
                                                                : tcb->snd.una;
    ts->flags = flags;
    return 0;
}

int tstamp_flags(const struct tcb *tcb)
{
    return tcb->tstamp ? (int)tcb->tstamp->flags : 0;
}

void tstamp_free(struct tcb *tcb)
{
    free(tcb->tstamp);
    tcb->tstamp = NULL;
}

static struct tstamp_point *point_at(struct tstamp *ts, uint32_t i)
{
    return &ts->points[(ts->points_head + i) % KEEL_ERRQUEUE_MAX];
}

/* Linux tcp_tx_timestamp, at the end of a send call that queued data. */
void tstamp_note_write(struct tcb *tcb)
{
    struct tstamp *ts = tcb->tstamp;
    uint32_t stages = ts->flags & TSTAMP_ALL_STAGES;
    if (!stages)
        return;
    if (ts->points_n == KEEL_ERRQUEUE_MAX) {
        CTR_INC(tcb->st, TxTimestampDropped);
        return;
    }
    *point_at(ts, ts->points_n++) =
        (struct tstamp_point){.last = seq_sub_n(tcb_snd_end(tcb), 1), .stages = stages};
}

static void queue_report(struct tcb *tcb, const struct tstamp_point *p, uint8_t type)
{
    struct tstamp *ts = tcb->tstamp;
    if (ts->queue_n == KEEL_ERRQUEUE_MAX) {
        CTR_INC(tcb->st, TxTimestampDropped);
        return;
    }
    struct keel_tx_timestamp *r = &ts->queue[(ts->queue_head + ts->queue_n++) % KEEL_ERRQUEUE_MAX];
    *r = (struct keel_tx_timestamp){.type = type};
    if (ts->flags & KEEL_SOF_TIMESTAMPING_SOFTWARE)
        r->time_us = tcb->st->now_us;
    if (ts->flags & KEEL_SOF_TIMESTAMPING_OPT_ID)
        r->key = p->last.v - ts->key_base.v;
    if (!(ts->flags & KEEL_SOF_TIMESTAMPING_OPT_TSONLY))
        r->bytes = p->bytes;
    event_notify(tcb->st, tcb);
}

/* A transmission of [seq, seq + len): SCHED, then SND, for each marked
 * byte it carries. */
void tstamp_on_xmit(struct tcb *tcb, seq_t seq, uint32_t len)
{
    struct tstamp *ts = tcb->tstamp;
    seq_t end = seq_add(seq, len);
    for (uint32_t i = 0; i < ts->points_n; i++) {
        struct tstamp_point *p = point_at(ts, i);
        if (seq_lt(p->last, seq) || seq_ge(p->last, end))
            continue;
        p->bytes = len;
        if (p->stages & KEEL_SOF_TIMESTAMPING_TX_SCHED)
            queue_report(tcb, p, KEEL_TSTAMP_SCHED);
        if (p->stages & KEEL_SOF_TIMESTAMPING_TX_SOFTWARE)
            queue_report(tcb, p, KEEL_TSTAMP_SND);
    }
}

/* SND.UNA moved: each marked byte below it is acknowledged (reported with
 * TX_ACK) and no longer followed. */
void tstamp_on_ack(struct tcb *tcb)
{
    struct tstamp *ts = tcb->tstamp;
    while (ts->points_n && seq_lt(point_at(ts, 0)->last, tcb->snd.una)) {
        struct tstamp_point *p = point_at(ts, 0);
        if (p->stages & KEEL_SOF_TIMESTAMPING_TX_ACK)
            queue_report(tcb, p, KEEL_TSTAMP_ACK);
        ts->points_head = (ts->points_head + 1) % KEEL_ERRQUEUE_MAX;
        ts->points_n--;
    }
}

bool tstamp_queued(const struct tcb *tcb)
{
    return tcb->tstamp && tcb->tstamp->queue_n > 0;
}

int keel_errqueue_read(keel_stack *st, int sock, struct keel_tx_timestamp *out)
{
    struct tcb *tcb = handle_get(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    if (!tstamp_queued(tcb))
        return KEEL_EAGAIN;
    struct tstamp *ts = tcb->tstamp;
    *out = ts->queue[ts->queue_head];
    ts->queue_head = (ts->queue_head + 1) % KEEL_ERRQUEUE_MAX;
    ts->queue_n--;
    return 0;
}
