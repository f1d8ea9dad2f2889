/* Congestion control: a small vtable so that an algorithm never grows the TCP
 * core (RFC 5681 names: cwnd, ssthresh, SMSS). The core calls these hooks;
 * the algorithm owns cwnd and ssthresh growth and reduction. */
#ifndef KEEL_TCP_CC_H
#define KEEL_TCP_CC_H

#include <stdint.h>

struct tcb;

/* CUBIC's per-connection state (RFC 9438 §4 names), in segments and seconds. */
struct cubic_state {
    double w_max;        /* W_max: the window before the last reduction */
    double w_last_max;   /* for fast convergence (§4.7) */
    double k;            /* K: time to reach W_max again */
    double origin;       /* the plateau the cubic curve is centred on */
    double w_est;        /* W_est: the Reno-friendly window (§4.3) */
    double cwnd_frac;    /* fractional bytes of growth not yet added */
    uint64_t epoch_us;   /* start of the current congestion-avoidance epoch; 0: none */
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
    /* A new RTT sample (optional: NULL if the algorithm has no use for it). */
    void (*on_rtt_sample)(struct tcb *tcb, uint32_t rtt_us);
    /* Data leaves with nothing in flight, idle_us after the last data sent
     * (Linux CA_EVENT_TX_START; optional). */
    void (*on_tx_start)(struct tcb *tcb, uint64_t idle_us);
};

/* Slow start as Linux's tcp_slow_start does it: cwnd grows by every byte
 * acknowledged, up to ssthresh (RFC 5681 §3.1 allows this with RFC 3465's
 * byte counting). Returns the bytes left over for congestion avoidance. */
uint32_t cc_slow_start(struct tcb *tcb, uint32_t acked);

/* Linux's tcp_cwnd_restart: cwnd after idle_us without data in flight. */
void cc_restart_after_idle(struct tcb *tcb, uint64_t idle_us);

/* The algorithm named `name`, or NULL. */
const struct cc_ops *cc_find(const char *name);
extern const struct cc_ops cc_newreno;
extern const struct cc_ops cc_cubic;

#endif
