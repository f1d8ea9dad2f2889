/* Congestion control: a small vtable so that an algorithm never grows the TCP
 * core (RFC 5681 names: cwnd, ssthresh, SMSS). The core calls these hooks;
 * the algorithm owns cwnd and ssthresh growth and reduction. */
#ifndef KEEL_TCP_CC_H
#define KEEL_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/seq.h"

struct tcb;

/* CUBIC's per-connection state, in Linux tcp_cubic's units: windows in
 * segments, the epoch in milliseconds (Linux jiffies at HZ=1000), K in
 * 1/1024 s, delays in microseconds. */
struct cubic_state {
    uint32_t cnt;            /* segments acknowledged per cwnd increment */
    uint32_t cwnd_cnt;       /* segments acknowledged towards it (snd_cwnd_cnt) */
    uint32_t acked_bytes;    /* bytes acknowledged short of a whole segment */
    uint32_t last_max_cwnd;  /* W_max: cwnd before the last reduction; 0: none */
    uint32_t last_cwnd;      /* cwnd when cnt was last computed */
    uint64_t last_time_ms;   /* ... and when */
    bool in_epoch;
    uint64_t epoch_ms;       /* start of the congestion-avoidance epoch */
    uint32_t origin;         /* the plateau the curve is centred on */
    uint32_t k;              /* time from the epoch's start to the plateau */
    uint32_t ack_cnt;        /* segments acknowledged in the epoch (Reno estimate) */
    uint32_t tcp_cwnd;       /* the Reno-friendly window (RFC 9438 §4.3 W_est) */
    uint32_t delay_min_us;   /* the smallest delay sample */
    /* HyStart (RFC 9406, as tcp_cubic's hystart_update). */
    bool found;              /* slow start's exit point found */
    uint8_t sample_cnt;      /* delay samples in this round */
    uint32_t curr_rtt_us;    /* the smallest delay sample of this round */
    uint64_t round_start_us, last_ack_us;
    seq_t end_seq;           /* the round ends when SND.UNA passes it */
};

/* State an algorithm keeps in each TCB. */
union cc_state {
    struct cubic_state cubic;
};

struct cc_ops {
    const char *name;
    /* Connection established: set the initial window (RFC 6928: 10 segments). */
    void (*init)(struct tcb *tcb);
    /* A new ACK acknowledged `acked` bytes outside loss recovery. */
    void (*on_ack)(struct tcb *tcb, uint32_t acked, uint64_t now_us);
    /* Loss detected by duplicate ACKs or SACK: the ssthresh to use on entering
     * fast recovery (RFC 5681 §3.2 step 2). */
    uint32_t (*ssthresh_on_loss)(struct tcb *tcb);
    /* The retransmission timer expired (RFC 5681 §3.1, equation 4). */
    void (*on_rto)(struct tcb *tcb);
    /* New data acknowledged, none of it retransmitted: rtt_us since the
     * newest acknowledged byte was sent (Linux pkts_acked's ack_sample;
     * optional). */
    void (*on_delay_sample)(struct tcb *tcb, uint32_t rtt_us, uint64_t now_us);
    /* Data leaves with nothing in flight, idle_us after the last data sent
     * (Linux CA_EVENT_TX_START; optional). */
    void (*on_tx_start)(struct tcb *tcb, uint64_t idle_us, uint64_t now_us);
};

/* Slow start as Linux's tcp_slow_start does it: cwnd grows by every byte
 * acknowledged, up to ssthresh (RFC 5681 §3.1 allows this with RFC 3465's
 * byte counting). Returns the bytes left over for congestion avoidance. */
uint32_t cc_slow_start(struct tcb *tcb, uint32_t acked);

/* The algorithm's delay sample for an ACK that moved SND.UNA, if it wants one. */
void cc_delay_sample(struct tcb *tcb, uint32_t rtt_us);

/* Linux tcp_update_pacing_rate: the pacing rate in bytes per second,
 * cwnd (or the flight, if larger) per SRTT, times pacing_ss_ratio percent
 * below half of ssthresh and pacing_ca_ratio percent above; 0 without an
 * RTT sample (no limit). */
uint64_t cc_pacing_rate(const struct tcb *tcb);

/* Linux's tcp_cwnd_restart: cwnd after idle_us without data in flight. */
void cc_restart_after_idle(struct tcb *tcb, uint64_t idle_us);

/* The algorithm named `name`, or NULL. */
const struct cc_ops *cc_find(const char *name);
extern const struct cc_ops cc_newreno;
extern const struct cc_ops cc_cubic;

#endif
