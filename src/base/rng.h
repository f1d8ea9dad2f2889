/* Seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
 * Deterministic: the same seed gives the same sequence on every machine. */
#ifndef KEEL_BASE_RNG_H
#define KEEL_BASE_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n > 0. Unbiased (rejection sampling). */
uint32_t rng_below(struct rng *r, uint32_t n);
/* True with probability ppm / 1e6. */
int rng_chance_ppm(struct rng *r, uint32_t ppm);
/* splitmix64 step: a good 64-bit mixer, usable as a stateless hash. */
uint64_t rng_mix64(uint64_t x);

#endif
