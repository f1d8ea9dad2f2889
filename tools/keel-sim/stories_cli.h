#ifndef KEEL_SIM_STORIES_CLI_H
#define KEEL_SIM_STORIES_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/stories.h"

/* Prints a story's figures (text or one JSON line) and returns the exit code. */
int report_story(const char *name, uint64_t seed, bool json, const struct story_result *r,
                 double wall_s);

#endif
