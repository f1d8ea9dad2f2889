/* Unit tests for TCP header and option parsing (RFC 9293 §3.1-3.2,
 * RFC 7323, RFC 2018). Segments are literal byte arrays; the checksums of
 * the full segments were computed by hand. */
#include "harness.h"
#include "wire/wire.h"

#include <string.h>

#define ADDR_A 0xc0000201u /* 192.0.2.1 */
#define ADDR_B 0xc0000202u /* 192.0.2.2 */

/* A Linux SYN 192.0.2.1:40000 > 192.0.2.2:80, seq 1000, win 65535,
 * <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>. */
static const uint8_t LINUX_SYN[40] = {
    0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xff, 0xff, 0x23, 0x83, 0x00, 0x00,
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* 192.0.2.2:80 > 192.0.2.1:4000 P. seq 1 ack 1001 win 502
 * <nop,nop,TS val 5 ecr 4> with the 4 data bytes "hi!!". */
static const uint8_t DATA_SEG[36] = {
    0x00, 0x50, 0x0f, 0xa0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x03, 0xe9, 0x80, 0x18, 0x01, 0xf6, 0x53, 0x4a, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x04, 0x68, 0x69, 0x21, 0x21,
};

/* The 20-byte fixed header used by the option tests (ACK, doff filled in). */
static const uint8_t BASE_HDR[20] = {
    0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
    0x00, 0x01, 0x50, 0x10, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* Builds BASE_HDR followed by the option bytes opts[0..n) (n a multiple of
 * 4) with the data offset set to cover them. Returns the segment length. */
static size_t seg_with_options(uint8_t *seg, const uint8_t *opts, size_t n)
{
    memcpy(seg, BASE_HDR, sizeof BASE_HDR);
    memcpy(seg + 20, opts, n);
    seg[12] = (uint8_t)(((20 + n) / 4) << 4);
    return 20 + n;
}

/* Parses options without checksum verification (the option bytes are the
 * point of these tests, and their segments carry no valid checksum). */
static enum wire_result parse_options(const uint8_t *opts, size_t n,
                                      struct tcp_hdr *h)
{
    uint8_t seg[TCP_MAX_HDR_LEN];
    size_t len = seg_with_options(seg, opts, n);
    const uint8_t *payload;
    size_t payload_len;
    return tcp_parse(seg, len, ADDR_A, ADDR_B, false, h, &payload, &payload_len);
}

TEST(tcp_parse_linux_syn)
{
    struct tcp_hdr h;
    const uint8_t *payload = NULL;
    size_t payload_len = 99;
    CHECK_EQ(tcp_parse(LINUX_SYN, sizeof LINUX_SYN, ADDR_A, ADDR_B, true, &h,
                       &payload, &payload_len),
             WIRE_OK);
    CHECK_EQ(h.sport, 40000);
    CHECK_EQ(h.dport, 80);
    CHECK_EQ_U(h.seq, 1000);
    CHECK_EQ_U(h.ack, 0);
    CHECK_EQ(h.doff, 10);
    CHECK_EQ(h.flags, TCP_FLAG_SYN);
    CHECK_EQ(h.wnd, 65535);
    CHECK_EQ_U(h.csum, 0x2383);
    CHECK_EQ(h.urp, 0);
    CHECK_EQ(h.opts.present,
             TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS | TCP_OPT_WSCALE);
    CHECK_EQ(h.opts.mss, 1460);
    CHECK_EQ_U(h.opts.tsval, 1);
    CHECK_EQ_U(h.opts.tsecr, 0);
    CHECK_EQ(h.opts.wscale, 7);
    CHECK_EQ(h.opts.bad_len_count, 0);
    CHECK_EQ(h.opts.unknown_count, 0);
    CHECK(payload == LINUX_SYN + 40);
    CHECK_EQ(payload_len, 0);
}

TEST(tcp_parse_data_segment_with_payload)
{
    struct tcp_hdr h;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    CHECK_EQ(tcp_parse(DATA_SEG, sizeof DATA_SEG, ADDR_B, ADDR_A, true, &h,
                       &payload, &payload_len),
             WIRE_OK);
    CHECK_EQ(h.flags, TCP_FLAG_PSH | TCP_FLAG_ACK);
    CHECK_EQ_U(h.seq, 1);
    CHECK_EQ_U(h.ack, 1001);
    CHECK_EQ(h.wnd, 502);
    CHECK_EQ(h.doff, 8);
    CHECK_EQ(h.opts.present, TCP_OPT_TS);
    CHECK_EQ_U(h.opts.tsval, 5);
    CHECK_EQ_U(h.opts.tsecr, 4);
    CHECK(payload == DATA_SEG + 32);
    CHECK_EQ(payload_len, 4);
    CHECK_MEM(payload, "hi!!", 4);
}

TEST(tcp_fewer_than_20_bytes_is_truncated)
{
    struct tcp_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(tcp_parse(BASE_HDR, 19, ADDR_A, ADDR_B, false, &h, &payload,
                       &payload_len),
             WIRE_TRUNCATED);
}

TEST(tcp_data_offset_below_5_is_bad)
{
    uint8_t seg[20];
    struct tcp_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    memcpy(seg, BASE_HDR, sizeof seg);
    seg[12] = 0x40; /* doff 4 */
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_A, ADDR_B, false, &h, &payload,
                       &payload_len),
             WIRE_BAD_DATA_OFFSET);
}

