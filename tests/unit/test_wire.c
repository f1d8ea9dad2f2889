/* Unit tests for src/wire: the Internet checksum, result names and IPv4.
 * Packets are literal byte arrays; their checksums were computed by hand
 * (independently of the code under test). */
#include "harness.h"
#include "wire/wire.h"

#include <string.h>

#define ADDR_A 0xc0000201u /* 192.0.2.1 */
#define ADDR_B 0xc0000202u /* 192.0.2.2 */

/* ---- Checksum (RFC 1071) ---- */

/* RFC 1071 §3 worked example: the words 0001 f203 f4f5 f6f7 sum to ddf2. */
static const uint8_t RFC1071_BYTES[8] = {0x00, 0x01, 0xf2, 0x03,
                                         0xf4, 0xf5, 0xf6, 0xf7};

TEST(csum_rfc1071_example)
{
    uint16_t csum = wire_csum_fold(wire_csum_add(0, RFC1071_BYTES, 8));
    CHECK_EQ_U(csum, 0x220d);
    CHECK_EQ_U((uint16_t)~csum, 0xddf2);
}

TEST(csum_odd_length_pads_last_byte_with_zero)
{
    /* 0001 + f203 + f4f5 + f600 = dcfb, so the checksum is 2304. */
    CHECK_EQ_U(wire_csum_fold(wire_csum_add(0, RFC1071_BYTES, 7)), 0x2304);
}

TEST(csum_in_pieces_matches_whole)
{
    uint32_t whole_even = wire_csum_add(0, RFC1071_BYTES, 8);
    uint32_t split_even =
        wire_csum_add(wire_csum_add(0, RFC1071_BYTES, 2), RFC1071_BYTES + 2, 6);
    uint32_t whole_odd = wire_csum_add(0, RFC1071_BYTES, 7);
    /* An odd-length piece is allowed only as the last one. */
    uint32_t split_odd =
        wire_csum_add(wire_csum_add(0, RFC1071_BYTES, 4), RFC1071_BYTES + 4, 3);
    CHECK_EQ_U(wire_csum_fold(split_even), wire_csum_fold(whole_even));
    CHECK_EQ_U(wire_csum_fold(split_odd), wire_csum_fold(whole_odd));
}

TEST(csum_long_buffer_does_not_lose_carries)
{
    static uint8_t ones[200000];
    memset(ones, 0xff, sizeof ones);
    /* 100000 words of ffff sum to ffff in one's complement: checksum 0. */
    CHECK_EQ_U(wire_csum_fold(wire_csum_add(0, ones, sizeof ones)), 0);
    /* A saturated incoming accumulator must keep its carries too. */
    CHECK_EQ_U(wire_csum_fold(wire_csum_add(0xffffffffu, RFC1071_BYTES, 8)),
               wire_csum_fold(wire_csum_add(0xffffu, RFC1071_BYTES, 8)));
}

TEST(csum_empty_buffer_keeps_sum)
{
    CHECK_EQ_U(wire_csum_fold(wire_csum_add(0x1234, RFC1071_BYTES, 0)),
               (uint16_t)~0x1234);
}

TEST(pseudo_sum_matches_literal_pseudo_header)
{
    /* RFC 9293 §3.1: src, dst, zero, protocol 6, TCP length 40. */
    static const uint8_t pseudo[12] = {192, 0, 2, 1, 192, 0, 2, 2, 0, 6, 0, 40};
    CHECK_EQ_U(wire_csum_fold(wire_pseudo_sum(ADDR_A, ADDR_B, 6, 40)), 0x7bcd);
    CHECK_EQ_U(wire_csum_fold(wire_csum_add(0, pseudo, 12)), 0x7bcd);
}

