/* Building blocks of the seeded simulation suite (tests/sim/test_sim_*.c):
 *
 *  - sc_net: two stacks (A = 192.0.2.1 on end 0, B = 192.0.2.2 on end 1) on
 *    one simulated link, each behind a tap device that sees every packet the
 *    stack transmits: it keeps a running hash of the whole packet trace (each
 *    packet with its sender and timestamp), can record it packet by packet,
 *    and can drop chosen packets through a filter (a SYN, a FIN, a window
 *    update...). KEEL_TRACE=1 prints every packet, dropped ones only as "out".
 *  - sc_app: an application over any number of connections between A and B.
 *    Each end of each connection sends a seeded stream, shuts down writing,
 *    reads the peer's stream to EOF checking every byte, and closes; options
 *    delay the shutdown, pause reading, or keep the socket open.
 *  - sc_run_bulk: one whole randomized run (set up, transfer, settle, check
 *    that no socket is left), the unit of the seed sweeps.
 *
 * Nothing here calls the test harness: failures come back as text (why[]),
 * which the test prints together with the seed that replays the run. */
#ifndef KEEL_SIM_SCENARIOS_H
#define KEEL_SIM_SCENARIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"
#include "sim/link.h"
#include "sim/world.h"
#include "wire/wire.h"

#define SC_ADDR_A 0xc0000201u /* 192.0.2.1 */
#define SC_ADDR_B 0xc0000202u /* 192.0.2.2 */
#define SC_MAX_SOCKETS 1024u  /* per stack, unless the config says otherwise */
#define SC_MAX_CONNS 256      /* connection ends in one app (two per connection) */
#define SC_WHY 512

/* ---- the network ---- */

/* One packet a stack transmitted, as the tap saw it. */
struct sc_pkt {
    int host;              /* 0: A, 1: B */
    uint64_t now_us;
    const uint8_t *raw;
    size_t len;
    bool tcp;              /* parsed as a TCP segment (always, for keel's packets) */
    struct tcp_hdr h;
    uint32_t payload_len;
};

/* Returns true to lose the packet on the wire. */
typedef bool (*sc_filter_fn)(void *arg, const struct sc_pkt *p);

/* One transmitted packet, kept when sc_net.record is set. */
struct sc_rec {
    int host;
    uint64_t now_us;
    uint64_t hash;         /* of the packet's bytes */
    bool dropped;          /* by the filter */
    char line[200];        /* tcpdump-style rendering */
};

struct sc_net;

struct sc_tap {
    struct keel_device dev;    /* what the stack (or its tracer) sends through */
    struct keel_device *inner; /* the link's end */
    struct sc_net *net;
    int host;
};

struct sc_net {
    struct sim_world w;
    struct sim_link *link;
    keel_stack *host[2];
    struct sc_tap tap[2];
    struct trace_device tracer[2];
    sc_filter_fn filter;
    void *filter_arg;
    uint64_t trace_hash;   /* every transmitted packet, with sender and time */
    uint64_t npkts, ndropped;
    bool record;
    struct sc_rec *rec;
    size_t nrec, caprec;
};

/* A world with one link (impairments lc) and the two stacks; cfg (may be
 * NULL) is the base config of both (addr is set per host; seeds derive from
 * the world's seed as world_add_host derives them; max_sockets defaults to
 * SC_MAX_SOCKETS). fast_path_disabled applies to both stacks. The net must
 * stay where it is (the taps point into it). Returns 0 or a keel_err. */
int sc_net_init(struct sc_net *n, uint64_t seed, const struct sim_link_config *lc,
                const struct keel_config *cfg, bool fast_path_disabled);
void sc_net_free(struct sc_net *n);
/* A counter of host h. */
uint64_t sc_counter(const struct sc_net *n, int h, enum keel_counter_id id);
/* Fills why with the first difference between two recorded traces; returns
 * false when they are identical. */
bool sc_trace_diff(const struct sc_net *x, const struct sc_net *y, char *why, size_t cap);

/* Filters that lose chosen segments (use sc_drops_filter with a struct
 * sc_drops as the argument). A rule matches the TCP segments host `host`
 * sends whose flags, masked by mask, equal want, and whose payload is
 * empty (payload 0), non-empty (1) or either (-1); it lets the first `skip`
 * matches through and loses the next `count`. */
struct sc_drop {
    int host;
    uint8_t mask, want;
    int payload;
    int skip, count;
    int matched, dropped;      /* so far */
    uint64_t first_drop_us, last_drop_us;
};

#define SC_MAX_DROP_RULES 4
struct sc_drops {
    struct sc_drop rule[SC_MAX_DROP_RULES];
    int nrules;
    /* What each host sent, lost or not. */
    uint32_t syn[2], synack[2], fin[2], rst[2], data[2], pure_ack[2];
};

/* Adds a rule; returns it (NULL when full). */
struct sc_drop *sc_drops_add(struct sc_drops *d, int host, uint8_t mask, uint8_t want,
                             int payload, int skip, int count);
bool sc_drops_filter(void *arg, const struct sc_pkt *p);

/* ---- the application ---- */

