/* The hashed timing wheel: arming, exact expiry, far timers, and a randomized
 * comparison with a brute-force model. */
#include <stdlib.h>

#include "base/rng.h"
#include "base/wheel.h"
#include "harness.h"

#define WHEEL_SPAN ((uint64_t)WHEEL_SLOTS << WHEEL_SLOT_SHIFT)

static struct timer_wheel *new_wheel(uint64_t now)
{
    struct timer_wheel *w = malloc(sizeof(*w));
    CHECK(w != NULL);
    wheel_init(w, now);
    return w;
}

static void init_timers(struct timer *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t[i] = (struct timer){.kind = (uint8_t)i};
}

TEST(wheel_empty)
{
    struct timer_wheel *w = new_wheel(1000);
    CHECK_EQ_U(wheel_next_deadline(w), UINT64_MAX);
    CHECK(wheel_pop_expired(w, 1000000) == NULL);
    CHECK_EQ(w->count, 0);
    free(w);
}

TEST(wheel_arm_disarm_rearm)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t[3];
    init_timers(t, 3);
    CHECK(!timer_armed(&t[0]));
    wheel_arm(w, &t[0], 5000);
    wheel_arm(w, &t[1], 5100); /* same slot as t[0] */
    wheel_arm(w, &t[2], 9000);
    CHECK(timer_armed(&t[0]));
    CHECK_EQ(w->count, 3);
    CHECK_EQ_U(wheel_next_deadline(w), 5000);

    wheel_disarm(w, &t[0]);
    CHECK(!timer_armed(&t[0]));
    CHECK_EQ(w->count, 2);
    CHECK_EQ_U(wheel_next_deadline(w), 5100);
    wheel_disarm(w, &t[0]); /* a no-op */
    CHECK_EQ(w->count, 2);

    wheel_arm(w, &t[1], 20000); /* re-arm moves it */
    CHECK_EQ(w->count, 2);
    CHECK_EQ_U(wheel_next_deadline(w), 9000);
    CHECK(wheel_pop_expired(w, 8999) == NULL);
    CHECK(wheel_pop_expired(w, 9000) == &t[2]);
    CHECK(!timer_armed(&t[2]));
    CHECK(wheel_pop_expired(w, 19999) == NULL);
    CHECK(wheel_pop_expired(w, 20000) == &t[1]);
    CHECK_EQ(w->count, 0);
    CHECK_EQ_U(wheel_next_deadline(w), UINT64_MAX);
    free(w);
}

TEST(wheel_expiry_order)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t[6];
    init_timers(t, 6);
    static const uint64_t when[6] = {30000, 1500, 1024, 1023, 700000, 1600};
    static const int order[6] = {3, 2, 1, 5, 0, 4};
    for (int i = 0; i < 6; i++)
        wheel_arm(w, &t[i], when[i]);
    for (int i = 0; i < 6; i++) {
        struct timer *p = wheel_pop_expired(w, 1000000);
        CHECK(p != NULL);
        CHECK_EQ(p->kind, order[i]);
    }
    CHECK(wheel_pop_expired(w, 1000000) == NULL);
    free(w);
}

TEST(wheel_exact_expiry)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t;
    init_timers(&t, 1);
    wheel_arm(w, &t, 40000);
    CHECK_EQ_U(wheel_next_deadline(w), 40000);
    CHECK(wheel_pop_expired(w, 39999) == NULL);
    CHECK(timer_armed(&t));
    CHECK(w->cursor_us <= 39999);
    CHECK_EQ_U(wheel_next_deadline(w), 40000);
    CHECK(wheel_pop_expired(w, 40000) == &t);
    free(w);
}

TEST(wheel_past_expiry_pops_next)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t[2];
    init_timers(t, 2);
    CHECK(wheel_pop_expired(w, 50000) == NULL);
    CHECK_EQ_U(w->cursor_us, 50000);
    wheel_arm(w, &t[0], 10); /* long before the cursor */
    wheel_arm(w, &t[1], 50000);
    CHECK(wheel_next_deadline(w) <= 10);
    CHECK(wheel_pop_expired(w, 50000) == &t[0]);
    CHECK(wheel_pop_expired(w, 50000) == &t[1]);
    /* Disarming a timer armed in the past works too. */
    wheel_arm(w, &t[0], 3);
    wheel_disarm(w, &t[0]);
    CHECK_EQ(w->count, 0);
    CHECK(wheel_pop_expired(w, 60000) == NULL);
    free(w);
}

