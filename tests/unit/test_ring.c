/* The growable byte ring, checked directly and against a linear model. */
#include <stdlib.h>
#include <string.h>

#include "base/ring.h"
#include "base/rng.h"
#include "harness.h"

static void fill_pattern(uint8_t *buf, uint32_t n, uint32_t start)
{
    for (uint32_t i = 0; i < n; i++)
        buf[i] = (uint8_t)((start + i) * 7 + 1);
}

static void check_pattern(const struct ring *r, uint32_t off, uint32_t n,
                          uint32_t start)
{
    uint8_t *got = malloc(n ? n : 1), *want = malloc(n ? n : 1);
    CHECK(got != NULL && want != NULL);
    ring_peek(r, off, got, n);
    fill_pattern(want, n, start);
    CHECK_MEM(got, want, n);
    free(got);
    free(want);
}

TEST(ring_starts_empty)
{
    struct ring r;
    ring_init(&r, 10000);
    CHECK_EQ(r.cap, 0);
    CHECK(r.buf == NULL);
    CHECK_EQ(r.len, 0);
    CHECK_EQ(ring_space(&r), 10000);
    ring_consume(&r, 0);
    ring_free(&r);
}

TEST(ring_append_peek_consume)
{
    struct ring r;
    ring_init(&r, 100000);
    uint8_t data[1000];
    fill_pattern(data, sizeof(data), 0);
    CHECK_EQ(ring_append(&r, data, 1000), 1000);
    CHECK_EQ(r.len, 1000);
    CHECK_EQ(r.cap, 4096);
    check_pattern(&r, 0, 1000, 0);
    check_pattern(&r, 100, 50, 100);
    ring_consume(&r, 300);
    CHECK_EQ(r.len, 700);
    check_pattern(&r, 0, 700, 300);
    CHECK_EQ(ring_space(&r), 100000 - 700);
    ring_free(&r);
}

TEST(ring_wraparound)
{
    struct ring r;
    ring_init(&r, 4096);
    uint8_t data[3000];
    fill_pattern(data, 3000, 0);
    CHECK_EQ(ring_append(&r, data, 3000), 3000);
    ring_consume(&r, 2500);
    fill_pattern(data, 3000, 3000);
    CHECK_EQ(ring_append(&r, data, 3000), 3000); /* wraps past the end */
    CHECK_EQ(r.cap, 4096);
    CHECK_EQ(r.len, 3500);
    check_pattern(&r, 0, 3500, 2500);
    uint32_t got;
    const uint8_t *p = ring_span(&r, 0, 3500, &got);
    CHECK_EQ(got, 4096 - 2500); /* up to the end of storage */
    CHECK_EQ(p[0], (uint8_t)(2500 * 7 + 1));
    p = ring_span(&r, got, 3500, &got);
    CHECK_EQ(got, 3500 - (4096 - 2500));
    CHECK(p == r.buf);
    ring_free(&r);
}

TEST(ring_growth_preserves_content)
{
    struct ring r;
    ring_init(&r, 1 << 20);
    uint8_t data[3000];
    fill_pattern(data, 3000, 0);
    ring_append(&r, data, 3000);
    ring_consume(&r, 2000); /* head moves near the end */
    uint32_t total = 3000;
    while (r.len < 50000) {
        fill_pattern(data, 3000, total);
        CHECK_EQ(ring_append(&r, data, 3000), 3000);
        total += 3000;
    }
    CHECK_EQ(r.cap, 65536);
    check_pattern(&r, 0, r.len, 2000);
    ring_free(&r);
}

TEST(ring_growth_preserves_out_of_order)
{
    struct ring r;
    ring_init(&r, 1 << 20);
    uint8_t data[4000];
    fill_pattern(data, 4000, 0);
    ring_append(&r, data, 4000);
    ring_consume(&r, 3000); /* head at 3000, holding bytes 3000..3999 */
    /* Out of order, inside the current storage (wrapped round its end). */
    fill_pattern(data, 500, 5000);
    CHECK_EQ(ring_write_at(&r, 2000, data, 500), 500);
    CHECK_EQ(r.cap, 4096);
    CHECK_EQ(r.len, 1000);
    /* Far ahead: forces growth, which must keep the earlier bytes. */
    fill_pattern(data, 100, 90000);
    CHECK_EQ(ring_write_at(&r, 40000, data, 100), 100);
    CHECK_EQ(r.cap, 65536);
    CHECK_EQ(r.head, 0);
    check_pattern(&r, 0, 1000, 3000);
    /* Fill the hole, then take in everything up to the second block. */
    fill_pattern(data, 1000, 4000);
    CHECK_EQ(ring_write_at(&r, 1000, data, 1000), 1000);
    ring_extend(&r, 1500);
    CHECK_EQ(r.len, 2500);
    check_pattern(&r, 0, 2500, 3000);
    ring_consume(&r, 2500);
    ring_extend(&r, 37600);
    check_pattern(&r, 37500, 100, 90000);
    ring_free(&r);
}

TEST(ring_limit_respected)
{
    struct ring r;
    ring_init(&r, 5000);
    uint8_t *data = calloc(20000, 1);
    CHECK(data != NULL);
    CHECK_EQ(ring_append(&r, data, 20000), 5000);
    CHECK_EQ(ring_space(&r), 0);
    CHECK_EQ(ring_append(&r, data, 1), 0);
    CHECK(r.cap <= 8192);
    ring_consume(&r, 100);
    CHECK_EQ(ring_append(&r, data, 20000), 100);
    CHECK(r.cap <= 8192);
    /* Out-of-order writes may reach the limit but the storage stays bounded. */
    ring_consume(&r, 5000);
    CHECK_EQ(ring_write_at(&r, 4000, data, 1000), 1000);
    CHECK(r.cap <= 8192);
    free(data);
    ring_free(&r);
}