TEST(result_names_are_readable_and_distinct)
{
    CHECK_STR(wire_result_name(WIRE_OK), "ok");
    CHECK_STR(wire_result_name(WIRE_BAD_CHECKSUM), "bad checksum");
    CHECK_STR(wire_result_name(WIRE_FRAGMENT), "IP fragment");
    for (int a = WIRE_OK; a <= WIRE_BAD_ICMP; a++)
        for (int b = a + 1; b <= WIRE_BAD_ICMP; b++)
            CHECK(strcmp(wire_result_name((enum wire_result)a),
                         wire_result_name((enum wire_result)b)) != 0);
    CHECK_STR(wire_result_name((enum wire_result)99), "unknown wire result");
}

/* ---- IPv4 (RFC 791 §3.1) ---- */

/* 192.0.2.1 > 192.0.2.2, proto TCP, id 0x1234, DF, TTL 64, total length 28:
 * a 20-byte header and 8 bytes of payload. */
static const uint8_t IPV4_BASIC[28] = {
    0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
    0xa4, 0xa4, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
};

TEST(ipv4_parse_basic)
{
    struct ipv4_hdr h;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    CHECK_EQ(ipv4_parse(IPV4_BASIC, sizeof IPV4_BASIC, &h, &payload, &payload_len),
             WIRE_OK);
    CHECK_EQ(h.ihl, 5);
    CHECK_EQ(h.tos, 0);
    CHECK_EQ(h.total_len, 28);
    CHECK_EQ_U(h.id, 0x1234);
    CHECK_EQ_U(h.frag, IPV4_FLAG_DF);
    CHECK_EQ(h.ttl, 64);
    CHECK_EQ(h.proto, IPV4_PROTO_TCP);
    CHECK_EQ_U(h.src, ADDR_A);
    CHECK_EQ_U(h.dst, ADDR_B);
    CHECK(payload == IPV4_BASIC + 20);
    CHECK_EQ(payload_len, 8);
}

TEST(ipv4_fewer_than_20_bytes_is_truncated)
{
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(IPV4_BASIC, 19, &h, &payload, &payload_len),
             WIRE_TRUNCATED);
    CHECK_EQ(ipv4_parse(IPV4_BASIC, 0, &h, &payload, &payload_len),
             WIRE_TRUNCATED);
}

TEST(ipv4_version_6_is_bad_version)
{
    static const uint8_t pkt[28] = {
        0x65, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
        0x84, 0xa4, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_BAD_VERSION);
}

TEST(ipv4_ihl_below_5_is_bad_ihl)
{
    static const uint8_t pkt[28] = {
        0x44, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
        0xa5, 0xa4, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_BAD_IHL);
}

TEST(ipv4_ihl_beyond_bytes_present_is_bad_ihl)
{
    /* IHL 6 (24 bytes) but only 20 bytes present. */
    static const uint8_t pkt[20] = {
        0x46, 0x00, 0x00, 0x14, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
        0xa3, 0xac, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_BAD_IHL);
}

TEST(ipv4_total_len_below_header_is_bad_total_len)
{
    /* Total length 19 < 20-byte header (checksum valid). */
    static const uint8_t pkt[28] = {
        0x45, 0x00, 0x00, 0x13, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
        0xa4, 0xad, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_BAD_TOTAL_LEN);
}

TEST(ipv4_total_len_beyond_bytes_present_is_bad_total_len)
{
    /* Total length 29, 28 bytes present (checksum valid). */
    static const uint8_t pkt[28] = {
        0x45, 0x00, 0x00, 0x1d, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
        0xa4, 0xa3, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_BAD_TOTAL_LEN);
}

TEST(ipv4_link_padding_is_trimmed)
{
    /* The 28-byte datagram followed by 18 bytes of Ethernet padding. */
    uint8_t frame[46] = {0};
    struct ipv4_hdr h;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    memcpy(frame, IPV4_BASIC, sizeof IPV4_BASIC);
    CHECK_EQ(ipv4_parse(frame, sizeof frame, &h, &payload, &payload_len), WIRE_OK);
    CHECK_EQ(h.total_len, 28);
    CHECK(payload == frame + 20);
    CHECK_EQ(payload_len, 8);
}

