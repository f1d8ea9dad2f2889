/* Unit tests for ICMP parse and emit (RFC 792, RFC 1191). Messages are
 * literal byte arrays with checksums computed by hand. */
#include "harness.h"
#include "wire/wire.h"

#include <string.h>

/* Echo request, id 0x1234, seq 1, data "abcd". */
static const uint8_t ECHO_REQUEST[12] = {0x08, 0x00, 0x21, 0x04, 0x12, 0x34,
                                         0x00, 0x01, 0x61, 0x62, 0x63, 0x64};
/* The same as an echo reply. */
static const uint8_t ECHO_REPLY[12] = {0x00, 0x00, 0x29, 0x04, 0x12, 0x34,
                                       0x00, 0x01, 0x61, 0x62, 0x63, 0x64};

/* Quoted datagram shared by the error messages: a 20-byte IPv4 header
 * 192.0.2.2 > 192.0.2.1 (TCP) and the first 8 bytes of its TCP header. */
#define QUOTE                                                                 \
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0xb6, 0xcb,   \
        0xc0, 0x00, 0x02, 0x02, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x50, 0xfa,     \
        0x00, 0x00, 0x00, 0x00, 0x64

/* Destination unreachable, fragmentation needed, next-hop MTU 1400. */
static const uint8_t FRAG_NEEDED[36] = {0x03, 0x04, 0xfc, 0xce, 0x00, 0x00,
                                        0x05, 0x78, QUOTE};
/* Time exceeded in transit. */
static const uint8_t TIME_EXCEEDED[36] = {0x0b, 0x00, 0xfa, 0x4a, 0x00, 0x00,
                                          0x00, 0x00, QUOTE};

TEST(icmp_parse_echo_request)
{
    struct icmp_msg m;
    CHECK_EQ(icmp_parse(ECHO_REQUEST, sizeof ECHO_REQUEST, &m), WIRE_OK);
    CHECK_EQ(m.type, ICMP_ECHO_REQUEST);
    CHECK_EQ(m.code, 0);
    CHECK_EQ_U(m.id, 0x1234);
    CHECK_EQ(m.seq, 1);
    CHECK(m.body == ECHO_REQUEST + 8);
    CHECK_EQ(m.body_len, 4);
}

TEST(icmp_parse_echo_reply)
{
    struct icmp_msg m;
    CHECK_EQ(icmp_parse(ECHO_REPLY, sizeof ECHO_REPLY, &m), WIRE_OK);
    CHECK_EQ(m.type, ICMP_ECHO_REPLY);
    CHECK_EQ_U(m.id, 0x1234);
    CHECK_EQ(m.seq, 1);
    CHECK_MEM(m.body, "abcd", 4);
}

TEST(icmp_parse_frag_needed_reads_next_hop_mtu)
{
    struct icmp_msg m;
    CHECK_EQ(icmp_parse(FRAG_NEEDED, sizeof FRAG_NEEDED, &m), WIRE_OK);
    CHECK_EQ(m.type, ICMP_DEST_UNREACH);
    CHECK_EQ(m.code, ICMP_CODE_FRAG_NEEDED);
    CHECK_EQ(m.next_hop_mtu, 1400);
    CHECK(m.body == FRAG_NEEDED + 8);
    CHECK_EQ(m.body_len, 28);
    CHECK_EQ(m.body[0], 0x45);
}

TEST(icmp_parse_time_exceeded)
{
    struct icmp_msg m;
    CHECK_EQ(icmp_parse(TIME_EXCEEDED, sizeof TIME_EXCEEDED, &m), WIRE_OK);
    CHECK_EQ(m.type, ICMP_TIME_EXCEEDED);
    CHECK_EQ(m.code, 0);
    CHECK_EQ(m.next_hop_mtu, 0);
    CHECK_EQ(m.body_len, 28);
}

