#ifndef KEEL_SIM_STORIES_CLI_H
#define KEEL_SIM_STORIES_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/stories.h"

/* The watchdog's counts by kind: their sum, and a summary line. */
uint64_t stall_total(const uint64_t stalls[KEEL_STALL_COUNT]);
void print_watchdog(const uint64_t stalls[KEEL_STALL_COUNT]);

/* Prints a story's figures (text or one JSON line) and returns the exit code. */
int report_story(const char *name, uint64_t seed, bool json, const struct story_result *r,
                 double wall_s);

#endif
