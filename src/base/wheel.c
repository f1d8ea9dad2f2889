/* Hashed timing wheel.
 *
 * Invariant: a timer whose expiry is at or after the cursor sits in the slot of
 * its expiry; a timer armed with an expiry before the cursor sits in the
 * cursor's slot. The cursor never leaves a slot while such a timer is in it
 * (that timer is due, so it is popped first), so the slot of any armed timer
 * can be recomputed from its expiry and the cursor.
 *
 * Each slot is a circular doubly-linked list; slot[i] points at its first
 * timer, whose prev points at the last one, so prev is never NULL while armed.
 */
#include "base/wheel.h"

#include <string.h>

#define SLOT_MASK ((uint64_t)WHEEL_SLOTS - 1)
#define SLOT_SPAN_US ((uint64_t)1 << WHEEL_SLOT_SHIFT)
#define WHEEL_SPAN_US (SLOT_SPAN_US * WHEEL_SLOTS)
#define NO_SLOT UINT32_MAX

static uint32_t slot_of(uint64_t t_us)
{
    return (uint32_t)((t_us >> WHEEL_SLOT_SHIFT) & SLOT_MASK);
}

static uint64_t slot_start(uint64_t t_us)
{
    return t_us & ~(SLOT_SPAN_US - 1);
}

static uint32_t timer_slot(const struct timer_wheel *w, const struct timer *t)
{
    return slot_of(t->expires_us >= w->cursor_us ? t->expires_us : w->cursor_us);
}

static void mark_nonempty(struct timer_wheel *w, uint32_t slot)
{
    w->nonempty[slot / 64] |= (uint64_t)1 << (slot % 64);
}

static void mark_empty(struct timer_wheel *w, uint32_t slot)
{
    w->nonempty[slot / 64] &= ~((uint64_t)1 << (slot % 64));
}

static void slot_push(struct timer_wheel *w, uint32_t slot, struct timer *t)
{
    struct timer *first = w->slot[slot];
    if (first == NULL) {
        t->next = t->prev = t;
        w->slot[slot] = t;
        mark_nonempty(w, slot);
        return;
    }
    t->next = first;
    t->prev = first->prev;
    first->prev->next = t;
    first->prev = t;
}

static void slot_remove(struct timer_wheel *w, uint32_t slot, struct timer *t)
{
    if (t->next == t) {
        w->slot[slot] = NULL;
        mark_empty(w, slot);
    } else {
        t->prev->next = t->next;
        t->next->prev = t->prev;
        if (w->slot[slot] == t)
            w->slot[slot] = t->next;
    }
    t->next = t->prev = NULL;
}

/* Distance (in slots, < max_dist) from slot `from` to the first nonempty slot
 * at or after it, going round; NO_SLOT when there is none. */
static uint32_t next_nonempty(const struct timer_wheel *w, uint32_t from,
                              uint32_t max_dist)
{
    uint32_t dist = 0;
    while (dist < max_dist) {
        uint32_t idx = (uint32_t)((from + dist) & SLOT_MASK);
        uint64_t bits = w->nonempty[idx / 64] >> (idx % 64);
        if (bits != 0) {
            dist += (uint32_t)__builtin_ctzll(bits);
            return dist < max_dist ? dist : NO_SLOT;
        }
        dist += 64 - idx % 64;
    }
    return NO_SLOT;
}

/* The earliest timer in a slot with expiry < before_us and <= limit_us. */
static struct timer *slot_earliest(const struct timer_wheel *w, uint32_t slot,
                                   uint64_t before_us, uint64_t limit_us)
{
    struct timer *first = w->slot[slot], *best = NULL, *t = first;
    if (first == NULL)
        return NULL;
    do {
        if (t->expires_us < before_us && t->expires_us <= limit_us &&
            (best == NULL || t->expires_us < best->expires_us))
            best = t;
        t = t->next;
    } while (t != first);
    return best;
}

static uint64_t slot_min_expiry(const struct timer_wheel *w, uint32_t slot)
{
    struct timer *t = slot_earliest(w, slot, UINT64_MAX, UINT64_MAX);
    return t ? t->expires_us : UINT64_MAX;
}

