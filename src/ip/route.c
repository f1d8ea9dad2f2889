/* Per-destination route metrics (Linux RTAX_ADVMSS, RTAX_MTU with its lock,
 * RTAX_INITCWND): a small table searched by longest prefix. */
#include "stack/stack.h"

static uint32_t prefix_mask(uint8_t len)
{
    return len ? ~(uint32_t)0 << (32 - len) : 0;
}

static struct keel_route *find_exact(keel_stack *st, uint32_t dst, uint8_t len)
{
    for (uint32_t i = 0; i < st->routes.n; i++) {
        struct keel_route *r = &st->routes.r[i];
        if (r->prefix_len == len && r->dst == (dst & prefix_mask(len)))
            return r;
    }
    return NULL;
}

const struct keel_route *route_lookup(const keel_stack *st, uint32_t dst)
{
    const struct keel_route *best = NULL;
    for (uint32_t i = 0; i < st->routes.n; i++) {
        const struct keel_route *r = &st->routes.r[i];
        bool match = (dst & prefix_mask(r->prefix_len)) == r->dst;
        if (match && (!best || r->prefix_len > best->prefix_len))
            best = r;
    }
    return best;
}

int keel_route_set(keel_stack *st, const struct keel_route *r)
{
    if (r->prefix_len > 32 || (r->mtu && r->mtu < 68))
        return KEEL_EINVAL;
    struct keel_route *slot = find_exact(st, r->dst, r->prefix_len);
    if (!slot) {
        if (st->routes.n == KEEL_ROUTES_MAX)
            return KEEL_ENOMEM;
        slot = &st->routes.r[st->routes.n++];
    }
    *slot = *r;
    slot->dst &= prefix_mask(r->prefix_len);
    st->routes.gen++;
    return 0;
}

int keel_route_del(keel_stack *st, uint32_t dst, uint8_t prefix_len)
{
    if (prefix_len > 32)
        return KEEL_EINVAL;
    struct keel_route *r = find_exact(st, dst, prefix_len);
    if (!r)
        return KEEL_ENOENT;
    *r = st->routes.r[--st->routes.n];
    st->routes.gen++;
    return 0;
}
