/* Unit tests for TCP emission in Linux's option layout and for tcp_format.
 * Expected bytes are literal arrays built by hand from the formats of
 * RFC 9293 §3.1-3.2, RFC 7323 and RFC 2018 (checksums computed by hand). */
#include "harness.h"
#include "wire/wire.h"

#include <string.h>

#define ADDR_A 0xc0000201u /* 192.0.2.1 */
#define ADDR_B 0xc0000202u /* 192.0.2.2 */

/* 192.0.2.1:40000 > 192.0.2.2:80 S seq 1000 win 65535:
 *   src port 9c40, dst port 0050, seq 000003e8, ack 0,
 *   doff 10 (a0), flags SYN (02), window ffff, checksum 2383, urgent 0,
 *   mss 1460        02 04 05 b4
 *   sackOK          04 02
 *   TS val 1 ecr 0  08 0a 00000001 00000000
 *   nop, wscale 7   01 03 03 07 */
static const uint8_t LINUX_SYN[40] = {
    0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xff, 0xff, 0x23, 0x83, 0x00, 0x00,
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* 192.0.2.2:80 > 192.0.2.1:4000 P. seq 1 ack 1001 win 502
 * <nop,nop,TS val 5 ecr 4>, data "hi!!". */
static const uint8_t DATA_SEG[36] = {
    0x00, 0x50, 0x0f, 0xa0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x03, 0xe9, 0x80, 0x18, 0x01, 0xf6, 0x53, 0x4a, 0x00, 0x00,
    0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x04, 0x68, 0x69, 0x21, 0x21,
};

static struct tcp_hdr linux_syn_hdr(void)
{
    struct tcp_hdr h = {.sport = 40000, .dport = 80, .seq = 1000,
                        .flags = TCP_FLAG_SYN, .wnd = 65535};
    h.opts.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS | TCP_OPT_WSCALE;
    h.opts.mss = 1460;
    h.opts.tsval = 1;
    h.opts.tsecr = 0;
    h.opts.wscale = 7;
    return h;
}

static struct tcp_hdr with_options(uint8_t present)
{
    struct tcp_hdr h = {.sport = 1, .dport = 2, .flags = TCP_FLAG_ACK};
    h.opts.present = present;
    return h;
}

static void add_sack_blocks(struct tcp_hdr *h, uint8_t n)
{
    h->opts.present |= TCP_OPT_SACK;
    h->opts.sack_count = n;
    for (uint8_t i = 0; i < n; i++) {
        h->opts.sack[i].left = 1000u * (2u * i + 1);
        h->opts.sack[i].right = 1000u * (2u * i + 2);
    }
}

TEST(tcp_hdr_len_per_option_set)
{
    struct tcp_hdr h = linux_syn_hdr();
    CHECK_EQ(tcp_hdr_len(&h), 40);
    h = with_options(0);
    CHECK_EQ(tcp_hdr_len(&h), 20);
    h = with_options(TCP_OPT_TS);
    CHECK_EQ(tcp_hdr_len(&h), 32);
    h = with_options(TCP_OPT_SACK_PERM);
    CHECK_EQ(tcp_hdr_len(&h), 24);
    h = with_options(TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_WSCALE);
    CHECK_EQ(tcp_hdr_len(&h), 32);
    h = with_options(TCP_OPT_SACK); /* no blocks: nothing written */
    CHECK_EQ(tcp_hdr_len(&h), 20);
    h = with_options(TCP_OPT_TS);
    add_sack_blocks(&h, 1);
    CHECK_EQ(tcp_hdr_len(&h), 20 + 12 + 12);
}

TEST(tcp_emit_linux_syn_matches_literal_bytes)
{
    struct tcp_hdr h = linux_syn_hdr();
    uint8_t seg[40];
    memset(seg, 0xee, sizeof seg);
    CHECK_EQ(tcp_hdr_len(&h), sizeof seg);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_MEM(seg, LINUX_SYN, sizeof seg);
}

TEST(tcp_emit_data_segment_matches_literal_bytes)
{
    struct tcp_hdr h = {.sport = 80, .dport = 4000, .seq = 1, .ack = 1001,
                        .flags = TCP_FLAG_PSH | TCP_FLAG_ACK, .wnd = 502,
                        .doff = 15, .csum = 0xbad};
    uint8_t seg[36];
    h.opts.present = TCP_OPT_TS;
    h.opts.tsval = 5;
    h.opts.tsecr = 4;
    CHECK_EQ(tcp_hdr_len(&h), 32);
    memcpy(seg + 32, "hi!!", 4);
    tcp_emit(seg, sizeof seg, &h, ADDR_B, ADDR_A); /* doff, csum recomputed */
    CHECK_MEM(seg, DATA_SEG, sizeof seg);
}

TEST(tcp_emit_syn_without_timestamps_layout)
{
    /* mss 1460, nop, nop, sackOK, nop, wscale 7. */
    static const uint8_t expected[12] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01,
                                         0x04, 0x02, 0x01, 0x03, 0x03, 0x07};
    struct tcp_hdr h = linux_syn_hdr();
    uint8_t seg[32];
    h.opts.present &= (uint8_t)~TCP_OPT_TS;
    CHECK_EQ(tcp_hdr_len(&h), 32);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_EQ(seg[12], 0x80); /* doff 8 */
    CHECK_MEM(seg + 20, expected, sizeof expected);
}

