/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
#include "base/rng.h"

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

uint64_t rng_mix64(uint64_t x)
{
    uint64_t z = x + GOLDEN_GAMMA;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = rng_mix64(state);
        state += GOLDEN_GAMMA;
    }
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    /* Reject draws from the incomplete last block of 2^32 mod n values. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = (uint32_t)(rng_next(r) >> 32);
        if (x >= threshold)
            return x % n;
    }
}

int rng_chance_ppm(struct rng *r, uint32_t ppm)
{
    if (ppm == 0)
        return 0;
    if (ppm >= 1000000)
        return 1;
    return rng_below(r, 1000000) < ppm;
}
