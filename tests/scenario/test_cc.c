/* Congestion control as Linux 6.x runs it, segment by segment: slow start
 * while application-limited (tcp_is_cwnd_limited), CUBIC and HyStart
 * (tcp_cubic.c), and the restart after idle (tcp_cwnd_restart). The
 * packetdrill scripts each test stands for are named with it. */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

#define MSS 1000u

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

static void app_write(struct script *s, int sock, uint32_t n)
{
    static uint8_t buf[65536];
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(keel_send(s->st, sock, buf, n, 0), (long)n);
}

static uint32_t cwnd_segs(struct script *s, int sock)
{
    return script_info(s, sock).cwnd / MSS;
}

/* Ten segments sent and acknowledged two at a time, nothing more to send:
 * slow start still doubles cwnd to 20, because cwnd stays under twice the
 * largest flight of the window (Linux tcp_is_cwnd_limited). That flight is
 * kept when data is sent (tcp_cwnd_validate), so the result is the same
 * whatever the initial sequence number: run at two clock readings half the
 * sequence space apart (RFC 6528's ISN follows the clock).
 * (packetdrill: slow_start/slow-start-app-limited.pkt.) */
TEST(app_limited_slow_start_doubles_whatever_the_isn)
{
    static const uint64_t start_us[] = {0, 8589934592ull}; /* 2^31 * 4 us */
    for (size_t k = 0; k < sizeof start_us / sizeof start_us[0]; k++) {
        struct script s;
        script_init(&s, NULL);
        script_advance(&s, start_us[k]);
        int c = script_passive_open(&s, &OPTS_MSS_1000);
        app_write(&s, c, 10 * MSS);
        for (uint32_t i = 0; i < 10; i++)
            script_expect(&s, .flags = (uint8_t)(i == 9 ? P | A : A), .seq = 1 + i * MSS,
                          .ack = 1, .len = MSS);
        CHECK_EQ(cwnd_segs(&s, c), 10u);
        for (uint32_t i = 1; i <= 5; i++) {
            script_advance(&s, 5000);
            script_send(&s, .flags = A, .seq = 1, .ack = 1 + 2 * i * MSS);
            CHECK_EQ(cwnd_segs(&s, c), 10 + 2 * i);
        }
        script_expect_none(&s);
        script_free(&s);
    }
}