TEST(tcp_emit_timestamps_without_sack_perm_layout)
{
    /* mss 536, nop, nop, TS val 0x01020304 ecr 0x05060708. */
    static const uint8_t expected[16] = {0x02, 0x04, 0x02, 0x18, 0x01, 0x01,
                                         0x08, 0x0a, 0x01, 0x02, 0x03, 0x04,
                                         0x05, 0x06, 0x07, 0x08};
    struct tcp_hdr h = with_options(TCP_OPT_MSS | TCP_OPT_TS);
    uint8_t seg[36];
    h.opts.mss = 536;
    h.opts.tsval = 0x01020304;
    h.opts.tsecr = 0x05060708;
    CHECK_EQ(tcp_hdr_len(&h), 36);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_EQ(seg[12], 0x90); /* doff 9 */
    CHECK_MEM(seg + 20, expected, sizeof expected);
}

TEST(tcp_emit_sack_blocks_layout)
{
    /* nop, nop, TS val 7 ecr 6, nop, nop, sack 1000:2000 3000:4000. */
    static const uint8_t expected[32] = {
        0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
        0x06, 0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
        0x07, 0xd0, 0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x0f, 0xa0,
    };
    struct tcp_hdr h = with_options(TCP_OPT_TS);
    uint8_t seg[52];
    h.opts.tsval = 7;
    h.opts.tsecr = 6;
    add_sack_blocks(&h, 2);
    CHECK_EQ(tcp_hdr_len(&h), 52);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_EQ(seg[12], 0xd0); /* doff 13 */
    CHECK_MEM(seg + 20, expected, sizeof expected);
}

TEST(tcp_emit_limits_sack_blocks_to_option_space)
{
    /* With timestamps only 3 blocks fit in 40 bytes (RFC 2018 §3);
     * without, all 4 do. */
    struct tcp_hdr h = with_options(TCP_OPT_TS);
    struct tcp_hdr out;
    uint8_t seg[TCP_MAX_HDR_LEN];
    add_sack_blocks(&h, 4);
    CHECK_EQ(tcp_hdr_len(&h), 60);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_A, ADDR_B, true, &out, NULL, NULL),
             WIRE_OK);
    CHECK_EQ(out.opts.sack_count, 3);
    CHECK_EQ_U(out.opts.sack[2].right, 6000);
    h = with_options(0);
    add_sack_blocks(&h, 4);
    CHECK_EQ(tcp_hdr_len(&h), 56);
    h.opts.sack_count = 9; /* out of range: at most 4 */
    CHECK_EQ(tcp_hdr_len(&h), 56);
}

TEST(tcp_emit_parse_round_trip_with_payload)
{
    struct tcp_hdr in = {.sport = 443, .dport = 51000, .seq = 0xfffffff0u,
                         .ack = 0x80000000u,
                         .flags = TCP_FLAG_ACK | TCP_FLAG_FIN | TCP_FLAG_PSH,
                         .wnd = 1234, .urp = 0};
    struct tcp_hdr out;
    uint8_t seg[TCP_MAX_HDR_LEN + 7];
    const uint8_t *payload;
    size_t hdr, payload_len;
    in.opts.present = TCP_OPT_TS;
    in.opts.tsval = 0xdeadbeefu;
    in.opts.tsecr = 42;
    add_sack_blocks(&in, 3);
    hdr = tcp_hdr_len(&in);
    memcpy(seg + hdr, "payload", 7); /* odd length */
    tcp_emit(seg, hdr + 7, &in, ADDR_B, ADDR_A);
    CHECK_EQ(tcp_parse(seg, hdr + 7, ADDR_B, ADDR_A, true, &out, &payload,
                       &payload_len),
             WIRE_OK);
    CHECK_EQ(out.sport, 443);
    CHECK_EQ(out.dport, 51000);
    CHECK_EQ_U(out.seq, 0xfffffff0u);
    CHECK_EQ_U(out.ack, 0x80000000u);
    CHECK_EQ(out.flags, in.flags);
    CHECK_EQ(out.wnd, 1234);
    CHECK_EQ(out.doff * 4, hdr);
    CHECK_EQ(out.opts.present, TCP_OPT_TS | TCP_OPT_SACK);
    CHECK_EQ_U(out.opts.tsval, 0xdeadbeefu);
    CHECK_EQ_U(out.opts.tsecr, 42);
    CHECK_EQ(out.opts.sack_count, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_U(out.opts.sack[i].left, in.opts.sack[i].left);
        CHECK_EQ_U(out.opts.sack[i].right, in.opts.sack[i].right);
    }
    CHECK_EQ(payload_len, 7);
    CHECK_MEM(payload, "payload", 7);
}

