/* Round-trip time estimation and the retransmission timeout (RFC 6298),
 * with Linux's bounds: RTO min 200 ms, max 120 s, initial 1 s. */
#include "tcp/tcb.h"

/* The least round-trip time seen (Linux tcp_update_rtt_min, without its
 * ten-second window). */
void rtt_min_sample(struct tcb *tcb, uint32_t rtt_us)
{
    if (rtt_us == 0)
        rtt_us = 1;
    if (!tcb->min_rtt_us || rtt_us < tcb->min_rtt_us)
        tcb->min_rtt_us = rtt_us;
}

/* RFC 6298 §2.2-2.4, with alpha = 1/8 and beta = 1/4. */
void rtt_sample(struct tcb *tcb, uint32_t rtt_us)
{
    if (rtt_us == 0)
        rtt_us = 1;
    rtt_min_sample(tcb, rtt_us);
    if (!tcb->rtt_measured) {
        tcb->srtt_us = rtt_us;
        tcb->rttvar_us = rtt_us / 2;
        tcb->rtt_measured = true;
    } else {
        uint32_t delta = rtt_us > tcb->srtt_us ? rtt_us - tcb->srtt_us
                                               : tcb->srtt_us - rtt_us;
        tcb->rttvar_us = tcb->rttvar_us - tcb->rttvar_us / 4 + delta / 4;
        tcb->srtt_us = tcb->srtt_us - tcb->srtt_us / 8 + rtt_us / 8;
    }
    /* Linux keeps the variance term at least rto_min: RTO = SRTT + max(4 *
     * RTTVAR, 200 ms), so the floor sits above the RTT, not below it. */
    uint64_t var4 = 4 * (uint64_t)tcb->rttvar_us;
    if (var4 < TCP_RTO_MIN_US)
        var4 = TCP_RTO_MIN_US;
    uint64_t rto = (uint64_t)tcb->srtt_us + var4;
    if (rto > TCP_RTO_MAX_US)
        rto = TCP_RTO_MAX_US;
    tcb->rto_us = (uint32_t)rto;
}

/* The timeout in force: the base RTO doubled per backoff (RFC 6298 §5.5),
 * capped at the maximum. */
uint32_t rto_current(const struct tcb *tcb)
{
    uint64_t rto = (uint64_t)tcb->rto_us << tcb->backoff;
    return rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : (uint32_t)rto;
}

void rto_backoff(struct tcb *tcb)
{
    if (((uint64_t)tcb->rto_us << tcb->backoff) < TCP_RTO_MAX_US)
        tcb->backoff++;
}
