/* Sorted, disjoint, non-adjacent sequence ranges with a fixed capacity. */
#include "base/rangeset.h"

#include <string.h>

void rangeset_init(struct rangeset *s, uint8_t cap)
{
    memset(s, 0, sizeof(*s));
    s->cap = cap > RANGESET_MAX ? RANGESET_MAX : cap;
}

/* Index of the first range that ends at or after seq (touching counts). */
static int first_touching(const struct rangeset *s, seq_t seq)
{
    int i = 0;
    while (i < s->n && seq_lt(s->r[i].right, seq))
        i++;
    return i;
}

/* Index of the first range that starts strictly after seq. */
static int first_after(const struct rangeset *s, int from, seq_t seq)
{
    int i = from;
    while (i < s->n && seq_le(s->r[i].left, seq))
        i++;
    return i;
}

/* Replaces ranges [from, to) with `count` (0 or 1) ranges starting at r[from]. */
static void splice(struct rangeset *s, int from, int to, int count)
{
    memmove(&s->r[from + count], &s->r[to], (size_t)(s->n - to) * sizeof(s->r[0]));
    s->n = (uint8_t)(s->n - (to - from) + count);
}

int rangeset_add(struct rangeset *s, seq_t left, seq_t right)
{
    int first = first_touching(s, left);
    int end = first_after(s, first, right);
    if (first == end) {
        if (s->n >= s->cap)
            return -1;
        splice(s, first, first, 1);
        s->r[first] = (struct seq_range){left, right};
        return 0;
    }
    struct seq_range merged = {
        seq_min(left, s->r[first].left),
        seq_max(right, s->r[end - 1].right),
    };
    splice(s, first + 1, end, 0);
    s->r[first] = merged;
    return 0;
}

void rangeset_trim_below(struct rangeset *s, seq_t seq)
{
    int i = 0;
    while (i < s->n && seq_le(s->r[i].right, seq))
        i++;
    splice(s, 0, i, 0);
    if (s->n > 0 && seq_lt(s->r[0].left, seq))
        s->r[0].left = seq;
}

void rangeset_trim_above(struct rangeset *s, seq_t seq)
{
    int n = s->n;
    while (n > 0 && seq_ge(s->r[n - 1].left, seq))
        n--;
    s->n = (uint8_t)n;
    if (n > 0 && seq_gt(s->r[n - 1].right, seq))
        s->r[n - 1].right = seq;
}

bool rangeset_contains(const struct rangeset *s, seq_t x)
{
    for (int i = 0; i < s->n; i++)
        if (seq_le(s->r[i].left, x) && seq_lt(x, s->r[i].right))
            return true;
    return false;
}

bool rangeset_covers(const struct rangeset *s, seq_t left, seq_t right)
{
    if (!seq_lt(left, right))
        return true;
    for (int i = 0; i < s->n; i++)
        if (seq_le(s->r[i].left, left) && seq_le(right, s->r[i].right))
            return true;
    return false;
}

uint32_t rangeset_bytes(const struct rangeset *s)
{
    uint32_t total = 0;
    for (int i = 0; i < s->n; i++)
        total += seq_dist(s->r[i].left, s->r[i].right);
    return total;
}

uint32_t rangeset_overlap(const struct rangeset *s, seq_t left, seq_t right)
{
    uint32_t total = 0;
    for (int i = 0; i < s->n; i++) {
        seq_t lo = seq_max(left, s->r[i].left);
        seq_t hi = seq_min(right, s->r[i].right);
        if (seq_lt(lo, hi))
            total += seq_dist(lo, hi);
    }
    return total;
}
