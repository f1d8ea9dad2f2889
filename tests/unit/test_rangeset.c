/* The bounded range set, including ranges across the 2^32 wrap, and a
 * randomized comparison with a bitmap model. */
#include <string.h>

#include "base/rangeset.h"
#include "base/rng.h"
#include "harness.h"

static seq_t S(uint32_t v) { return seq_make(v); }

static int add(struct rangeset *s, uint32_t l, uint32_t r)
{
    return rangeset_add(s, S(l), S(r));
}

static void check_range(const struct rangeset *s, int i, uint32_t l, uint32_t r)
{
    CHECK(i < s->n);
    CHECK_EQ_U(s->r[i].left.v, l);
    CHECK_EQ_U(s->r[i].right.v, r);
}

TEST(rangeset_add_disjoint_sorted)
{
    struct rangeset s;
    rangeset_init(&s, 8);
    CHECK_EQ(add(&s, 300, 400), 0);
    CHECK_EQ(add(&s, 100, 200), 0);
    CHECK_EQ(add(&s, 500, 600), 0);
    CHECK_EQ(s.n, 3);
    check_range(&s, 0, 100, 200);
    check_range(&s, 1, 300, 400);
    check_range(&s, 2, 500, 600);
    CHECK_EQ_U(rangeset_bytes(&s), 300);
}

TEST(rangeset_merge_overlap_and_adjacent)
{
    struct rangeset s;
    rangeset_init(&s, 8);
    add(&s, 100, 200);
    CHECK_EQ(add(&s, 200, 250), 0); /* adjacent on the right */
    CHECK_EQ(add(&s, 50, 100), 0);  /* adjacent on the left */
    CHECK_EQ(s.n, 1);
    check_range(&s, 0, 50, 250);
    CHECK_EQ(add(&s, 240, 300), 0); /* overlapping */
    CHECK_EQ(add(&s, 60, 70), 0);   /* inside */
    CHECK_EQ(s.n, 1);
    check_range(&s, 0, 50, 300);
}

TEST(rangeset_add_bridges_several)
{
    struct rangeset s;
    rangeset_init(&s, 8);
    add(&s, 10, 20);
    add(&s, 30, 40);
    add(&s, 50, 60);
    add(&s, 70, 80);
    add(&s, 90, 100);
    CHECK_EQ(add(&s, 20, 75), 0); /* joins the first four */
    CHECK_EQ(s.n, 2);
    check_range(&s, 0, 10, 80);
    check_range(&s, 1, 90, 100);
    CHECK_EQ(add(&s, 0, 200), 0);
    CHECK_EQ(s.n, 1);
    check_range(&s, 0, 0, 200);
}

TEST(rangeset_cap_enforced)
{
    struct rangeset s;
    rangeset_init(&s, 3);
    add(&s, 10, 20);
    add(&s, 30, 40);
    add(&s, 50, 60);
    struct rangeset before = s;
    CHECK_EQ(add(&s, 70, 80), -1);
    CHECK_EQ(add(&s, 0, 5), -1);
    CHECK_EQ(add(&s, 22, 28), -1);
    CHECK(memcmp(&s, &before, sizeof(s)) == 0);
    /* Merging needs no new range, so it succeeds even when full. */
    CHECK_EQ(add(&s, 20, 22), 0);
    CHECK_EQ(add(&s, 35, 55), 0);
    check_range(&s, 0, 10, 22);
    check_range(&s, 1, 30, 60);
    CHECK_EQ(add(&s, 70, 80), 0);
    CHECK_EQ(s.n, 3);
}

TEST(rangeset_trim)
{
    struct rangeset s;
    rangeset_init(&s, 8);
    add(&s, 10, 20);
    add(&s, 30, 40);
    add(&s, 50, 60);
    rangeset_trim_below(&s, S(15));
    check_range(&s, 0, 15, 20);
    rangeset_trim_below(&s, S(20));
    CHECK_EQ(s.n, 2);
    check_range(&s, 0, 30, 40);
    rangeset_trim_above(&s, S(55));
    check_range(&s, 1, 50, 55);
    rangeset_trim_above(&s, S(50));
    CHECK_EQ(s.n, 1);
    rangeset_trim_above(&s, S(0));
    CHECK_EQ(s.n, 0);
    CHECK_EQ_U(rangeset_bytes(&s), 0);
}

TEST(rangeset_queries)
{
    struct rangeset s;
    rangeset_init(&s, 8);
    add(&s, 10, 20);
    add(&s, 30, 40);
    CHECK(rangeset_contains(&s, S(10)));
    CHECK(rangeset_contains(&s, S(19)));
    CHECK(!rangeset_contains(&s, S(20)));
    CHECK(!rangeset_contains(&s, S(9)));
    CHECK(rangeset_covers(&s, S(10), S(20)));
    CHECK(rangeset_covers(&s, S(32), S(35)));
    CHECK(!rangeset_covers(&s, S(15), S(35))); /* spans the gap */
    CHECK(!rangeset_covers(&s, S(5), S(12)));
    CHECK_EQ_U(rangeset_overlap(&s, S(0), S(100)), 20);
    CHECK_EQ_U(rangeset_overlap(&s, S(15), S(35)), 10);
    CHECK_EQ_U(rangeset_overlap(&s, S(20), S(30)), 0);
    CHECK_EQ_U(rangeset_bytes(&s), 20);
}