TEST(tcp_emit_parse_round_trip_syn)
{
    struct tcp_hdr in = linux_syn_hdr();
    struct tcp_hdr out;
    uint8_t seg[40];
    in.opts.wscale = 14;
    in.opts.mss = 65495;
    tcp_emit(seg, sizeof seg, &in, ADDR_A, ADDR_B);
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_A, ADDR_B, true, &out, NULL, NULL),
             WIRE_OK);
    CHECK_EQ(out.opts.present, in.opts.present);
    CHECK_EQ(out.opts.mss, 65495);
    CHECK_EQ(out.opts.wscale, 14);
    CHECK_EQ_U(out.opts.tsval, 1);
    CHECK_EQ(out.opts.bad_len_count, 0);
    CHECK_EQ(out.opts.unknown_count, 0);
}

/* ---- tcp_format ---- */

TEST(tcp_format_syn_ack_with_options)
{
    struct tcp_hdr h = {.sport = 80, .dport = 4000, .seq = 100, .ack = 1,
                        .flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .wnd = 65535};
    char buf[200];
    const char *want = "192.0.2.1:80 > 192.0.2.2:4000 S. 100:100(0) ack 1 "
                       "win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>";
    h.opts = linux_syn_hdr().opts;
    CHECK_EQ(tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0), strlen(want));
    CHECK_STR(buf, want);
}

TEST(tcp_format_data_segment)
{
    struct tcp_hdr h = {.sport = 80, .dport = 4000, .seq = 1, .ack = 1,
                        .flags = TCP_FLAG_PSH | TCP_FLAG_ACK, .wnd = 502};
    char buf[200];
    h.opts.present = TCP_OPT_TS;
    h.opts.tsval = 5;
    h.opts.tsecr = 4;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 1000);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 P. 1:1001(1000) ack 1 win 502 "
                   "<nop,nop,TS val 5 ecr 4>");
}

TEST(tcp_format_flags_and_no_options)
{
    struct tcp_hdr h = {.sport = 80, .dport = 4000, .seq = 5, .ack = 9};
    char buf[200];
    h.flags = TCP_FLAG_RST;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 R 5:5(0) win 0");
    h.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 R. 5:5(0) ack 9 win 0");
    h.flags = TCP_FLAG_FIN | TCP_FLAG_ACK;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 F. 5:5(0) ack 9 win 0");
    h.flags = TCP_FLAG_ACK;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 . 5:5(0) ack 9 win 0");
    h.flags = TCP_FLAG_SYN;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 S 5:5(0) win 0");
    h.flags = TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK | TCP_FLAG_ECE |
              TCP_FLAG_CWR | TCP_FLAG_URG;
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 FP.UEW 5:5(0) ack 9 win 0");
}

TEST(tcp_format_sack_blocks)
{
    struct tcp_hdr h = {.sport = 4000, .dport = 80, .seq = 1, .ack = 1001,
                        .flags = TCP_FLAG_ACK, .wnd = 500};
    char buf[200];
    h.opts.present = TCP_OPT_TS;
    h.opts.tsval = 7;
    h.opts.tsecr = 6;
    add_sack_blocks(&h, 2);
    tcp_format(buf, sizeof buf, ADDR_B, ADDR_A, &h, 0);
    CHECK_STR(buf, "192.0.2.2:4000 > 192.0.2.1:80 . 1:1(0) ack 1001 win 500 "
                   "<nop,nop,TS val 7 ecr 6,nop,nop,sack 1000:2000 3000:4000>");
}

TEST(tcp_format_parsed_linux_syn)
{
    struct tcp_hdr h;
    char buf[200];
    CHECK_EQ(tcp_parse(LINUX_SYN, sizeof LINUX_SYN, ADDR_A, ADDR_B, true, &h,
                       NULL, NULL),
             WIRE_OK);
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:40000 > 192.0.2.2:80 S 1000:1000(0) win 65535 "
                   "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>");
}

