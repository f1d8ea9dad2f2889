/* MD5, written from the description in RFC 1321 §3. */
#include "base/md5.h"

#include <string.h>

/* §3.4: T[i] is the integer part of 4294967296 * abs(sin(i)), i = 1..64. */
static const uint32_t T[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu,
    0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu,
    0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau,
    0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu,
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu,
    0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u,
    0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u,
    0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u,
    0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u,
};

/* §3.4: the shift amounts of each round's four steps. */
static const uint8_t SHIFT[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* §3.4: the round's auxiliary function F, G, H or I. */
static uint32_t aux(int round, uint32_t x, uint32_t y, uint32_t z)
{
    switch (round) {
    case 0: return (x & y) | (~x & z);
    case 1: return (x & z) | (y & ~z);
    case 2: return x ^ y ^ z;
    }
    return y ^ (x | ~z);
}

/* §3.4: which word of the block step i of a round reads. */
static unsigned word_index(int round, unsigned i)
{
    switch (round) {
    case 0: return i;
    case 1: return (1 + 5 * i) % 16;
    case 2: return (5 + 3 * i) % 16;
    }
    return (7 * i) % 16;
}

/* §3.4: one 16-word block, words taken low-order byte first (§2). */
static void md5_block(uint32_t state[4], const uint8_t block[64])
{
    uint32_t x[16];
    for (int j = 0; j < 16; j++)
        x[j] = (uint32_t)block[4 * j] | (uint32_t)block[4 * j + 1] << 8 |
               (uint32_t)block[4 * j + 2] << 16 | (uint32_t)block[4 * j + 3] << 24;
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int round = 0; round < 4; round++) {
        for (unsigned i = 0; i < 16; i++) {
            uint32_t t = a + aux(round, b, c, d) + x[word_index(round, i)] + T[16 * round + i];
            a = d;
            d = c;
            c = b;
            b = b + rotl(t, SHIFT[round][i % 4]);
        }
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

/* §3.3: the initial buffer. */
void md5_init(struct md5_ctx *c)
{
    c->state[0] = 0x67452301u;
    c->state[1] = 0xefcdab89u;
    c->state[2] = 0x98badcfeu;
    c->state[3] = 0x10325476u;
    c->bytes = 0;
}

void md5_update(struct md5_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t have = (size_t)(c->bytes % 64);
    c->bytes += len;
    while (len) {
        size_t n = 64 - have < len ? 64 - have : len;
        memcpy(c->block + have, p, n);
        have += n;
        p += n;
        len -= n;
        if (have == 64) {
            md5_block(c->state, c->block);
            have = 0;
        }
    }
}

/* §3.1: a 1 bit, zeros to 56 bytes mod 64; §3.2: the bit length, 64 bits,
 * low-order byte first. */
void md5_final(struct md5_ctx *c, uint8_t out[MD5_DIGEST_LEN])
{
    uint64_t bits = c->bytes * 8;
    uint8_t pad[72] = {0x80};
    size_t have = (size_t)(c->bytes % 64);
    size_t pad_len = (have < 56 ? 56 : 120) - have;
    for (int i = 0; i < 8; i++)
        pad[pad_len + (size_t)i] = (uint8_t)(bits >> (8 * i));
    md5_update(c, pad, pad_len + 8);
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(c->state[i / 4] >> (8 * (i % 4)));
}
