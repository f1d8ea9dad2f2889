/* TCP header and option parsing (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018,
 * RFC 6691). */
#include "wire/cursor.h"
#include "wire/wire.h"

#include <string.h>

/* Total lengths (kind and length bytes included) of the known options. */
#define TCPOLEN_MSS 4        /* RFC 9293 §3.2, RFC 6691 */
#define TCPOLEN_WSCALE 3     /* RFC 7323 §2.2 */
#define TCPOLEN_SACK_PERM 2  /* RFC 2018 §2 */
#define TCPOLEN_TIMESTAMP 10 /* RFC 7323 §3.2 */
#define TCPOLEN_SACK_BASE 2  /* RFC 2018 §3: 2 + 8 per block */
#define TCPOLEN_SACK_BLOCK 8
#define TCPOLEN_MD5SIG 18    /* RFC 2385 §3.0 */
#define TCPOLEN_FASTOPEN_BASE 2 /* RFC 7413 §4.1.1: kind, length, cookie */
#define TCP_MAX_WSCALE 14 /* RFC 7323 §2.3 */

static void read_fixed_header(struct wire_reader *r, struct tcp_hdr *h)
{
    uint8_t offset_byte = 0;

    reader_get_u16(r, &h->sport);
    reader_get_u16(r, &h->dport);
    reader_get_u32(r, &h->seq);
    reader_get_u32(r, &h->ack);
    reader_get_u8(r, &offset_byte);
    h->doff = offset_byte >> 4; /* low bits reserved (RFC 9293 §3.1) */
    reader_get_u8(r, &h->flags);
    reader_get_u16(r, &h->wnd);
    reader_get_u16(r, &h->csum);
    reader_get_u16(r, &h->urp);
}

static bool option_kind_known(uint8_t kind)
{
    return kind == TCPOPT_MSS || kind == TCPOPT_WSCALE ||
           kind == TCPOPT_SACK_PERM || kind == TCPOPT_SACK ||
           kind == TCPOPT_TIMESTAMP || kind == TCPOPT_MD5SIG ||
           kind == TCPOPT_FASTOPEN;
}

/* RFC 7413 §4.1.1: no cookie (a request) or an even 4 to 16 bytes, as
 * Linux tcp_parse_fastopen_option accepts. */
static bool fastopen_len_valid(size_t cookie_len)
{
    return cookie_len == 0 ||
           (cookie_len >= TCP_FASTOPEN_COOKIE_MIN && cookie_len <= TCP_FASTOPEN_COOKIE_MAX &&
            cookie_len % 2 == 0);
}

/* Whether a known option kind has a length its RFC allows. */
static bool option_len_valid(uint8_t kind, size_t optlen)
{
    size_t blocks_bytes = optlen - TCPOLEN_SACK_BASE;

    switch (kind) {
    case TCPOPT_MSS: return optlen == TCPOLEN_MSS;
    case TCPOPT_WSCALE: return optlen == TCPOLEN_WSCALE;
    case TCPOPT_SACK_PERM: return optlen == TCPOLEN_SACK_PERM;
    case TCPOPT_TIMESTAMP: return optlen == TCPOLEN_TIMESTAMP;
    case TCPOPT_MD5SIG: return optlen == TCPOLEN_MD5SIG;
    case TCPOPT_FASTOPEN: return fastopen_len_valid(optlen - TCPOLEN_FASTOPEN_BASE);
    case TCPOPT_SACK:
        return blocks_bytes % TCPOLEN_SACK_BLOCK == 0 &&
               blocks_bytes >= TCPOLEN_SACK_BLOCK &&
               blocks_bytes <= TCP_MAX_SACK_BLOCKS * TCPOLEN_SACK_BLOCK;
    }
    return false;
}

/* RFC 2018 §3: each block is a left edge and a right edge (one past the
 * last byte received). */
static void read_sack_blocks(struct wire_reader *body, struct tcp_opts *o)
{
    o->sack_count = 0;
    while (o->sack_count < TCP_MAX_SACK_BLOCKS &&
           reader_get_u32(body, &o->sack[o->sack_count].left) &&
           reader_get_u32(body, &o->sack[o->sack_count].right))
        o->sack_count++;
}

/* Records one well-formed option of a known kind; body holds the bytes after
 * the kind and length. */
