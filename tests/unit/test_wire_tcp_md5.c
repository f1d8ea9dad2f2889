/* The MD5 signature option (RFC 2385): layout, parsing, and the digest
 * against one computed independently (Python's hashlib over the bytes
 * RFC 2385 §2.0 lists, written out by hand). */
#include <string.h>

#include "harness.h"
#include "wire/wire.h"

#define SRC 0x0a000001u /* 10.0.0.1 */
#define DST 0x0a000002u /* 10.0.0.2 */

/* 10.0.0.1:1234 > 10.0.0.2:80, seq 1, ack 2, ACK, win 1000, "abc", key
 * "key": MD5 over 0a000001 0a000002 00 06 002b, the 20-byte header with
 * doff 10 and checksum 0, "abc", "key". */
static const uint8_t WANT_DIGEST[16] = {0x18, 0x97, 0xbc, 0xdc, 0xab, 0x1f, 0x12, 0x61,
                                        0x68, 0xba, 0x28, 0x9f, 0xb9, 0xdb, 0x1f, 0x16};

static size_t signed_segment(uint8_t *seg, const char *key)
{
    struct tcp_hdr h = {.sport = 1234, .dport = 80, .seq = 1, .ack = 2,
                        .flags = TCP_FLAG_ACK, .wnd = 1000};
    h.opts.present = TCP_OPT_MD5;
    size_t hlen = tcp_hdr_len(&h);
    memcpy(seg + hlen, "abc", 3);
    tcp_emit(seg, hlen + 3, &h, SRC, DST);
    tcp_md5_sign(seg, hlen + 3, SRC, DST, (const uint8_t *)key, strlen(key));
    return hlen + 3;
}

/* Linux tcp_options_write: NOP, NOP, kind 19, length 18, digest: first. */
TEST(md5_option_first_after_two_nops)
{
    uint8_t seg[64];
    struct tcp_hdr h = {.flags = TCP_FLAG_ACK};
    h.opts.present = TCP_OPT_MD5 | TCP_OPT_TS;
    CHECK_EQ(tcp_hdr_len(&h), 20 + 20 + 12);
    CHECK_EQ(signed_segment(seg, "key"), 43);
    CHECK_EQ(seg[12], 0xa0);
    CHECK_EQ(seg[20], TCPOPT_NOP);
    CHECK_EQ(seg[21], TCPOPT_NOP);
    CHECK_EQ(seg[22], TCPOPT_MD5SIG);
    CHECK_EQ(seg[23], 18);
}

TEST(digest_matches_independent_computation)
{
    uint8_t seg[64];
    size_t len = signed_segment(seg, "key");
    CHECK_MEM(seg + 24, WANT_DIGEST, 16);
    struct tcp_hdr h;
    CHECK_EQ(tcp_parse(seg, len, SRC, DST, true, &h, NULL, NULL), WIRE_OK);
    CHECK(h.opts.present & TCP_OPT_MD5);
    CHECK_MEM(h.opts.md5, WANT_DIGEST, 16);
    uint8_t again[16];
    tcp_md5_digest(seg, len, SRC, DST, (const uint8_t *)"key", 3, again);
    CHECK_MEM(again, WANT_DIGEST, 16);
}

/* A wrong length makes the option ignored, like any known option. */
TEST(md5_option_wrong_length_ignored)
{
    uint8_t seg[40] = {0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x10, 0x03, 0xe8};
    seg[20] = TCPOPT_MD5SIG;
    seg[21] = 12;
    struct tcp_hdr h;
    CHECK_EQ(tcp_parse(seg, 32, SRC, DST, false, &h, NULL, NULL), WIRE_OK);
    CHECK_EQ(h.opts.present & TCP_OPT_MD5, 0);
    CHECK_EQ(h.opts.bad_len_count, 1);
}
