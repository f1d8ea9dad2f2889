/* Private to src/wire: bounds-checked reading and writing of packet bytes.
 * A reader is a pointer plus the bytes remaining; every get either consumes
 * the whole field (big-endian, network order) or fails and consumes nothing.
 * A writer is the same for output; a put that does not fit sets `overflow`
 * and writes nothing, so emit code can check once at the end. */
#ifndef KEEL_WIRE_CURSOR_H
#define KEEL_WIRE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

struct wire_reader {
    const uint8_t *p;
    size_t left;
};

static inline struct wire_reader reader_make(const uint8_t *p, size_t len)
{
    return (struct wire_reader){p, len};
}

static inline bool reader_get_u8(struct wire_reader *r, uint8_t *v)
{
    if (r->left < 1)
        return false;
    *v = r->p[0];
    r->p += 1;
    r->left -= 1;
    return true;
}

static inline bool reader_get_u16(struct wire_reader *r, uint16_t *v)
{
    if (r->left < 2)
        return false;
    *v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    r->left -= 2;
    return true;
}

static inline bool reader_get_u32(struct wire_reader *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
         (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return true;
}

static inline bool reader_skip(struct wire_reader *r, size_t n)
{
    if (r->left < n)
        return false;
    r->p += n;
    r->left -= n;
    return true;
}

/* Splits the next n bytes off into *sub (a reader of its own). */
static inline bool reader_split(struct wire_reader *r, size_t n,
                                struct wire_reader *sub)
{
    if (r->left < n)
        return false;
    *sub = reader_make(r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

struct wire_writer {
    uint8_t *p;
    size_t left;
    bool overflow;
};

static inline struct wire_writer writer_make(uint8_t *p, size_t cap)
{
    return (struct wire_writer){p, cap, false};
}

static inline bool writer_room(struct wire_writer *w, size_t n)
{
    if (w->overflow || w->left < n) {
        w->overflow = true;
        return false;
    }
    return true;
}

static inline void writer_put_u8(struct wire_writer *w, uint8_t v)
{
    if (!writer_room(w, 1))
        return;
    w->p[0] = v;
    w->p += 1;
    w->left -= 1;
}

static inline void writer_put_u16(struct wire_writer *w, uint16_t v)
{
    if (!writer_room(w, 2))
        return;
    w->p[0] = (uint8_t)(v >> 8);
    w->p[1] = (uint8_t)v;
    w->p += 2;
    w->left -= 2;
}

static inline void writer_put_u32(struct wire_writer *w, uint32_t v)
{
    if (!writer_room(w, 4))
        return;
    w->p[0] = (uint8_t)(v >> 24);
    w->p[1] = (uint8_t)(v >> 16);
    w->p[2] = (uint8_t)(v >> 8);
    w->p[3] = (uint8_t)v;
    w->p += 4;
    w->left -= 4;
}

/* Stores a 16-bit value at a fixed offset (checksum fields, after the fact). */
static inline void store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- TCP option layout, shared by tcp_emit and tcp_format ---- */

/* At most: NOP NOP MD5; MSS; NOP NOP TS; NOP WSCALE; NOP NOP SACK; FO NOP NOP. */
#define TCP_LAYOUT_MAX_ITEMS 17
#define TCP_MAX_OPT_SPACE (TCP_MAX_HDR_LEN - TCP_HDR_LEN)

/* The sequence of option kinds (NOPs included) that tcp_emit writes for a set
 * of options, in Linux's order, and the total bytes they take. */
struct tcp_opt_layout {
    uint8_t kinds[TCP_LAYOUT_MAX_ITEMS];
    uint8_t count;
    uint8_t sack_blocks; /* blocks carried by the SACK item, if any */
    uint8_t bytes;       /* always a multiple of 4 */
};

void tcp_opt_layout_build(const struct tcp_opts *o, struct tcp_opt_layout *l);

#endif
