/* RACK-TLP loss detection (RFC 8985), as Linux runs it with tcp_recovery=1
 * and tcp_early_retrans=3: time-based loss marking with a reordering window
 * and timer, and the tail loss probe with its own loss detection (§7.4).
 * State lives in struct tcb (tcb->rack); functions are in src/tcp/rack.c. */
#ifndef KEEL_TCP_RACK_H
#define KEEL_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/seq.h"

#define RACK_LOG_MAX 65536u        /* transmissions remembered; more coalesce */
#define RACK_REORDERING_INIT 3u    /* Linux tcp_reordering */
#define RACK_REORDERING_MAX 300u   /* Linux tcp_max_reordering */
#define RACK_REO_PERSIST 16u       /* RFC 8985 §6.2.4: recoveries a grown window lasts */
#define RACK_TIMER_SLACK_US 2000u  /* Linux TCP_TIMEOUT_MIN (2 jiffies at 1000 Hz) */
#define RACK_RXT_MAX 64u           /* recovery retransmissions timed; more go untimed */

/* What the retransmission timer (TT_RETRANSMIT) stands for, as Linux
 * multiplexes icsk_pending: the RTO, the probe timeout, or RACK's
 * reordering timer. */
enum rack_timer { RACK_TIMER_RTO, RACK_TIMER_TLP, RACK_TIMER_REO };

/* One run of new data sent at one instant: [previous end, end). Its send
 * time gives no RTT sample once any of its octets was sent again (Karn,
 * RFC 6298 §3; Linux TCPCB_RETRANS), or when a full log folded later data
 * into it. */
struct rack_sent {
    seq_t end;
    bool no_sample;
    uint64_t us;
};

/* The send times of the transmissions one ACK newly acknowledged or newly
 * SACKed: the earliest and the latest (Linux's first_ackt and last_ackt,
 * first_sackt and last_sackt). */
struct sent_times {
    bool any;
    uint64_t first_us, last_us;
};

/* One retransmission in recovery: [start, end) at us; lost once RACK
 * finds a later transmission delivered (RFC 8985 §6.2), until resent. */
struct rack_rxt {
    seq_t start, end;
    uint64_t us;
    bool lost;
};

struct rack {
    /* Transmissions of new data, oldest first: in sequence order and in
     * time order at once, so a sequence number finds its send time (and
     * the end of the packet that first sent it). */
    struct rack_sent *log;
    uint32_t log_cap, log_head, log_n;
    seq_t log_start;               /* first byte of the oldest entry */
    /* RFC 8985 §6.1: the most recently sent segment delivered so far. */
    uint64_t xmit_us;              /* RACK.xmit_ts (0: none yet) */
    seq_t end_seq;                 /* RACK.end_seq */
    uint32_t rtt_us;               /* RACK.rtt */
    /* RFC 8985 §6.2.4: the reordering window's multiplier and its life. */
    uint8_t reo_wnd_mult, reo_wnd_persist;
    bool dsack_round_on;
    seq_t dsack_round;             /* RACK.dsack_round */
    /* Loss marks: unSACKed octets below lost_to are lost; octets below
     * rxt_hi have been retransmitted (their original send time is moot). */
    seq_t lost_to, rxt_hi;
    uint64_t rxt_us;               /* latest retransmission */
    /* Recovery's retransmissions, oldest first (in sequence order too, as
     * RFC 6675 retransmits holes upward): RACK finds lost ones among them. */
    struct rack_rxt rxt[RACK_RXT_MAX];
    uint32_t rxt_head, rxt_n;
    uint32_t reordering;           /* Linux tp->reordering, in segments */
    uint32_t reord_seen;           /* Linux tp->reord_seen */
    seq_t prior_fack;              /* highest SACKed octet's end before this ACK */
    bool reord_pending;            /* this ACK SACKed a hole: lowest at reord_low */
    seq_t reord_low;
    bool dsack_now, dsack_tlp;     /* this ACK carried a D-SACK (of the probe) */
    uint32_t dsack_segs;           /* segments this ACK's D-SACKs report delivered */
    /* Linux total_retrans and dsack_dups: segments retransmitted, and
     * segments D-SACKed, since the connection began. */
    uint64_t rxt_segs_total, dsack_dups;
    bool in_loss;                  /* after an RTO until SND.UNA passes recover */
    uint8_t timer;                 /* enum rack_timer */
    /* RFC 8985 §7: the probe outstanding (tlp_high_seq set: TLP.end_seq). */
    bool tlp_on, tlp_retrans, tlp_sending;
    seq_t tlp_start, tlp_high_seq;
};

