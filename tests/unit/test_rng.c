/* The seeded generator: determinism, bounds and rough frequencies. */
#include "base/rng.h"
#include "harness.h"

TEST(rng_same_seed_same_sequence)
{
    struct rng a, b;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ_U(rng_next(&a), rng_next(&b));
}

TEST(rng_different_seeds_differ)
{
    struct rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += rng_next(&a) == rng_next(&b);
    CHECK(same < 2);
}

TEST(rng_zero_seed_is_usable)
{
    struct rng r;
    rng_seed(&r, 0);
    uint64_t first = rng_next(&r);
    CHECK(first != 0 || rng_next(&r) != 0);
    CHECK(r.s[0] | r.s[1] | r.s[2] | r.s[3]);
}

TEST(rng_mix64_is_stateless_and_mixes)
{
    CHECK_EQ_U(rng_mix64(12345), rng_mix64(12345));
    CHECK(rng_mix64(0) != 0);
    CHECK(rng_mix64(1) != rng_mix64(2));
    /* splitmix64's first output from state 0. */
    CHECK_EQ_U(rng_mix64(0), 0xe220a8397b1dcdafULL);
}

TEST(rng_below_bounds)
{
    static const uint32_t bounds[] = {1, 2, 3, 7, 10, 1000, 65537, 0x80000001u,
                                      0xffffffffu};
    struct rng r;
    rng_seed(&r, 7);
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        harness_context("n=%u", bounds[b]);
        for (int i = 0; i < 20000; i++)
            CHECK(rng_below(&r, bounds[b]) < bounds[b]);
    }
}

TEST(rng_below_covers_all_values)
{
    struct rng r;
    rng_seed(&r, 99);
    int hits[10] = {0};
    for (int i = 0; i < 100000; i++)
        hits[rng_below(&r, 10)]++;
    for (int v = 0; v < 10; v++) {
        CHECK(hits[v] > 9000);
        CHECK(hits[v] < 11000);
    }
}

TEST(rng_chance_extremes)
{
    struct rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < 100000; i++) {
        CHECK(!rng_chance_ppm(&r, 0));
        CHECK(rng_chance_ppm(&r, 1000000));
    }
}

TEST(rng_chance_half)
{
    struct rng r;
    rng_seed(&r, 5);
    int yes = 0;
    for (int i = 0; i < 100000; i++)
        yes += rng_chance_ppm(&r, 500000) != 0;
    CHECK(yes > 48500);
    CHECK(yes < 51500);
}

TEST(rng_chance_small)
{
    struct rng r;
    rng_seed(&r, 11);
    int yes = 0;
    for (int i = 0; i < 1000000; i++)
        yes += rng_chance_ppm(&r, 1000) != 0; /* 0.1% */
    CHECK(yes > 800);
    CHECK(yes < 1200);
}