static uint64_t all_min_expiry(const struct timer_wheel *w)
{
    uint64_t best = UINT64_MAX;
    for (uint32_t slot = 0; slot < WHEEL_SLOTS;) {
        uint32_t dist = next_nonempty(w, slot, WHEEL_SLOTS - slot);
        if (dist == NO_SLOT)
            break;
        slot += dist;
        uint64_t m = slot_min_expiry(w, slot);
        if (m < best)
            best = m;
        slot++;
    }
    return best;
}

void wheel_init(struct timer_wheel *w, uint64_t now_us)
{
    memset(w, 0, sizeof(*w));
    w->cursor_us = now_us;
}

void wheel_arm(struct timer_wheel *w, struct timer *t, uint64_t expires_us)
{
    wheel_disarm(w, t);
    t->expires_us = expires_us;
    slot_push(w, timer_slot(w, t), t);
    w->count++;
}

void wheel_disarm(struct timer_wheel *w, struct timer *t)
{
    if (!timer_armed(t))
        return;
    slot_remove(w, timer_slot(w, t), t);
    w->count--;
}

static void advance_cursor(struct timer_wheel *w, uint64_t to_us)
{
    if (to_us > w->cursor_us)
        w->cursor_us = to_us;
}

/* Looks for a due timer in the current round of the slots from the cursor's up
 * to now's (at most one revolution). Sets *whole_turn when it walked them all. */
static struct timer *find_due(struct timer_wheel *w, uint64_t now_us,
                              bool *whole_turn)
{
    uint64_t base = slot_start(w->cursor_us);
    uint64_t dist_to_now = now_us < base ? 0 : (now_us - base) >> WHEEL_SLOT_SHIFT;
    uint32_t walk = dist_to_now >= WHEEL_SLOTS ? WHEEL_SLOTS : (uint32_t)dist_to_now + 1;
    uint32_t from = slot_of(base);
    *whole_turn = dist_to_now >= WHEEL_SLOTS;
    for (uint32_t dist = 0; dist < walk; dist++) {
        uint32_t skip = next_nonempty(w, (uint32_t)((from + dist) & SLOT_MASK),
                                      walk - dist);
        if (skip == NO_SLOT)
            break;
        dist += skip;
        uint64_t start = base + (uint64_t)dist * SLOT_SPAN_US;
        uint32_t slot = (uint32_t)((from + dist) & SLOT_MASK);
        struct timer *t = slot_earliest(w, slot, start + SLOT_SPAN_US, now_us);
        if (t != NULL) {
            advance_cursor(w, start);
            return t;
        }
    }
    return NULL;
}

struct timer *wheel_pop_expired(struct timer_wheel *w, uint64_t now_us)
{
    for (int pass = 0; pass < 2 && w->count > 0; pass++) {
        bool whole_turn;
        struct timer *t = find_due(w, now_us, &whole_turn);
        if (t != NULL) {
            wheel_disarm(w, t);
            return t;
        }
        if (!whole_turn)
            break;
        /* A whole revolution held nothing due in its round: every timer lies
         * at least one revolution ahead, so jump straight to the earliest. */
        uint64_t earliest = all_min_expiry(w);
        if (earliest > now_us)
            break;
        advance_cursor(w, earliest);
    }
    advance_cursor(w, now_us);
    return NULL;
}

/* The earliest of a slot's timers if it falls before the end of the slot's
 * span starting at start_us, else start_us itself. */
static uint64_t slot_deadline(const struct timer_wheel *w, uint32_t slot,
                              uint64_t start_us)
{
    uint64_t m = slot_min_expiry(w, slot);
    return m < start_us + SLOT_SPAN_US ? m : start_us;
}

uint64_t wheel_next_deadline(const struct timer_wheel *w)
{
    if (w->count == 0)
        return UINT64_MAX;
    uint64_t base = slot_start(w->cursor_us);
    uint32_t from = slot_of(base);
    if (w->slot[from] != NULL) {
        uint64_t m = slot_min_expiry(w, from);
        if (m < base + SLOT_SPAN_US)
            return m;
    }
    uint32_t dist = next_nonempty(w, (from + 1) & SLOT_MASK, WHEEL_SLOTS - 1);
    if (dist != NO_SLOT) {
        dist += 1;
        return slot_deadline(w, (uint32_t)((from + dist) & SLOT_MASK),
                             base + (uint64_t)dist * SLOT_SPAN_US);
    }
    /* Only the cursor's slot holds timers, all in later rounds. */
    return slot_deadline(w, from, base + WHEEL_SPAN_US);
}
