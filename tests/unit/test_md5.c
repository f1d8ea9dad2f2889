/* MD5 against the test suite of RFC 1321 (appendix A.5), and split input. */
#include <stdio.h>
#include <string.h>

#include "base/md5.h"
#include "harness.h"

static void hex_digest(const char *msg, size_t len, char out[33])
{
    struct md5_ctx c;
    uint8_t d[MD5_DIGEST_LEN];
    md5_init(&c);
    md5_update(&c, msg, len);
    md5_final(&c, d);
    for (int i = 0; i < MD5_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check_vector(const char *msg, const char *want)
{
    char got[33];
    hex_digest(msg, strlen(msg), got);
    CHECK_STR(got, want);
}

TEST(rfc1321_test_suite)
{
    check_vector("", "d41d8cd98f00b204e9800998ecf8427e");
    check_vector("a", "0cc175b9c0f1b6a831c399e269772661");
    check_vector("abc", "900150983cd24fb0d6963f7d28e17f72");
    check_vector("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
    check_vector("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
    check_vector("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                 "d174ab98d277d9f5a5611c2c9f419d9f");
    check_vector("1234567890123456789012345678901234567890"
                 "1234567890123456789012345678901234567890",
                 "57edf4a22be3c955ac49da2e2107b67a");
}

/* The digest does not depend on how the input is cut into updates, around
 * the 56- and 64-byte padding boundaries included. */
TEST(split_updates_match_one_update)
{
    char msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    for (size_t len = 50; len < sizeof msg; len += 7) {
        char whole[33], split[33];
        hex_digest(msg, len, whole);
        struct md5_ctx c;
        uint8_t d[MD5_DIGEST_LEN];
        md5_init(&c);
        for (size_t off = 0; off < len; off += 13)
            md5_update(&c, msg + off, len - off < 13 ? len - off : 13);
        md5_final(&c, d);
        for (int i = 0; i < MD5_DIGEST_LEN; i++)
            snprintf(split + 2 * i, 3, "%02x", d[i]);
        CHECK_STR(split, whole);
    }
}
