/* SipHash-2-4 against the reference vectors of Aumasson and Bernstein:
 * key 00 01 .. 0f, message 00 01 .. (len-1), 64-bit output. */
#include <string.h>

#include "base/siphash.h"
#include "harness.h"

static const uint8_t ref_key[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                    8, 9, 10, 11, 12, 13, 14, 15};

static uint64_t hash_of_prefix(size_t len)
{
    uint8_t msg[64];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    return siphash24(ref_key, msg, len);
}

TEST(siphash_short_messages)
{
    CHECK_EQ_U(hash_of_prefix(0), 0x726fdb47dd0e0e31ULL);
    CHECK_EQ_U(hash_of_prefix(1), 0x74f839c593dc67fdULL);
    CHECK_EQ_U(hash_of_prefix(2), 0x0d6c8009d9a94f5aULL);
    CHECK_EQ_U(hash_of_prefix(3), 0x85676696d7fb7e2dULL);
    CHECK_EQ_U(hash_of_prefix(7), 0xab0200f58b01d137ULL);
}

TEST(siphash_word_boundaries)
{
    CHECK_EQ_U(hash_of_prefix(8), 0x93f5f5799a932462ULL);
    CHECK_EQ_U(hash_of_prefix(9), 0x9e0082df0ba9e4b0ULL);
    CHECK_EQ_U(hash_of_prefix(15), 0xa129ca6149be45e5ULL);
    CHECK_EQ_U(hash_of_prefix(16), 0x3f2acc7f57c29bdbULL);
}

TEST(siphash_long_messages)
{
    CHECK_EQ_U(hash_of_prefix(31), 0x32d892fad841c342ULL);
    CHECK_EQ_U(hash_of_prefix(32), 0x7127512f72f27cceULL);
    CHECK_EQ_U(hash_of_prefix(63), 0x958a324ceb064572ULL);
}

TEST(siphash_unaligned_input)
{
    uint8_t buf[80];
    for (size_t i = 0; i < 64; i++)
        buf[i + 3] = (uint8_t)i;
    CHECK_EQ_U(siphash24(ref_key, buf + 3, 15), 0xa129ca6149be45e5ULL);
    CHECK_EQ_U(siphash24(ref_key, buf + 3, 63), 0x958a324ceb064572ULL);
}

TEST(siphash_key_matters)
{
    uint8_t other[16];
    memcpy(other, ref_key, sizeof(other));
    other[15] ^= 1;
    uint8_t msg[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    CHECK(siphash24(other, msg, 8) != siphash24(ref_key, msg, 8));
}