TEST(ipv4_bad_header_checksum)
{
    uint8_t pkt[28];
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    memcpy(pkt, IPV4_BASIC, sizeof pkt);
    pkt[8] = 0x3f; /* TTL changed, checksum not updated */
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_BAD_CHECKSUM);
}

TEST(ipv4_payload_is_not_covered_by_header_checksum)
{
    uint8_t pkt[28];
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    memcpy(pkt, IPV4_BASIC, sizeof pkt);
    pkt[27] ^= 0xff;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len), WIRE_OK);
}

TEST(ipv4_more_fragments_is_fragment_with_header)
{
    /* MF set, offset 0. */
    static const uint8_t pkt[28] = {
        0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x20, 0x00, 0x40, 0x06,
        0xc4, 0xa4, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_FRAGMENT);
    CHECK_EQ_U(h.frag, IPV4_FLAG_MF);
    CHECK_EQ_U(h.id, 0x1234);
    CHECK_EQ_U(h.src, ADDR_A);
}

TEST(ipv4_nonzero_offset_is_fragment_with_header)
{
    /* Last fragment: MF clear, offset 0xb9 (1480 bytes). */
    static const uint8_t pkt[28] = {
        0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x00, 0xb9, 0x40, 0x06,
        0xe3, 0xeb, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
    };
    struct ipv4_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len),
             WIRE_FRAGMENT);
    CHECK_EQ_U(h.frag & IPV4_FRAG_OFFSET_MASK, 0xb9);
    CHECK_EQ_U(h.dst, ADDR_B);
}

TEST(ipv4_options_are_skipped)
{
    /* IHL 6: options NOP NOP NOP EOL, then 8 bytes of payload. */
    static const uint8_t pkt[32] = {
        0x46, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
        0xa1, 0x9f, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
        0x01, 0x01, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02,
        0x03, 0x04,
    };
    struct ipv4_hdr h;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &h, &payload, &payload_len), WIRE_OK);
    CHECK_EQ(h.ihl, 6);
    CHECK(payload == pkt + 24);
    CHECK_EQ(payload_len, 8);
    CHECK_EQ(payload[0], 0xde);
}

TEST(ipv4_emit_matches_literal_header)
{
    struct ipv4_hdr h = {.ihl = 5, .id = 0x1234, .frag = IPV4_FLAG_DF,
                         .ttl = 64, .proto = IPV4_PROTO_TCP,
                         .src = ADDR_A, .dst = ADDR_B};
    uint8_t buf[20];
    memset(buf, 0xaa, sizeof buf);
    CHECK_EQ(ipv4_emit(buf, &h, 8), IPV4_HDR_LEN);
    CHECK_MEM(buf, IPV4_BASIC, 20);
}

TEST(ipv4_emit_parse_round_trip)
{
    struct ipv4_hdr in = {.tos = 0x10, .id = 0xbeef, .frag = 0,
                          .ttl = 1, .proto = IPV4_PROTO_ICMP,
                          .src = 0x0a000001, .dst = 0xffffffff};
    struct ipv4_hdr out;
    uint8_t pkt[20 + 5] = {0};
    const uint8_t *payload;
    size_t payload_len;
    memcpy(pkt + 20, "hello", 5);
    CHECK_EQ(ipv4_emit(pkt, &in, 5), 20);
    CHECK_EQ(ipv4_parse(pkt, sizeof pkt, &out, &payload, &payload_len), WIRE_OK);
    CHECK_EQ(out.ihl, 5);
    CHECK_EQ(out.tos, 0x10);
    CHECK_EQ(out.total_len, 25);
    CHECK_EQ_U(out.id, 0xbeef);
    CHECK_EQ(out.frag, 0);
    CHECK_EQ(out.ttl, 1);
    CHECK_EQ(out.proto, IPV4_PROTO_ICMP);
    CHECK_EQ_U(out.src, 0x0a000001);
    CHECK_EQ_U(out.dst, 0xffffffff);
    CHECK_EQ(payload_len, 5);
    CHECK_MEM(payload, "hello", 5);
}
