/* Byte ring with storage that grows by doubling up to the limit. */
#include "base/ring.h"

#include <stdlib.h>
#include <string.h>

#define RING_MIN_CAP 4096u
#define RING_MAX_CAP 0x80000000u

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The smallest power of two >= n (1 for 0), saturating at RING_MAX_CAP. */
static uint32_t next_pow2(uint32_t n)
{
    uint32_t p = 1;
    while (p < n && p < RING_MAX_CAP)
        p <<= 1;
    return p;
}

static uint32_t max_cap(const struct ring *r)
{
    return next_pow2(r->limit);
}

static uint32_t grown_cap(const struct ring *r, uint32_t need)
{
    uint32_t cap = r->cap ? r->cap * 2 : RING_MIN_CAP;
    if (cap < need)
        cap = next_pow2(need);
    return min_u32(cap, max_cap(r));
}

/* Moves the ring into a new buffer of new_cap bytes with the head at 0,
 * keeping every stored byte (offsets [0, cap) from the head). */
static int relocate(struct ring *r, uint32_t new_cap)
{
    uint8_t *buf = malloc(new_cap);
    if (buf == NULL)
        return -1;
    if (r->cap > 0) {
        uint32_t first = r->cap - r->head;
        memcpy(buf, r->buf + r->head, first);
        memcpy(buf + first, r->buf, r->head);
    }
    free(r->buf);
    r->buf = buf;
    r->cap = new_cap;
    r->head = 0;
    return 0;
}

/* Makes offsets [0, need) from the head addressable. */
static int reserve(struct ring *r, uint32_t need)
{
    if (need <= r->cap)
        return 0;
    uint32_t cap = grown_cap(r, need);
    if (cap < need)
        return -1;
    return relocate(r, cap);
}

static uint32_t index_at(const struct ring *r, uint32_t off)
{
    return (r->head + off) & (r->cap - 1);
}

static void copy_in(struct ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
    if (n == 0)
        return;
    uint32_t idx = index_at(r, off);
    uint32_t first = min_u32(n, r->cap - idx);
    memcpy(r->buf + idx, src, first);
    memcpy(r->buf, src + first, n - first);
}

static void copy_out(const struct ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
    if (n == 0)
        return;
    uint32_t idx = index_at(r, off);
    uint32_t first = min_u32(n, r->cap - idx);
    memcpy(dst, r->buf + idx, first);
    memcpy(dst + first, r->buf, n - first);
}

void ring_init(struct ring *r, uint32_t limit)
{
    memset(r, 0, sizeof(*r));
    r->limit = limit;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    ring_init(r, r->limit);
}

void ring_set_limit(struct ring *r, uint32_t limit)
{
    r->limit = limit;
}

uint32_t ring_space(const struct ring *r)
{
    return r->len >= r->limit ? 0 : r->limit - r->len;
}

uint32_t ring_append(struct ring *r, const void *data, uint32_t n)
{
    n = min_u32(n, ring_space(r));
    if (n == 0 || reserve(r, r->len + n) != 0)
        return 0;
    copy_in(r, r->len, data, n);
    r->len += n;
    return n;
}

uint32_t ring_write_at(struct ring *r, uint32_t off, const void *data, uint32_t n)
{
    if (n == 0 || reserve(r, off + n) != 0)
        return 0;
    copy_in(r, off, data, n);
    return n;
}

void ring_extend(struct ring *r, uint32_t n)
{
    r->len += n;
}

void ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t n)
{
    copy_out(r, off, out, n);
}

void ring_consume(struct ring *r, uint32_t n)
{
    if (n == 0)
        return;
    r->head = index_at(r, n);
    r->len -= n;
}

const uint8_t *ring_span(const struct ring *r, uint32_t off, uint32_t n, uint32_t *got)
{
    uint32_t idx = index_at(r, off);
    *got = min_u32(min_u32(n, r->len - off), r->cap - idx);
    return r->buf + idx;
}
