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

const struct cc_ops *cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
        if (strcmp(algorithms[i]->name, name) == 0)
            return algorithms[i];
    return NULL;
}
