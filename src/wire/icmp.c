/* ICMP messages (RFC 792), with the next-hop MTU of RFC 1191 §4. */
#include "wire/cursor.h"
#include "wire/wire.h"

#include <string.h>

#define ICMP_HDR_LEN 8
/* An error quotes the offending datagram's IP header and its first 64 bits
 * (RFC 792, "Destination Unreachable Message"). */
#define ICMP_MIN_QUOTE (IPV4_HDR_LEN + 8)

static bool icmp_is_echo(uint8_t type)
{
    return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
}

static bool icmp_is_error(uint8_t type)
{
    return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED;
}

/* Decodes the second 32-bit word of the header, whose meaning depends on the
 * type: identifier and sequence number for echo (RFC 792 "Echo or Echo Reply
 * Message"), 16 unused bits and the next-hop MTU for "fragmentation needed
 * and DF set" (RFC 1191 §4), unused otherwise. */
static void read_rest_of_header(struct wire_reader *r, struct icmp_msg *m)
{
    uint16_t hi = 0, lo = 0;

    reader_get_u16(r, &hi);
    reader_get_u16(r, &lo);
    if (icmp_is_echo(m->type)) {
        m->id = hi;
        m->seq = lo;
    } else if (m->type == ICMP_DEST_UNREACH && m->code == ICMP_CODE_FRAG_NEEDED) {
        m->next_hop_mtu = lo;
    }
}

enum wire_result icmp_parse(const uint8_t *msg, size_t len, struct icmp_msg *m)
{
    struct wire_reader r = reader_make(msg, len);

    memset(m, 0, sizeof *m);
    if (len < ICMP_HDR_LEN)
        return WIRE_TRUNCATED;
    /* RFC 792: the checksum covers the whole ICMP message. */
    if (wire_csum_fold(wire_csum_add(0, msg, len)) != 0)
        return WIRE_BAD_CHECKSUM;
    reader_get_u8(&r, &m->type);
    reader_get_u8(&r, &m->code);
    reader_skip(&r, 2); /* checksum */
    read_rest_of_header(&r, m);
    m->body = r.p;
    m->body_len = r.left;
    if (icmp_is_error(m->type) && m->body_len < ICMP_MIN_QUOTE)
        return WIRE_BAD_ICMP;
    return WIRE_OK;
}

/* Encodes the second header word; the inverse of read_rest_of_header. */
static void write_rest_of_header(struct wire_writer *w, const struct icmp_msg *m)
{
    if (icmp_is_echo(m->type)) {
        writer_put_u16(w, m->id);
        writer_put_u16(w, m->seq);
    } else if (m->type == ICMP_DEST_UNREACH && m->code == ICMP_CODE_FRAG_NEEDED) {
        writer_put_u16(w, 0);
        writer_put_u16(w, m->next_hop_mtu);
    } else {
        writer_put_u32(w, 0);
    }
}

size_t icmp_emit(uint8_t *buf, size_t cap, const struct icmp_msg *m)
{
    struct wire_writer w = writer_make(buf, cap);
    size_t total = ICMP_HDR_LEN + m->body_len;

    if (cap < ICMP_HDR_LEN || m->body_len > cap - ICMP_HDR_LEN)
        return 0;
    /* The body may already sit at buf + 8 (or overlap it): move it first. */
    if (m->body_len > 0 && m->body != buf + ICMP_HDR_LEN)
        memmove(buf + ICMP_HDR_LEN, m->body, m->body_len);
    writer_put_u8(&w, m->type);
    writer_put_u8(&w, m->code);
    writer_put_u16(&w, 0); /* checksum, filled below */
    write_rest_of_header(&w, m);
    store_u16(buf + 2, wire_csum_fold(wire_csum_add(0, buf, total)));
    return total;
}
