/* A bulk transfer in both directions between a client and a server stack:
 * each side writes its stream, shuts down writing, reads the peer's stream
 * to EOF checking every byte, then closes. */
#ifndef KEEL_SIM_BULK_H
#define KEEL_SIM_BULK_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/keel.h"
#include "sim/world.h"

struct bulk_side {
    keel_stack *st;
    int sock;           /* the connection, -1 before it exists */
    int listen_sock;    /* server only */
    uint64_t send_key, recv_key;
    uint64_t to_send, sent;
    uint64_t to_recv, received;
    uint64_t hash;
    bool shut, eof, closed;
    int error;          /* first error seen (negative keel_err), 0 if none */
    long corrupt_at;    /* stream offset of the first wrong byte, -1 if none */
};

struct bulk_config {
    uint64_t client_to_server, server_to_client;
    uint32_t server_addr;
    uint16_t port;
    int sndbuf, rcvbuf;     /* 0: stack defaults */
    bool nodelay;
    uint64_t stall_us;      /* no progress for this long is a stall; 0: 120 s */
    /* Story 1: the client reads nothing until all it sent is acknowledged,
     * so the server faces a zero window for the whole transfer. */
    bool client_reads_last;
};

/* What the client saw when it started reading (client_reads_last). */
struct bulk_reopen {
    uint64_t at_us;         /* when the client started reading */
    uint64_t buffered;      /* bytes waiting in its receive buffer then */
    bool server_window_zero;/* the server was facing a zero window then */
    uint32_t persist_us;    /* the server's persist interval then */
    uint64_t resume_us;     /* how long until new data arrived (0: not yet) */
};

struct bulk {
    struct bulk_config cfg;
    struct bulk_side client, server;
    uint64_t start_us, end_us, last_progress_us;
    struct bulk_reopen reopen;
};

enum bulk_status { BULK_RUNNING, BULK_DONE, BULK_FAILED, BULK_STALLED };

/* Opens the listener and starts the client's connect. */
int bulk_start(struct bulk *b, const struct bulk_config *cfg, keel_stack *client,
               keel_stack *server, uint64_t now_us, uint64_t seed);
/* Serves both sides' events; call after every world step. */
enum bulk_status bulk_drive(struct bulk *b, uint64_t now_us);
/* Runs the world until the transfer ends, fails or stalls, or until limit_us. */
enum bulk_status bulk_run(struct bulk *b, struct sim_world *w, uint64_t limit_us);
const char *bulk_status_name(enum bulk_status s);

#endif
