/* Application traffic for simulations: a seeded byte stream whose every byte
 * is known from its offset, so a receiver checks each byte it gets (order,
 * duplication and corruption all show), plus a running hash for reports. */
#ifndef KEEL_SIM_STREAM_H
#define KEEL_SIM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fills buf with the stream's bytes at [offset, offset + len). */
void stream_fill(uint64_t key, uint64_t offset, uint8_t *buf, size_t len);
/* Offset of the first byte of buf that differs from the stream, or -1. */
long stream_mismatch(uint64_t key, uint64_t offset, const uint8_t *buf, size_t len);
/* FNV-1a, 64-bit, continued from h (start with STREAM_HASH_INIT). */
#define STREAM_HASH_INIT 0xcbf29ce484222325ull
uint64_t stream_hash(uint64_t h, const uint8_t *buf, size_t len);

#endif
