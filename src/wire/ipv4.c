/* IPv4 header parse and emit (RFC 791 §3.1). */
#include "wire/cursor.h"
#include "wire/wire.h"

#include <string.h>

/* Reads the fixed 20-byte header (RFC 791 §3.1) into h; the caller has
 * checked that 20 bytes are present. The checksum is skipped: it is
 * verified over the raw bytes. */
static void read_fixed_header(struct wire_reader *r, struct ipv4_hdr *h,
                              uint8_t *version)
{
    uint8_t ver_ihl = 0;

    reader_get_u8(r, &ver_ihl);
    *version = ver_ihl >> 4;
    h->ihl = ver_ihl & 0x0f;
    reader_get_u8(r, &h->tos);
    reader_get_u16(r, &h->total_len);
    reader_get_u16(r, &h->id);
    reader_get_u16(r, &h->frag);
    reader_get_u8(r, &h->ttl);
    reader_get_u8(r, &h->proto);
    reader_skip(r, 2);
    reader_get_u32(r, &h->src);
    reader_get_u32(r, &h->dst);
}

/* Checks version, IHL and total length against the bytes present. */
static enum wire_result check_lengths(const struct ipv4_hdr *h, uint8_t version,
                                      size_t len)
{
    size_t hdr_bytes = (size_t)h->ihl * 4;

    if (version != 4)
        return WIRE_BAD_VERSION;
    if (h->ihl < 5 || hdr_bytes > len)
        return WIRE_BAD_IHL;
    if (h->total_len < hdr_bytes || h->total_len > len)
        return WIRE_BAD_TOTAL_LEN;
    return WIRE_OK;
}

enum wire_result ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_hdr *h,
                            const uint8_t **payload, size_t *payload_len)
{
    struct wire_reader r = reader_make(pkt, len);
    uint8_t version = 0;
    enum wire_result res;

    memset(h, 0, sizeof *h);
    if (len < IPV4_HDR_LEN)
        return WIRE_TRUNCATED;
    read_fixed_header(&r, h, &version);
    res = check_lengths(h, version, len);
    if (res != WIRE_OK)
        return res;
    /* RFC 791 §3.1: the checksum covers the header, options included. */
    if (wire_csum_fold(wire_csum_add(0, pkt, (size_t)h->ihl * 4)) != 0)
        return WIRE_BAD_CHECKSUM;
    /* Options (IHL > 5) are accepted and skipped; bytes past total_len are
     * link-layer padding and are not part of the datagram. */
    if (payload)
        *payload = pkt + (size_t)h->ihl * 4;
    if (payload_len)
        *payload_len = h->total_len - (size_t)h->ihl * 4;
    if ((h->frag & IPV4_FLAG_MF) || (h->frag & IPV4_FRAG_OFFSET_MASK))
        return WIRE_FRAGMENT;
    return WIRE_OK;
}

size_t ipv4_emit(uint8_t *buf, const struct ipv4_hdr *h, size_t payload_len)
{
    struct wire_writer w = writer_make(buf, IPV4_HDR_LEN);

    writer_put_u8(&w, 4 << 4 | 5); /* version 4, IHL 5: no options */
    writer_put_u8(&w, h->tos);
    writer_put_u16(&w, (uint16_t)(IPV4_HDR_LEN + payload_len));
    writer_put_u16(&w, h->id);
    writer_put_u16(&w, h->frag);
    writer_put_u8(&w, h->ttl);
    writer_put_u8(&w, h->proto);
    writer_put_u16(&w, 0); /* checksum, filled below */
    writer_put_u32(&w, h->src);
    writer_put_u32(&w, h->dst);
    store_u16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, IPV4_HDR_LEN)));
    return IPV4_HDR_LEN;
}
