/* Many concurrent connections between two stacks: 32 to 100 connections
 * start in the same instant and transfer both ways at once over a lossy,
 * reordering link. Every byte of every connection must arrive intact; then
 * only the listener, which the application still holds, may be left. */
#include <inttypes.h>

#include "harness.h"
#include "sim/scenarios.h"

TEST(many_connections)
{
    uint64_t first, last;
    sc_seed_range(20, &first, &last);
    for (uint64_t seed = first; seed <= last; seed++) {
        struct sc_spec spec;
        struct sc_report r;
        char desc[400];
        sc_spec_random(seed, &spec);
        spec.nconns = (int)sc_pick(seed, 100, 32, 100);
        spec.a_to_b = sc_pick(seed, 101, 1, 32 * 1024);
        spec.b_to_a = sc_pick(seed, 102, 0, 16 * 1024);
        spec.link.loss_ppm = (uint32_t)sc_pick(seed, 103, 0, 20000);
        spec.link.reorder_ppm = (uint32_t)sc_pick(seed, 104, 0, 10000);
        sc_spec_describe(&spec, desc, sizeof desc);
        harness_context("many_connections seed %" PRIu64 " (replay: KEEL_SIM_SEED=%" PRIu64
                        "): %s", seed, seed, desc);
        if (!sc_run_bulk(seed, &spec, &r, NULL))
            harness_fail(__FILE__, __LINE__, "%s", r.why);
        sc_report_print("many_connections", seed, &r);
        CHECK_EQ_U(r.ctr[0].v[KEEL_C_TcpActiveOpens], (uint64_t)spec.nconns);
        CHECK_EQ_U(r.ctr[1].v[KEEL_C_TcpPassiveOpens], (uint64_t)spec.nconns);
        CHECK_EQ_U(r.ctr[0].v[KEEL_C_TcpAttemptFails], 0);
        CHECK_EQ_U(r.ctr[1].v[KEEL_C_ListenDrops], 0);
    }
}
