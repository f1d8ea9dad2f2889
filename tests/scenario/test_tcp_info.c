/* Introspection Linux keeps in TCP_INFO: the last data and ACK times and
 * the chronographs of where the sender's time went (Linux
 * tcp_chrono_start/stop; packetdrill tcp_info/tcp-info-*.pkt). */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

static void app_write(struct script *s, int sock, uint32_t n, long want)
{
    static uint8_t buf[16384];
    CHECK_EQ(keel_send(s->st, sock, buf, n, 0), want);
}

/* The handshake counts as the last data and ACK received and the last data
 * sent (Linux tcp_finish_connect); later, in-order data and data sent move
 * them, and each data segment is counted. */
TEST(info_last_data_and_ack_times)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 30000);
    uint64_t opened = s.now_us;
    script_advance(&s, 1000000);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.last_data_recv_us, opened);
    CHECK_EQ_U(i.last_data_sent_us, opened);
    CHECK_EQ_U(i.last_ack_recv_us, opened);
    CHECK_EQ_U(i.data_segs_in, 0);

    script_send(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1001);
    i = script_info(&s, c);
    CHECK_EQ_U(i.last_data_recv_us, s.now_us);
    CHECK_EQ_U(i.last_ack_recv_us, s.now_us);
    CHECK_EQ_U(i.last_data_sent_us, opened);
    CHECK_EQ_U(i.data_segs_in, 1);

    script_advance(&s, 5000);
    app_write(&s, c, 100, 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1001, .len = 100);
    i = script_info(&s, c);
    CHECK_EQ_U(i.last_data_sent_us, s.now_us);
    CHECK_EQ_U(i.last_data_recv_us, s.now_us - 5000);
    CHECK_EQ_U(i.data_segs_out, 1);
    script_free(&s);
}

/* Out-of-order data is not "data received" until it is in order (Linux
 * updates lrcvtime in tcp_event_data_recv, for in-order data only); each
 * out-of-order segment is counted, a duplicate too (tcpi_rcv_ooopack). */
TEST(info_out_of_order_data_is_not_last_data_recv)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    uint64_t opened = s.now_us;
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.last_data_recv_us, opened);
    CHECK_EQ_U(i.data_segs_in, 1);
    CHECK_EQ_U(i.rcv_ooopack, 1);
    script_send(&s, .flags = A, .seq = 1001, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK_EQ_U(script_info(&s, c).rcv_ooopack, 2);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .len = 1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 2001);
    i = script_info(&s, c);
    CHECK_EQ_U(i.rcv_ooopack, 2);
    CHECK_EQ_U(i.last_data_recv_us, s.now_us);
    script_free(&s);
}

/* The MSS keel advertises (tcpi_advmss), apart from the peer's (snd_mss). */
TEST(info_advertised_mss)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.adv_mss, 1460);
    CHECK_EQ_U(i.snd_mss, 1000);
    script_free(&s);
}

/* Linux's tcp-info-rwnd-limited.pkt, in keel's terms: data waits for a
 * closed window for 100 ms (rwnd-limited, and busy), then is in flight for
 * 30 ms (busy only); once all is acknowledged the clocks stop. */
TEST(info_rwnd_limited_and_busy_time)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 0, .win_set = true);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.busy_us, 0);
    CHECK_EQ_U(i.rwnd_limited_us, 0);

    app_write(&s, c, 1000, 1000);
    script_expect_none(&s);
    script_advance(&s, 100000);
    i = script_info(&s, c);
    CHECK_EQ_U(i.rwnd_limited_us, 100000);
    CHECK_EQ_U(i.busy_us, 100000);

    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 2000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_advance(&s, 30000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001, .win = 2000);
    script_advance(&s, 50000);
    i = script_info(&s, c);
    CHECK_EQ_U(i.rwnd_limited_us, 100000);
    CHECK_EQ_U(i.busy_us, 130000);
    CHECK_EQ_U(i.sndbuf_limited_us, 0);
    script_free(&s);
}

/* A window too small for the next segment limits the sender as a closed
 * one does (Linux tcp_snd_wnd_test); a window that takes it does not. */
TEST(info_small_window_is_rwnd_limited)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open_rtt(&s, &OPTS_MSS_1000, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 10);
    app_write(&s, c, 1000, 1000);
    script_expect_none(&s);
    script_advance(&s, 20000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1, .win = 2000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_advance(&s, 20000);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.rwnd_limited_us, 20000);
    CHECK_EQ_U(i.busy_us, 40000);
    script_free(&s);
}

/* A write that fills the send buffer, everything sent and cwnd not the
 * limit: the sender is send-buffer limited (Linux tcp_cwnd_validate) from
 * a transmission made while the writer waits for space until an ACK frees
 * half as much space as remains charged (tcp_check_space,
 * sk_stream_write_space), then merely busy until all is acknowledged. */
TEST(info_sndbuf_limited_time)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_1000);
    int v = 2500; /* doubled: a 5000-byte buffer, half the initial window */
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &v, sizeof v), 0);
    app_write(&s, c, 8000, 5000);
    /* Each chunk leaves as it fills (Linux tcp_push_one), the last before
     * the writer finds the buffer full: not yet limited. */
    for (uint32_t k = 0; k < 5; k++)
        script_expect(&s, .flags = A, .seq = 1 + 1000 * k, .ack = 1, .len = 1000);
    CHECK_EQ_U(script_info(&s, c).sndbuf_limited_us, 0);
    /* 4000 queued, 4832 charged: room for one more chunk, which leaves
     * while the writer still waits for space. */
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    app_write(&s, c, 8000, 1000);
    script_expect(&s, .flags = A, .seq = 5001, .ack = 1, .len = 1000);
    script_advance(&s, 20000);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ_U(i.sndbuf_limited_us, 20000);
    CHECK_EQ_U(i.busy_us, 20000);

    script_send(&s, .flags = A, .seq = 1, .ack = 5001); /* 1000 queued, 1832 charged */
    script_advance(&s, 10000);
    i = script_info(&s, c);
    CHECK_EQ_U(i.sndbuf_limited_us, 20000);
    CHECK_EQ_U(i.busy_us, 30000);

    script_send(&s, .flags = A, .seq = 1, .ack = 6001);
    script_advance(&s, 10000);
    i = script_info(&s, c);
    CHECK_EQ_U(i.busy_us, 30000);
    CHECK_EQ_U(i.rwnd_limited_us, 0);
    script_free(&s);
}
