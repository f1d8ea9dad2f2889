/* Route metrics (Linux RTAX_ADVMSS, RTAX_MTU and its lock, RTAX_INITCWND)
 * and packetization-layer path MTU discovery (RFC 4821, Linux
 * tcp_mtu_probing): the MSS keel offers and sends, the initial window, and
 * the probes that raise the segment size. */
#include <string.h>

#include "harness.h"
#include "link/gso.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define S TCP_FLAG_SYN

#define MS 1000ull
#define SEC 1000000ull
#define ROUTER_ADDR 0xc0000263u /* 192.0.2.99 */

static char data[8192];

/* The next segment keel sent, whatever it is. */
static const struct captured *next_segment(struct script *s)
{
    CHECK(script_pending(s) > 0);
    return &s->out[s->next_out++];
}

/* A device without offload behind Linux's software GSO (as packetdrill's
 * tun with `ethtool -K tun0 tso off gso off`): keel's large packets are
 * captured cut into segments, PSH on the last. */
static struct keel_device_ops gso_ops;
static uint64_t gso_now_us;

static int emit_piece(void *arg, const uint8_t *seg, size_t len)
{
    return gso_ops.transmit(arg, seg, len, gso_now_us);
}

static int gso_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len, uint16_t mss,
                        uint64_t now_us)
{
    gso_now_us = now_us;
    return gso_segment(pkt, len, mss, emit_piece, dev);
}

static void use_gso_device(struct script *s)
{
    gso_ops = *s->dev.ops;
    gso_ops.transmit_tso = gso_transmit;
    s->dev.ops = &gso_ops;
    s->dev.tso_max = 65536;
}

static void route(struct script *s, uint16_t advmss, uint16_t mtu, bool lock, uint32_t initcwnd)
{
    struct keel_route r = {.dst = PEER_ADDR, .prefix_len = 32, .advmss = advmss, .mtu = mtu,
                           .mtu_locked = lock, .initcwnd = initcwnd};
    CHECK_EQ(keel_route_set(s->st, &r), 0);
}

/* keel listens; the peer's SYN (MSS 1460 only) is answered with a SYN-ACK
 * offering exactly adv_mss; returns the accepted socket. */
static int passive_open_expect_mss(struct script *s, uint16_t adv_mss)
{
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s->st, ls, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, &one, sizeof one), 0);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s->st, ls, &a), 0);
    CHECK_EQ(keel_listen(s->st, ls, 4), 0);
    s->keel_isn = 0; /* learned from the SYN-ACK */
    script_send(s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(s, .flags = S | A, .seq = 0, .ack = 1,
                  .opts = {.present = TCP_OPT_MSS, .mss = adv_mss}, .opts_set = true);
    script_send(s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(keel_close(s->st, ls), 0);
    return c;
}

/* advmss sets the MSS option; the route's MTU caps the MSS keel sends. */
TEST(route_advmss_and_mtu_set_the_mss)
{
    struct script s;
    script_init(&s, NULL);
    route(&s, 600, 640, true, 0);
    int c = passive_open_expect_mss(&s, 600);
    CHECK_EQ(script_info(&s, c).snd_mss, 600);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 600);
    script_free(&s);
}

/* Without advmss, the MSS offered follows the route's MTU (Linux
 * ipv4_default_advmss); a route to another host changes nothing. */
TEST(route_mtu_without_advmss_sets_the_mss_option)
{
    struct script s;
    script_init(&s, NULL);
    struct keel_route other = {.dst = PEER_ADDR + 1, .prefix_len = 32, .mtu = 576};
    CHECK_EQ(keel_route_set(s.st, &other), 0);
    route(&s, 0, 1000, false, 0);
    int c = passive_open_expect_mss(&s, 960);
    CHECK_EQ(script_info(&s, c).snd_mss, 960);
    script_free(&s);
}

/* The longest matching prefix wins; deleting it falls back to the shorter. */
TEST(route_longest_prefix_wins_and_delete_falls_back)
{
    struct script s;
    script_init(&s, NULL);
    struct keel_route net = {.dst = PEER_ADDR, .prefix_len = 24, .advmss = 700};
    struct keel_route def = {.dst = 0, .prefix_len = 0, .advmss = 500};
    CHECK_EQ(keel_route_set(s.st, &def), 0);
    CHECK_EQ(keel_route_set(s.st, &net), 0);
    route(&s, 800, 0, false, 0);
    passive_open_expect_mss(&s, 800);
    CHECK_EQ(keel_route_del(s.st, PEER_ADDR, 32), 0);
    s.peer_port++;
    passive_open_expect_mss(&s, 700);
    CHECK_EQ(keel_route_del(s.st, PEER_ADDR, 24), 0);
    s.peer_port++;
    passive_open_expect_mss(&s, 500);
    script_free(&s);
}

