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

/* Gilbert-Elliott: a burst starts at 0.5% to 3% of packets and lasts 1.2 to
 * 1.4 packets on average (30% to 15% of bursts lose 2 or more). The chain
 * advances per packet, not per unit of time: a burst that kills the tail of
 * a flight is still on when the RTO fires, and then decides the fate of
 * retransmissions (or their ACKs) sent seconds to minutes apart. Ten losses
 * in a row outlast 180 s of backoff and read as a stall: with long mean
 * bursts that happens in the model, not in keel ((1 - exit)^10: 3% at a 30%
 * exit chance, 6e-6 at 70%). */
static void burst_loss(uint64_t seed, struct sc_spec *s)
{
    s->link.burst_enter_ppm = (uint32_t)sc_pick(seed, 100, 5000, 30000);
    s->link.burst_exit_ppm = (uint32_t)sc_pick(seed, 101, 700000, 850000);
}

TEST(loss_none)
{
    sweep("loss_none", 50, no_loss);
}

TEST(loss_1pct)
{
    sweep("loss_1pct", 150, loss_1pct);
}

TEST(loss_5pct)
{
    sweep("loss_5pct", 150, loss_5pct);
}

TEST(loss_burst)
{
    sweep("loss_burst", 150, burst_loss);
}

/* Two larger transfers (the sweeps keep to 64-512 KiB): 8 MiB against 2 MiB
 * over a clean 20 ms path, and 4 MiB against 1 MiB at 1% loss. */
static void large(const char *name, uint64_t seed, uint32_t loss_ppm, uint64_t a_to_b,
                  uint64_t b_to_a)
{
    struct sc_spec spec = {.link = {.delay_us = 20000, .jitter_us = 2000, .loss_ppm = loss_ppm},
                           .a_to_b = a_to_b, .b_to_a = b_to_a};
    struct sc_report r;
    harness_context("%s seed %" PRIu64, name, seed);
    if (!sc_run_bulk(seed, &spec, &r, NULL))
        harness_fail(__FILE__, __LINE__, "%s", r.why);
    sc_report_print(name, seed, &r);
    CHECK_EQ_U(r.ctr[1].v[KEEL_C_TcpRetransSegs] + r.ctr[0].v[KEEL_C_TcpRetransSegs] > 0,
               loss_ppm > 0);
}

TEST(large_transfer_clean)
{
    large("large_transfer_clean", 1, 0, 8u << 20, 2u << 20);
}

TEST(large_transfer_lossy)
{
    large("large_transfer_lossy", 1, 10000, 4u << 20, 1u << 20);
}
