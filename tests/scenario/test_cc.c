/* Congestion control as Linux 6.x runs it, segment by segment: slow start
 * while application-limited (tcp_is_cwnd_limited), CUBIC and HyStart
 * (tcp_cubic.c), and the restart after idle (tcp_cwnd_restart). The
 * packetdrill scripts each test stands for are named with it. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

#define MSS 1000u

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

static uint32_t cwnd_segs(struct script *s, int sock)
{
    return script_info(s, sock).cwnd / MSS;
}

/* Ten segments sent and acknowledged two at a time, nothing more to send:
 * slow start still doubles cwnd to 20, because cwnd stays under twice the
 * largest flight of the window (Linux tcp_is_cwnd_limited). That flight is
 * kept when data is sent (tcp_cwnd_validate), so the result is the same
 * whatever the initial sequence number: run with two ISNs half the
 * sequence space apart (RFC 6528's ISN follows the clock).
 * (packetdrill: slow_start/slow-start-app-limited.pkt.) */
TEST(app_limited_slow_start_doubles_whatever_the_isn)
{
    static const uint32_t isn_offset[] = {0, 0x80000000u};
    for (size_t k = 0; k < sizeof isn_offset / sizeof isn_offset[0]; k++) {
        struct keel_config cfg = {.isn_offset = isn_offset[k]};
        struct script s;
        script_init(&s, &cfg);
        int c = script_passive_open(&s, &OPTS_MSS_1000);
        script_write(&s, c, 10 * MSS);
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

/* slow-start-after-idle.pkt's opening: 26000 bytes in TSO packets of half
 * the cwnd, all acknowledged in two round trips of 100 ms, which leaves
 * cwnd at 36 segments and nothing in flight. The restart is the same for
 * every algorithm: NewReno keeps HyStart out of the way. */
static int grow_to_36_and_drain(struct script *s, struct keel_config *cfg)
{
    cfg->sndbuf = 262144;
    cfg->congestion_control = "newreno";
    script_init(s, cfg);
    script_use_tso_device(s);
    int c = script_passive_open(s, &OPTS_MSS_1000);
    script_write(s, c, 26000);
    script_expect(s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_advance(s, 100000);
    script_send(s, .flags = A, .seq = 1, .ack = 10001, .win = 65535);
    CHECK_EQ(cwnd_segs(s, c), 20u);
    script_expect(s, .flags = P | A, .seq = 10001, .ack = 1, .len = 10000);
    script_expect(s, .flags = P | A, .seq = 20001, .ack = 1, .len = 6000);
    script_advance(s, 100000);
    script_send(s, .flags = A, .seq = 1, .ack = 26001, .win = 65535);
    CHECK_EQ(cwnd_segs(s, c), 36u);
    return c;
}

/* RFC 5681 §4.1 as Linux's tcp_cwnd_restart does it: after 2 s idle (many
 * RTOs), cwnd halves per RTO down to the initial window, 10 segments; the
 * next write leaves as a TSO packet of half of it. ssthresh stays (it is
 * more than 3/4 of the old cwnd). (slow_start/slow-start-after-idle.pkt.) */
TEST(cwnd_restarts_after_idle)
{
    struct keel_config cfg = {0};
    struct script s;
    int c = grow_to_36_and_drain(&s, &cfg);
    script_advance(&s, 2000000);
    script_write(&s, c, 20000);
    script_expect(&s, .flags = P | A, .seq = 26001, .ack = 1, .len = 5000);
    CHECK_EQ(cwnd_segs(&s, c), 10u);
    CHECK_EQ(script_info(&s, c).ssthresh, UINT32_MAX);
    script_free(&s);
}

/* One halving per RTO of idleness: 1.5 RTOs idle halves cwnd once, from
 * 36 to 18 segments (Linux tcp_cwnd_restart's loop). */
TEST(cwnd_restart_halves_once_per_rto_idle)
{
    struct keel_config cfg = {0};
    struct script s;
    int c = grow_to_36_and_drain(&s, &cfg);
    uint32_t rto = script_info(&s, c).rto_us;
    script_advance(&s, rto + rto / 2);
    script_write(&s, c, 20000);
    script_expect(&s, .flags = P | A, .seq = 26001, .ack = 1, .len = 9000);
    CHECK_EQ(cwnd_segs(&s, c), 18u);
    script_free(&s);
}

/* Idle for less than an RTO: no restart, the whole cwnd is usable. */
TEST(no_cwnd_restart_within_an_rto)
{
    struct keel_config cfg = {0};
    struct script s;
    int c = grow_to_36_and_drain(&s, &cfg);
    script_advance(&s, script_info(&s, c).rto_us / 2);
    script_write(&s, c, 20000);
    script_expect(&s, .flags = P | A, .seq = 26001, .ack = 1, .len = 18000);
    CHECK_EQ(cwnd_segs(&s, c), 36u);
    script_free(&s);
}

/* tcp_slow_start_after_idle=0 (no_slow_start_after_idle): cwnd survives
 * the idle period, as packetdrill's defaults.sh configures Linux. */
TEST(no_cwnd_restart_when_disabled)
{
    struct keel_config cfg = {.no_slow_start_after_idle = true};
    struct script s;
    int c = grow_to_36_and_drain(&s, &cfg);
    script_advance(&s, 2000000);
    script_write(&s, c, 20000);
    script_expect(&s, .flags = P | A, .seq = 26001, .ack = 1, .len = 18000);
    CHECK_EQ(cwnd_segs(&s, c), 36u);
    script_free(&s);
}

/* The peer's window closes with data queued; zero-window probes carry no
 * data, so when the window opens 2 s later the sender has been idle since
 * its last data and cwnd restarts then, not before (Linux checks on the
 * window update, tcp_ack_update_window).
 * (slow_start/slow-start-after-win-update.pkt.) */
TEST(cwnd_restarts_when_a_closed_window_opens_after_idle)
{
    struct keel_config cfg = {0};
    struct script s;
    int c = grow_to_36_and_drain(&s, &cfg);
    script_send(&s, .flags = A, .seq = 1, .ack = 26001, .win = 0, .win_set = true);
    script_write(&s, c, 20000);
    script_expect_none(&s);
    script_advance(&s, 2000000);
    CHECK_EQ(cwnd_segs(&s, c), 36u);
    while (script_pending(&s))
        script_expect(&s, .flags = A, .seq = 26000, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 26001, .win = 65535);
    script_expect(&s, .flags = P | A, .seq = 26001, .ack = 1, .len = 5000);
    CHECK_EQ(cwnd_segs(&s, c), 10u);
    script_free(&s);
}

/* HyStart's delay test as Linux's hystart_update runs it, one delay sample
 * per ACK (the time since the newest acknowledged byte left): a first
 * window times 200 ms; in the next round every ACK is 240 ms or more
 * after its data, 20% above the minimum; slow start goes on through the
 * round's first 8 samples (cwnd + 2 per ACK) and ends on the 9th, whose
 * round minimum exceeds 200 + 16 ms (eta = min / 8 = 25 ms, clamped):
 * ssthresh = cwnd = 36 segments, which the last ACK no longer grows.
 * (cubic/cubic-hystart-delay-rtt-jumps-upward.pkt.) */
TEST(hystart_exits_on_the_ninth_slow_sample_of_a_round)
{
    struct keel_config cfg = {.sndbuf = 262144, .min_tso_segs = 64}; /* TSO: half the cwnd */
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 200000); /* RTO 600 ms */
    script_write(&s, c, 30000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_advance(&s, 200000);
    script_send(&s, .flags = A, .seq = 1, .ack = 10001);
    script_expect(&s, .flags = P | A, .seq = 10001, .ack = 1, .len = 10000);
    script_expect(&s, .flags = P | A, .seq = 20001, .ack = 1, .len = 10000);
    CHECK_EQ(cwnd_segs(&s, c), 20u);
    script_advance(&s, 240000);
    for (uint32_t i = 1; i <= 8; i++) {
        script_send(&s, .flags = A, .seq = 1, .ack = 10001 + 2 * i * MSS);
        CHECK_EQ(script_info(&s, c).ssthresh, UINT32_MAX);
        CHECK_EQ(cwnd_segs(&s, c), 20 + 2 * i);
        script_advance(&s, 1000);
    }
    script_send(&s, .flags = A, .seq = 1, .ack = 28001);
    CHECK_EQ(script_info(&s, c).ssthresh, 36 * MSS);
    CHECK_EQ(cwnd_segs(&s, c), 36u);
    script_advance(&s, 1000);
    script_send(&s, .flags = A, .seq = 1, .ack = 30001);
    CHECK_EQ(cwnd_segs(&s, c), 36u); /* CUBIC: 1 segment per 20 acknowledged */
    script_free(&s);
}

/* HyStart sees no ACK below the low window of 16 segments (Linux
 * cubictcp_acked tests cwnd before hystart_update), so no round ends there:
 * 2 segments acknowledged every 100 ms, each ACK 100 ms or more after its
 * data (minimum 100 ms, eta 12.5 ms), cwnd + 2 per ACK. The first ACK at
 * cwnd 16, the 4th, starts a round ending at 22001 (22 segments sent);
 * the 12th starts the next, ending at 54001; its 9th sample, on the 20th
 * ACK, ends slow start at cwnd 48 (room for 2 segments, not 4). Rounds
 * timed from the first ACK (ending at 10001, then from the 6th ACK) would
 * end it on the 14th, at 36.
 * (cubic/cubic-bulk-166k.pkt.) */
TEST(hystart_rounds_start_at_the_low_window)
{
    struct keel_config cfg = {.sndbuf = 262144, .min_tso_segs = 4};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 100000);
    script_write(&s, c, 65536);
    script_write(&s, c, 30000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 4000);
    script_expect(&s, .flags = P | A, .seq = 4001, .ack = 1, .len = 4000);
    script_expect(&s, .flags = P | A, .seq = 8001, .ack = 1, .len = 2000);
    for (uint32_t k = 1; k <= 20; k++) {
        script_advance(&s, 100000);
        script_send(&s, .flags = A, .seq = 1, .ack = 1 + 2 * k * MSS);
        bool found = k == 20;
        CHECK_EQ(script_info(&s, c).ssthresh, found ? 48 * MSS : UINT32_MAX);
        CHECK_EQ(cwnd_segs(&s, c), found ? 48u : 10 + 2 * k);
        script_expect(&s, .flags = P | A, .seq = 10001 + 4 * (k - 1) * MSS, .ack = 1,
                      .len = (found ? 2 : 4) * MSS);
    }
    script_free(&s);
}

/* A round's minimum that falls below the connection's minimum delay does
 * not end slow start: the minimum follows it down first (Linux commit
 * b344579ca847, "tcp_cubic: fix spurious HYSTART_DELAY exit upon drop in
 * min RTT"). Here the 9th sample, 29 ms, is the new minimum.
 * (cubic/cubic-hystart-delay-min-rtt-jumps-downward.pkt.) */
TEST(hystart_stays_when_the_minimum_delay_falls)
{
    struct keel_config cfg = {.sndbuf = 262144, .min_tso_segs = 64};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 200000);
    script_write(&s, c, 28000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_advance(&s, 200000);
    script_send(&s, .flags = A, .seq = 1, .ack = 10001);
    script_expect(&s, .flags = P | A, .seq = 10001, .ack = 1, .len = 10000);
    script_expect(&s, .flags = P | A, .seq = 20001, .ack = 1, .len = 8000);
    script_advance(&s, 180000);
    script_write(&s, c, 2000);
    script_expect(&s, .flags = P | A, .seq = 28001, .ack = 1, .len = 2000);
    script_advance(&s, 20000);
    for (uint32_t i = 1; i <= 10; i++) {
        script_send(&s, .flags = A, .seq = 1, .ack = 10001 + 2 * i * MSS);
        CHECK_EQ(script_info(&s, c).ssthresh, UINT32_MAX);
        CHECK_EQ(cwnd_segs(&s, c), 20 + 2 * i);
        script_advance(&s, 1000);
    }
    script_free(&s);
}

/* Linux tcp_tso_autosize: a TSO packet carries 1 ms at the pacing rate,
 * here 2 x 10 segments of 1460 bytes per 100 ms SRTT = 292 KB/s, 285
 * bytes a millisecond, so the floor of tcp_min_tso_segs = 2 segments: the
 * initial window leaves as 5 packets of 2920 bytes, each with PSH. After
 * an ACK of 2 segments (cwnd 12), room for 4 more: 2 packets.
 * (slow_start/slow-start-fq-ack-per-2pkt.pkt.) */
TEST(tso_packets_sized_by_the_pacing_rate)
{
    struct keel_config cfg = {.sndbuf = 262144};
    static const struct tcp_opts mss_1460 = {.present = TCP_OPT_MSS, .mss = 1460};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &mss_1460, 100000);
    script_write(&s, c, 40000);
    for (uint32_t i = 0; i < 5; i++)
        script_expect(&s, .flags = P | A, .seq = 1 + i * 2920, .ack = 1, .len = 2920);
    script_expect_none(&s);
    script_advance(&s, 105000);
    script_send(&s, .flags = A, .seq = 1, .ack = 2921);
    CHECK_EQ(script_info(&s, c).cwnd, 12 * 1460u);
    script_expect(&s, .flags = P | A, .seq = 14601, .ack = 1, .len = 2920);
    script_expect(&s, .flags = P | A, .seq = 17521, .ack = 1, .len = 2920);
    script_expect_none(&s);
    script_free(&s);
}

/* tcp_min_tso_segs raises the floor; half the cwnd still caps it
 * (tcp_cwnd_test): 10 segments asked, 5 sent per packet.
 * (slow_start/slow-start-after-idle.pkt's tcp_min_tso_segs=10.) */
TEST(tso_floor_from_min_tso_segs_capped_by_half_the_cwnd)
{
    struct keel_config cfg = {.sndbuf = 262144, .min_tso_segs = 10};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 100000);
    script_write(&s, c, 26000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_expect_none(&s);
    script_free(&s);
}

/* A short path gets larger packets: the largest TSO packet halved once per
 * 512 us of minimum RTT is added (tcp_tso_rtt_log 9). At a 4 ms RTT the
 * rate gives 4882 bytes a millisecond, 4 segments; 64 KB / 2^7 more makes
 * it 5, as much as half the initial window allows. */
TEST(tso_packets_larger_on_short_paths)
{
    struct keel_config cfg = {.sndbuf = 262144};
    struct script s;
    script_init(&s, &cfg);
    script_use_tso_device(&s);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 4000);
    script_write(&s, c, 10000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 5000);
    script_expect(&s, .flags = P | A, .seq = 5001, .ack = 1, .len = 5000);
    script_expect_none(&s);
    script_free(&s);
}