TEST(wheel_beyond_horizon_direct)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t;
    init_timers(&t, 1);
    wheel_arm(w, &t, 60000000); /* 60 s, many revolutions out */
    uint64_t d = wheel_next_deadline(w);
    CHECK(d <= 60000000);
    CHECK(wheel_pop_expired(w, 59999999) == NULL);
    CHECK_EQ_U(wheel_next_deadline(w), 60000000);
    CHECK(wheel_pop_expired(w, 60000000) == &t);
    free(w);
}

/* Runs the loop a stack would: sleep until the next deadline, pop what is due.
 * No timer may pop before its expiry, and all must pop. */
static void run_deadline_loop(struct timer_wheel *w, struct timer *t, size_t n)
{
    size_t popped = 0;
    uint64_t now = w->cursor_us;
    int wakeups = 0;
    while (w->count > 0) {
        uint64_t d = wheel_next_deadline(w);
        CHECK(d != UINT64_MAX);
        if (d > now)
            now = d;
        struct timer *p;
        while ((p = wheel_pop_expired(w, now)) != NULL) {
            CHECK(p->expires_us <= now);
            popped++;
        }
        CHECK(++wakeups < 100000);
    }
    CHECK_EQ(popped, n);
    for (size_t i = 0; i < n; i++)
        CHECK(!timer_armed(&t[i]));
}

TEST(wheel_beyond_horizon_deadline_loop)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t[4];
    init_timers(t, 4);
    wheel_arm(w, &t[0], 60000000);
    wheel_arm(w, &t[1], 60000000 + WHEEL_SPAN); /* same slot, next round */
    wheel_arm(w, &t[2], 5000000);
    wheel_arm(w, &t[3], 4300);
    /* Each timer pops exactly at its deadline. */
    uint64_t expect[4] = {4300, 5000000, 60000000, 60000000 + WHEEL_SPAN};
    for (int i = 0; i < 4; i++) {
        struct timer *p = NULL;
        for (int guard = 0; p == NULL; guard++) {
            CHECK(guard < 1000);
            uint64_t d = wheel_next_deadline(w);
            CHECK(d <= expect[i]);
            p = wheel_pop_expired(w, d);
        }
        CHECK_EQ_U(p->expires_us, expect[i]);
        CHECK_EQ_U(w->cursor_us <= expect[i], 1);
    }
    CHECK_EQ(w->count, 0);
    free(w);
}

TEST(wheel_deadline_loop_many)
{
    struct rng r;
    rng_seed(&r, 77);
    struct timer_wheel *w = new_wheel(123456);
    enum { N = 2000 };
    struct timer *t = calloc(N, sizeof(*t));
    CHECK(t != NULL);
    for (size_t i = 0; i < N; i++) {
        uint64_t span = i % 3 == 0 ? 100000000 : (i % 3 == 1 ? 5000000 : 50000);
        wheel_arm(w, &t[i], 123456 + rng_next(&r) % span);
    }
    run_deadline_loop(w, t, N);
    free(t);
    free(w);
}

TEST(wheel_huge_jump_keeps_order)
{
    struct timer_wheel *w = new_wheel(0);
    struct timer t[3];
    init_timers(t, 3);
    wheel_arm(w, &t[0], 3 * WHEEL_SPAN + 100); /* early slot, late round */
    wheel_arm(w, &t[1], WHEEL_SPAN + 5000);    /* later slot, early round */
    wheel_arm(w, &t[2], 2 * WHEEL_SPAN + 2000);
    CHECK(wheel_pop_expired(w, 10 * WHEEL_SPAN) == &t[1]);
    CHECK(wheel_pop_expired(w, 10 * WHEEL_SPAN) == &t[2]);
    CHECK(wheel_pop_expired(w, 10 * WHEEL_SPAN) == &t[0]);
    CHECK(wheel_pop_expired(w, 10 * WHEEL_SPAN) == NULL);
    CHECK_EQ_U(w->cursor_us, 10 * WHEEL_SPAN);
    free(w);
}

/* Brute-force model: the set of armed timers and their expiries. */
struct model {
    bool armed[1000];
    uint64_t expires[1000];
};

static uint64_t model_earliest(const struct model *m, size_t n)
{
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (m->armed[i] && m->expires[i] < best)
            best = m->expires[i];
    return best;
}

/* True when every armed timer expires before the cursor's slot comes round
 * again, so no slot holds a timer of a later round. */
static bool all_within_span(const struct model *m, size_t n, uint64_t cursor)
{
    uint64_t end = (cursor & ~(uint64_t)1023) + WHEEL_SPAN;
    for (size_t i = 0; i < n; i++)
        if (m->armed[i] && m->expires[i] >= end)
            return false;
    return true;
}

