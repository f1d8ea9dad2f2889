/* Sender pacing as Linux's TCP paces over the fq qdisc (keel_config
 * pacing): each transmission of data sets the next one's departure time
 * (tcp_update_skb_after_send), and data whose time has not come waits for
 * the pacing timer (tcp_pacing_check). The packetdrill script it stands
 * for: cubic/cubic-bulk-166k-idle-restart.pkt. */
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

/* An SRTT of 100 ms, the initial window of 10 segments sent at t0 (the
 * first 10 segments are never paced) and acknowledged two segments at
 * t0 + 100 ms: cwnd 12, room for 4 more, 20000 bytes queued. Returns t0. */
static uint64_t open_and_ack_two(struct script *s, bool pacing)
{
    struct keel_config cfg = {.sndbuf = 262144, .pacing = pacing};
    script_init(s, &cfg);
    int c = script_active_open_rtt(s, &OPTS_MSS_1000, 100000);
    uint64_t t0 = s->now_us;
    app_write(s, c, 20 * MSS);
    for (uint32_t i = 0; i < 10; i++) {
        const struct captured *seg =
            script_expect(s, .flags = A, .seq = 1 + i * MSS, .ack = 1, .len = MSS);
        CHECK_EQ(seg->at_us, t0);
    }
    script_expect_none(s);
    script_advance(s, 100000);
    script_send(s, .flags = A, .seq = 1, .ack = 1 + 2 * MSS);
    CHECK_EQ(script_info(s, c).cwnd, 12 * MSS);
    return t0;
}

/* The rate in slow start (cwnd under half of ssthresh) is 200% of cwnd per
 * SRTT: 12000 bytes per 100 ms twice over, 240 KB/s, 4166 us a segment.
 * The first segment after the ACK leaves at once; the clock ran past its
 * departure time, a credit that halves its gap (2083 us). The next ones
 * leave a full gap apart, each when the pacing timer fires. */
TEST(paced_segments_leave_one_gap_apart)
{
    struct script s;
    uint64_t t1 = open_and_ack_two(&s, true) + 100000;
    static const uint64_t offset[] = {0, 2083, 2083 + 4166, 2083 + 2 * 4166};
    for (uint32_t i = 0; i < 4; i++) {
        script_advance_to(&s, t1 + offset[i]);
        const struct captured *seg =
            script_expect(&s, .flags = A, .seq = 10001 + i * MSS, .ack = 1, .len = MSS);
        CHECK_EQ(seg->at_us, t1 + offset[i]);
        script_expect_none(&s);
    }
    script_advance(&s, 50000);
    script_expect_none(&s); /* cwnd is full */
    script_free(&s);
}

/* Unpaced (the default), the same ACK lets all four out at once. */
TEST(unpaced_segments_leave_together)
{
    struct script s;
    uint64_t t1 = open_and_ack_two(&s, false) + 100000;
    for (uint32_t i = 0; i < 4; i++) {
        const struct captured *seg =
            script_expect(&s, .flags = A, .seq = 10001 + i * MSS, .ack = 1, .len = MSS);
        CHECK_EQ(seg->at_us, t1);
    }
    script_expect_none(&s);
    script_free(&s);
}