TEST(tcp_data_offset_beyond_segment_is_bad)
{
    uint8_t seg[20];
    struct tcp_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    memcpy(seg, BASE_HDR, sizeof seg);
    seg[12] = 0x60; /* doff 6: 24 bytes, only 20 present */
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_A, ADDR_B, false, &h, &payload,
                       &payload_len),
             WIRE_BAD_DATA_OFFSET);
}

TEST(tcp_bad_checksum_only_when_verifying)
{
    uint8_t seg[36];
    struct tcp_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    memcpy(seg, DATA_SEG, sizeof seg);
    seg[35] = '?'; /* the payload is covered by the checksum */
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_B, ADDR_A, true, &h, &payload,
                       &payload_len),
             WIRE_BAD_CHECKSUM);
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_B, ADDR_A, false, &h, &payload,
                       &payload_len),
             WIRE_OK);
}

TEST(tcp_checksum_covers_pseudo_header)
{
    /* The right bytes between the wrong addresses fail (RFC 9293 §3.1). */
    struct tcp_hdr h;
    const uint8_t *payload;
    size_t payload_len;
    CHECK_EQ(tcp_parse(DATA_SEG, sizeof DATA_SEG, ADDR_A, ADDR_B, true, &h,
                       &payload, &payload_len),
             WIRE_OK); /* swapping src and dst keeps the sum */
    CHECK_EQ(tcp_parse(DATA_SEG, sizeof DATA_SEG, ADDR_B, 0xc0000203u, true, &h,
                       &payload, &payload_len),
             WIRE_BAD_CHECKSUM);
}

TEST(tcp_option_eol_ends_the_list)
{
    /* NOP, EOL, then an MSS option that must not be read. */
    static const uint8_t opts[8] = {0x01, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x00, 0x00};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, 0);
    CHECK_EQ(h.opts.unknown_count, 0);
}

TEST(tcp_option_nops_are_skipped)
{
    static const uint8_t opts[8] = {0x01, 0x01, 0x01, 0x02, 0x04, 0x05, 0xb4, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_MSS);
    CHECK_EQ(h.opts.mss, 1460);
}

TEST(tcp_option_length_0_is_bad_options)
{
    static const uint8_t opts[4] = {0x08, 0x00, 0x00, 0x00};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_BAD_OPTIONS);
}

TEST(tcp_option_length_1_is_bad_options)
{
    static const uint8_t opts[4] = {0x02, 0x01, 0x01, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_BAD_OPTIONS);
}

TEST(tcp_option_running_past_header_is_bad_options)
{
    /* A timestamp claims 10 bytes where only 6 remain. */
    static const uint8_t opts[8] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_BAD_OPTIONS);
}

TEST(tcp_option_kind_without_length_byte_is_bad_options)
{
    /* The last byte of the header is an MSS kind with no length after it. */
    static const uint8_t opts[4] = {0x01, 0x01, 0x01, 0x02};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_BAD_OPTIONS);
}

