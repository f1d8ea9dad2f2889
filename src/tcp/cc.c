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

void cc_delay_sample(struct tcb *tcb, uint32_t rtt_us)
{
    if (tcb->cc->on_delay_sample)
        tcb->cc->on_delay_sample(tcb, rtt_us, tcb->st->now_us);
}
