/* A scripted TCP peer for stories that need a peer keel's own code would not
 * play: it talks to one keel stack directly (it is that stack's device), opens
 * a connection to a listening keel socket, and receives keel's data with a
 * chosen behaviour: acknowledge normally, be unreachable (drop everything, as
 * a failed path does), or answer with SACK blocks that fragment the sender's
 * scoreboard. Time is the caller's: rawpeer_run advances it. */
#ifndef KEEL_SIM_RAWPEER_H
#define KEEL_SIM_RAWPEER_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/keel.h"
#include "wire/wire.h"

enum rawpeer_mode {
    RAWPEER_ACK,            /* acknowledge every in-order segment */
    /* Acknowledge up to ack_limit bytes, then: */
    RAWPEER_ACK_THEN_DEAF,  /* hear nothing (the path is down) */
    RAWPEER_ACK_THEN_HOLES, /* keep the next byte missing and SACK every other
                             * segment beyond it, different ones each time */
};

struct rawpeer_config {
    uint32_t peer_addr, keel_addr;
    uint16_t peer_port, keel_port;
    uint16_t mss;          /* the peer's MSS option */
    uint8_t wscale;        /* the peer's window scale */
    uint16_t syn_window;   /* window on the SYN (never scaled) */
    uint16_t window;       /* window field on later segments */
    bool sack_ok, timestamps;
    uint64_t delay_us;     /* one-way delay of the peer's replies */
};

struct rawpeer {
    struct keel_device dev; /* keel's device: transmit() is the peer receiving */
    struct rawpeer_config cfg;
    keel_stack *st;
    enum rawpeer_mode mode;
    uint32_t ack_limit;     /* RAWPEER_ACK_THEN_*: bytes acknowledged before */
    uint32_t isn, keel_isn;
    uint32_t rcv_nxt;       /* absolute: next byte expected from keel */
    uint32_t highest_seen;  /* absolute: highest end of data keel sent */
    bool established, fin_seen;
    uint64_t bytes_received;  /* in order */
    uint64_t segments_seen, retransmissions_seen;
    uint64_t last_retransmit_us;
    uint32_t sack_toggle;
    /* Replies wait here for their delay. */
    struct rawpeer_reply *queue;
    uint32_t queued, queue_cap;
    uint64_t now_us;
};

int rawpeer_init(struct rawpeer *p, const struct rawpeer_config *cfg);
void rawpeer_free(struct rawpeer *p);
/* Attaches the stack (created with &p->dev as its device) and sends the SYN. */
void rawpeer_connect(struct rawpeer *p, keel_stack *st, uint64_t now_us);
/* Runs the stack and the peer until until_us. */
void rawpeer_run(struct rawpeer *p, uint64_t until_us);

#endif
