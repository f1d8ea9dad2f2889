/* Helpers shared by the story runners. */
#include <stdarg.h>
#include <stdio.h>

#include "sim/stories.h"

void story_fail(struct story_result *r, const char *fmt, ...)
{
    if (!r->ok)
        return; /* keep the first failure */
    r->ok = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

void story_collect(struct story_result *r, keel_stack *const *stacks, int n)
{
    for (int i = 0; i < n; i++) {
        struct keel_counters c;
        keel_counters(stacks[i], &c);
        r->retransmits += c.v[KEEL_C_TcpRetransSegs];
        r->timeouts += c.v[KEEL_C_TCPTimeouts];
        r->sack_limit_hits += c.v[KEEL_C_TCPSackLimitHit];
        for (int k = 0; k < KEEL_STALL_COUNT; k++)
            r->stalls[k] += c.v[KEEL_C_WatchdogSenderIdle + k];
    }
}

void story_require_silent_watchdog(struct story_result *r, uint32_t expected)
{
    for (int k = 0; k < KEEL_STALL_COUNT; k++)
        if (r->stalls[k] && !(expected & (1u << k)))
            story_fail(r, "the stall watchdog reported %s", keel_stall_name(k));
}