TEST(icmp_error_quoting_less_than_28_bytes_is_bad_icmp)
{
    /* Port unreachable quoting only 27 bytes (checksum valid). */
    static const uint8_t msg[35] = {
        0x03, 0x03, 0x02, 0xac, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
        0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0xb6, 0xcb, 0xc0, 0x00, 0x02, 0x02,
        0xc0, 0x00, 0x02, 0x01, 0x00, 0x50, 0xfa, 0x00, 0x00, 0x00, 0x00,
    };
    struct icmp_msg m;
    CHECK_EQ(icmp_parse(msg, sizeof msg, &m), WIRE_BAD_ICMP);
}

TEST(icmp_fewer_than_8_bytes_is_truncated)
{
    struct icmp_msg m;
    CHECK_EQ(icmp_parse(ECHO_REQUEST, 7, &m), WIRE_TRUNCATED);
    CHECK_EQ(icmp_parse(ECHO_REQUEST, 0, &m), WIRE_TRUNCATED);
}

TEST(icmp_bad_checksum)
{
    uint8_t msg[12];
    struct icmp_msg m;
    memcpy(msg, ECHO_REQUEST, sizeof msg);
    msg[11] ^= 0x01; /* data is covered by the checksum */
    CHECK_EQ(icmp_parse(msg, sizeof msg, &m), WIRE_BAD_CHECKSUM);
}

TEST(icmp_emit_echo_matches_literal_and_round_trips)
{
    struct icmp_msg in = {.type = ICMP_ECHO_REQUEST, .id = 0x1234, .seq = 1,
                          .body = (const uint8_t *)"abcd", .body_len = 4};
    struct icmp_msg out;
    uint8_t buf[64];
    CHECK_EQ(icmp_emit(buf, sizeof buf, &in), 12);
    CHECK_MEM(buf, ECHO_REQUEST, 12);
    CHECK_EQ(icmp_parse(buf, 12, &out), WIRE_OK);
    CHECK_EQ(out.type, ICMP_ECHO_REQUEST);
    CHECK_EQ_U(out.id, 0x1234);
    CHECK_EQ(out.seq, 1);
    CHECK_EQ(out.body_len, 4);
    CHECK_MEM(out.body, "abcd", 4);
}

TEST(icmp_emit_frag_needed_matches_literal)
{
    static const uint8_t quote[28] = {QUOTE};
    struct icmp_msg in = {.type = ICMP_DEST_UNREACH,
                          .code = ICMP_CODE_FRAG_NEEDED, .next_hop_mtu = 1400,
                          .body = quote, .body_len = sizeof quote};
    struct icmp_msg out;
    uint8_t buf[36];
    CHECK_EQ(icmp_emit(buf, sizeof buf, &in), 36);
    CHECK_MEM(buf, FRAG_NEEDED, 36);
    CHECK_EQ(icmp_parse(buf, 36, &out), WIRE_OK);
    CHECK_EQ(out.next_hop_mtu, 1400);
}

TEST(icmp_emit_time_exceeded_round_trip)
{
    static const uint8_t quote[28] = {QUOTE};
    struct icmp_msg in = {.type = ICMP_TIME_EXCEEDED, .body = quote,
                          .body_len = sizeof quote};
    uint8_t buf[40];
    CHECK_EQ(icmp_emit(buf, sizeof buf, &in), 36);
    CHECK_MEM(buf, TIME_EXCEEDED, 36);
}

TEST(icmp_emit_body_already_in_place)
{
    uint8_t buf[12] = {0, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c', 'd'};
    struct icmp_msg in = {.type = ICMP_ECHO_REPLY, .id = 0x1234, .seq = 1,
                          .body = buf + 8, .body_len = 4};
    CHECK_EQ(icmp_emit(buf, sizeof buf, &in), 12);
    CHECK_MEM(buf, ECHO_REPLY, 12);
}

TEST(icmp_emit_too_small_returns_zero)
{
    struct icmp_msg in = {.type = ICMP_ECHO_REQUEST,
                          .body = (const uint8_t *)"abcd", .body_len = 4};
    uint8_t buf[12];
    memset(buf, 0x5a, sizeof buf);
    CHECK_EQ(icmp_emit(buf, 11, &in), 0);
    CHECK_EQ(icmp_emit(buf, 7, &in), 0);
    CHECK_EQ(buf[0], 0x5a); /* nothing written */
}
