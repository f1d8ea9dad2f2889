/* Seeded bulk transfers over impaired links: reordering, duplication,
 * corruption (the checksums must catch every flipped bit), a small MTU, a
 * bandwidth limit with a small queue, and everything at once. The same
 * safety and liveness checks as test_sim_loss.c; replay one seed with
 * KEEL_SIM_SEED=N (KEEL_TRACE=1 prints the packets). */
#include <inttypes.h>

#include "harness.h"
#include "sim/scenarios.h"

typedef void (*impair_fn)(uint64_t seed, struct sc_spec *s);
/* Checks one run; returns how often the impairment struck (summed over the
 * sweep, which must be above 0: a short run may well see none). */
typedef uint64_t (*check_fn)(const struct sc_spec *s, const struct sc_report *r);

static void sweep(const char *name, uint64_t count, impair_fn impair, check_fn check)
{
    uint64_t first, last, struck = 0;
    sc_seed_range(count, &first, &last);
    for (uint64_t seed = first; seed <= last; seed++) {
        struct sc_spec spec;
        struct sc_report r;
        char desc[400];
        sc_spec_random(seed, &spec);
        impair(seed, &spec);
        sc_spec_describe(&spec, desc, sizeof desc);
        harness_context("%s seed %" PRIu64 " (replay: KEEL_SIM_SEED=%" PRIu64 "): %s", name,
                        seed, seed, desc);
        if (!sc_run_bulk(seed, &spec, &r, NULL))
            harness_fail(__FILE__, __LINE__, "%s", r.why);
        sc_report_print(name, seed, &r);
        if (check)
            struck += check(&spec, &r);
    }
    harness_context("%s seeds %" PRIu64 "-%" PRIu64, name, first, last);
    CHECK(!check || struck > 0);
}

static uint64_t both(const struct sc_report *r, enum keel_counter_id id)
{
    return r->ctr[0].v[id] + r->ctr[1].v[id];
}

/* 0.5% to 5% of packets swapped with the next one, some loss. */
static void reorder(uint64_t seed, struct sc_spec *s)
{
    s->link.reorder_ppm = (uint32_t)sc_pick(seed, 100, 5000, 50000);
    s->link.loss_ppm = (uint32_t)sc_pick(seed, 101, 0, 5000);
}

static uint64_t check_reorder(const struct sc_spec *s, const struct sc_report *r)
{
    (void)s;
    return r->link[0].reordered + r->link[1].reordered;
}

/* 1% to 10% of packets arrive twice. */
static void duplicate(uint64_t seed, struct sc_spec *s)
{
    s->link.dup_ppm = (uint32_t)sc_pick(seed, 100, 10000, 100000);
}

static uint64_t check_duplicate(const struct sc_spec *s, const struct sc_report *r)
{
    (void)s;
    return r->link[0].duplicated + r->link[1].duplicated;
}

/* 1% to 5% of packets get one bit flipped, plus a little loss. */
static void corrupt(uint64_t seed, struct sc_spec *s)
{
    s->link.corrupt_ppm = (uint32_t)sc_pick(seed, 100, 10000, 50000);
    s->link.loss_ppm = (uint32_t)sc_pick(seed, 101, 0, 2000);
}

/* Every corrupted copy was refused by a checksum (or a header check that
 * precedes it): counted as an IP header error or a TCP input error, never
 * delivered (delivered data was checked byte by byte). A flipped bit in the
 * TCP part raises TcpInCsumErrors (summed over the sweep: a short run may
 * have its few flips all in IP headers). */
static uint64_t check_corrupt(const struct sc_spec *s, const struct sc_report *r)
{
    (void)s;
    uint64_t corrupted = r->link[0].corrupted + r->link[1].corrupted;
    uint64_t refused = both(r, KEEL_C_IpInHdrErrors) + both(r, KEEL_C_TcpInErrs);
    CHECK_EQ_U(refused, corrupted);
    CHECK(both(r, KEEL_C_TcpInCsumErrors) <= both(r, KEEL_C_TcpInErrs));
    return both(r, KEEL_C_TcpInCsumErrors);
}

/* IPv4's minimum MTU and other small ones. */
static void small_mtu(uint64_t seed, struct sc_spec *s)
{
    static const uint32_t mtus[] = {68 + 40, 296, 576, 1006, 1280};
    s->link.mtu = mtus[sc_pick(seed, 100, 0, 4)];
    s->link.loss_ppm = (uint32_t)sc_pick(seed, 101, 0, 10000);
    if (s->link.mtu < 300) /* thousands of segments: keep it short */
        s->a_to_b /= 4;
}

/* keel sizes every segment to the MTU: the link never drops one as too big. */
static uint64_t check_small_mtu(const struct sc_spec *s, const struct sc_report *r)
{
    (void)s;
    CHECK_EQ_U(r->link[0].dropped_mtu + r->link[1].dropped_mtu, 0);
    return r->npkts;
}

/* 1 to 20 Mbit/s through a 4 to 32 KiB queue: tail drops and queueing delay. */
static void rate_limited(uint64_t seed, struct sc_spec *s)
{
    s->link.rate_bps = sc_pick(seed, 100, 1, 20) * 1000000;
    s->link.queue_bytes = (uint32_t)sc_pick(seed, 101, 4, 32) * 1024;
}

/* The transfer cannot beat the link (a check that the limit applied); the
 * small queue overflows now and then. */
static uint64_t check_rate_limited(const struct sc_spec *s, const struct sc_report *r)
{
    uint64_t min_us = s->a_to_b * 8 * 1000000 / s->link.rate_bps;
    CHECK(r->duration_us >= min_us);
    return r->link[0].dropped_queue + r->link[1].dropped_queue;
}

/* Everything at once, at rates drawn per seed. */
static void mixed(uint64_t seed, struct sc_spec *s)
{
    s->link.loss_ppm = (uint32_t)sc_pick(seed, 100, 0, 20000);
    s->link.burst_enter_ppm = (uint32_t)sc_pick(seed, 101, 0, 2000);
    s->link.burst_exit_ppm = 750000; /* short bursts: see test_sim_loss.c */
    s->link.reorder_ppm = (uint32_t)sc_pick(seed, 102, 0, 20000);
    s->link.dup_ppm = (uint32_t)sc_pick(seed, 103, 0, 20000);
    s->link.corrupt_ppm = (uint32_t)sc_pick(seed, 104, 0, 10000);
    if (sc_pick(seed, 105, 0, 1)) {
        s->link.rate_bps = sc_pick(seed, 106, 2, 50) * 1000000;
        s->link.queue_bytes = (uint32_t)sc_pick(seed, 107, 8, 128) * 1024;
    }
    if (sc_pick(seed, 108, 0, 2) == 0)
        s->link.mtu = (uint32_t)sc_pick(seed, 109, 576, 1500);
}

TEST(reorder)
{
    sweep("reorder", 100, reorder, check_reorder);
}

TEST(duplicate)
{
    sweep("duplicate", 80, duplicate, check_duplicate);
}

TEST(corrupt)
{
    sweep("corrupt", 120, corrupt, check_corrupt);
}

TEST(small_mtu)
{
    sweep("small_mtu", 80, small_mtu, check_small_mtu);
}

TEST(rate_limited_small_queue)
{
    sweep("rate_limited_small_queue", 80, rate_limited, check_rate_limited);
}

TEST(mixed_impairments)
{
    sweep("mixed_impairments", 200, mixed, NULL);
}
