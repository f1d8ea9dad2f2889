/* Connection establishment on the simulated network, with chosen segments
 * lost: the SYN, the SYN-ACK, the final ACK (the server must recover by
 * retransmitting its SYN-ACK), a handshake completed by the first data
 * segment, and a simultaneous open (RFC 9293 §3.5, figure 7). Each transfer
 * must then complete byte-exact, and 61 s after the close handshakes no
 * socket may be left but the application's listener. */
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
#define RST TCP_FLAG_RST

static struct sc_net net;
static struct sc_app app;
static struct sc_drops drops;
static uint64_t start_us, delay_us;

static void setup(uint64_t seed)
{
    delay_us = sc_pick(seed, 1, 1 * MS, 50 * MS);
    struct sim_link_config lc = {.delay_us = delay_us};
    CHECK_EQ(sc_net_init(&net, seed, &lc, NULL, false), 0);
    memset(&drops, 0, sizeof drops);
    net.filter = sc_drops_filter;
    net.filter_arg = &drops;
    sc_app_init(&app, &net, seed);
    start_us = net.w.now_us;
}

/* Runs the app to the end of every transfer, then settles. */
static void finish(void)
{
    enum sc_status st = sc_app_run(&app, start_us + 600 * SEC);
    if (st != SC_DONE)
        harness_fail(__FILE__, __LINE__, "%s", app.why);
    if (!sc_app_settle(&app))
        harness_fail(__FILE__, __LINE__, "%s", app.why);
}

/* When B's application accepted connection end i + 1, from the start. */
static uint64_t accepted_after(int i)
{
    CHECK(app.conn[i + 1].accepted_us > 0);
    return app.conn[i + 1].accepted_us - start_us;
}

/* The first k SYNs are lost: A retransmits after 1, 2, 4 s (RFC 6298 §5.5
 * backoff from the initial RTO of 1 s, §2.1), so the handshake completes
 * at 2^k - 1 s plus the three one-way trips of the handshake. */
TEST(handshake_syn_lost)
{
    for (int k = 1; k <= 3; k++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            harness_context("handshake_syn_lost: %d SYN(s) lost, seed %" PRIu64, k, seed);
            setup(seed);
            sc_drops_add(&drops, A, SYN | ACK, SYN, -1, 0, k);
            CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
            int i = sc_app_connect(&app, 64 * KIB, 16 * KIB);
            CHECK(i >= 0);
            finish();
            CHECK_EQ(drops.syn[A], k + 1);
            CHECK_EQ(drops.synack[B], 1);
            CHECK_EQ_U(accepted_after(i), ((1u << k) - 1) * SEC + 3 * delay_us);
            CHECK_EQ_U(sc_counter(&net, A, KEEL_C_TcpActiveOpens), 1);
            CHECK_EQ_U(sc_counter(&net, B, KEEL_C_TcpPassiveOpens), 1);
            sc_net_free(&net);
        }
    }
}

/* The first k SYN-ACKs are lost. B retransmits its SYN-ACK on its own timer
 * (after 1 s) and again for A's retransmitted SYN (at 1 s too): two lost
 * SYN-ACKs still let the third complete the handshake just after 1 s. */
TEST(handshake_synack_lost)
{
    for (int k = 1; k <= 2; k++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            harness_context("handshake_synack_lost: %d SYN-ACK(s) lost, seed %" PRIu64, k,
                            seed);
            setup(seed);
            sc_drops_add(&drops, B, SYN | ACK, SYN | ACK, -1, 0, k);
            CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
            int i = sc_app_connect(&app, 64 * KIB, 16 * KIB);
            CHECK(i >= 0);
            finish();
            CHECK(drops.synack[B] >= (uint32_t)k + 1);
            CHECK(accepted_after(i) >= 1 * SEC);
            CHECK(accepted_after(i) < (1u << k) * SEC);
            sc_net_free(&net);
        }
    }
}

/* The ACK that completes the handshake is lost and A has nothing to send
 * for 10 s: B, in SYN-RECEIVED, must retransmit its SYN-ACK after its RTO
 * (1 s); A, established, answers it with an ACK (RFC 9293 §3.10.7.4, RFC
 * 5961 §4), which completes the handshake long before A's FIN would. */
TEST(handshake_final_ack_lost)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness_context("handshake_final_ack_lost: seed %" PRIu64, seed);
        setup(seed);
        sc_drops_add(&drops, A, SYN | ACK | FIN | RST, ACK, 0, 0, 1);
        CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
        int i = sc_app_connect(&app, 0, 64 * KIB);
        CHECK(i >= 0);
        app.conn[i].shut_at_us = start_us + 10 * SEC;
        finish();
        CHECK_EQ(drops.rule[0].dropped, 1);
        CHECK_EQ(drops.synack[B], 2);
        CHECK(accepted_after(i) >= 1 * SEC);
        CHECK(accepted_after(i) < 2 * SEC);
        CHECK(app.conn[i].eof_us - start_us < 10 * SEC); /* B's data came before A's FIN */
        sc_net_free(&net);
    }
}

