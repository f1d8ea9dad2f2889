/* The zero-window deadlock, RFC 9293 §3.8.6.1: B's application stops
 * reading until A (the sender) sees a zero window, then reads everything;
 * the window update B sends is lost on the link. Nothing else will ever
 * come from B, so only A's persist timer can restart the transfer: its next
 * probe must draw the open window, and new data must flow within one
 * persist interval (the probe at the timer's expiry plus one round trip). */
#include <inttypes.h>
#include <string.h>

#include "harness.h"
#include "sim/scenarios.h"

#define SEC UINT64_C(1000000)
#define MS UINT64_C(1000)
#define KIB 1024u
#define A 0
#define B 1

struct zero_window {
    int sender, receiver;    /* conn indexes */
    uint64_t probes_first;   /* zero-window probes A sends before B reads */
    uint64_t delay_us;       /* one way */
    uint64_t last_a_us;      /* when A last sent anything */
    bool triggered;          /* B's application has read everything */
    bool dropped;            /* and its window update was lost */
    uint32_t una, nxt;       /* A's SND.UNA and SND.NXT at that moment */
    uint64_t trigger_us, persist_expiry_us, persist_interval_us;
    uint32_t update_wnd;     /* the lost update's window field */
    int b_before_update;     /* B segments between the read and the update */
    int b_before_probe;      /* B segments between the lost update and A's probe */
    uint64_t probe_us;       /* A's first zero-window probe after the loss */
    uint64_t resume_us;      /* A's first new data after the loss */
};

static bool zw_filter(void *arg, const struct sc_pkt *p)
{
    struct zero_window *z = arg;
    if (p->host == A)
        z->last_a_us = p->now_us;
    if (!p->tcp || !z->triggered)
        return false;
    if (p->host == B) {
        if (z->dropped) {
            z->b_before_probe += !z->probe_us;
            return false;
        }
        if (p->payload_len || !p->h.wnd) {
            z->b_before_update++;
            return false;
        }
        z->dropped = true;
        z->update_wnd = p->h.wnd;
        return true; /* the window update, lost */
    }
    if (z->dropped && !z->probe_us && !p->payload_len && p->h.seq == z->una - 1)
        z->probe_us = p->now_us;
    if (z->dropped && !z->resume_us && p->payload_len && (int32_t)(p->h.seq - z->nxt) >= 0)
        z->resume_us = p->now_us;
    return false;
}

/* After every step: once A sees a zero window with its persist timer armed,
 * has probed it probes_first times, and has heard the answer to the last
 * thing it sent (so that nothing is in flight), B's application reads it all. */
static void zw_hook(struct sc_app *a, void *arg)
{
    struct zero_window *z = arg;
    struct keel_tcp_info ti;
    if (z->triggered || a->conn[z->sender].sock < 0 ||
        keel_tcp_info(a->net->host[A], a->conn[z->sender].sock, &ti) != 0)
        return;
    if (ti.snd_wnd != 0 || !ti.timer_armed[KEEL_TIMER_PERSIST] ||
        sc_counter(a->net, A, KEEL_C_TCPWinProbe) < z->probes_first ||
        a->net->w.now_us < z->last_a_us + 2 * z->delay_us)
        return;
    z->triggered = true;
    z->una = ti.snd_una;
    z->nxt = ti.snd_nxt;
    z->trigger_us = a->net->w.now_us;
    z->persist_expiry_us = ti.timer_expiry_us[KEEL_TIMER_PERSIST];
    z->persist_interval_us = ti.rto_us;
    a->conn[z->receiver].pause_reads = false;
    sc_app_kick(a, z->receiver);
}

static void run(uint64_t seed)
{
    static struct sc_net net;
    static struct sc_app app;
    static struct zero_window z;
    uint64_t delay = sc_pick(seed, 1, 1 * MS, 50 * MS);
    struct sim_link_config lc = {.delay_us = delay};
    struct keel_config cfg = {.rcvbuf = (uint32_t)sc_pick(seed, 2, 8, 64) * KIB,
                              .no_window_scaling = sc_pick(seed, 3, 0, 2) == 0,
                              .no_timestamps = sc_pick(seed, 4, 0, 3) == 0};
    CHECK_EQ(sc_net_init(&net, seed, &lc, &cfg, false), 0);
    memset(&z, 0, sizeof z);
    z.probes_first = sc_pick(seed, 5, 0, 3);
    z.delay_us = delay;
    net.filter = zw_filter;
    net.filter_arg = &z;
    sc_app_init(&app, &net, seed);
    app.hook = zw_hook;
    app.hook_arg = &z;
    uint64_t start = net.w.now_us;
    CHECK_EQ(sc_app_listen(&app, B, 5001), 0);
    z.sender = sc_app_connect(&app, sc_pick(seed, 6, 128, 256) * KIB, 0);
    CHECK(z.sender >= 0);
    z.receiver = z.sender + 1;
    app.conn[z.receiver].pause_reads = true;
    enum sc_status st = sc_app_run(&app, start + 600 * SEC);
    if (st != SC_DONE)
        harness_fail(__FILE__, __LINE__, "%s", app.why);
    CHECK(z.triggered && z.dropped);
    CHECK(z.update_wnd > 0);
    CHECK_EQ(z.b_before_update, 0);
    CHECK_EQ(z.b_before_probe, 0); /* nothing but the persist timer could help */
    CHECK(z.persist_expiry_us > z.trigger_us);
    CHECK(z.persist_expiry_us - z.trigger_us <= z.persist_interval_us);
    CHECK_EQ_U(z.probe_us, z.persist_expiry_us);
    CHECK(z.resume_us > z.probe_us);
    CHECK(z.resume_us <= z.persist_expiry_us + 2 * delay + 1 * MS);
    if (!sc_app_settle(&app))
        harness_fail(__FILE__, __LINE__, "%s", app.why);
    sc_net_free(&net);
}

TEST(zero_window_update_lost)
{
    uint64_t first, last;
    sc_seed_range(12, &first, &last);
    for (uint64_t seed = first; seed <= last; seed++) {
        harness_context("zero_window_update_lost seed %" PRIu64, seed);
        run(seed);
    }
}