static void apply_known_option(uint8_t kind, struct wire_reader *body,
                               struct tcp_opts *o)
{
    switch (kind) {
    case TCPOPT_MSS:
        reader_get_u16(body, &o->mss);
        o->present |= TCP_OPT_MSS;
        break;
    case TCPOPT_WSCALE:
        /* RFC 7323 §2.3: a shift above 14 is logged and used as 14. */
        reader_get_u8(body, &o->wscale);
        if (o->wscale > TCP_MAX_WSCALE)
            o->wscale = TCP_MAX_WSCALE;
        o->present |= TCP_OPT_WSCALE;
        break;
    case TCPOPT_SACK_PERM:
        o->present |= TCP_OPT_SACK_PERM;
        break;
    case TCPOPT_TIMESTAMP:
        reader_get_u32(body, &o->tsval);
        reader_get_u32(body, &o->tsecr);
        o->present |= TCP_OPT_TS;
        break;
    case TCPOPT_SACK:
        read_sack_blocks(body, o);
        o->present |= TCP_OPT_SACK;
        break;
    case TCPOPT_MD5SIG:
        memcpy(o->md5, body->p, TCP_MD5_DIGEST_LEN);
        o->present |= TCP_OPT_MD5;
        break;
    case TCPOPT_FASTOPEN:
        o->fo_len = (uint8_t)body->left;
        memcpy(o->fo_cookie, body->p, body->left);
        o->present |= TCP_OPT_FASTOPEN;
        break;
    }
}

/* RFC 9293 §3.2: options other than EOL and NOP are kind, length (counting
 * both bytes), data. A length that cannot be right (< 2, or past the header)
 * leaves the rest unparseable, so the segment is rejected (§3.2 requires
 * being prepared for illegal option lengths). A known kind with the wrong
 * length is only ignored, and an unknown kind is skipped by its length (§3.2:
 * options not implemented are ignored without error). */
static enum wire_result parse_options(struct wire_reader r, struct tcp_opts *o)
{
    uint8_t kind = 0, optlen = 0;
    struct wire_reader body;

    while (reader_get_u8(&r, &kind)) {
        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP)
            continue;
        if (!reader_get_u8(&r, &optlen) || optlen < 2 ||
            !reader_split(&r, (size_t)optlen - 2, &body))
            return WIRE_BAD_OPTIONS;
        if (!option_kind_known(kind))
            o->unknown_count++;
        else if (!option_len_valid(kind, optlen))
            o->bad_len_count++;
        else
            apply_known_option(kind, &body, o);
    }
    return WIRE_OK;
}

/* RFC 9293 §3.1: the checksum covers the pseudo header and the whole
 * segment; with the transmitted checksum included the result is 0. IPv4
 * cannot carry a segment longer than 16 bits can count. */
static bool tcp_checksum_ok(const uint8_t *seg, size_t len, uint32_t src,
                            uint32_t dst)
{
    uint32_t sum = wire_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)len);

    return wire_csum_fold(wire_csum_add(sum, seg, len)) == 0;
}

enum wire_result tcp_parse(const uint8_t *seg, size_t len, uint32_t src,
                           uint32_t dst, bool verify_csum, struct tcp_hdr *h,
                           const uint8_t **payload, size_t *payload_len)
{
    struct wire_reader r = reader_make(seg, len);
    struct wire_reader options = {0};
    size_t hdr_bytes;
    enum wire_result res;

    memset(h, 0, sizeof *h);
    if (len < TCP_HDR_LEN)
        return WIRE_TRUNCATED;
    read_fixed_header(&r, h);
    hdr_bytes = (size_t)h->doff * 4;
    if (h->doff < 5 || hdr_bytes > len)
        return WIRE_BAD_DATA_OFFSET;
    if (verify_csum && !tcp_checksum_ok(seg, len, src, dst))
        return WIRE_BAD_CHECKSUM;
    if (!reader_split(&r, hdr_bytes - TCP_HDR_LEN, &options))
        return WIRE_BAD_DATA_OFFSET; /* not reached: checked above */
    res = parse_options(options, &h->opts);
    if (res != WIRE_OK)
        return res;
    if (payload)
        *payload = seg + hdr_bytes;
    if (payload_len)
        *payload_len = len - hdr_bytes;
    return WIRE_OK;
}