TEST(tcp_format_sequence_wraps)
{
    struct tcp_hdr h = {.sport = 1, .dport = 2, .seq = 0xffffff00u,
                        .flags = TCP_FLAG_ACK, .ack = 0xffffffffu, .wnd = 3};
    char buf[200];
    tcp_format(buf, sizeof buf, 0x0a000001, 0x0a000002, &h, 512);
    CHECK_STR(buf, "10.0.0.1:1 > 10.0.0.2:2 . 4294967040:256(512) "
                   "ack 4294967295 win 3");
}

TEST(tcp_format_truncates_like_snprintf)
{
    struct tcp_hdr h = {.sport = 80, .dport = 4000, .seq = 5,
                        .flags = TCP_FLAG_RST};
    const char *full = "192.0.2.1:80 > 192.0.2.2:4000 R 5:5(0) win 0";
    char buf[10];
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0), strlen(full));
    CHECK_STR(buf, "192.0.2.1"); /* 9 characters and the NUL */
    CHECK_EQ(tcp_format(NULL, 0, ADDR_A, ADDR_B, &h, 0), strlen(full));
}

/* ---- Fast Open (RFC 7413 §4.1.1), in Linux's layout ---- */

TEST(tcp_emit_fastopen_request_is_last_and_padded)
{
    /* mss 1460, nop, nop, sackOK, nop, wscale 7, FO, nop, nop. */
    static const uint8_t expected[16] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
                                         0x01, 0x03, 0x03, 0x07, 0x22, 0x02, 0x01, 0x01};
    struct tcp_hdr h = linux_syn_hdr();
    uint8_t seg[36];
    h.opts.present = (uint8_t)((h.opts.present & ~TCP_OPT_TS) | TCP_OPT_FASTOPEN);
    CHECK_EQ(tcp_hdr_len(&h), 36);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_MEM(seg + 20, expected, sizeof expected);
}

TEST(tcp_emit_fastopen_cookie_round_trips)
{
    /* FO with an 8-byte cookie takes 10 bytes, then nop, nop. */
    static const uint8_t cookie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct tcp_hdr h = with_options(TCP_OPT_FASTOPEN), out;
    uint8_t seg[32];
    h.flags = TCP_FLAG_SYN;
    h.opts.fo_len = 8;
    memcpy(h.opts.fo_cookie, cookie, sizeof cookie);
    CHECK_EQ(tcp_hdr_len(&h), 32);
    tcp_emit(seg, sizeof seg, &h, ADDR_A, ADDR_B);
    CHECK_EQ(seg[20], 0x22);
    CHECK_EQ(seg[21], 10);
    CHECK_EQ(seg[30], 0x01);
    CHECK_EQ(seg[31], 0x01);
    CHECK_EQ(tcp_parse(seg, sizeof seg, ADDR_A, ADDR_B, true, &out, NULL, NULL), WIRE_OK);
    CHECK_EQ(out.opts.fo_len, 8);
    CHECK_MEM(out.opts.fo_cookie, cookie, sizeof cookie);
}

TEST(tcp_format_fastopen_as_packetdrill_writes_it)
{
    struct tcp_hdr h = {.sport = 80, .dport = 4000, .seq = 123, .ack = 1,
                        .flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .wnd = 14600};
    char buf[200];
    h.opts.present = TCP_OPT_FASTOPEN;
    h.opts.fo_len = 4;
    memcpy(h.opts.fo_cookie, "\xab\xcd\x12\x34", 4);
    tcp_format(buf, sizeof buf, ADDR_A, ADDR_B, &h, 0);
    CHECK_STR(buf, "192.0.2.1:80 > 192.0.2.2:4000 S. 123:123(0) ack 1 win 14600 "
                   "<FO abcd1234,nop,nop>");
}

/* MD5 (20 bytes with its NOPs), MSS, NOP NOP sackOK and NOP wscale leave 8
 * bytes: no room for a 16-byte cookie, which is left off (Linux
 * tcp_syn_options); an empty request (4 bytes with padding) still fits. */
TEST(tcp_emit_fastopen_left_off_when_it_does_not_fit)
{
    struct tcp_hdr h = linux_syn_hdr();
    h.opts.present = (uint8_t)((h.opts.present & ~TCP_OPT_TS) | TCP_OPT_MD5 | TCP_OPT_FASTOPEN);
    h.opts.fo_len = 16;
    CHECK_EQ(tcp_hdr_len(&h), 52);
    h.opts.fo_len = 0;
    CHECK_EQ(tcp_hdr_len(&h), 56);
}
