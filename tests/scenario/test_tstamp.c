/* Transmit timestamps (SO_TIMESTAMPING) and the error queue, as Linux
 * reports them for TCP (Documentation/networking/timestamping.rst): the last
 * byte of each write is reported when it is scheduled and sent (every
 * transmission) and when it is cumulatively acknowledged. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

#define TX_ALL                                                                   \
    (KEEL_SOF_TIMESTAMPING_TX_SCHED | KEEL_SOF_TIMESTAMPING_TX_SOFTWARE |        \
     KEEL_SOF_TIMESTAMPING_TX_ACK | KEEL_SOF_TIMESTAMPING_SOFTWARE | KEEL_SOF_TIMESTAMPING_OPT_ID)

static char data[8192];

static int set_flags(struct script *s, int c, int flags)
{
    return keel_setsockopt(s->st, c, KEEL_SOL_SOCKET, KEEL_SO_TIMESTAMPING, &flags, sizeof flags);
}

static int connected(struct script *s, int flags)
{
    int c = script_active_open(s, &OPTS_MSS_ONLY);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s->st, c, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &one, sizeof one), 0);
    CHECK_EQ(set_flags(s, c, flags), 0);
    return c;
}

/* The next report must be (type, key) at time at_us. */
static void expect_report(struct script *s, int c, uint8_t type, uint32_t key, uint64_t at_us)
{
    struct keel_tx_timestamp t;
    CHECK_EQ(keel_errqueue_read(s->st, c, &t), 0);
    CHECK_EQ(t.type, type);
    CHECK_EQ_U(t.key, key);
    CHECK_EQ_U(t.time_us, at_us);
}

static void expect_empty(struct script *s, int c)
{
    struct keel_tx_timestamp t;
    CHECK_EQ(keel_errqueue_read(s->st, c, &t), KEEL_EAGAIN);
    CHECK_EQ(keel_readiness(s->st, c) & KEEL_POLLERR, 0);
}

static uint64_t dropped(struct script *s)
{
    struct keel_counters k;
    keel_counters(s->st, &k);
    return k.v[KEEL_C_TxTimestampDropped];
}

/* One write of 3000 bytes: the segment holding byte 2999 is scheduled and
 * sent at once; the ACK covering it 10 ms later is reported then. The
 * segments before it report nothing. */
TEST(last_byte_scheduled_sent_and_acked)
{
    struct script s;
    script_init(&s, NULL);
    int c = connected(&s, TX_ALL);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, data, 3000, 0), 3000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1460);
    script_expect(&s, .flags = A, .seq = 1461, .ack = 1, .len = 1460);
    script_expect(&s, .flags = P | A, .seq = 2921, .ack = 1, .len = 80);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLERR);
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 2999, t0);
    expect_report(&s, c, KEEL_TSTAMP_SND, 2999, t0);
    expect_empty(&s, c);
    script_advance(&s, 10000);
    script_send(&s, .flags = A, .seq = 1, .ack = 2921);
    expect_empty(&s, c);
    script_send(&s, .flags = A, .seq = 1, .ack = 3001);
    expect_report(&s, c, KEEL_TSTAMP_ACK, 2999, t0 + 10000);
    expect_empty(&s, c);
    script_free(&s);
}

/* Linux tcp_tx_timestamp marks each write's own last byte: two writes, two
 * keys, counted from SND.UNA when the option was set. */
TEST(each_write_has_its_key)
{
    struct script s;
    script_init(&s, NULL);
    int c = connected(&s, TX_ALL);
    CHECK_EQ(keel_send(s.st, c, data, 100, 0), 100);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100);
    script_send(&s, .flags = A, .seq = 1, .ack = 101);
    CHECK_EQ(set_flags(&s, c, TX_ALL), 0); /* OPT_ID already on: the key base stays */
    CHECK_EQ(keel_send(s.st, c, data, 50, 0), 50);
    script_expect(&s, .flags = P | A, .seq = 101, .ack = 1, .len = 50);
    uint64_t t = s.now_us;
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 99, t);
    expect_report(&s, c, KEEL_TSTAMP_SND, 99, t);
    expect_report(&s, c, KEEL_TSTAMP_ACK, 99, t);
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 149, t);
    expect_report(&s, c, KEEL_TSTAMP_SND, 149, t);
    expect_empty(&s, c);
    script_free(&s);
}

/* The key counts from SND.UNA at the time OPT_ID is set, not from the ISN. */
TEST(key_counts_from_snd_una_when_set)
{
    struct script s;
    script_init(&s, NULL);
    int c = connected(&s, 0);
    CHECK_EQ(keel_send(s.st, c, data, 1000, 0), 1000);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 1000);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    CHECK_EQ(set_flags(&s, c, TX_ALL), 0);
    CHECK_EQ(keel_send(s.st, c, data, 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = 10);
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 9, s.now_us);
    script_free(&s);
}

/* Each transmission of the marked byte is reported: a retransmission after
 * the timeout reports SCHED and SND again, at its own time. */
TEST(retransmission_reported_again)
{
    struct script s;
    script_init(&s, NULL);
    int c = connected(&s, TX_ALL);
    uint64_t t0 = s.now_us;
    CHECK_EQ(keel_send(s.st, c, data, 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    script_run_timer(&s);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    uint64_t t1 = s.now_us;
    CHECK(t1 > t0);
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 9, t0);
    expect_report(&s, c, KEEL_TSTAMP_SND, 9, t0);
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 9, t1);
    expect_report(&s, c, KEEL_TSTAMP_SND, 9, t1);
    expect_empty(&s, c);
    script_free(&s);
}

