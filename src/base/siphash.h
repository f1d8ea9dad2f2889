/* SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit PRF, used for the
 * RFC 6528 ISN function, RFC 6056 port selection and the demux hash. */
#ifndef KEEL_BASE_SIPHASH_H
#define KEEL_BASE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
