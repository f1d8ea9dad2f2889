/* Reaching every TCP state for the state x segment x position matrix
 * (tests/scenario/test_rcv_*.c, after FreeBSD's tcp-testsuite).
 *
 * keel's socket sets SO_RCVBUF 1152 before it opens (2304 once doubled,
 * Linux's minimum): the receive space is 1152 bytes, less than one MSS, the
 * window is never scaled and every edge is easy to compute. The peer
 * (OPTS_MSS_ONLY unless a helper says otherwise) offers 65535 bytes.
 *
 * Once synchronized, every reach_* helper has both ends exchange 100 bytes
 * (keel's read by the peer and acknowledged, the peer's read by the
 * application), so that "old" sequence numbers are really old: RCV.NXT is
 * 101 and the window 1052. Its right edge stays where the handshake put it,
 * 1153: the 100 bytes read are too few to move it (receiver SWS avoidance,
 * RFC 9293 §3.8.6.2.2). The connection is left with nothing pending, and c
 * holds keel's sequence variables, relative as in struct seg, checked
 * against keel_tcp_info. */
#ifndef KEEL_TEST_STATES_H
#define KEEL_TEST_STATES_H

#include <stdint.h>

#include "script.h"

#define RCVBUF_OPT 1152     /* the SO_RCVBUF value set */
#define SYN_WINDOW 1152     /* the window of keel's SYN or SYN-ACK: the whole space */
#define XCHG_LEN 100        /* bytes each end sends once synchronized */
#define EST_WINDOW (SYN_WINDOW - XCHG_LEN) /* 1052, from RCV.NXT 101 */
#define FIN_WINDOW (EST_WINDOW - 1)        /* 1051, from RCV.NXT 102 */

struct conn {
    struct script s;
    int sock;          /* keel's connection, -1 while it has no handle */
    int listener;      /* keel's listening socket, -1 if none */
    uint32_t rcv_nxt;  /* keel's RCV.NXT, relative to the peer's ISN */
    uint32_t rcv_wnd;  /* keel's window, offered from rcv_nxt */
    uint32_t snd_una;  /* keel's SND.UNA, relative to keel's ISN */
    uint32_t snd_nxt;  /* keel's SND.NXT */
};

/* Sequence positions, relative to the peer's ISN, against keel's window. */
#define POS_OLD(c) ((c)->rcv_nxt - 50)                   /* well below RCV.NXT */
#define POS_LEFT(c) ((c)->rcv_nxt)                       /* = RCV.NXT */
#define POS_MID(c) ((c)->rcv_nxt + (c)->rcv_wnd / 2)     /* inside the window */
#define POS_RIGHT(c) ((c)->rcv_nxt + (c)->rcv_wnd)       /* = RCV.NXT + RCV.WND */
#define POS_BEYOND(c) ((c)->rcv_nxt + (c)->rcv_wnd + 1)  /* past the window */

/* A fresh stack at time 1 s; no socket yet. Every reach_* starts with it. */
void conn_start(struct conn *c);
void conn_done(struct conn *c);

/* A listener on KEEL_PORT (c->listener), with the small receive buffer. */
void reach_listen(struct conn *c);
/* keel_connect sent keel's SYN: SND.UNA 0, SND.NXT 1. */
void reach_syn_sent(struct conn *c);
/* Passive: the listener (kept, c->listener) got the peer's SYN and answered
 * with its SYN-ACK; RCV.NXT 1, window 1152. The child has no handle yet. */
void reach_syn_received(struct conn *c);
/* Simultaneous open (RFC 9293 §3.5 figure 7): in SYN-SENT keel got the
 * peer's SYN (no ACK) and answered with its SYN-ACK. */
void reach_syn_received_simultaneous(struct conn *c);
/* Active open, then the 100-byte exchange: RCV.NXT 101, window 1052,
 * SND.UNA = SND.NXT = 101. */
