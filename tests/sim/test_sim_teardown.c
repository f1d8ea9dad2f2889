/* Connection teardown on the simulated network: a lost FIN (either side's,
 * or several), both sides closing in the same instant (simultaneous close,
 * RFC 9293 §3.6 figure 13: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both), and
 * a half-close where one side keeps sending long after the other shut down
 * writing. Every transfer must complete byte-exact, and 61 s after the close
 * handshakes no socket may be left but the application's listener. */
#include <inttypes.h>
#include <string.h>

#include "harness.h"
#include "sim/scenarios.h"

#define SEC UINT64_C(1000000)
#define MS UINT64_C(1000)
#define KIB 1024u
#define PORT 5001
#define A 0
#define B 1
#define SYN TCP_FLAG_SYN
#define ACK TCP_FLAG_ACK
#define FIN TCP_FLAG_FIN

static struct sc_net net;
static struct sc_app app;
static struct sc_drops drops;
static uint64_t start_us, delay_us;

static void setup(uint64_t seed, uint32_t loss_ppm)
{
    delay_us = sc_pick(seed, 1, 1 * MS, 50 * MS);
    struct sim_link_config lc = {.delay_us = delay_us, .loss_ppm = loss_ppm};
    CHECK_EQ(sc_net_init(&net, seed, &lc, NULL, false), 0);
    memset(&drops, 0, sizeof drops);
    net.filter = sc_drops_filter;
    net.filter_arg = &drops;
    sc_app_init(&app, &net, seed);
    app.track_states = true;
    start_us = net.w.now_us;
}

static void finish(void)
{
    enum sc_status st = sc_app_run(&app, start_us + 600 * SEC);
    if (st != SC_DONE)
        harness_fail(__FILE__, __LINE__, "%s", app.why);
    if (!sc_app_settle(&app))
        harness_fail(__FILE__, __LINE__, "%s", app.why);
}

/* The first k FINs that host h sends are lost (with whatever data they
 * carry): retransmission must deliver them, and the close still completes. */
static void fin_lost(const char *name, int h, int k)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        harness_context("%s: %d FIN(s) of %c lost, seed %" PRIu64, name, k, "AB"[h], seed);
        setup(seed, 0);
        sc_drops_add(&drops, h, FIN, FIN, -1, 0, k);
        CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
        int i = sc_app_connect(&app, sc_pick(seed, 2, 1, 64) * KIB, sc_pick(seed, 3, 1, 64) * KIB);
        CHECK(i >= 0);
        finish();
        CHECK_EQ(drops.rule[0].dropped, k);
        CHECK(drops.fin[h] >= (uint32_t)k + 1);
        CHECK(sc_conn_saw(&app.conn[i + h], KEEL_TCP_FIN_WAIT_1) ||
              sc_conn_saw(&app.conn[i + h], KEEL_TCP_LAST_ACK));
        sc_net_free(&net);
    }
}

TEST(fin_lost_client)
{
    fin_lost("fin_lost_client", A, 1);
}

TEST(fin_lost_server)
{
    fin_lost("fin_lost_server", B, 1);
}

TEST(fin_lost_repeatedly)
{
    fin_lost("fin_lost_repeatedly", A, 3);
    fin_lost("fin_lost_repeatedly", B, 3);
}

/* Both sides exchange data, then shut down writing in the same instant:
 * the FINs cross, each arrives in FIN-WAIT-1 (our FIN not yet acknowledged)
 * and moves the receiver to CLOSING; the ACKs of the FINs move both to
 * TIME-WAIT. Neither passes through FIN-WAIT-2. */
TEST(simultaneous_close)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        harness_context("simultaneous_close: seed %" PRIu64, seed);
        setup(seed, 0);
        CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
        int i = sc_app_connect(&app, 32 * KIB, 24 * KIB);
        CHECK(i >= 0);
        uint64_t close_at = start_us + 5 * SEC; /* all data is across by then */
        app.conn[i].shut_at_us = app.conn[i + 1].shut_at_us = close_at;
        sc_drops_add(&drops, A, FIN, FIN, -1, 0, 0); /* only to see when */
        sc_drops_add(&drops, B, FIN, FIN, -1, 0, 0);
        finish();
        CHECK_EQ_U(app.conn[i].shut_us, close_at);
        CHECK_EQ_U(app.conn[i + 1].shut_us, close_at);
        CHECK_EQ(drops.fin[A], 1);
        CHECK_EQ(drops.fin[B], 1);
        for (int e = i; e <= i + 1; e++) {
            const struct sc_conn *c = &app.conn[e];
            harness_context("simultaneous_close: seed %" PRIu64 ", host %c (states 0x%x)", seed,
                            "AB"[c->host], c->states_seen);
            CHECK_EQ_U(c->received, c->to_recv);
            CHECK(sc_conn_saw(c, KEEL_TCP_FIN_WAIT_1));
            CHECK(sc_conn_saw(c, KEEL_TCP_CLOSING));
            CHECK(sc_conn_saw(c, KEEL_TCP_TIME_WAIT));
            CHECK(!sc_conn_saw(c, KEEL_TCP_FIN_WAIT_2));
            CHECK(!sc_conn_saw(c, KEEL_TCP_CLOSE_WAIT));
        }
        sc_net_free(&net);
    }
}

/* A sends a little and shuts down writing at once; B reads A's EOF early
 * and keeps sending 256-512 KiB through a small send buffer for many round
 * trips afterwards (A in FIN-WAIT-2, B in CLOSE-WAIT), over a lossy link;
 * A must read all of it, then both close. */
TEST(half_close)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        harness_context("half_close: seed %" PRIu64, seed);
        setup(seed, (uint32_t)sc_pick(seed, 4, 0, 20000));
        CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
        int i = sc_app_connect(&app, sc_pick(seed, 2, 0, 8) * KIB, sc_pick(seed, 3, 256, 512) * KIB);
        CHECK(i >= 0);
        finish();
        const struct sc_conn *a = &app.conn[i], *b = &app.conn[i + 1];
        CHECK(b->eof_us > 0 && b->eof_us < b->last_send_us); /* B kept sending after EOF */
        CHECK(b->eof_us + 4 * delay_us < b->last_send_us);   /* ... for a while */
        CHECK(a->shut_us < b->eof_us);
        CHECK(sc_conn_saw(a, KEEL_TCP_FIN_WAIT_2));
        CHECK(sc_conn_saw(b, KEEL_TCP_CLOSE_WAIT));
        CHECK(sc_conn_saw(b, KEEL_TCP_LAST_ACK));
        CHECK(sc_conn_saw(a, KEEL_TCP_TIME_WAIT));
        sc_net_free(&net);
    }
}
