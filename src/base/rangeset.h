/* A bounded, sorted set of disjoint half-open sequence ranges [left, right),
 * for out-of-order data held by a receiver and the SACK scoreboard of a sender.
 * Adjacent and overlapping ranges merge. The capacity is fixed at init; an add
 * that would need more ranges fails and changes nothing. All comparisons are
 * modulo 2^32, relative to the ranges' position near one another (callers keep
 * every range within 2^31 of the base they pass). */
#ifndef KEEL_BASE_RANGESET_H
#define KEEL_BASE_RANGESET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/seq.h"

#define RANGESET_MAX 64

struct seq_range {
    seq_t left, right;
};

struct rangeset {
    struct seq_range r[RANGESET_MAX]; /* sorted ascending, disjoint, non-adjacent */
    uint8_t n;
    uint8_t cap; /* <= RANGESET_MAX */
};

void rangeset_init(struct rangeset *s, uint8_t cap);
/* Adds [left, right) (left < right). Returns 0, or -1 when it would need more
 * than cap ranges (the set is unchanged). */
int rangeset_add(struct rangeset *s, seq_t left, seq_t right);
/* Removes everything below seq (ranges are trimmed at seq). */
void rangeset_trim_below(struct rangeset *s, seq_t seq);
/* Removes everything at or above seq. */
void rangeset_trim_above(struct rangeset *s, seq_t seq);
/* True when x lies in some range. */
bool rangeset_contains(const struct rangeset *s, seq_t x);
/* True when all of [left, right) lies in one range. */
bool rangeset_covers(const struct rangeset *s, seq_t left, seq_t right);
/* Total bytes covered. */
uint32_t rangeset_bytes(const struct rangeset *s);
/* Bytes of [left, right) that the set covers. */
uint32_t rangeset_overlap(const struct rangeset *s, seq_t left, seq_t right);

#endif