struct sc_conn {
    int host;              /* 0: A, 1: B */
    int peer;              /* index of the other end */
    int sock;              /* -1 until connected or accepted */
    uint16_t lport, rport; /* known once the client end has connected */
    uint64_t send_key, recv_key;
    uint64_t to_send, sent, to_recv, received;
    uint64_t shut_at_us;   /* shut down writing no earlier than this (0: at once) */
    bool pause_reads;      /* the application does not read */
    bool keep_open;        /* the application never closes the socket */
    bool shut, eof, closed;
    int error;             /* first error a call returned, 0 if none */
    long corrupt_at;       /* stream offset of the first wrong byte, -1 if none */
    uint32_t states_seen;  /* 1u << state, when the app tracks states */
    uint64_t accepted_us, shut_us, eof_us, last_send_us;
};

enum sc_status { SC_RUNNING, SC_DONE, SC_FAILED, SC_STALLED, SC_TIMEOUT };
const char *sc_status_name(enum sc_status s);

struct sc_app;
typedef void (*sc_hook_fn)(struct sc_app *a, void *arg);

struct sc_app {
    struct sc_net *net;
    uint64_t seed;
    struct sc_conn conn[SC_MAX_CONNS];
    int nconns;
    int listen_sock[2];    /* per host, -1 if none */
    uint16_t listen_port[2];
    int sock_conn[2][SC_MAX_SOCKETS]; /* handle -> conn index, -1 */
    bool track_states;     /* sample every connection's state after each step */
    uint64_t stall_us;     /* no progress for this long is a stall (180 s) */
    uint64_t last_progress_us;
    uint64_t wake_us;      /* the hook wants to run at this time (0: none) */
    sc_hook_fn hook;       /* called after every step */
    void *hook_arg;
    bool stray;            /* a connection nobody opened was accepted */
    char why[SC_WHY];
};

void sc_app_init(struct sc_app *a, struct sc_net *n, uint64_t seed);
/* Host h listens on port (backlog 128). Returns 0 or a keel_err. */
int sc_app_listen(struct sc_app *a, int h, uint16_t port);
/* Adds a connection from A to B's listener: the A end sends a_to_b bytes,
 * the B end b_to_a. Connects at once. Returns the A end's index (the B end
 * is index + 1) or a negative keel_err. */
int sc_app_connect(struct sc_app *a, uint64_t a_to_b, uint64_t b_to_a);
/* Simultaneous open: A binds port pa and B port pb, and both connect to each
 * other in the same instant. Returns the A end's index or a keel_err. */
int sc_app_connect_simultaneous(struct sc_app *a, uint16_t pa, uint16_t pb,
                                uint64_t a_to_b, uint64_t b_to_a);
/* Runs until every connection is done (SC_DONE), one fails (SC_FAILED: an
 * error, a wrong byte, a wrong length), nothing moves for stall_us
 * (SC_STALLED) or until limit_us (SC_TIMEOUT). why[] says what happened. */
enum sc_status sc_app_run(struct sc_app *a, uint64_t limit_us);
/* Serves one conn now (after the hook changed its plan, e.g. resumed reads). */
void sc_app_kick(struct sc_app *a, int i);
/* After the run: waits (at most 120 s) until every connection the app closed
 * is gone or in TIME-WAIT, runs 61 s more, and then checks that no socket
 * is left but the ones the application still holds (listeners and keep_open
 * connections). Returns false with why[] set otherwise. */
bool sc_app_settle(struct sc_app *a);
/* The state of conn i as last seen (0 if never). */
bool sc_conn_saw(const struct sc_conn *c, int state);

/* ---- a randomized run ---- */

struct sc_spec {
    struct sim_link_config link;
    struct keel_config cfg;    /* base config of both stacks */
    int nconns;                /* 0: 1 */
    uint64_t a_to_b, b_to_a;   /* per connection */
    bool fast_path_disabled;
    bool record;               /* keep the packet trace (sc_report.net stays alive) */
    sc_filter_fn filter;
    void *filter_arg;
    uint64_t limit_us;         /* 0: 30 min of virtual time */
};

struct sc_report {
    enum sc_status status;
    uint64_t duration_us;      /* start to the end of the transfer */
    struct keel_counters ctr[2];
    struct sim_link_stats link[2];
    uint64_t trace_hash, npkts;
    char why[SC_WHY];
};

/* Transfers spec's streams over nconns connections from A to B, then settles
 * and checks that no socket is left (sc_app_settle). Returns true when
 * everything held; otherwise r->why says what broke. If net is not NULL the
 * run's network is left in it (free it with sc_net_free). */
bool sc_run_bulk(uint64_t seed, const struct sc_spec *spec, struct sc_report *r,
                 struct sc_net *net);

/* With KEEL_SIM_VERBOSE set, prints one line about the run to stdout. */
void sc_report_print(const char *name, uint64_t seed, const struct sc_report *r);

/* Seed sweeps: the seeds to run for a case that runs `count` seeds from 1.
 * KEEL_SIM_SEED=N runs only seed N; KEEL_SIM_SEEDS=M runs M seeds instead. */
void sc_seed_range(uint64_t count, uint64_t *first, uint64_t *last);

/* A value in [lo, hi] drawn from seed and salt. */
uint64_t sc_pick(uint64_t seed, uint64_t salt, uint64_t lo, uint64_t hi);

/* The common part of a randomized run, drawn from seed: one-way delay 1-40
 * ms with some jitter, 64-512 KiB from A to B and 0-128 KiB back, and now
 * and then SACK, timestamps or window scaling turned off, Nagle off or small
 * socket buffers. Impairments are left to the caller. */
void sc_spec_random(uint64_t seed, struct sc_spec *s);
/* One line describing the spec (for failure messages). */
void sc_spec_describe(const struct sc_spec *s, char *buf, size_t cap);

#endif