struct tcb;
struct segment;

void rack_init(struct tcb *tcb);
void rack_free(struct tcb *tcb);
/* The connection is established: marks start at SND.UNA. */
void rack_start(struct tcb *tcb);
/* A transmission left (note_data_sent): logs new data, notes retransmissions. */
void rack_on_xmit(struct tcb *tcb, seq_t seq, uint32_t seg_len, bool retrans);
/* The log's send times, the one source of per-ACK round-trip samples (SRTT,
 * min_rtt and the congestion control's delay sample), as Linux's
 * tcp_clean_rtx_queue and tcp_sacktag_one read skb timestamps. SND.UNA
 * moved from old_una: the transmissions it acknowledged, except those
 * SACKed before; call before the scoreboard forgets them and before
 * rack_on_ack. None when any acknowledged byte was retransmitted or is not
 * in the log (FLAG_RETRANS_DATA_ACKED). */
struct sent_times rack_sent_acked(const struct tcb *tcb, seq_t old_una);
/* [left, right) is SACKed, some of it for the first time: adds to `t` the
 * never-retransmitted transmissions holding bytes not SACKed before; call
 * before recording it. */
void rack_sent_sacked(const struct tcb *tcb, seq_t left, seq_t right, struct sent_times *t);
/* Does [from, to) hold octets whose packet was never sent again (nor folded
 * by a full log) and that the scoreboard does not hold? */
bool rack_sent_original(const struct tcb *tcb, seq_t from, seq_t to);
/* Linux packets_out, counted up to `enough`: the segments of the packets
 * that sent [SND.UNA, SND.MAX), where a packet of several counts them all
 * and one short segment counts one; beyond what the log holds, whole
 * segments of the octets. */
uint32_t rack_packets_out(const struct tcb *tcb, uint32_t enough);
/* The data octets from seq to the end of the packet that first sent it
 * (Linux keeps each packet as an skb, tso_fragment, and resends at most
 * one, __tcp_retransmit_skb); 0 when the log does not hold seq. */
uint32_t rack_sent_room(const struct tcb *tcb, seq_t seq);
void rack_timestamp_reordering(struct tcb *tcb);
/* An ACK's SACK blocks are about to be read. */
void rack_before_sacks(struct tcb *tcb);
/* [left, right) was SACKed, now in the scoreboard (some octets for the first time). */
void rack_on_sacked(struct tcb *tcb, seq_t left, seq_t right);
/* A D-SACK block (RFC 2883) arrived. */
void rack_on_dsack(struct tcb *tcb, seq_t left, seq_t right);
/* SND.UNA is about to move to ack (the scoreboard still holds the old SACKs). */
void rack_on_cum_ack(struct tcb *tcb, seq_t ack);
/* After the ACK's SACKs and cumulative advance: D-SACK bookkeeping, TLP
 * loss detection, RACK loss marking and the timers. */
void rack_on_ack(struct tcb *tcb, const struct segment *s, bool una_advanced);
/* The retransmission timer fired: false if it was the RTO (the caller's). */
bool rack_timer_fired(struct tcb *tcb);
/* An RTO: everything outstanding is lost; probes and marks start over. */
void rack_on_rto(struct tcb *tcb);
/* New data left in tcp_output: schedule the probe (Linux tcp_write_xmit). */
void rack_after_new_data(struct tcb *tcb);
/* The first lost retransmission's octets not delivered since (RFC 8985
 * §6.2): [*start, *start + *len), at most max_len, below the next SACKed
 * octet; false if there is none. */
bool rack_next_lost_rxt(const struct tcb *tcb, uint32_t max_len, seq_t *start, uint32_t *len);
/* Octets of lost retransmissions not delivered, at or above `from` (at
 * least SND.UNA): not in flight. */
uint32_t rack_lost_rxt_bytes(const struct tcb *tcb, seq_t from);
/* Octets of [from, to) RACK has marked lost (SACKed ones included). */
uint32_t rack_lost_part(const struct tcb *tcb, seq_t from, seq_t to);
/* Recovery ended (RFC 8985 §6.2.4: the reordering window may shrink back). */
void rack_recovery_ended(struct tcb *tcb);

#endif