TEST(ring_small_limit_small_storage)
{
    struct ring r;
    ring_init(&r, 100);
    uint8_t data[200] = {0};
    CHECK_EQ(ring_append(&r, data, 200), 100);
    CHECK_EQ(r.cap, 128);
    ring_free(&r);
}

TEST(ring_set_limit_below_len_keeps_bytes)
{
    struct ring r;
    ring_init(&r, 10000);
    uint8_t data[8000];
    fill_pattern(data, 8000, 0);
    CHECK_EQ(ring_append(&r, data, 8000), 8000);
    ring_set_limit(&r, 2000);
    CHECK_EQ(r.len, 8000);
    CHECK_EQ(ring_space(&r), 0);
    CHECK_EQ(ring_append(&r, data, 10), 0);
    check_pattern(&r, 0, 8000, 0);
    ring_consume(&r, 7000);
    CHECK_EQ(ring_space(&r), 1000);
    CHECK_EQ(ring_append(&r, data, 5000), 1000);
    check_pattern(&r, 0, 1000, 7000);
    check_pattern(&r, 1000, 1000, 0);
    ring_set_limit(&r, 100000);
    CHECK_EQ(ring_space(&r), 98000);
    ring_free(&r);
}

TEST(ring_span_limits)
{
    struct ring r;
    ring_init(&r, 4096);
    uint8_t data[100];
    fill_pattern(data, 100, 0);
    ring_append(&r, data, 100);
    uint32_t got;
    const uint8_t *p = ring_span(&r, 10, 1000, &got);
    CHECK_EQ(got, 90); /* no further than what is held */
    CHECK_EQ(p[0], data[10]);
    p = ring_span(&r, 10, 5, &got);
    CHECK_EQ(got, 5);
    ring_free(&r);
}

/* A linear model: model[i] is the byte at offset i from the head. */
struct ring_model {
    uint8_t *bytes;
    uint8_t *known; /* written at this offset */
    uint32_t len;
};

static void model_consume(struct ring_model *m, uint32_t n, uint32_t limit)
{
    memmove(m->bytes, m->bytes + n, limit);
    memmove(m->known, m->known + n, limit);
    memset(m->known + limit, 0, n);
    m->len -= n;
}

static void model_write(struct ring_model *m, uint32_t off, const uint8_t *d, uint32_t n)
{
    memcpy(m->bytes + off, d, n);
    memset(m->known + off, 1, n);
}

/* The contiguous known run starting at len. */
static uint32_t model_known_run(const struct ring_model *m, uint32_t limit)
{
    uint32_t n = 0;
    while (m->len + n < limit && m->known[m->len + n])
        n++;
    return n;
}

static void check_against_model(const struct ring *r, const struct ring_model *m)
{
    CHECK_EQ(r->len, m->len);
    uint8_t *got = malloc(m->len + 1);
    CHECK(got != NULL);
    ring_peek(r, 0, got, m->len);
    CHECK_MEM(got, m->bytes, m->len);
    free(got);
}

static void random_ring_step(struct rng *g, struct ring *r, struct ring_model *m,
                             uint8_t *scratch)
{
    uint32_t n = rng_below(g, 3) == 0 ? rng_below(g, 20000) : rng_below(g, 600);
    fill_pattern(scratch, n, (uint32_t)rng_next(g));
    switch (rng_below(g, 6)) {
    case 0:
    case 1: {
        uint32_t want = n < ring_space(r) ? n : ring_space(r);
        CHECK_EQ(ring_append(r, scratch, n), want);
        model_write(m, m->len, scratch, want);
        m->len += want;
        break;
    }
    case 2: {
        if (m->len >= r->limit)
            break;
        uint32_t off = m->len + rng_below(g, r->limit - m->len);
        if (off + n > r->limit)
            n = r->limit - off;
        CHECK_EQ(ring_write_at(r, off, scratch, n), n);
        model_write(m, off, scratch, n);
        break;
    }
    case 3: {
        uint32_t run = model_known_run(m, r->limit);
        uint32_t ext = run ? rng_below(g, run + 1) : 0;
        ring_extend(r, ext);
        m->len += ext;
        break;
    }
    case 4: {
        uint32_t c = m->len ? rng_below(g, m->len + 1) : 0;
        ring_consume(r, c);
        model_consume(m, c, r->limit);
        break;
    }
    default:
        if (m->len > 0) {
            uint32_t off = rng_below(g, m->len), got;
            const uint8_t *p = ring_span(r, off, n + 1, &got);
            CHECK(got >= 1 && got <= n + 1 && got <= m->len - off);
            CHECK_MEM(p, m->bytes + off, got);
        }
        break;
    }
}

TEST(ring_random_vs_model)
{
    enum { LIMIT = 50000, SIZE = 2 * LIMIT };
    uint8_t *scratch = malloc(20000);
    struct ring_model m = {calloc(SIZE, 1), calloc(SIZE, 1), 0};
    CHECK(scratch != NULL && m.bytes != NULL && m.known != NULL);
    for (uint64_t seed = 1; seed <= 6; seed++) {
        harness_context("seed=%llu", (unsigned long long)seed);
        struct rng g;
        rng_seed(&g, seed);
        struct ring r;
        ring_init(&r, LIMIT);
        memset(m.known, 0, SIZE);
        m.len = 0;
        for (int step = 0; step < 2000; step++) {
            random_ring_step(&g, &r, &m, scratch);
            check_against_model(&r, &m);
            CHECK(r.cap <= 65536);
        }
        ring_free(&r);
    }
    free(scratch);
    free(m.bytes);
    free(m.known);
}
