/* TCP header and option emission (RFC 9293 §3.1-3.2), options laid out in
 * the order and with the NOP padding Linux uses, so that byte-exact
 * comparisons (packetdrill) match. */
#include "wire/cursor.h"
#include "wire/wire.h"

/* Bytes one layout item takes on the wire (RFC 9293 §3.2, RFC 7323 §2.2 and
 * §3.2, RFC 2018 §2-3). */
static size_t layout_item_len(uint8_t kind, const struct tcp_opts *o, uint8_t sack_blocks)
{
    switch (kind) {
    case TCPOPT_NOP: return 1;
    case TCPOPT_MSS: return 4;
    case TCPOPT_WSCALE: return 3;
    case TCPOPT_SACK_PERM: return 2;
    case TCPOPT_TIMESTAMP: return 10;
    case TCPOPT_SACK: return 2 + 8 * (size_t)sack_blocks;
    case TCPOPT_MD5SIG: return 2 + TCP_MD5_DIGEST_LEN; /* RFC 2385 §3.0 */
    case TCPOPT_FASTOPEN: return 2 + (size_t)o->fo_len; /* RFC 7413 §4.1.1 */
    }
    return 0;
}

static void layout_add(struct tcp_opt_layout *l, const struct tcp_opts *o, uint8_t kind)
{
    l->kinds[l->count++] = kind;
    l->bytes = (uint8_t)(l->bytes + layout_item_len(kind, o, l->sack_blocks));
}

/* SACK blocks that fit in the option space left, as Linux limits them: the
 * option takes NOP, NOP, kind, length and 8 bytes a block. With timestamps
 * that leaves room for 3 blocks (RFC 2018 §3). */
static uint8_t sack_blocks_that_fit(const struct tcp_opts *o, size_t used)
{
    size_t room = TCP_MAX_OPT_SPACE - used;
    size_t n = o->sack_count;

    if (n > TCP_MAX_SACK_BLOCKS)
        n = TCP_MAX_SACK_BLOCKS;
    if (room < 4 + 8)
        return 0;
    if (n > (room - 4) / 8)
        n = (room - 4) / 8;
    return (uint8_t)n;
}

/* NOP, NOP, MD5 (first, as Linux tcp_options_write puts it); MSS; then TS
 * as (SACK_PERM, TS) or (NOP, NOP, TS); else NOP, NOP, SACK_PERM; then
 * NOP, WSCALE; then NOP, NOP, SACK; then Fast Open and its NOP padding.
 * Every group is a multiple of 4 bytes. */
void tcp_opt_layout_build(const struct tcp_opts *o, struct tcp_opt_layout *l)
{
    *l = (struct tcp_opt_layout){0};
    if (o->present & TCP_OPT_MD5) {
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_MD5SIG);
    }
    if (o->present & TCP_OPT_MSS)
        layout_add(l, o, TCPOPT_MSS);
    if (o->present & TCP_OPT_TS) {
        if (o->present & TCP_OPT_SACK_PERM) {
            layout_add(l, o, TCPOPT_SACK_PERM);
        } else {
            layout_add(l, o, TCPOPT_NOP);
            layout_add(l, o, TCPOPT_NOP);
        }
        layout_add(l, o, TCPOPT_TIMESTAMP);
    } else if (o->present & TCP_OPT_SACK_PERM) {
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_SACK_PERM);
    }
    if (o->present & TCP_OPT_WSCALE) {
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_WSCALE);
    }
    if (o->present & TCP_OPT_SACK)
        l->sack_blocks = sack_blocks_that_fit(o, l->bytes);
    if (l->sack_blocks > 0) {
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_NOP);
        layout_add(l, o, TCPOPT_SACK);
    }
    /* Linux tcp_options_write: Fast Open last, NOP-padded to a word; as
     * tcp_syn_options, only if it fits in the option space left. */
    size_t fo_bytes = (2 + (size_t)o->fo_len + 3) & ~(size_t)3;
    if ((o->present & TCP_OPT_FASTOPEN) && l->bytes + fo_bytes <= TCP_MAX_OPT_SPACE) {
        layout_add(l, o, TCPOPT_FASTOPEN);
        if (l->bytes % 4 == 2) {
            layout_add(l, o, TCPOPT_NOP);
            layout_add(l, o, TCPOPT_NOP);
        }
    }
}

size_t tcp_hdr_len(const struct tcp_hdr *h)
{
    struct tcp_opt_layout l;

    tcp_opt_layout_build(&h->opts, &l);
    return TCP_HDR_LEN + l.bytes;
}

/* Writes one layout item: kind, then (except for NOP) length and data. */
static void write_option(struct wire_writer *w, uint8_t kind,
                         const struct tcp_opts *o, uint8_t sack_blocks)
{
    writer_put_u8(w, kind);
    if (kind == TCPOPT_NOP)
        return;
    writer_put_u8(w, (uint8_t)layout_item_len(kind, o, sack_blocks));
    switch (kind) {
    case TCPOPT_MSS: writer_put_u16(w, o->mss); break;
    case TCPOPT_WSCALE: writer_put_u8(w, o->wscale); break;
    case TCPOPT_TIMESTAMP:
        writer_put_u32(w, o->tsval);
        writer_put_u32(w, o->tsecr);
        break;
    case TCPOPT_SACK:
        for (uint8_t i = 0; i < sack_blocks; i++) {
            writer_put_u32(w, o->sack[i].left);
            writer_put_u32(w, o->sack[i].right);
        }
        break;
    case TCPOPT_MD5SIG:
        for (uint8_t i = 0; i < TCP_MD5_DIGEST_LEN; i++)
            writer_put_u8(w, o->md5[i]);
        break;
    case TCPOPT_FASTOPEN:
        for (uint8_t i = 0; i < o->fo_len; i++)
            writer_put_u8(w, o->fo_cookie[i]);
        break;
    }
}

/* RFC 9293 §3.1 header format. */
static void write_fixed_header(struct wire_writer *w, const struct tcp_hdr *h,
                               size_t hdr_bytes)
{
    writer_put_u16(w, h->sport);
    writer_put_u16(w, h->dport);
    writer_put_u32(w, h->seq);
    writer_put_u32(w, h->ack);
    writer_put_u8(w, (uint8_t)((hdr_bytes / 4) << 4)); /* data offset, reserved 0 */
    writer_put_u8(w, h->flags);
    writer_put_u16(w, h->wnd);
    writer_put_u16(w, 0); /* checksum, filled below */
    writer_put_u16(w, h->urp);
}

/* Precondition: seg_len >= tcp_hdr_len(h). If it is not, nothing past
 * seg[seg_len) is written and the segment is left incomplete. */
void tcp_emit(uint8_t *seg, size_t seg_len, const struct tcp_hdr *h, uint32_t src,
              uint32_t dst)
{
    struct tcp_opt_layout l;
    struct wire_writer w = writer_make(seg, seg_len);
    uint32_t sum;

    tcp_opt_layout_build(&h->opts, &l);
    write_fixed_header(&w, h, TCP_HDR_LEN + (size_t)l.bytes);
    for (uint8_t i = 0; i < l.count; i++)
        write_option(&w, l.kinds[i], &h->opts, l.sack_blocks);
    if (w.overflow)
        return;
    /* RFC 9293 §3.1: checksum over pseudo header, header and data. */
    sum = wire_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)seg_len);
    store_u16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, seg_len)));
}