TEST(rangeset_across_wrap)
{
    struct rangeset s;
    rangeset_init(&s, 8);
    CHECK_EQ(add(&s, 0x10, 0x20), 0);
    CHECK_EQ(add(&s, 0xfffffff0u, 0x8), 0); /* straddles 2^32 */
    CHECK_EQ(add(&s, 0xffffff00u, 0xffffff10u), 0);
    CHECK_EQ(s.n, 3);
    check_range(&s, 0, 0xffffff00u, 0xffffff10u);
    check_range(&s, 1, 0xfffffff0u, 0x8);
    check_range(&s, 2, 0x10, 0x20);
    CHECK(rangeset_contains(&s, S(0xffffffffu)));
    CHECK(rangeset_contains(&s, S(0)));
    CHECK(!rangeset_contains(&s, S(0x8)));
    CHECK(rangeset_covers(&s, S(0xfffffffeu), S(2)));
    CHECK_EQ_U(rangeset_bytes(&s), 0x10 + 0x18 + 0x10);
    CHECK_EQ_U(rangeset_overlap(&s, S(0xfffffff8u), S(0x18)), 8 + 8 + 8);
    CHECK_EQ(add(&s, 0x8, 0x10), 0); /* bridges across the wrap */
    CHECK_EQ(s.n, 2);
    check_range(&s, 1, 0xfffffff0u, 0x20);
    rangeset_trim_below(&s, S(0xfffffffcu));
    CHECK_EQ(s.n, 1);
    check_range(&s, 0, 0xfffffffcu, 0x20);
    rangeset_trim_above(&s, S(0x2));
    check_range(&s, 0, 0xfffffffcu, 0x2);
    CHECK_EQ_U(rangeset_bytes(&s), 6);
}

/* Bitmap model over a window of WIN sequence numbers starting at base. */
enum { WIN = 512 };

struct bit_model {
    uint32_t base;
    bool bit[WIN];
};

static int model_runs(const struct bit_model *m)
{
    int runs = 0;
    for (int i = 0; i < WIN; i++)
        runs += m->bit[i] && (i == 0 || !m->bit[i - 1]);
    return runs;
}

static void check_matches_model(const struct rangeset *s, const struct bit_model *m)
{
    int k = 0, i = 0;
    while (i < WIN) {
        if (!m->bit[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < WIN && m->bit[j])
            j++;
        check_range(s, k, m->base + (uint32_t)i, m->base + (uint32_t)j);
        k++;
        i = j;
    }
    CHECK_EQ(s->n, k);
}

static void random_query(struct rng *g, const struct rangeset *s,
                         const struct bit_model *m)
{
    uint32_t a = rng_below(g, WIN), b = a + 1 + rng_below(g, WIN - a);
    bool all = true;
    uint32_t count = 0;
    for (uint32_t i = a; i < b; i++) {
        all = all && m->bit[i];
        count += m->bit[i];
    }
    seq_t l = S(m->base + a), r = S(m->base + b);
    CHECK_EQ(rangeset_contains(s, l), m->bit[a]);
    CHECK_EQ(rangeset_overlap(s, l, r), count);
    /* covers means one range: a run of set bits is exactly one range. */
    CHECK_EQ(rangeset_covers(s, l, r), all);
}

static void random_rangeset_step(struct rng *g, struct rangeset *s,
                                 struct bit_model *m)
{
    uint32_t a = rng_below(g, WIN - 1);
    uint32_t b = a + 1 + rng_below(g, rng_chance_ppm(g, 800000) ? 12 : WIN - 1 - a);
    if (b > WIN)
        b = WIN;
    switch (rng_below(g, 10)) {
    case 0:
        rangeset_trim_below(s, S(m->base + a));
        memset(m->bit, 0, a * sizeof(m->bit[0]));
        break;
    case 1:
        rangeset_trim_above(s, S(m->base + b));
        memset(m->bit + b, 0, (WIN - b) * sizeof(m->bit[0]));
        break;
    default: {
        struct bit_model next = *m;
        for (uint32_t i = a; i < b; i++)
            next.bit[i] = true;
        bool fits = model_runs(&next) <= s->cap;
        CHECK_EQ(rangeset_add(s, S(m->base + a), S(m->base + b)), fits ? 0 : -1);
        if (fits)
            *m = next;
        break;
    }
    }
}

static void random_rangeset_run(uint64_t seed, uint32_t base, uint8_t cap)
{
    harness_context("seed=%llu base=%#x cap=%u", (unsigned long long)seed, base, cap);
    struct rng g;
    rng_seed(&g, seed);
    struct rangeset s;
    struct bit_model m = {.base = base};
    rangeset_init(&s, cap);
    for (int step = 0; step < 3000; step++) {
        random_rangeset_step(&g, &s, &m);
        check_matches_model(&s, &m);
        int bytes = 0;
        for (int i = 0; i < WIN; i++)
            bytes += m.bit[i];
        CHECK_EQ_U(rangeset_bytes(&s), bytes);
        random_query(&g, &s, &m);
    }
}

TEST(rangeset_random_vs_model)
{
    static const uint32_t bases[] = {0, 1000, 0xffffff00u, 0x7fffff00u};
    static const uint8_t caps[] = {1, 4, 16, RANGESET_MAX};
    for (uint64_t seed = 1; seed <= 4; seed++)
        for (size_t b = 0; b < 4; b++)
            for (size_t c = 0; c < 4; c++)
                random_rangeset_run(seed * 100 + b * 10 + c, bases[b], caps[c]);
}
