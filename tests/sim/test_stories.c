/* The four founding stalls (SCENARIOS.md) at sizes that suit a sanitizer
 * build; CI also runs them at full size with keel-sim (see .ci/run). */
#include "harness.h"
#include "sim/stories.h"

static void require_ok(const char *name, uint64_t seed, const struct story_result *r)
{
    if (!r->ok)
        harness_fail(__FILE__, __LINE__, "%s, seed %llu: %s", name, (unsigned long long)seed,
                     r->why);
}

TEST(story1_wl1_wrap_isn_near_wrap)
{
    struct story_result r;
    story_wl1_wrap(1, 64u << 20, true, 0, &r);
    require_ok("wl1-wrap", 1, &r);
    CHECK_EQ_U(r.bytes_up, 64u << 20);
    CHECK(r.resume_us > 0 && r.resume_us <= r.persist_us);
}

TEST(story1_wl1_wrap_light_loss)
{
    struct story_result r;
    story_wl1_wrap(2, 32u << 20, false, 100, &r);
    require_ok("wl1-wrap", 2, &r);
}

TEST(story2_rst_reorder)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct story_result r;
        story_rst_reorder(seed, 20000, &r);
        require_ok("rst-reorder", seed, &r);
        CHECK_EQ_U(r.connections, 20000);
        CHECK(r.slowest_conn_us < 1000); /* 50 us round trips: a few of them */
    }
}

TEST(story3_tiny_sndbuf)
{
    struct story_result r;
    story_tiny_sndbuf(1, false, 60000000, &r);
    require_ok("tiny-sndbuf", 1, &r);
    CHECK_EQ_U(r.bytes_up, 18000);
    CHECK(r.peak_mem <= 16384);
}

TEST(story3_tiny_sndbuf_hostile_peer)
{
    struct story_result r;
    story_tiny_sndbuf(1, true, 60000000, &r);
    require_ok("tiny-sndbuf hostile", 1, &r);
    CHECK(r.sack_limit_hits > 0);
    CHECK(r.peak_mem <= 16384);
}

TEST(story4_close_wait_leak)
{
    struct story_result r;
    story_close_wait_leak(1, 300, &r);
    require_ok("close-wait-leak", 1, &r);
    CHECK_EQ_U(r.connections, 300);
    CHECK(r.slowest_connect_us < 10000); /* 1 ms round trips: a few of them */
    CHECK(r.leaked > 0);
}
