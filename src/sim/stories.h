/* The four founding stalls of SCENARIOS.md as runnable scenarios. Each runner
 * sets up its own world, runs it, checks its own requirements, and reports
 * figures and a verdict (ok, and why not). keel-sim runs them by name; the
 * tests run them at reduced sizes. */
#ifndef KEEL_SIM_STORIES_H
#define KEEL_SIM_STORIES_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/info.h"
#include "keel/keel.h"

struct story_result {
    bool ok;
    char why[512];             /* the first requirement that failed */
    uint64_t bytes_up, bytes_down; /* application bytes delivered each way */
    uint64_t virtual_us;
    uint64_t retransmits, timeouts;
    uint64_t peak_mem;         /* largest buffer memory of one connection */
    uint64_t connections;      /* connections completed */
    uint64_t slowest_connect_us, slowest_conn_us;
    uint64_t resume_us;        /* wl1-wrap: window opened -> data flowing again */
    uint64_t persist_us;       /* wl1-wrap: the persist interval at that moment */
    uint64_t leaked, leaked_oldest_us; /* close-wait-leak: sockets and the oldest's age */
    uint64_t stalls[KEEL_STALL_COUNT]; /* the watchdog, both stacks */
    uint64_t sack_limit_hits;
};

/* Story 3: SO_SNDBUF 4096, SO_RCVBUF 8192, a peer window of 32792 with window
 * scale 7, MSS 1460, six 3000-byte writes, the peer acknowledges 3001 and the
 * path then fails for fail_us; retransmissions must leave at every RTO, memory
 * stay under the bound, and the transfer complete once the path is back.
 * hostile: the peer's MSS is 48 and it answers with SACK blocks that fragment
 * the retransmission queue while the path is "down". */
void story_tiny_sndbuf(uint64_t seed, bool hostile, uint64_t fail_us, struct story_result *r);

/* Story 1: the client streams `bytes` to the server while the server's data
 * for the client waits behind a zero window for the whole transfer (the
 * client reads nothing until its own data is acknowledged); the sequence
 * numbers wrap. Then the client reads: the server must resume within one
 * persist interval, and everything must arrive intact both ways.
 * isn_near_wrap starts both ISNs just below 2^32; loss_ppm adds light loss. */
void story_wl1_wrap(uint64_t seed, uint64_t bytes, bool isn_near_wrap, uint32_t loss_ppm,
                    struct story_result *r);

/* Story 2: `iterations` short connections in a row over a link that swaps
 * adjacent segments at random (connect, 4 bytes, read to EOF, close with
 * SO_LINGER 0 and TCP_NODELAY; the server reads 4 bytes and closes), from a
 * small ephemeral port range. The slowest connection must take a few round
 * trips, never an initial RTO, and no socket may be left behind. */
void story_rst_reorder(uint64_t seed, uint64_t iterations, struct story_result *r);

/* Story 4: a server that never closes the sockets it accepts; clients that
 * connect, exchange a few bytes, close and reconnect from a small port range
 * with a short FIN-WAIT-2 timeout. Every connect must succeed within a bound;
 * the leaked CLOSE_WAIT sockets are reported with their age. */
void story_close_wait_leak(uint64_t seed, uint64_t connections, struct story_result *r);

/* Shared by the story runners (src/sim/story_common.c). */
void story_fail(struct story_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Adds both stacks' counters (retransmissions, timeouts, watchdog) to r. */
void story_collect(struct story_result *r, keel_stack *const *stacks, int n);
/* Fails r if the watchdog reported any stall outside `expected` (a mask of
 * 1 << enum keel_stall). */
void story_require_silent_watchdog(struct story_result *r, uint32_t expected);

#endif
