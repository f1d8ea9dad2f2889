/* Seeded simulations of bulk transfers: every byte arrives once, in order,
 * intact, and every connection finishes. */
#include "harness.h"
#include "sim/bulk.h"

#define ADDR_A 0xc0000201u /* 192.0.2.1 */
#define ADDR_B 0xc0000202u /* 192.0.2.2 */

/* Transmissions keel made and packets the link carried, from A. */
struct bulk_counts {
    uint64_t keel_transmissions, wire_packets;
};

static enum bulk_status run_bulk_counted(uint64_t seed, const struct sim_link_config *lc,
                                         uint64_t a_to_b, uint64_t b_to_a, struct bulk *b,
                                         struct bulk_counts *counts)
{
    struct sim_world w;
    world_init(&w, seed);
    struct sim_link *link = world_add_link(&w, lc);
    struct keel_config ca = {.addr = ADDR_A}, cb = {.addr = ADDR_B};
    keel_stack *a = world_add_host(&w, &ca, link, 0);
    keel_stack *s = world_add_host(&w, &cb, link, 1);
    CHECK(a && s);
    struct bulk_config cfg = {.client_to_server = a_to_b, .server_to_client = b_to_a,
                              .server_addr = ADDR_B, .port = 5001};
    CHECK_EQ(bulk_start(b, &cfg, a, s, w.now_us, seed), 0);
    enum bulk_status st = bulk_run(b, &w, w.now_us + 3600ull * 1000000);
    if (counts) {
        struct keel_counters c;
        keel_counters(a, &c);
        counts->keel_transmissions = c.v[KEEL_C_TcpOutSegs];
        counts->wire_packets = sim_link_stats(link, 0)->sent;
    }
    world_free(&w);
    return st;
}

static enum bulk_status run_bulk(uint64_t seed, const struct sim_link_config *lc,
                                 uint64_t a_to_b, uint64_t b_to_a, struct bulk *b)
{
    return run_bulk_counted(seed, lc, a_to_b, b_to_a, b, NULL);
}

TEST(bulk_clean_link)
{
    struct sim_link_config lc = {.delay_us = 5000};
    struct bulk b;
    harness_context("seed 1");
    enum bulk_status st = run_bulk(1, &lc, 1 << 20, 1 << 18, &b);
    CHECK_STR(bulk_status_name(st), "done");
    CHECK_EQ_U(b.server.received, 1 << 20);
    CHECK_EQ_U(b.client.received, 1 << 18);
}

TEST(bulk_lossy_reordering_link)
{
    struct sim_link_config lc = {.delay_us = 5000, .loss_ppm = 10000, .reorder_ppm = 5000};
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct bulk b;
        harness_context("seed %llu", (unsigned long long)seed);
        enum bulk_status st = run_bulk(seed, &lc, 1 << 20, 1 << 18, &b);
        if (st != BULK_DONE)
            harness_fail(__FILE__, __LINE__, "status %s: client got %llu/%llu err %d, server got %llu/%llu err %d",
                         bulk_status_name(st), (unsigned long long)b.client.received,
                         (unsigned long long)b.client.to_recv, b.client.error,
                         (unsigned long long)b.server.received,
                         (unsigned long long)b.server.to_recv, b.server.error);
    }
}

/* With segmentation offload, keel hands the device packets of many segments
 * (fewer transmissions than segments on the wire) and everything still
 * arrives intact. */
TEST(bulk_with_segmentation_offload)
{
    struct sim_link_config lc = {.delay_us = 5000, .loss_ppm = 5000, .tso = true};
    struct bulk b;
    struct bulk_counts n;
    harness_context("seed 7");
    enum bulk_status st = run_bulk_counted(7, &lc, 4 << 20, 1 << 20, &b, &n);
    CHECK_STR(bulk_status_name(st), "done");
    harness_context("seed 7: %llu transmissions, %llu packets on the wire", (unsigned long long)n.keel_transmissions, (unsigned long long)n.wire_packets);
    CHECK(2 * n.wire_packets > 3 * n.keel_transmissions);
    CHECK_EQ_U(b.server.received, 4 << 20);
    CHECK_EQ_U(b.client.received, 1 << 20);
}

/* One transfer of `bytes` from A to B over lc, A configured by ca, and
 * what A and the link counted. */
struct one_way_run {
    enum bulk_status status;
    uint64_t received, queue_drops, ce_marked, reductions, retransmissions;
    uint64_t timeouts, loss_undos, spurious_timeouts, fast_retransmits;
};

static struct one_way_run run_one_way(uint64_t seed, const struct sim_link_config *lc,
                                      const struct keel_config *ca, uint64_t bytes)
{
    struct sim_world w;
    world_init(&w, seed);
    struct sim_link *link = world_add_link(&w, lc);
    struct keel_config cb = {.addr = ADDR_B, .no_frto = ca->no_frto,
                             .no_timestamps = ca->no_timestamps};
    keel_stack *a = world_add_host(&w, ca, link, 0);
    keel_stack *s = world_add_host(&w, &cb, link, 1);
    CHECK(a && s);
    struct bulk b;
    struct bulk_config cfg = {.client_to_server = bytes, .server_to_client = 0,
                              .server_addr = ADDR_B, .port = 5001};
    CHECK_EQ(bulk_start(&b, &cfg, a, s, w.now_us, seed), 0);
    struct one_way_run r = {.status = bulk_run(&b, &w, w.now_us + 3600ull * 1000000)};
    struct keel_counters c;
    keel_counters(a, &c);
    r.received = b.server.received;
    r.queue_drops = sim_link_stats(link, 0)->dropped_queue;
    r.ce_marked = sim_link_stats(link, 0)->ce_marked;
    r.reductions = c.v[KEEL_C_TCPECNCwrEntered];
    r.retransmissions = c.v[KEEL_C_TcpRetransSegs];
    r.timeouts = c.v[KEEL_C_TCPTimeouts];
    r.loss_undos = c.v[KEEL_C_TCPLossUndo];
    r.spurious_timeouts = c.v[KEEL_C_TCPSpuriousRTOs];
    r.fast_retransmits = c.v[KEEL_C_TCPFastRetrans];
    world_free(&w);
    return r;
}