/* Only the stages asked for are reported; without SOFTWARE there is no
 * time, without OPT_ID no key, and OPT_TSONLY loops no data back. */
TEST(flags_select_stages_time_key_and_data)
{
    struct script s;
    script_init(&s, NULL);
    int c = connected(&s, KEEL_SOF_TIMESTAMPING_TX_ACK);
    CHECK_EQ(keel_send(s.st, c, data, 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    expect_empty(&s, c);
    script_send(&s, .flags = A, .seq = 1, .ack = 11);
    struct keel_tx_timestamp t;
    CHECK_EQ(keel_errqueue_read(s.st, c, &t), 0);
    CHECK_EQ(t.type, KEEL_TSTAMP_ACK);
    CHECK_EQ_U(t.time_us, 0);
    CHECK_EQ_U(t.key, 0);
    CHECK_EQ_U(t.bytes, 10);
    CHECK_EQ(set_flags(&s, c, KEEL_SOF_TIMESTAMPING_TX_SOFTWARE | KEEL_SOF_TIMESTAMPING_OPT_TSONLY), 0);
    CHECK_EQ(keel_send(s.st, c, data, 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 11, .ack = 1, .len = 10);
    CHECK_EQ(keel_errqueue_read(s.st, c, &t), 0);
    CHECK_EQ(t.type, KEEL_TSTAMP_SND);
    CHECK_EQ_U(t.bytes, 0);
    expect_empty(&s, c);
    int v = 0;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_TIMESTAMPING, &v, &len), 0);
    CHECK_EQ(v, KEEL_SOF_TIMESTAMPING_TX_SOFTWARE | KEEL_SOF_TIMESTAMPING_OPT_TSONLY);
    script_free(&s);
}

/* Linux sock_set_timestamping: OPT_ID needs a connection; OPT_ID_TCP needs
 * OPT_ID; flags keel does not implement are refused. */
TEST(invalid_flags_refused)
{
    struct script s;
    script_init(&s, NULL);
    int u = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(set_flags(&s, u, (int)KEEL_SOF_TIMESTAMPING_OPT_ID), KEEL_EINVAL);
    CHECK_EQ(set_flags(&s, u, (int)KEEL_SOF_TIMESTAMPING_TX_ACK), 0);
    CHECK_EQ(set_flags(&s, u, 1 << 0), KEEL_EINVAL); /* TX_HARDWARE */
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(set_flags(&s, c, (int)KEEL_SOF_TIMESTAMPING_OPT_ID_TCP), KEEL_EINVAL);
    CHECK_EQ(set_flags(&s, c, -1), KEEL_EINVAL);
    CHECK_EQ(keel_errqueue_read(s.st, 999, &(struct keel_tx_timestamp){0}), KEEL_EBADF);
    expect_empty(&s, c);
    script_free(&s);
}

/* OPT_ID_TCP counts from the next byte to be written, so unsent data
 * queued before the option does not shift the keys. */
TEST(opt_id_tcp_counts_from_write_end)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, data, 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    CHECK_EQ(set_flags(&s, c, TX_ALL | (int)KEEL_SOF_TIMESTAMPING_OPT_ID_TCP), 0);
    CHECK_EQ(keel_send(s.st, c, data, 5, 0), 5);
    script_send(&s, .flags = A, .seq = 1, .ack = 11);
    script_expect(&s, .flags = P | A, .seq = 11, .ack = 1, .len = 5);
    expect_report(&s, c, KEEL_TSTAMP_SCHED, 4, s.now_us);
    script_free(&s);
}

/* The error queue is bounded: reports beyond KEEL_ERRQUEUE_MAX unread are
 * dropped and counted; the oldest stay. */
TEST(error_queue_bounded)
{
    struct script s;
    script_init(&s, NULL);
    int c = connected(&s, KEEL_SOF_TIMESTAMPING_TX_SOFTWARE | KEEL_SOF_TIMESTAMPING_OPT_ID);
    for (uint32_t i = 0; i < KEEL_ERRQUEUE_MAX + 3; i++) {
        CHECK_EQ(keel_send(s.st, c, data, 1, 0), 1);
        script_send(&s, .flags = A, .seq = 1, .ack = i + 2);
    }
    CHECK_EQ(dropped(&s), 3);
    for (uint32_t i = 0; i < KEEL_ERRQUEUE_MAX; i++)
        expect_report(&s, c, KEEL_TSTAMP_SND, i, 0); /* no SOFTWARE: no time */
    expect_empty(&s, c);
    script_free(&s);
}

/* An accepted connection starts with its listener's flags, as Linux
 * sk_clone_lock copies sk_tsflags. */
TEST(accepted_connection_inherits_flags)
{
    struct script s;
    script_init(&s, NULL);
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_bind(s.st, ls, &(struct keel_sockaddr){0, KEEL_PORT}), 0);
    CHECK_EQ(keel_listen(s.st, ls, 16), 0);
    int flags = KEEL_SOF_TIMESTAMPING_TX_ACK | KEEL_SOF_TIMESTAMPING_SOFTWARE;
    CHECK_EQ(set_flags(&s, ls, flags), 0);
    script_send(&s, .flags = TCP_FLAG_SYN, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = TCP_FLAG_SYN | A, .seq = 0, .ack = 1);
    script_send(&s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s.st, ls, NULL);
    CHECK(c >= 0);
    int v = 0;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_TIMESTAMPING, &v, &len), 0);
    CHECK_EQ(v, flags);
    CHECK_EQ(keel_send(s.st, c, data, 10, 0), 10);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    script_send(&s, .flags = A, .seq = 1, .ack = 11);
    expect_report(&s, c, KEEL_TSTAMP_ACK, 0, s.now_us);
    script_free(&s);
}
