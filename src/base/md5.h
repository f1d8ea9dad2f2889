/* MD5 (RFC 1321), for the TCP MD5 signature option (RFC 2385) only: MD5 is
 * broken as a general-purpose hash and must not be used for anything new. */
#ifndef KEEL_BASE_MD5_H
#define KEEL_BASE_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16

struct md5_ctx {
    uint32_t state[4];   /* A, B, C, D (RFC 1321 §3.3) */
    uint64_t bytes;      /* message length so far */
    uint8_t block[64];   /* input not yet a whole block */
};

void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
/* Pads (§3.1-3.2) and writes the digest, low-order byte of A first (§3.5). */
void md5_final(struct md5_ctx *c, uint8_t out[MD5_DIGEST_LEN]);

#endif