/* What ECN (RFC 3168) changes at a bottleneck that marks CE above 8 KiB
 * queued: one transfer with the client asking for ECN, or not. */
static struct one_way_run run_ecn(uint64_t seed, bool ecn)
{
    struct sim_link_config lc = {.delay_us = 5000, .rate_bps = 20000000, .queue_bytes = 32 * 1024,
                                 .ce_mark_bytes = 8 * 1024};
    struct keel_config ca = {.addr = ADDR_A, .ecn = ecn ? KEEL_ECN_ON : KEEL_ECN_ACCEPT};
    return run_one_way(seed, &lc, &ca, 8 << 20);
}

/* Without ECN the queue overflows and segments are resent; with it the
 * sender backs off at the CE marks (once per window), the queue never
 * overflows and nothing is resent. */
TEST(bulk_ecn_backs_off_at_ce_marks_instead_of_losses)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness_context("seed %llu", (unsigned long long)seed);
        struct one_way_run plain = run_ecn(seed, false), ecn = run_ecn(seed, true);
        CHECK_STR(bulk_status_name(plain.status), "done");
        CHECK_STR(bulk_status_name(ecn.status), "done");
        CHECK_EQ_U(plain.received, 8 << 20);
        CHECK_EQ_U(ecn.received, 8 << 20);
        CHECK_EQ_U(plain.ce_marked, 0);
        CHECK(plain.queue_drops > 0 && plain.retransmissions > 0);
        CHECK(ecn.ce_marked > 0 && ecn.reductions > 0);
        CHECK_EQ_U(ecn.queue_drops, 0);
        CHECK_EQ_U(ecn.retransmissions, 0);
    }
}

/* A link that stalls now and then (0.05% of packets, and those behind
 * them, held 500 ms longer) and loses nothing: every timeout is spurious.
 * Timestamps find them so (the Eifel detection: the ACK echoes a TSval
 * older than the retransmission) and so does F-RTO without timestamps
 * (RFC 5682); each undoes the timeout (a repeated timeout in one stall is
 * undone once). With neither, each timeout resends a window of data that
 * was only late. */
TEST(bulk_spurious_timeouts_of_a_stalling_link_are_undone)
{
    struct sim_link_config lc = {.delay_us = 5000, .spike_ppm = 500, .spike_us = 500000};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness_context("seed %llu", (unsigned long long)seed);
        struct keel_config eifel = {.addr = ADDR_A, .no_frto = true};
        struct keel_config frto = {.addr = ADDR_A, .no_timestamps = true};
        struct keel_config neither = {.addr = ADDR_A, .no_frto = true, .no_timestamps = true};
        struct one_way_run e = run_one_way(seed, &lc, &eifel, 16 << 20);
        struct one_way_run f = run_one_way(seed, &lc, &frto, 16 << 20);
        struct one_way_run n = run_one_way(seed, &lc, &neither, 16 << 20);
        CHECK_STR(bulk_status_name(e.status), "done");
        CHECK_STR(bulk_status_name(f.status), "done");
        CHECK_STR(bulk_status_name(n.status), "done");
        CHECK_EQ_U(e.received, 16 << 20);
        CHECK_EQ_U(f.received, 16 << 20);
        CHECK_EQ_U(n.received, 16 << 20);
        CHECK(e.timeouts > 0 && f.timeouts > 0 && n.timeouts > 0);
        CHECK(e.loss_undos > 0 && e.spurious_timeouts == 0);
        CHECK(f.spurious_timeouts > 0 && f.loss_undos == f.spurious_timeouts);
        CHECK_EQ_U(n.loss_undos, 0);
        CHECK(e.retransmissions * 10 < n.retransmissions);
        CHECK(f.retransmissions * 10 < n.retransmissions);
    }
}

/* Without SACK (A does not offer it), recovery is Linux's NewReno with
 * PRR: each duplicate ACK stands for a segment that arrived, and each
 * partial ACK resends the next hole. At 1% loss, fast recoveries repair
 * the losses, and timeouts (a resent segment lost again) stay rare. */
TEST(bulk_without_sack_recovers_by_fast_retransmit)
{
    struct sim_link_config lc = {.delay_us = 5000, .loss_ppm = 10000};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness_context("seed %llu", (unsigned long long)seed);
        struct keel_config ca = {.addr = ADDR_A, .no_sack = true};
        struct one_way_run r = run_one_way(seed, &lc, &ca, 8 << 20);
        CHECK_STR(bulk_status_name(r.status), "done");
        CHECK_EQ_U(r.received, 8 << 20);
        harness_context("seed %llu: %llu fast retransmits, %llu timeouts", (unsigned long long)seed,
                        (unsigned long long)r.fast_retransmits, (unsigned long long)r.timeouts);
        CHECK(r.fast_retransmits > 20);
        CHECK(r.timeouts * 10 < r.fast_retransmits);
    }
}