void reach_established(struct conn *c);
/* The same, with the peer offering Linux's options (timestamps, SACK,
 * window scale 7); keel's window stays unscaled. */
void reach_established_linux(struct conn *c);
/* Passive open (the listener is kept on KEEL_PORT), then the exchange. */
void reach_established_passive(struct conn *c);
/* keel shut down writing: its FIN (seq 101) is not yet acknowledged. */
void reach_fin_wait_1(struct conn *c);
/* The peer acknowledged keel's FIN. */
void reach_fin_wait_2(struct conn *c);
/* The same, but the application closed its socket (c->sock is -1). */
void reach_fin_wait_1_orphan(struct conn *c);
void reach_fin_wait_2_orphan(struct conn *c);
/* The peer's FIN (seq 101) arrived: RCV.NXT 102. */
void reach_close_wait(struct conn *c);
/* Both FINs crossed: keel's is not yet acknowledged, the peer's is. */
void reach_closing(struct conn *c);
/* CLOSE-WAIT, then keel shut down writing: its FIN is not acknowledged. */
void reach_last_ack(struct conn *c);
/* FIN-WAIT-2, then the peer's FIN: 2 MSL is running. */
void reach_time_wait(struct conn *c);
/* TIME-WAIT after a passive open whose listener is still there. */
void reach_time_wait_passive(struct conn *c);

/* keel sends n bytes (they go out at once): SND.NXT advances by n. */
void conn_keel_sends(struct conn *c, uint32_t n);
/* Re-reads keel's variables into c, checking the state. */
void conn_sync(struct conn *c, int state);

/* Expectations on what keel did. */
#define conn_expect_ack(c, ackno, wnd)                                        \
    script_expect(&(c)->s, .flags = TCP_FLAG_ACK, .seq = (c)->snd_nxt,         \
                  .ack = (ackno), .win = (wnd), .win_set = true)
/* The ACK keel sends when it drops or answers a segment: SEQ = SND.NXT,
 * ACK = RCV.NXT, its current window. */
#define conn_expect_dup_ack(c) conn_expect_ack((c), (c)->rcv_nxt, (c)->rcv_wnd)
#define conn_expect_none(c) script_expect_none(&(c)->s)
void conn_expect_state_at(struct conn *c, int state, const char *file, int line);
#define conn_expect_state(c, st) conn_expect_state_at((c), (st), __FILE__, __LINE__)
/* The connection is closed: with a handle, CLOSED with SO_ERROR = -err
 * (err a keel_err, 0 for none); without one, gone from the stack. */
void conn_expect_closed_at(struct conn *c, int err, const char *file, int line);
#define conn_expect_closed(c, err) conn_expect_closed_at((c), (err), __FILE__, __LINE__)
/* The application reads exactly the peer's bytes [seq, seq + len). */
void conn_expect_read_at(struct conn *c, uint32_t seq, uint32_t len, const char *file, int line);
#define conn_expect_read(c, seq, len) conn_expect_read_at((c), (seq), (len), __FILE__, __LINE__)
/* Nothing to read, and not the end of the stream. */
void conn_expect_no_read_at(struct conn *c, const char *file, int line);
#define conn_expect_no_read(c) conn_expect_no_read_at((c), __FILE__, __LINE__)
/* The end of the stream. */
void conn_expect_eof_at(struct conn *c, const char *file, int line);
#define conn_expect_eof(c) conn_expect_eof_at((c), __FILE__, __LINE__)
/* keel's SND.UNA, relative. */
uint32_t conn_snd_una(struct conn *c);
/* keel's ISS, absolute: of the connection between the two ports now. */
uint32_t conn_snd_iss(struct conn *c);
/* Out-of-order bytes held. */
uint32_t conn_ooo_bytes(struct conn *c);
/* Absolute expiry of keel's timer (enum keel_timer_kind), 0 if disarmed. */
uint64_t conn_timer(struct conn *c, int kind);

#endif