static uint64_t random_jump(struct rng *r)
{
    switch (rng_below(r, 6)) {
    case 0: return 0;
    case 1: return rng_below(r, 1024);
    case 2: return rng_below(r, 100000);
    case 3: return rng_below(r, 5000000);
    case 4: return (uint64_t)rng_below(r, 40) * WHEEL_SPAN + rng_below(r, 3);
    default: return rng_next(r) % 1000000000;
    }
}

static uint64_t random_expiry(struct rng *r, uint64_t now)
{
    switch (rng_below(r, 5)) {
    case 0: return now > 5000 ? now - rng_below(r, 5000) : 0; /* past */
    case 1: return now + rng_below(r, 3000);
    case 2: return now + rng_below(r, 5000000);
    case 3: return now + WHEEL_SPAN * rng_below(r, 4) + rng_below(r, 2048);
    default: return now + rng_next(r) % 300000000;
    }
}

static void pop_all_due(struct timer_wheel *w, struct timer *t, struct model *m,
                        size_t n, uint64_t now)
{
    uint64_t last = 0;
    struct timer *p;
    while ((p = wheel_pop_expired(w, now)) != NULL) {
        size_t i = (size_t)(p - t);
        CHECK(i < n);
        CHECK(m->armed[i]);
        CHECK(p->expires_us <= now);
        CHECK_EQ_U(p->expires_us, m->expires[i]);
        CHECK_EQ_U(p->expires_us, model_earliest(m, n)); /* exact order */
        CHECK(p->expires_us >= last);
        last = p->expires_us;
        m->armed[i] = false;
    }
    CHECK(model_earliest(m, n) > now);
}

static void random_wheel_run(uint64_t seed, size_t n, int steps)
{
    harness_context("seed=%llu", (unsigned long long)seed);
    struct rng r;
    rng_seed(&r, seed);
    uint64_t now = rng_next(&r) % 1000000000;
    struct timer_wheel *w = new_wheel(now);
    struct timer *t = calloc(n, sizeof(*t));
    struct model *m = calloc(1, sizeof(*m));
    CHECK(t != NULL && m != NULL);
    for (int step = 0; step < steps; step++) {
        int arms = (int)rng_below(&r, 50);
        for (int k = 0; k < arms; k++) {
            size_t i = rng_below(&r, (uint32_t)n);
            if (rng_chance_ppm(&r, 200000)) {
                wheel_disarm(w, &t[i]);
                m->armed[i] = false;
            } else {
                uint64_t e = random_expiry(&r, now);
                wheel_arm(w, &t[i], e);
                m->armed[i] = true;
                m->expires[i] = e;
            }
        }
        size_t armed = 0;
        for (size_t i = 0; i < n; i++)
            armed += m->armed[i];
        CHECK_EQ(w->count, armed);
        uint64_t earliest = model_earliest(m, n);
        uint64_t d = wheel_next_deadline(w);
        CHECK(d <= earliest);
        if (earliest != UINT64_MAX && all_within_span(m, n, w->cursor_us))
            CHECK_EQ_U(d, earliest); /* exact while all lie in one revolution */
        if (rng_chance_ppm(&r, 300000) && d != UINT64_MAX && d > now)
            now = d;
        else
            now += random_jump(&r);
        pop_all_due(w, t, m, n, now);
        CHECK(w->cursor_us <= now);
    }
    free(m);
    free(t);
    free(w);
}

TEST(wheel_random_vs_model)
{
    for (uint64_t seed = 1; seed <= 20; seed++)
        random_wheel_run(seed, 1000, 400);
}

TEST(wheel_random_few_timers)
{
    for (uint64_t seed = 100; seed <= 140; seed++)
        random_wheel_run(seed, 5, 300);
}

TEST(wheel_deadline_exact_within_span)
{
    struct rng r;
    rng_seed(&r, 2024);
    uint64_t now = 7777777;
    struct timer_wheel *w = new_wheel(now);
    enum { N = 200 };
    struct timer t[N];
    struct model *m = calloc(1, sizeof(*m));
    CHECK(m != NULL);
    init_timers(t, N);
    for (int step = 0; step < 2000; step++) {
        size_t i = rng_below(&r, N);
        uint64_t e = now + rng_below(&r, (uint32_t)(WHEEL_SPAN - 2048));
        if (rng_chance_ppm(&r, 50000))
            e = now - rng_below(&r, 3000); /* in the past */
        wheel_arm(w, &t[i], e);
        m->armed[i] = true;
        m->expires[i] = e;
        CHECK_EQ_U(wheel_next_deadline(w), model_earliest(m, N));
        now += rng_below(&r, 20000);
        pop_all_due(w, t, m, N, now);
        CHECK_EQ_U(wheel_next_deadline(w), model_earliest(m, N));
    }
    free(m);
    free(w);
}
