/* Header prediction (src/tcp/fastpath.c) must be exactly equivalent to the
 * slow path: the same seeded scenario, run once with the fast path and once
 * with it disabled on both stacks, must put byte-identical packets on the
 * wire at identical times, from the first SYN to the last ACK (every packet
 * is recorded with its sender and timestamp; a difference prints the first
 * differing pair). The runs differ only in the counters: without the fast
 * path TCPHPHits and TCPHPAcks stay 0 in every run; with it, each mix
 * predicts both data segments and pure ACKs (> 0 summed over the mix's
 * seeds: prediction needs ESTABLISHED, no recovery and, for an ACK, the same
 * window twice in a row, which heavy loss or an early shutdown can deny a
 * whole run). Transfers are 1 MiB and 256 KiB with jitter, so that segments
 * arrive one by one and connections reach a steady state; several impairment
 * mixes move them on and off the fast path. */
#include <inttypes.h>

#include "harness.h"
#include "sim/scenarios.h"

typedef void (*mix_fn)(uint64_t seed, struct sc_spec *s);

static uint64_t both(const struct sc_report *r, enum keel_counter_id id)
{
    return r->ctr[0].v[id] + r->ctr[1].v[id];
}

static void clean(uint64_t seed, struct sc_spec *s)
{
    (void)seed;
    (void)s;
}

static void lossy(uint64_t seed, struct sc_spec *s)
{
    s->link.loss_ppm = (uint32_t)sc_pick(seed, 100, 5000, 30000);
}

static void reorder_dup(uint64_t seed, struct sc_spec *s)
{
    s->link.reorder_ppm = (uint32_t)sc_pick(seed, 100, 5000, 30000);
    s->link.dup_ppm = (uint32_t)sc_pick(seed, 101, 5000, 30000);
}

static void bottleneck(uint64_t seed, struct sc_spec *s)
{
    s->link.rate_bps = sc_pick(seed, 100, 2, 20) * 1000000;
    s->link.queue_bytes = (uint32_t)sc_pick(seed, 101, 8, 32) * 1024;
}

static void everything(uint64_t seed, struct sc_spec *s)
{
    lossy(seed, s);
    reorder_dup(seed, s);
    s->link.corrupt_ppm = (uint32_t)sc_pick(seed, 102, 0, 10000);
    s->link.burst_enter_ppm = 1000;
    s->link.burst_exit_ppm = 750000;
}

static struct sc_net fast_net, slow_net;

/* Runs seed both ways; adds the fast run's TCPHPHits and TCPHPAcks to hp. */
static void compare(const char *mix, uint64_t seed, mix_fn fn, uint64_t hp[2])
{
    struct sc_spec spec;
    struct sc_report fast, slow;
    char desc[400], diff[600];
    sc_spec_random(seed, &spec);
    fn(seed, &spec);
    spec.a_to_b = 1 << 20;
    spec.b_to_a = 1 << 18;
    spec.link.jitter_us = spec.link.delay_us / 2 + 500; /* never reorders */
    spec.record = true;
    sc_spec_describe(&spec, desc, sizeof desc);
    harness_context("fast_path_equivalence %s seed %" PRIu64 ": %s", mix, seed, desc);
    bool ok_fast = sc_run_bulk(seed, &spec, &fast, &fast_net);
    if (!ok_fast)
        harness_fail(__FILE__, __LINE__, "with the fast path: %s", fast.why);
    spec.fast_path_disabled = true;
    bool ok_slow = sc_run_bulk(seed, &spec, &slow, &slow_net);
    if (!ok_slow)
        harness_fail(__FILE__, __LINE__, "without the fast path: %s", slow.why);
    if (sc_trace_diff(&fast_net, &slow_net, diff, sizeof diff))
        harness_fail(__FILE__, __LINE__, "the packet traces differ: %s", diff);
    CHECK_EQ_U(fast.npkts, slow.npkts);
    CHECK_EQ_U(fast.trace_hash, slow.trace_hash);
    CHECK_EQ_U(both(&slow, KEEL_C_TCPHPHits), 0);
    CHECK_EQ_U(both(&slow, KEEL_C_TCPHPAcks), 0);
    sc_report_print(mix, seed, &fast);
    sc_net_free(&fast_net);
    sc_net_free(&slow_net);
    hp[0] += both(&fast, KEEL_C_TCPHPHits);
    hp[1] += both(&fast, KEEL_C_TCPHPAcks);
}

static void sweep(const char *mix, uint64_t count, mix_fn fn)
{
    uint64_t first, last, hp[2] = {0, 0};
    sc_seed_range(count, &first, &last);
    for (uint64_t seed = first; seed <= last; seed++)
        compare(mix, seed, fn, hp);
    harness_context("fast_path_equivalence %s seeds %" PRIu64 "-%" PRIu64, mix, first, last);
    CHECK(hp[0] > 0); /* TCPHPHits */
    CHECK(hp[1] > 0); /* TCPHPAcks */
}

TEST(fast_path_equivalence)
{
    sweep("clean", 10, clean);
    sweep("lossy", 10, lossy);
    sweep("reorder_dup", 10, reorder_dup);
    sweep("bottleneck", 10, bottleneck);
    sweep("everything", 10, everything);
}
