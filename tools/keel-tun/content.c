/* The generated content served and checked by keel-tun (kt.h). */
#include <stdlib.h>
#include <string.h>

#include "kt.h"
#include "sim/stream.h"

uint8_t *content_new(uint64_t seed)
{
    uint8_t *c = malloc(CONTENT_PERIOD + CONTENT_SPAN);
    if (!c)
        return NULL;
    stream_fill(seed, 0, c, CONTENT_PERIOD);
    memcpy(c + CONTENT_PERIOD, c, CONTENT_SPAN);
    return c;
}

long content_mismatch(const uint8_t *c, uint64_t off, const uint8_t *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = len - done < CONTENT_SPAN ? len - done : CONTENT_SPAN;
        const uint8_t *want = content_at(c, off + done);
        if (memcmp(want, buf + done, n) != 0)
            for (size_t i = 0; i < n; i++)
                if (want[i] != buf[done + i])
                    return (long)(done + i);
        done += n;
    }
    return -1;
}