TEST(tcp_option_mss_wrong_length_is_ignored)
{
    /* MSS with length 3, then sackOK, NOPs. */
    static const uint8_t opts[8] = {0x02, 0x03, 0x05, 0x04, 0x02, 0x01, 0x01, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_SACK_PERM);
    CHECK_EQ(h.opts.mss, 0);
    CHECK_EQ(h.opts.bad_len_count, 1);
}

TEST(tcp_option_wscale_wrong_length_is_ignored)
{
    static const uint8_t opts[8] = {0x03, 0x04, 0x07, 0x00, 0x04, 0x02, 0x01, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_SACK_PERM);
    CHECK_EQ(h.opts.bad_len_count, 1);
}

TEST(tcp_option_sack_perm_wrong_length_is_ignored)
{
    static const uint8_t opts[8] = {0x04, 0x03, 0x00, 0x01, 0x02, 0x04, 0x05, 0xb4};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_MSS);
    CHECK_EQ(h.opts.mss, 1460);
    CHECK_EQ(h.opts.bad_len_count, 1);
}

TEST(tcp_option_timestamp_wrong_length_is_ignored)
{
    /* TS with length 8, then nop, wscale 7. */
    static const uint8_t opts[12] = {0x08, 0x08, 0x00, 0x00, 0x00, 0x01,
                                     0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_WSCALE);
    CHECK_EQ(h.opts.wscale, 7);
    CHECK_EQ(h.opts.bad_len_count, 1);
}

TEST(tcp_option_sack_wrong_lengths_are_ignored)
{
    /* SACK with no blocks (len 2), SACK with half a block (len 6), then
     * nop, nop, mss 1460, nop, nop. */
    static const uint8_t opts[16] = {0x05, 0x02, 0x05, 0x06, 0x00, 0x00,
                                     0x00, 0x01, 0x01, 0x01, 0x02, 0x04,
                                     0x05, 0xb4, 0x01, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_MSS);
    CHECK_EQ(h.opts.sack_count, 0);
    CHECK_EQ(h.opts.bad_len_count, 2);
}

TEST(tcp_option_sack_length_not_multiple_of_8_is_ignored)
{
    /* SACK with length 11 (one block plus a stray byte), then nop. */
    static const uint8_t opts[12] = {0x05, 0x0b, 0x00, 0x00, 0x00, 0x01,
                                     0x00, 0x00, 0x00, 0x02, 0xff, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, 0);
    CHECK_EQ(h.opts.bad_len_count, 1);
}

TEST(tcp_option_unknown_kinds_are_skipped_and_counted)
{
    /* TCP-AO (kind 29, len 18), MPTCP (kind 30, len 2), sackOK, nop, nop. */
    static const uint8_t opts[24] = {
        0x1d, 0x12, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
        0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x1e, 0x02, 0x04, 0x02, 0x01, 0x01,
    };
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_SACK_PERM);
    CHECK_EQ(h.opts.unknown_count, 2);
    CHECK_EQ(h.opts.bad_len_count, 0);
}

TEST(tcp_option_wscale_above_14_is_clamped)
{
    static const uint8_t opts[4] = {0x01, 0x03, 0x03, 0x0f};
    static const uint8_t huge[4] = {0x01, 0x03, 0x03, 0xff};
    static const uint8_t max[4] = {0x01, 0x03, 0x03, 0x0e};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_WSCALE);
    CHECK_EQ(h.opts.wscale, 14);
    CHECK_EQ(parse_options(huge, sizeof huge, &h), WIRE_OK);
    CHECK_EQ(h.opts.wscale, 14);
    CHECK_EQ(parse_options(max, sizeof max, &h), WIRE_OK);
    CHECK_EQ(h.opts.wscale, 14);
}

TEST(tcp_option_timestamps)
{
    static const uint8_t opts[12] = {0x01, 0x01, 0x08, 0x0a, 0x11, 0x22,
                                     0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_TS);
    CHECK_EQ_U(h.opts.tsval, 0x11223344u);
    CHECK_EQ_U(h.opts.tsecr, 0x55667788u);
}

