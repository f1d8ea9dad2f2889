#include "sim/stream.h"

#include <string.h>

#include "base/rng.h"

static uint64_t word_at(uint64_t key, uint64_t index)
{
    return rng_mix64(key ^ (index * 0x9e3779b97f4a7c15ull));
}

void stream_fill(uint64_t key, uint64_t offset, uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t pos = offset + i;
        uint64_t w = word_at(key, pos >> 3);
        uint8_t bytes[8];
        memcpy(bytes, &w, 8);
        size_t from = pos & 7;
        size_t n = 8 - from;
        if (n > len - i)
            n = len - i;
        memcpy(buf + i, bytes + from, n);
        i += n;
    }
}

long stream_mismatch(uint64_t key, uint64_t offset, const uint8_t *buf, size_t len)
{
    uint8_t expect[4096];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof expect ? len - done : sizeof expect;
        stream_fill(key, offset + done, expect, n);
        if (memcmp(expect, buf + done, n) != 0) {
            for (size_t i = 0; i < n; i++)
                if (expect[i] != buf[done + i])
                    return (long)(done + i);
        }
        done += n;
    }
    return -1;
}

uint64_t stream_hash(uint64_t h, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= buf[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
