/* The congestion-control algorithms keel knows, by name (TCP_CONGESTION). */
#include <string.h>

#include "tcp/cc.h"
#include "tcp/tcb.h"

static const struct cc_ops *const algorithms[] = {&cc_newreno, &cc_cubic};

uint32_t cc_slow_start(struct tcb *tcb, uint32_t acked)
{
    uint64_t cwnd = (uint64_t)tcb->cwnd + acked;
    if (cwnd > tcb->ssthresh)
        cwnd = tcb->ssthresh;
    acked -= (uint32_t)(cwnd - tcb->cwnd);
    tcb->cwnd = (uint32_t)cwnd;
    return acked;
}

/* RFC 5681 §4.1 restarts from min(IW, cwnd) after an idle period of more
 * than one RTO; Linux (tcp_cwnd_restart, after RFC 2861) halves cwnd once
 * per RTO idle, in segments, down to that restart window, and keeps
 * ssthresh at least 3/4 of the old cwnd (tcp_current_ssthresh) outside a
 * reduction. The restart window is the initial one (the route's
 * initcwnd, as Linux tcp_init_cwnd). */
void cc_restart_after_idle(struct tcb *tcb, uint64_t idle_us)
{
    uint32_t cwnd = tcb->cwnd / tcb->mss;
    uint32_t restart = tcb->init_cwnd_segs;
    uint32_t three_quarters = (cwnd / 2 + cwnd / 4) * tcb->mss;
    if (!tcb->in_recovery && tcb->ssthresh < three_quarters)
        tcb->ssthresh = three_quarters;
    if (cwnd <= restart)
        return; /* at or below the restart window already */
    for (; idle_us > tcb->rto_us && cwnd > restart; idle_us -= tcb->rto_us)
        cwnd /= 2;
    if (cwnd < restart)
        cwnd = restart;
    tcb->cwnd = cwnd * tcb->mss;
    tcb->cwnd_acked = 0;
}

uint64_t cc_pacing_rate(const struct tcb *tcb)
{
    const struct keel_config *cfg = &tcb->st->cfg;
    if (!tcb->srtt_us)
        return 0;
    uint32_t window = tcb->cwnd > tcp_flight(tcb) ? tcb->cwnd : tcp_flight(tcb);
    bool early_slow_start = tcb->cwnd < tcb->ssthresh / 2;
    uint64_t ratio = early_slow_start ? cfg->pacing_ss_ratio : cfg->pacing_ca_ratio;
    return (uint64_t)window * ratio * 10000 / tcb->srtt_us;
}

const struct cc_ops *cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
        if (strcmp(algorithms[i]->name, name) == 0)
            return algorithms[i];
    return NULL;
}

void cc_note_new_data(struct tcb *tcb, seq_t seq, uint32_t len)
{
    struct cc_tx_log *log = &tcb->tx_log;
    if (!len)
        return;
    if (log->n == CC_TX_MARKS) { /* full: the oldest bytes go unsampled */
        log->from = log->mark[log->head].end;
        log->gap = true;
        log->head = (uint8_t)((log->head + 1) % CC_TX_MARKS);
        log->n--;
    }
    uint8_t i = (uint8_t)((log->head + log->n) % CC_TX_MARKS);
    log->mark[i] = (struct cc_tx_mark){seq, seq_add(seq, len), tcb->st->now_us};
    log->n++;
}

void cc_note_retransmit(struct tcb *tcb)
{
    tcb->tx_log.n = 0;
    tcb->tx_log.from = tcb->snd.max;
    tcb->tx_log.gap = true;
}

/* Linux tcp_clean_rtx_queue's ca_rtt: the time since the newest
 * acknowledged byte was sent (a partly acknowledged transmission counts),
 * unless bytes sent before the last retransmission were acknowledged. */
static bool delay_sample(struct tcb *tcb, seq_t old_una, uint32_t *rtt_us)
{
    struct cc_tx_log *log = &tcb->tx_log;
    seq_t ack = tcb->snd.una;
    bool found = false;
    while (log->n && seq_lt(log->mark[log->head].start, ack)) {
        const struct cc_tx_mark *m = &log->mark[log->head];
        *rtt_us = (uint32_t)(tcb->st->now_us - m->at_us);
        found = true;
        if (seq_gt(m->end, ack))
            break;
        log->head = (uint8_t)((log->head + 1) % CC_TX_MARKS);
        log->n--;
    }
    return found && (!log->gap || seq_ge(old_una, log->from));
}

void cc_acked(struct tcb *tcb, seq_t old_una)
{
    uint32_t rtt_us;
    if (delay_sample(tcb, old_una, &rtt_us) && tcb->cc->on_delay_sample)
        tcb->cc->on_delay_sample(tcb, rtt_us, tcb->st->now_us);
}
