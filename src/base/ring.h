/* A byte ring for send and receive buffers. Its storage grows on demand
 * (doubling, up to a limit) so that idle sockets cost little, and never shrinks
 * below what it holds; steady-state traffic allocates nothing.
 * Offsets are relative to the head (the oldest byte held). */
#ifndef KEEL_BASE_RING_H
#define KEEL_BASE_RING_H

#include <stdint.h>

struct ring {
    uint8_t *buf;
    uint32_t cap;   /* allocated bytes (0 or a power of two) */
    uint32_t head;  /* index of the oldest byte */
    uint32_t len;   /* bytes held, contiguous from head */
    uint32_t limit; /* cap never exceeds the next power of two >= limit */
};

void ring_init(struct ring *r, uint32_t limit);
void ring_free(struct ring *r);
/* Changes the limit; never drops held bytes. */
void ring_set_limit(struct ring *r, uint32_t limit);
/* Bytes that can still be appended: limit - len (0 if len >= limit). */
uint32_t ring_space(const struct ring *r);
/* Appends up to n bytes (as many as ring_space allows, and as memory allows);
 * returns how many were appended. */
uint32_t ring_append(struct ring *r, const void *data, uint32_t n);
/* Stores n bytes at offset off >= len without changing len (out-of-order data
 * placed ahead of the contiguous part); off + n must be <= limit. Returns n,
 * or 0 if memory for it cannot be had. */
uint32_t ring_write_at(struct ring *r, uint32_t off, const void *data, uint32_t n);
/* Extends len by n over bytes already stored with ring_write_at. */
void ring_extend(struct ring *r, uint32_t n);
/* Copies n bytes from offset off (off + n <= len) into out, leaving them held. */
void ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t n);
/* Drops the n oldest bytes (n <= len). */
void ring_consume(struct ring *r, uint32_t n);
/* Up to n contiguous bytes at offset off, without copying: returns a pointer
 * and stores the contiguous length (<= n) in *got. off < len. */
const uint8_t *ring_span(const struct ring *r, uint32_t off, uint32_t n, uint32_t *got);

#endif