TEST(tcp_option_sack_one_block)
{
    static const uint8_t opts[12] = {0x01, 0x01, 0x05, 0x0a, 0x00, 0x00,
                                     0x03, 0xe9, 0x00, 0x00, 0x07, 0xd1};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_SACK);
    CHECK_EQ(h.opts.sack_count, 1);
    CHECK_EQ_U(h.opts.sack[0].left, 1001);
    CHECK_EQ_U(h.opts.sack[0].right, 2001);
}

TEST(tcp_option_sack_four_blocks)
{
    static const uint8_t opts[36] = {
        0x01, 0x01, 0x05, 0x22,                         /* nop nop sack len 34 */
        0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x14, /* 10:20 */
        0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x28, /* 30:40 */
        0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00, 0x3c, /* 50:60 */
        0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10, /* wraps */
    };
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_SACK);
    CHECK_EQ(h.opts.sack_count, 4);
    CHECK_EQ_U(h.opts.sack[0].left, 10);
    CHECK_EQ_U(h.opts.sack[1].right, 40);
    CHECK_EQ_U(h.opts.sack[2].left, 50);
    CHECK_EQ_U(h.opts.sack[3].left, 0xfffffff0u);
    CHECK_EQ_U(h.opts.sack[3].right, 0x10);
}

TEST(tcp_option_space_full_of_nops_and_eol_padding)
{
    /* 40 bytes of options: mss, then EOL and zero padding to the end. */
    uint8_t opts[40] = {0x02, 0x04, 0x02, 0x18, 0x00};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_MSS);
    CHECK_EQ(h.opts.mss, 536);
    memset(opts, 0x01, sizeof opts);
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, 0);
}

TEST(tcp_parse_clears_previous_options)
{
    static const uint8_t none[4] = {0x00, 0x00, 0x00, 0x00};
    struct tcp_hdr h;
    CHECK_EQ(tcp_parse(LINUX_SYN, sizeof LINUX_SYN, ADDR_A, ADDR_B, true, &h,
                       NULL, NULL),
             WIRE_OK);
    CHECK_EQ(parse_options(none, sizeof none, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, 0);
    CHECK_EQ(h.opts.mss, 0);
}

/* ---- Fast Open (RFC 7413 §4.1.1) ---- */

TEST(tcp_option_fastopen_request_has_no_cookie)
{
    /* FO (kind 34, length 2), nop, nop. */
    static const uint8_t opts[4] = {0x22, 0x02, 0x01, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_FASTOPEN);
    CHECK_EQ(h.opts.fo_len, 0);
    CHECK_EQ(h.opts.bad_len_count, 0);
}

TEST(tcp_option_fastopen_cookie_is_copied)
{
    /* FO abcd1234, nop, nop. */
    static const uint8_t opts[8] = {0x22, 0x06, 0xab, 0xcd, 0x12, 0x34, 0x01, 0x01};
    static const uint8_t cookie[4] = {0xab, 0xcd, 0x12, 0x34};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, TCP_OPT_FASTOPEN);
    CHECK_EQ(h.opts.fo_len, 4);
    CHECK_MEM(h.opts.fo_cookie, cookie, sizeof cookie);
}

TEST(tcp_option_fastopen_odd_or_short_cookie_is_ignored)
{
    /* A 3-byte cookie, then a 2-byte one: both lengths are wrong. */
    static const uint8_t opts[12] = {0x22, 0x05, 1, 2, 3, 0x22, 0x04, 1, 2, 0x01, 0x01, 0x01};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, 0);
    CHECK_EQ(h.opts.bad_len_count, 2);
}

TEST(tcp_option_fastopen_oversized_cookie_is_ignored)
{
    /* An 18-byte cookie: more than the 16 RFC 7413 §4.1.1 allows. */
    uint8_t opts[20] = {0x22, 0x14};
    struct tcp_hdr h;
    CHECK_EQ(parse_options(opts, sizeof opts, &h), WIRE_OK);
    CHECK_EQ(h.opts.present, 0);
    CHECK_EQ(h.opts.fo_len, 0);
    CHECK_EQ(h.opts.bad_len_count, 1);
}
