/* A hashed timing wheel: O(1) arm and disarm, exact expiry times.
 * Slots are 1024 us wide; 4096 slots cover ~4.2 s. A timer further out sits in
 * its slot and is skipped until its round comes. Timers are intrusive: the
 * owner embeds struct timer and recovers itself with container_of. */
#ifndef KEEL_BASE_WHEEL_H
#define KEEL_BASE_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEEL_SLOT_SHIFT 10
#define WHEEL_SLOTS 4096

struct timer {
    struct timer *next, *prev; /* NULL when not armed */
    uint64_t expires_us;
    uint8_t kind;              /* for the owner; the wheel never reads it */
};

struct timer_wheel {
    struct timer *slot[WHEEL_SLOTS];
    uint64_t nonempty[WHEEL_SLOTS / 64]; /* bit i: slot i has a timer */
    uint64_t cursor_us;                  /* everything before it has been popped */
    size_t count;
};

void wheel_init(struct timer_wheel *w, uint64_t now_us);
static inline bool timer_armed(const struct timer *t) { return t->prev != NULL; }
/* Arms t to expire at expires_us (re-arms it if it was armed). An expiry in the
 * past pops at the next wheel_pop_expired. */
void wheel_arm(struct timer_wheel *w, struct timer *t, uint64_t expires_us);
/* Disarms t; a no-op if it is not armed. */
void wheel_disarm(struct timer_wheel *w, struct timer *t);
/* Removes and returns one timer whose expiry is <= now_us, in expiry order
 * within a slot's granularity; NULL when none is due. Advances the cursor. */
struct timer *wheel_pop_expired(struct timer_wheel *w, uint64_t now_us);
/* A time at or before the earliest armed expiry (exact when that timer is
 * within the wheel's span); UINT64_MAX when nothing is armed. */
uint64_t wheel_next_deadline(const struct timer_wheel *w);

#ifndef container_of
#define container_of(ptr, type, member)                                       \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

#endif
