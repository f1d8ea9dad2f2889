/* Story 1 of SCENARIOS.md: the window that never reopens (SND.WL1 left
 * behind by a fast path once more than 2^31 bytes have been received). */
#include <stdio.h>
#include <string.h>

#include "sim/bulk.h"
#include "sim/stories.h"

#define ADDR_A 0xc0000201u /* the rsync client: streams, reads last */
#define ADDR_B 0xc0000202u /* the server: its data waits behind a zero window */
#define B_TO_A (8u << 20)  /* more than A's receive buffer can take */

static void check_reopen(const struct bulk *b, struct story_result *r)
{
    const struct bulk_reopen *ro = &b->reopen;
    r->resume_us = ro->resume_us;
    r->persist_us = ro->persist_us;
    if (!ro->at_us)
        story_fail(r, "the client never started reading");
    else if (!ro->server_window_zero)
        story_fail(r, "the server was not facing a zero window when the client started reading");
    else if (!ro->resume_us)
        story_fail(r, "the server never resumed sending after the window opened");
    else if (ro->resume_us > (uint64_t)ro->persist_us + 50000)
        story_fail(r, "the server resumed %.3f s after the window opened, later than one "
                      "persist interval (%.3f s)", ro->resume_us / 1e6, ro->persist_us / 1e6);
}

void story_wl1_wrap(uint64_t seed, uint64_t bytes, bool isn_near_wrap, uint32_t loss_ppm,
                    struct story_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    struct sim_world w;
    world_init(&w, seed);
    struct sim_link_config lc = {.delay_us = 5000, .loss_ppm = loss_ppm};
    struct sim_link *link = world_add_link(&w, &lc);
    /* 2^32 - 2^20 - RFC 6528's clock and hash: wraps within the first MiBs. */
    uint32_t offset = isn_near_wrap ? (uint32_t)0 - (1u << 20) : 0;
    struct keel_config ca = {.addr = ADDR_A, .isn_offset = offset, .log = stderr};
    struct keel_config cb = {.addr = ADDR_B, .isn_offset = offset, .log = stderr};
    keel_stack *hosts[2] = {world_add_host(&w, &ca, link, 0), world_add_host(&w, &cb, link, 1)};
    struct bulk_config cfg = {.client_to_server = bytes, .server_to_client = B_TO_A,
                              .server_addr = ADDR_B, .port = 873, .client_reads_last = true};
    struct bulk b;
    if (!hosts[0] || !hosts[1] || bulk_start(&b, &cfg, hosts[0], hosts[1], w.now_us, seed) < 0) {
        story_fail(r, "could not set up the world");
        world_free(&w);
        return;
    }
    enum bulk_status st = bulk_run(&b, &w, UINT64_MAX);
    r->bytes_up = b.server.received;
    r->bytes_down = b.client.received;
    r->virtual_us = (b.end_us ? b.end_us : w.now_us) - b.start_us;
    story_collect(r, hosts, 2);
    if (st != BULK_DONE)
        story_fail(r, "the transfer %s: %llu of %llu bytes up, %llu of %llu down",
                   bulk_status_name(st), (unsigned long long)b.server.received,
                   (unsigned long long)bytes, (unsigned long long)b.client.received,
                   (unsigned long long)B_TO_A);
    check_reopen(&b, r);
    story_require_silent_watchdog(r, 0);
    world_free(&w);
}
