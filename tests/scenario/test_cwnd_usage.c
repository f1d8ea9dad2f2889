/* Whether cwnd limits the sender (Linux tcp_is_cwnd_limited), with the
 * books kept when sending, per window of data (tcp_cwnd_validate): an
 * application-limited sender in slow start grows cwnd to twice what it
 * had in flight, and no more, whatever its initial sequence number.
 * (packetdrill: slow_start/slow-start-app-limited.pkt; before, the books
 * were closed on ACKs from an uninitialized sequence number, so the result
 * depended on which half of the sequence space the ISN fell in.) */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

static uint32_t cwnd_segs(struct script *s, int c)
{
    struct keel_tcp_info i = script_info(s, c);
    return i.cwnd / i.snd_mss;
}

/* 10 segments written and sent (the initial window), then acknowledged two
 * at a time: cwnd 12, 14, ..., 20. */
static void app_limited_slow_start(struct keel_config *cfg, bool *isn_low)
{
    struct script s;
    script_init(&s, cfg);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    *isn_low = s.keel_isn < 0x80000000u;
    static uint8_t buf[10000];
    CHECK_EQ(keel_send(s.st, c, buf, sizeof buf, 0), (long)sizeof buf);
    for (uint32_t k = 0; k < 10; k++)
        script_expect(&s, .flags = (uint8_t)(k == 9 ? P | A : A), .seq = 1 + 1000 * k,
                      .ack = 1, .len = 1000);
    CHECK_EQ(cwnd_segs(&s, c), 10);
    for (uint32_t k = 1; k <= 5; k++) {
        script_advance(&s, 5000);
        script_send(&s, .flags = A, .seq = 1, .ack = 1 + 2000 * k);
        CHECK_EQ(cwnd_segs(&s, c), 10 + 2 * k);
    }
    script_free(&s);
}

TEST(app_limited_slow_start_doubles_the_flight_whatever_the_isn)
{
    bool seen_low = false, seen_high = false;
    for (uint64_t seed = 1; seed < 64 && !(seen_low && seen_high); seed++) {
        struct keel_config cfg = {.seed = seed};
        memset(cfg.secret, (int)seed, sizeof cfg.secret);
        bool low;
        app_limited_slow_start(&cfg, &low);
        seen_low |= low;
        seen_high |= !low;
    }
    CHECK(seen_low && seen_high);
}

/* Once the flight has been doubled, an application that keeps sending
 * less than cwnd does not grow it further. */
TEST(app_limited_sender_stops_growing)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    static uint8_t buf[2000];
    CHECK_EQ(keel_send(s.st, c, buf, 2000, 0), 2000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 1000);
    script_send(&s, .flags = A, .seq = 1, .ack = 2001);
    CHECK_EQ(cwnd_segs(&s, c), 10); /* 2 in flight: 10 is not under 2 * 2 */
    script_free(&s);
}
