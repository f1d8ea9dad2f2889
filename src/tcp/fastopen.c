/* TCP Fast Open, the client side (RFC 7413 §4.1 and §4.2): the cookie
 * request, the per-stack cookie cache, and the connect() that waits for
 * the first send (Linux tcp_fastopen_cookie_check, tcp_fastopen_defer_connect,
 * tcp_fastopen_cache_get/set). */
#include "tcp/tcb.h"

#include <string.h>

static struct fo_cache_entry *cache_find(keel_stack *st, uint32_t addr)
{
    for (size_t i = 0; i < KEEL_FO_CACHE_SIZE; i++)
        if (st->fo_cache[i].addr == addr)
            return &st->fo_cache[i];
    return NULL;
}

/* RFC 7413 §4.1.3.1: the cache is bounded; a new server takes a free slot
 * or the one set longest ago. */
static struct fo_cache_entry *cache_slot(keel_stack *st, uint32_t addr)
{
    struct fo_cache_entry *e = cache_find(st, addr);
    if (e)
        return e;
    e = &st->fo_cache[0];
    for (size_t i = 1; i < KEEL_FO_CACHE_SIZE && e->addr; i++)
        if (!st->fo_cache[i].addr || st->fo_cache[i].stamp < e->stamp)
            e = &st->fo_cache[i];
    return e;
}

/* Linux tcp_fastopen_defer_connect: with a cookie for the peer, connect()
 * completes at once and the SYN leaves with the first data; without one,
 * the SYN asks for a cookie (RFC 7413 §4.1.1: an option without one). */
bool tcp_fastopen_defer_connect(struct tcb *tcb)
{
    keel_stack *st = tcb->st;
    if (!tcb->fo_connect || st->cfg.no_fastopen_client)
        return false;
    tcb->fo_syn = true;
    const struct fo_cache_entry *e = cache_find(st, tcb->raddr);
    if (!e) {
        tcb->fo_len = 0;
        CTR_INC(st, TCPFastOpenCookieRequested);
        return false;
    }
    tcb->fo_len = e->len;
    memcpy(tcb->fo_cookie, e->cookie, e->len);
    tcb->fo_deferred = true;
    CTR_INC(st, TCPFastOpenDeferredConnect);
    return true;
}

/* The option goes last; tcp_emit leaves it off when the option space left
 * is too small (an MD5 signature and a long cookie), as Linux tcp_syn_options. */
void tcp_fastopen_syn_option(const struct tcb *tcb, struct tcp_opts *o)
{
    if (!tcb->fo_syn)
        return;
    o->present |= TCP_OPT_FASTOPEN;
    o->fo_len = tcb->fo_len;
    memcpy(o->fo_cookie, tcb->fo_cookie, tcb->fo_len);
}

/* RFC 7413 §4.2.2 (Linux tcp_rcv_fastopen_synack): the cookie of a SYN-ACK
 * replaces the one cached for the server; a SYN-ACK without one leaves the
 * cache alone, and a cookie we did not ask for is ignored and counted. The
 * wire parser already dropped cookies of a length RFC 7413 §4.1.1 forbids. */
void tcp_fastopen_synack(struct tcb *tcb, const struct tcp_opts *o)
{
    keel_stack *st = tcb->st;
    if (!(o->present & TCP_OPT_FASTOPEN) || o->fo_len == 0)
        return;
    if (!tcb->fo_syn) {
        CTR_INC(st, TCPFastOpenUnsolicitedCookie);
        return;
    }
    struct fo_cache_entry *e = cache_slot(st, tcb->raddr);
    e->addr = tcb->raddr;
    e->len = o->fo_len;
    memcpy(e->cookie, o->fo_cookie, o->fo_len);
    e->stamp = st->now_us;
    CTR_INC(st, TCPFastOpenCookieCached);
}
