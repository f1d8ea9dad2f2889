/* Initial sequence numbers (RFC 6528) and ephemeral ports (RFC 6056). */
#include <string.h>

#include "base/siphash.h"
#include "tcp/tcb.h"

struct tuple_key {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t salt;
};

static uint64_t keyed_tuple_hash(const keel_stack *st, uint32_t laddr, uint16_t lport,
                                 uint32_t raddr, uint16_t rport, uint32_t salt)
{
    struct tuple_key k;
    memset(&k, 0, sizeof k);
    k.laddr = laddr;
    k.raddr = raddr;
    k.lport = lport;
    k.rport = rport;
    k.salt = salt;
    return siphash24(st->cfg.secret, &k, sizeof k);
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4-microsecond timer. */
seq_t isn_generate(keel_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
                   uint16_t rport)
{
    uint32_t f = (uint32_t)keyed_tuple_hash(st, laddr, lport, raddr, rport, 0);
    uint32_t m = (uint32_t)(st->now_us / 4);
    return seq_make(m + f + st->cfg.isn_offset);
}

/* RFC 6056 §3.3: a randomized search of the range (the offset keyed by the
 * destination as in §3.3.3, plus a random start as in §3.3.1), skipping any
 * port whose 4-tuple is still in use, TIME-WAIT included, and any port a
 * listener holds. */
int ephemeral_port(keel_stack *st, uint32_t laddr, uint32_t raddr, uint16_t rport,
                   uint16_t *port)
{
    uint32_t lo = st->cfg.ephemeral_lo, hi = st->cfg.ephemeral_hi;
    uint32_t count = hi - lo + 1;
    uint32_t offset = (uint32_t)keyed_tuple_hash(st, laddr, 0, raddr, rport, 1);
    uint32_t start = offset + (uint32_t)rng_below(&st->rng, count);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t p = (uint16_t)(lo + (start + i) % count);
        if (demux_listener(&st->demux, laddr, p))
            continue;
        if (!demux_lookup(&st->demux, laddr, p, raddr, rport)) {
            *port = p;
            return 0;
        }
    }
    CTR_INC(st, TCPEphemeralExhausted);
    return KEEL_EADDRNOTAVAIL;
}