/* The pure ACK is lost and A starts sending at once: its first data
 * segment is the third segment of the handshake and completes it (RFC 9293
 * §3.10.7.4: SYN-RECEIVED, an acceptable ACK, then the text). */
TEST(handshake_data_on_third_segment)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness_context("handshake_data_on_third_segment: seed %" PRIu64, seed);
        setup(seed);
        sc_drops_add(&drops, A, SYN | ACK | FIN | RST, ACK, 0, 0, 1);
        CHECK_EQ(sc_app_listen(&app, B, PORT), 0);
        int i = sc_app_connect(&app, 64 * KIB, 16 * KIB);
        CHECK(i >= 0);
        finish();
        CHECK_EQ(drops.rule[0].dropped, 1);
        CHECK_EQ(drops.synack[B], 1); /* no SYN-ACK retransmission was needed */
        CHECK_EQ_U(accepted_after(i), 3 * delay_us);
        CHECK_EQ_U(app.conn[i + 1].received, 64 * KIB);
        sc_net_free(&net);
    }
}

/* Both stacks bind a fixed port and connect to each other in the same
 * instant: the SYNs cross, both go SYN-SENT -> SYN-RECEIVED (answering with
 * a SYN-ACK) -> ESTABLISHED, and data flows both ways. */
TEST(simultaneous_open)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        harness_context("simultaneous_open: seed %" PRIu64, seed);
        setup(seed);
        app.track_states = true;
        int i = sc_app_connect_simultaneous(&app, 40000, 40001, 64 * KIB, 48 * KIB);
        CHECK(i >= 0);
        finish();
        for (int e = i; e <= i + 1; e++) {
            const struct sc_conn *c = &app.conn[e];
            harness_context("simultaneous_open: seed %" PRIu64 ", host %c (states 0x%x)", seed,
                            "AB"[c->host], c->states_seen);
            CHECK(sc_conn_saw(c, KEEL_TCP_SYN_SENT));
            CHECK(sc_conn_saw(c, KEEL_TCP_SYN_RECEIVED));
            CHECK(sc_conn_saw(c, KEEL_TCP_ESTABLISHED));
            CHECK_EQ(drops.syn[c->host], 1);
            CHECK(drops.synack[c->host] >= 1);
            CHECK_EQ(drops.rst[c->host], 0);
        }
        CHECK_EQ_U(sc_counter(&net, A, KEEL_C_TcpActiveOpens), 1);
        CHECK_EQ_U(sc_counter(&net, B, KEEL_C_TcpActiveOpens), 1);
        sc_net_free(&net);
    }
}

/* Simultaneous opens over impaired links (loss, reordering, duplication):
 * whichever SYNs and SYN-ACKs survive, both ends must end up connected and
 * exchange their streams. With a SYN lost, one end takes the ordinary
 * active-open path; nothing but completion is required. */
TEST(simultaneous_open_impaired)
{
    uint64_t first, last;
    sc_seed_range(60, &first, &last);
    for (uint64_t seed = first; seed <= last; seed++) {
        harness_context("simultaneous_open_impaired seed %" PRIu64 " (replay: KEEL_SIM_SEED=%" PRIu64
                        ")", seed, seed);
        delay_us = sc_pick(seed, 1, 1 * MS, 50 * MS);
        struct sim_link_config lc = {.delay_us = delay_us,
                                     .loss_ppm = (uint32_t)sc_pick(seed, 2, 0, 200000),
                                     .reorder_ppm = (uint32_t)sc_pick(seed, 3, 0, 100000),
                                     .dup_ppm = (uint32_t)sc_pick(seed, 4, 0, 100000)};
        CHECK_EQ(sc_net_init(&net, seed, &lc, NULL, false), 0);
        memset(&drops, 0, sizeof drops);
        net.filter = sc_drops_filter;
        net.filter_arg = &drops;
        sc_app_init(&app, &net, seed);
        start_us = net.w.now_us;
        int i = sc_app_connect_simultaneous(&app, (uint16_t)sc_pick(seed, 5, 1024, 60000),
                                            (uint16_t)sc_pick(seed, 6, 1024, 60000),
                                            sc_pick(seed, 7, 1, 128) * KIB,
                                            sc_pick(seed, 8, 0, 128) * KIB);
        CHECK(i >= 0);
        finish(); /* both streams complete, byte-exact: both ends connected */
        sc_net_free(&net);
    }
}
