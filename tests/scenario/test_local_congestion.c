/* A device that refuses packets (KEEL_ENOBUFS: a full local queue, Linux's
 * NET_XMIT_DROP): what it refused was never sent. Linux's answer to local
 * congestion, which keel follows: with nothing in flight the data waits
 * for the probe timer (tcp_check_probe_timer), whose refused probes count
 * (tcpi_probes) and come again every TCP_RESOURCE_PROBE_INTERVAL (500 ms)
 * without backing off (tcp_send_probe0) until TCP_USER_TIMEOUT ends the
 * connection (tcp_probe_timer); a refused retransmission likewise comes
 * again 500 ms later with no backoff (tcp_retransmit_timer).
 * (packetdrill: user_timeout/user-timeout-probe.pkt.) */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

#define MS 1000ull
#define SEC 1000000ull
#define RTO (300 * MS) /* from a 100 ms handshake sample */
#define RESOURCE_PROBE (500 * MS)

static char data[4096];

/* The script's device, refusing every packet while `refusing`. */
static struct keel_device_ops refusing_ops;
static const struct keel_device_ops *script_ops;
static bool refusing;
static int refused;

static int refusing_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                             uint64_t now_us)
{
    if (refusing) {
        refused++;
        return KEEL_ENOBUFS;
    }
    return script_ops->transmit(dev, pkt, len, now_us);
}

static void use_refusing_device(struct script *s)
{
    script_ops = s->dev.ops;
    refusing_ops = *s->dev.ops;
    refusing_ops.transmit = refusing_transmit;
    s->dev.ops = &refusing_ops;
    refusing = false;
    refused = 0;
}

/* An established connection with its RTO at 300 ms and nothing in flight. */
static int open_conn(struct script *s)
{
    use_refusing_device(s);
    int c = script_active_open_rtt(s, &OPTS_MSS_ONLY, 100 * MS);
    CHECK_EQ_U(script_info(s, c).rto_us, RTO);
    return c;
}

static void set_user_timeout(struct script *s, int c, int ms)
{
    CHECK_EQ(keel_setsockopt(s->st, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, &ms, sizeof ms),
             0);
}

/* Data the device refuses is not sent; one RTO later the probe timer tries
 * it again, then every 500 ms, each refusal a probe, never backing off. */
TEST(refused_data_probed_every_resource_interval)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_conn(&s);
    refusing = true;
    uint64_t start = s.now_us;
    CHECK_EQ(keel_send(s.st, c, data, 24, 0), 24);
    CHECK_EQ(refused, 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.snd_nxt, i.snd_una);
    CHECK(i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_PERSIST], start + RTO);
    for (int k = 0; k < 4; k++) {
        uint64_t at = start + RTO + (uint64_t)k * RESOURCE_PROBE;
        script_advance_to(&s, at - 1);
        CHECK_EQ(refused, 1 + k);
        script_advance_to(&s, at);
        CHECK_EQ(refused, 2 + k);
        i = script_info(&s, c);
        CHECK_EQ(i.probes, k + 1);
        CHECK_EQ(i.backoff, 0);
    }
    script_expect_none(&s);
    /* The device takes packets again: the next probe is the data itself. */
    refusing = false;
    script_advance_to(&s, start + RTO + 4 * RESOURCE_PROBE);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 24);
    i = script_info(&s, c);
    CHECK_EQ(i.probes, 0);
    CHECK(!i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK(i.timer_armed[KEEL_TIMER_RETRANSMIT]);
    script_free(&s);
}

/* TCP_USER_TIMEOUT counts from the first probe; the last interval is cut
 * to what is left of it. user-timeout-probe.pkt: 3 s, six probes, and the
 * write after the timeout fails with ETIMEDOUT. */
TEST(user_timeout_ends_local_congestion)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_conn(&s);
    set_user_timeout(&s, c, 3000);
    refusing = true;
    uint64_t first_probe = s.now_us + RTO;
    CHECK_EQ(keel_send(s.st, c, data, 24, 0), 24);
    script_advance_to(&s, first_probe + 3 * SEC - 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    CHECK_EQ(keel_send(s.st, c, data, 24, 0), 24);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.probes, 6);
    CHECK_EQ(i.backoff, 0);
    script_advance_to(&s, first_probe + 3 * SEC);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK_EQ(keel_send(s.st, c, data, 24, 0), KEEL_ETIMEDOUT);
    CHECK_EQ(script_info(&s, c).probes, 6);
    script_free(&s);
}

/* A retransmission the device refuses does not back the timer off: it is
 * tried again 500 ms later; the one that leaves doubles the RTO as usual. */
TEST(refused_retransmission_retried_without_backoff)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_conn(&s);
    uint64_t sent = s.now_us;
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    refusing = true;
    script_advance_to(&s, sent + RTO);
    CHECK_EQ(refused, 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.backoff, 0);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_RETRANSMIT], sent + RTO + RESOURCE_PROBE);
    refusing = false;
    script_advance_to(&s, sent + RTO + RESOURCE_PROBE);
    const struct captured *r = script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    CHECK_EQ_U(r->at_us, sent + RTO + RESOURCE_PROBE);
    i = script_info(&s, c);
    CHECK_EQ(i.backoff, 1);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_RETRANSMIT], s.now_us + 2 * RTO);
    script_free(&s);
}

/* A refused bare ACK is merely lost: it leaves no data waiting for a probe. */
TEST(refused_ack_needs_no_probe)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_conn(&s);
    refusing = true;
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    script_advance(&s, 40 * MS); /* the delayed ACK, refused */
    CHECK(refused >= 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(!i.timer_armed[KEEL_TIMER_PERSIST]);
    CHECK(!i.timer_armed[KEEL_TIMER_RETRANSMIT]);
    script_free(&s);
}

/* A keepalive probe the device refuses is not counted and is tried again
 * 500 ms later (Linux tcp_keepalive_timer: "try harder"). */
TEST(refused_keepalive_probe_retried_soon)
{
    struct script s;
    script_init(&s, NULL);
    int c = open_conn(&s);
    int one = 1, idle = 10;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, &one, sizeof one), 0);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_KEEPIDLE, &idle, sizeof idle),
             0);
    uint64_t start = s.now_us;
    refusing = true;
    script_advance_to(&s, start + 10 * SEC);
    CHECK_EQ(refused, 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.probes, 0);
    CHECK_EQ_U(i.timer_expiry_us[KEEL_TIMER_KEEPALIVE], s.now_us + RESOURCE_PROBE);
    refusing = false;
    script_advance_to(&s, start + 10 * SEC + RESOURCE_PROBE);
    script_expect(&s, .flags = A, .seq = 0, .ack = 1);
    CHECK_EQ(script_info(&s, c).probes, 1);
    script_free(&s);
}
