/* TCP sequence numbers (RFC 9293 §3.4): 32-bit values compared modulo 2^32.
 * A distinct struct type so that a plain `<` on two sequence numbers does not
 * compile; every comparison goes through the wrap-safe helpers below. */
#ifndef KEEL_BASE_SEQ_H
#define KEEL_BASE_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t v;
} seq_t;

static inline seq_t seq_make(uint32_t v) { return (seq_t){v}; }
static inline seq_t seq_add(seq_t a, uint32_t n) { return (seq_t){a.v + n}; }
static inline seq_t seq_sub_n(seq_t a, uint32_t n) { return (seq_t){a.v - n}; }
/* Signed distance b - a; meaningful while |b - a| < 2^31. */
static inline int32_t seq_diff(seq_t b, seq_t a) { return (int32_t)(b.v - a.v); }
/* Unsigned distance from a forward to b (b at or after a). */
static inline uint32_t seq_dist(seq_t a, seq_t b) { return b.v - a.v; }
static inline bool seq_eq(seq_t a, seq_t b) { return a.v == b.v; }
static inline bool seq_lt(seq_t a, seq_t b) { return (int32_t)(a.v - b.v) < 0; }
static inline bool seq_le(seq_t a, seq_t b) { return (int32_t)(a.v - b.v) <= 0; }
static inline bool seq_gt(seq_t a, seq_t b) { return (int32_t)(a.v - b.v) > 0; }
static inline bool seq_ge(seq_t a, seq_t b) { return (int32_t)(a.v - b.v) >= 0; }
static inline seq_t seq_max(seq_t a, seq_t b) { return seq_gt(a, b) ? a : b; }
static inline seq_t seq_min(seq_t a, seq_t b) { return seq_lt(a, b) ? a : b; }
/* lo <= x < hi, modulo 2^32 (the window [lo, hi) may span the wrap). */
static inline bool seq_in(seq_t x, seq_t lo, seq_t hi)
{
    return x.v - lo.v < hi.v - lo.v;
}

#endif