TEST(route_errors)
{
    struct script s;
    script_init(&s, NULL);
    struct keel_route r = {.dst = PEER_ADDR, .prefix_len = 33};
    CHECK_EQ(keel_route_set(s.st, &r), KEEL_EINVAL);
    r.prefix_len = 32;
    r.mtu = 67;
    CHECK_EQ(keel_route_set(s.st, &r), KEEL_EINVAL);
    CHECK_EQ(keel_route_del(s.st, PEER_ADDR, 32), KEEL_ENOENT);
    CHECK_EQ(keel_route_del(s.st, PEER_ADDR, 40), KEEL_EINVAL);
    r.mtu = 0;
    for (uint32_t i = 0; i < KEEL_ROUTES_MAX; i++) {
        r.dst = PEER_ADDR + i;
        CHECK_EQ(keel_route_set(s.st, &r), 0);
    }
    CHECK_EQ(keel_route_set(s.st, &r), 0); /* the same route again: replaced */
    r.dst = PEER_ADDR + KEEL_ROUTES_MAX;
    CHECK_EQ(keel_route_set(s.st, &r), KEEL_ENOMEM);
    script_free(&s);
}

/* initcwnd sets the initial window in segments (Linux tcp_init_cwnd). */
TEST(route_initcwnd_sets_the_initial_window)
{
    struct script s;
    script_init(&s, NULL);
    route(&s, 0, 0, false, 4);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(script_info(&s, c).cwnd, 4 * 1460);
    CHECK_EQ(keel_send(s.st, c, data, 8000, 0), 8000);
    for (uint32_t k = 0; k < 4; k++)
        script_expect(&s, .flags = A, .seq = 1 + k * 1460, .ack = 1, .len = 1460);
    script_expect_none(&s);
    script_free(&s);
}

/* A route change reaches a connection as Linux's dst check does: on its
 * next transmission; the segment size follows on the output after. */
TEST(route_change_applies_to_existing_connection)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    route(&s, 0, 1000, false, 0);
    CHECK_EQ(keel_send(s.st, c, data, 1460, 0), 1460);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1460);
    CHECK_EQ(script_info(&s, c).snd_mss, 1460);
    script_send(&s, .flags = A, .seq = 1, .ack = 1461);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = A, .seq = 1461, .ack = 1, .len = 960);
    CHECK_EQ(script_info(&s, c).snd_mss, 960);
    script_free(&s);
}

/* An ICMP "fragmentation needed" for the connection, quoting seq (relative). */
static void inject_frag_needed(struct script *s, uint16_t mtu, uint32_t seq)
{
    uint8_t pkt[128];
    uint8_t quote[IPV4_HDR_LEN + 8];
    struct ipv4_hdr qip = {.ihl = 5, .ttl = 63, .proto = IPV4_PROTO_TCP, .src = KEEL_ADDR,
                           .dst = PEER_ADDR, .frag = IPV4_FLAG_DF};
    ipv4_emit(quote, &qip, 1480);
    uint8_t *t = quote + IPV4_HDR_LEN;
    uint32_t abs = s->keel_isn + seq;
    t[0] = (uint8_t)(s->keel_port >> 8);
    t[1] = (uint8_t)s->keel_port;
    t[2] = (uint8_t)(s->peer_port >> 8);
    t[3] = (uint8_t)s->peer_port;
    for (int k = 0; k < 4; k++)
        t[4 + k] = (uint8_t)(abs >> (24 - 8 * k));
    struct icmp_msg m = {.type = ICMP_DEST_UNREACH, .code = ICMP_CODE_FRAG_NEEDED,
                         .next_hop_mtu = mtu, .body = quote, .body_len = sizeof quote};
    size_t n = icmp_emit(pkt + IPV4_HDR_LEN, sizeof pkt - IPV4_HDR_LEN, &m);
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 64, .proto = IPV4_PROTO_ICMP, .src = ROUTER_ADDR,
                          .dst = KEEL_ADDR};
    ipv4_emit(pkt, &ip, n);
    script_inject_raw(s, pkt, IPV4_HDR_LEN + n);
}

/* A locked route MTU is not lowered by ICMP (Linux ip_mtu_locked); an
 * unlocked one is. */
TEST(locked_route_mtu_ignores_frag_needed)
{
    struct script s;
    script_init(&s, NULL);
    route(&s, 0, 1200, true, 0);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 1160, 0), 1160);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1160);
    inject_frag_needed(&s, 800, 1);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).snd_mss, 1160);
    route(&s, 0, 1200, false, 0);
    inject_frag_needed(&s, 800, 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 760);
    CHECK_EQ(script_info(&s, c).snd_mss, 760);
    script_free(&s);
}

