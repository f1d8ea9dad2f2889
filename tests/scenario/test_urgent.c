/* Urgent data received (RFC 9293 §3.8.5, §3.10.7.4 sixth step) as Linux
 * keeps it: the urgent pointer points past the urgent data (RFC 6093 §4);
 * the last urgent byte is out of band (MSG_OOB, POLLPRI) unless
 * SO_OOBINLINE; a read stops before it and one that starts at it passes
 * over it (Linux tcp_check_urg, tcp_urg, tcp_recvmsg, tcp_recv_urg).
 * (packetdrill: splice/tcp_splice_loop_test.pkt.) */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define U TCP_FLAG_URG

static const uint8_t TEXT[] = "0123456789";

static long rd(struct script *s, int c, char *buf, size_t len, int flags)
{
    memset(buf, 0, len);
    return keel_recv(s->st, c, buf, len, flags);
}

/* The peer sends TEXT (10 bytes) with the urgent pointer at urp. */
static void send_urgent(struct script *s, uint16_t urp)
{
    script_send(s, .flags = U | P | A, .seq = 1, .ack = 1, .len = 10, .data = TEXT, .urp = urp);
    script_advance(s, 40000);
    script_expect(s, .flags = A, .seq = 1, .ack = 11);
}

TEST(urgent_byte_out_of_band)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    send_urgent(&s, 10); /* the urgent byte: '9' */
    CHECK(keel_readiness(s.st, c) & KEEL_POLLPRI);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.rcv_urgent, 2);
    CHECK_EQ_U(i.rcv_urgent_offset, 9);
    char buf[32];
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 9);
    CHECK_STR(buf, "012345678");
    CHECK_EQ(script_info(&s, c).rcv_urgent_offset, 0); /* at the mark */
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB | KEEL_MSG_PEEK), 1);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), 1);
    CHECK_EQ(buf[0], '9');
    CHECK(!(keel_readiness(s.st, c) & KEEL_POLLPRI));
    CHECK(!(keel_readiness(s.st, c) & KEEL_POLLIN));
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), KEEL_EINVAL); /* read already */
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), KEEL_EAGAIN);              /* not in band */
    script_free(&s);
}

/* A read stops before the urgent byte; the next passes over it. */
TEST(read_stops_at_the_urgent_mark)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    send_urgent(&s, 5); /* the urgent byte: '4' */
    char buf[32];
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 4);
    CHECK_STR(buf, "0123");
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_PEEK), 5);
    CHECK_STR(buf, "56789");
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 5);
    CHECK_STR(buf, "56789");
    CHECK_EQ(script_info(&s, c).rcv_urgent, 0); /* read past: forgotten */
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), KEEL_EINVAL);
    script_free(&s);
}

/* SO_OOBINLINE: the urgent byte stays in the stream; reads still stop at
 * the mark, and MSG_OOB has nothing to give (EINVAL). */
TEST(urgent_byte_inline)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_OOBINLINE, &one, sizeof one), 0);
    send_urgent(&s, 5);
    char buf[32];
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), KEEL_EINVAL);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 4);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 6);
    CHECK_STR(buf, "456789");
    script_free(&s);
}

/* A pointer beyond the data: the byte is not here yet (MSG_OOB: EAGAIN)
 * until the segment holding it arrives, URG or not. */
TEST(urgent_pointer_ahead_of_the_data)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = U | A, .seq = 1, .ack = 1, .len = 5, .data = TEXT, .urp = 8);
    char buf[32];
    CHECK_EQ(script_info(&s, c).rcv_urgent, 1);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), KEEL_EAGAIN);
    CHECK(!(keel_readiness(s.st, c) & KEEL_POLLPRI));
    script_send(&s, .flags = P | A, .seq = 6, .ack = 1, .len = 5, .data = TEXT + 5);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLPRI);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), 1);
    CHECK_EQ(buf[0], '7');
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 7);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 2);
    CHECK_STR(buf, "89");
    script_free(&s);
}

/* Without urgent data MSG_OOB is EINVAL; an urgent pointer into data
 * already received is not replayed (Linux tcp_check_urg), while a bare
 * URG with pointer 0 marks the next byte to come. */
TEST(stale_urgent_pointer_ignored)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_passive_open(&s, &OPTS_MSS_ONLY);
    char buf[32];
    CHECK_EQ(rd(&s, c, buf, sizeof buf, KEEL_MSG_OOB), KEEL_EINVAL);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10, .data = TEXT);
    script_send(&s, .flags = U | A, .seq = 6, .ack = 1, .len = 10, .data = TEXT, .urp = 2);
    CHECK_EQ(script_info(&s, c).rcv_urgent, 0);
    CHECK_EQ(rd(&s, c, buf, sizeof buf, 0), 15);
    script_send(&s, .flags = U | A, .seq = 16, .ack = 1, .urp = 0);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK_EQ(i.rcv_urgent, 1);
    CHECK_EQ_U(i.rcv_urgent_offset, 0);
    CHECK_EQ_U(i.rcv_up, i.rcv_nxt + 1);
    script_free(&s);
}
