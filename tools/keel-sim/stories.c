/* keel-sim's story scenarios (SCENARIOS.md): run, print, judge. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim/stories.h"
#include "stories_cli.h"

uint64_t stall_total(const uint64_t stalls[KEEL_STALL_COUNT])
{
    uint64_t n = 0;
    for (int k = 0; k < KEEL_STALL_COUNT; k++)
        n += stalls[k];
    return n;
}

void print_watchdog(const uint64_t stalls[KEEL_STALL_COUNT])
{
    if (!stall_total(stalls)) {
        printf("  watchdog: silent\n");
        return;
    }
    printf("  watchdog:");
    for (int k = 0; k < KEEL_STALL_COUNT; k++)
        if (stalls[k])
            printf(" %s=%" PRIu64, keel_stall_name(k), stalls[k]);
    printf("\n");
}

static void print_text(const char *name, const struct story_result *r)
{
    printf("%s:\n", name);
    printf("  delivered: %" PRIu64 " bytes up, %" PRIu64 " bytes down\n", r->bytes_up, r->bytes_down);
    printf("  virtual time: %.3f s\n", r->virtual_us / 1e6);
    printf("  retransmitted segments: %" PRIu64 ", RTO timeouts: %" PRIu64 "\n", r->retransmits,
           r->timeouts);
    if (r->connections)
        printf("  connections: %" PRIu64 ", slowest connect %.3f ms, slowest connection %.3f ms\n",
               r->connections, r->slowest_connect_us / 1e3, r->slowest_conn_us / 1e3);
    if (r->persist_us)
        printf("  resumed %.3f ms after the window opened (persist interval %.3f ms)\n",
               r->resume_us / 1e3, r->persist_us / 1e3);
    if (r->peak_mem)
        printf("  peak buffer memory of a connection: %" PRIu64 " bytes\n", r->peak_mem);
    if (r->sack_limit_hits)
        printf("  SACK scoreboard bound reached: %" PRIu64 " times\n", r->sack_limit_hits);
    if (r->leaked)
        printf("  leaked sockets in CLOSE_WAIT: %" PRIu64 ", oldest %.1f s\n", r->leaked,
               r->leaked_oldest_us / 1e6);
    print_watchdog(r->stalls);
    printf("  result: %s%s%s\n", r->ok ? "ok" : "FAILED", r->ok ? "" : ": ", r->ok ? "" : r->why);
}

static void print_json(const char *name, uint64_t seed, const struct story_result *r, double wall_s)
{
    printf("{\"scenario\":\"%s\",\"seed\":%" PRIu64 ",\"result\":\"%s\",\"why\":\"%s\","
           "\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64 ",\"virtual_s\":%.6f,\"wall_s\":%.3f,"
           "\"retransmits\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"connections\":%" PRIu64
           ",\"slowest_connect_ms\":%.3f,\"slowest_connection_ms\":%.3f,\"resume_ms\":%.3f,"
           "\"persist_ms\":%.3f,\"peak_mem\":%" PRIu64 ",\"sack_limit_hits\":%" PRIu64
           ",\"leaked\":%" PRIu64 ",\"leaked_oldest_s\":%.3f,\"watchdog_stalls\":%" PRIu64 "}\n",
           name, seed, r->ok ? "ok" : "failed", r->ok ? "" : r->why, r->bytes_up, r->bytes_down,
           r->virtual_us / 1e6, wall_s, r->retransmits, r->timeouts, r->connections,
           r->slowest_connect_us / 1e3, r->slowest_conn_us / 1e3, r->resume_us / 1e3,
           r->persist_us / 1e3, r->peak_mem, r->sack_limit_hits, r->leaked,
           r->leaked_oldest_us / 1e6, stall_total(r->stalls));
}

int report_story(const char *name, uint64_t seed, bool json, const struct story_result *r,
                 double wall_s)
{
    if (json) {
        print_json(name, seed, r, wall_s);
    } else {
        print_text(name, r);
        printf("  wall time: %.2f s\n", wall_s);
    }
    if (!r->ok)
        fprintf(stderr, "keel-sim: %s failed: %s; replay with --seed %" PRIu64 "\n", name, r->why,
                seed);
    return r->ok ? 0 : 1;
}
