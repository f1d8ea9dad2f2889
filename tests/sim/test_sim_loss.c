/* Seeded bulk transfers over lossy links: random loss at 0%, 1% and 5%, and
 * burst loss. Every byte must arrive once, in order, intact; every transfer
 * must finish; 61 s after the last close handshake no socket may be left but
 * the listener the application still holds. A failure prints the seed and
 * how to replay it alone (KEEL_SIM_SEED=N; KEEL_TRACE=1 prints the packets). */
#include <inttypes.h>

#include "harness.h"
#include "sim/scenarios.h"

typedef void (*impair_fn)(uint64_t seed, struct sc_spec *s);

static void sweep(const char *name, uint64_t count, impair_fn impair)
{
    uint64_t first, last;
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
    }
}

static void no_loss(uint64_t seed, struct sc_spec *s)
{
    (void)seed;
    (void)s;
}

static void loss_1pct(uint64_t seed, struct sc_spec *s)
{
    (void)seed;
    s->link.loss_ppm = 10000;
}

static void loss_5pct(uint64_t seed, struct sc_spec *s)
{
    (void)seed;
    s->link.loss_ppm = 50000;
}

/* Gilbert-Elliott: a burst starts at 0.1% to 1% of packets and lasts 1.4 to
 * 3.3 packets on average. (The chain advances per packet: long mean bursts
 * would also swallow a backed-off sender's retransmissions minutes apart.) */
static void burst_loss(uint64_t seed, struct sc_spec *s)
{
    s->link.burst_enter_ppm = (uint32_t)sc_pick(seed, 100, 1000, 10000);
    s->link.burst_exit_ppm = (uint32_t)sc_pick(seed, 101, 300000, 700000);
}

TEST(loss_none)
{
    sweep("loss_none", 10, no_loss);
}

TEST(loss_1pct)
{
    sweep("loss_1pct", 30, loss_1pct);
}

TEST(loss_5pct)
{
    sweep("loss_5pct", 30, loss_5pct);
}

TEST(loss_burst)
{
    sweep("loss_burst", 30, burst_loss);
}