/* An MTU learned from ICMP outlives changes to other routes, not a change
 * of the connection's own. */
TEST(learned_path_mtu_kept_until_own_route_changes)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 1460, 0), 1460);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1460);
    inject_frag_needed(&s, 1000, 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 960);
    script_send(&s, .flags = A, .seq = 1, .ack = 1461);
    struct keel_route other = {.dst = PEER_ADDR + 1, .prefix_len = 32, .mtu = 576};
    CHECK_EQ(keel_route_set(s.st, &other), 0);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = A, .seq = 1461, .ack = 1, .len = 960);
    script_expect(&s, .flags = P | A, .seq = 2421, .ack = 1, .len = 40);
    script_send(&s, .flags = A, .seq = 1, .ack = 2461);
    CHECK_EQ(script_info(&s, c).snd_mss, 960);
    route(&s, 0, 1400, false, 0);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 2461, .ack = 1, .len = 100);
    script_send(&s, .flags = A, .seq = 1, .ack = 2561);
    CHECK_EQ(script_info(&s, c).snd_mss, 1360);
    script_free(&s);
}

/* A packet of two segments goes through the offload even when it would fit
 * the MTU whole: no segment exceeds the peer's MSS (536 here). */
TEST(offload_cuts_packets_that_fit_the_mtu)
{
    struct script s;
    script_init(&s, NULL);
    use_gso_device(&s);
    struct tcp_opts mss536 = {.present = TCP_OPT_MSS, .mss = 536};
    int c = script_active_open(&s, &mss536);
    CHECK_EQ(keel_send(s.st, c, data, 1072, 0), 1072);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 536);
    script_expect(&s, .flags = P | A, .seq = 537, .ack = 1, .len = 536);
    script_expect_none(&s);
    CHECK_EQ(script_info(&s, c).snd_mss, 536);
    script_free(&s);
}

/* ---- PLPMTUD ---- */

static void probing_init(struct script *s, uint8_t mode, uint32_t initcwnd)
{
    struct keel_config cfg = {.mtu_probing = mode, .base_mss = 512};
    script_init(s, &cfg);
    use_gso_device(s);
    route(s, 0, 0, false, initcwnd);
}

/* tcp_mtu_probing 2: an active opener starts at base_mss; with enough data
 * queued and a cwnd of 11 segments, the first segment is a probe of the
 * midpoint MTU ((552 + 1500) / 2 = 1026: 986 bytes of payload), whole,
 * then MSS segments (a GSO packet of half cwnd, and the tail, which
 * Minshall's Nagle lets go); its ACK raises the MSS to the probe's size. */
TEST(probe_at_midpoint_and_success_raises_mss)
{
    struct script s;
    probing_init(&s, KEEL_MTU_PROBING_ALWAYS, 11);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(script_info(&s, c).snd_mss, 512);
    CHECK_EQ(keel_send(s.st, c, data, 4000, 0), 4000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 986);
    for (uint32_t k = 0; k < 4; k++)
        script_expect(&s, .flags = A, .seq = 987 + k * 512, .ack = 1, .len = 512);
    script_expect(&s, .flags = P | A, .seq = 3035, .ack = 1, .len = 512);
    script_expect(&s, .flags = P | A, .seq = 3547, .ack = 1, .len = 454);
    script_expect_none(&s);
    script_send(&s, .flags = A, .seq = 1, .ack = 987);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMTUPSuccess), 1);
    CHECK_EQ(script_info(&s, c).snd_mss, 986);
    script_send(&s, .flags = A, .seq = 1, .ack = 4001);
    /* The next probe (1223 bytes) needs 1223 + 4 * 986 bytes queued. */
    CHECK_EQ(keel_send(s.st, c, data, 2000, 0), 2000);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = 986);
    script_expect(&s, .flags = A, .seq = 4987, .ack = 1, .len = 986);
    script_expect(&s, .flags = P | A, .seq = 5973, .ack = 1, .len = 28);
    script_expect_none(&s);
    script_free(&s);
}

/* Three duplicate ACKs at the probe: the probe failed, not the network
 * (Linux tcp_mtup_probe_failed): its bytes go again in MSS segments, cwnd
 * stays and no recovery starts; the search range's top drops below it, so
 * the next probe is the midpoint of 552 and 1025 (748 bytes). */
TEST(lost_probe_lowers_search_high_without_recovery)
{
    struct script s;
    probing_init(&s, KEEL_MTU_PROBING_ALWAYS, 11);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 4000, 0), 4000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 986);
    while (script_pending(&s))
        CHECK(next_segment(&s)->len <= 512);
    uint32_t cwnd = script_info(&s, c).cwnd;
    for (int k = 0; k < 3; k++)
        script_send(&s, .flags = A, .seq = 1, .ack = 1);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 512);
    script_expect(&s, .flags = A, .seq = 513, .ack = 1, .len = 474);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMTUPFail), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPFastRetrans), 0);
    CHECK_EQ(script_info(&s, c).in_recovery, 0);
    CHECK_EQ(script_info(&s, c).cwnd, cwnd);
    CHECK_EQ(script_info(&s, c).snd_mss, 512);
    script_send(&s, .flags = A, .seq = 1, .ack = 4001);
    CHECK_EQ(keel_send(s.st, c, data, 4000, 0), 4000);
    script_expect(&s, .flags = A, .seq = 4001, .ack = 1, .len = 748);
    script_free(&s);
}

/* No probe while cwnd is under 11 segments, nor without enough data queued
 * behind it (the probe and four segments: 3034 bytes here). */
TEST(probe_needs_cwnd_and_data)
{
    struct script s;
    probing_init(&s, KEEL_MTU_PROBING_ALWAYS, 10);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 4000, 0), 4000);
    while (script_pending(&s))
        CHECK(next_segment(&s)->len <= 512);
    script_free(&s);

    probing_init(&s, KEEL_MTU_PROBING_ALWAYS, 11);
    c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 3033, 0), 3033);
    while (script_pending(&s))
        CHECK(next_segment(&s)->len <= 512);
    script_free(&s);
}

/* A passive opener keeps the route's MSS until the path MTU changes (Linux
 * syncs its MSS before PLPMTUD starts): the upstream mtu_probe/basic-v4
 * sequence, where the route's MTU rises from 640 (locked) to 1500 between
 * the probe's transmission and its ACK. */
TEST(passive_probe_after_route_mtu_rises)
{
    struct script s;
    probing_init(&s, KEEL_MTU_PROBING_ALWAYS, 11);
    route(&s, 600, 640, true, 11);
    int c = passive_open_expect_mss(&s, 600);
    CHECK_EQ(script_info(&s, c).snd_mss, 600);
    route(&s, 1460, 1500, true, 0);
    CHECK_EQ(keel_send(s.st, c, data, 4000, 0), 4000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 986);
    for (uint32_t k = 0; k < 4; k++)
        script_expect(&s, .flags = A, .seq = 987 + k * 600, .ack = 1, .len = 600);
    script_expect(&s, .flags = P | A, .seq = 3387, .ack = 1, .len = 600);
    script_expect(&s, .flags = P | A, .seq = 3987, .ack = 1, .len = 14);
    script_send(&s, .flags = A, .seq = 1, .ack = 4001);
    CHECK_EQ(script_info(&s, c).snd_mss, 986);
    script_free(&s);
}

/* tcp_mtu_probing 1: black-hole detection. Timeouts for tcp_retries1 (3)
 * backed-off RTOs' time turn probing on, and the MSS drops to base_mss's
 * floor (1024 here, the default) for the retransmission. */
TEST(black_hole_detection_lowers_mss_after_timeouts)
{
    struct script s;
    struct keel_config cfg = {.mtu_probing = KEEL_MTU_PROBING_BLACKHOLE};
    script_init(&s, &cfg);
    int c = script_active_open_rtt(&s, &OPTS_MSS_ONLY, 100 * MS);
    CHECK_EQ(script_info(&s, c).snd_mss, 1460);
    CHECK_EQ(keel_send(s.st, c, data, 1460, 0), 1460);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1460);
    uint64_t first_rto = 0;
    for (;;) {
        script_run_timer(&s);
        if (!script_pending(&s))
            continue;
        const struct captured *r = next_segment(&s);
        CHECK_EQ_U(r->h.seq, s.keel_isn + 1);
        if (!first_rto)
            first_rto = r->at_us;
        if (r->len != 1460) {
            CHECK_EQ(r->len, 1024);
            CHECK(r->at_us - first_rto >= 3 * SEC); /* 15 x 200 ms, tcp_model_timeout */
            break;
        }
    }
    CHECK_EQ(script_info(&s, c).snd_mss, 1024);
    script_free(&s);
}

/* Off (the default): the MSS is the path's, with no probing. */
TEST(mtu_probing_off_keeps_the_path_mss)
{
    struct script s;
    struct keel_config cfg = {.base_mss = 512};
    script_init(&s, &cfg);
    route(&s, 0, 0, false, 11);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(script_info(&s, c).snd_mss, 1460);
    CHECK_EQ(keel_send(s.st, c, data, 8000, 0), 8000);
    while (script_pending(&s))
        CHECK(next_segment(&s)->len <= 1460);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPMTUPSuccess) + script_counter(&s, KEEL_C_TCPMTUPFail), 0);
    script_free(&s);
}
