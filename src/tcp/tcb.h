/* The transmission control block (RFC 9293 §3.3.1), with RFC names for RFC
 * state, grouped by direction. */
#ifndef KEEL_TCP_TCB_H
#define KEEL_TCP_TCB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rangeset.h"
#include "base/ring.h"
#include "base/seq.h"
#include "base/wheel.h"
#include "keel/info.h"
#include "stack/stack.h"
#include "tcp/cc.h"
#include "tcp/rack.h"
#include "wire/wire.h"

/* Linux's defaults, where the RFCs leave a choice. */
#define TCP_RTO_INITIAL_US 1000000u  /* RFC 6298 §2.1 */
#define TCP_RTO_MIN_US 200000u       /* Linux TCP_RTO_MIN */
#define TCP_RTO_MAX_US 120000000u    /* Linux TCP_RTO_MAX */
#define TCP_DELACK_MIN_US 40000u     /* Linux TCP_DELACK_MIN */
#define TCP_INIT_CWND_SEGS 10u       /* RFC 6928 */
#define TCP_MIN_SND_MSS 48u          /* Linux tcp_min_snd_mss */
#define TCP_DEFAULT_MSS 536u         /* RFC 9293 §3.7.1: no MSS option */
#define TCP_MAX_QUICKACKS 16u        /* Linux TCP_MAX_QUICKACKS */
#define TCP_KEEPIDLE_US 7200000000ull
#define TCP_KEEPINTVL_US 75000000ull
#define TCP_KEEPCNT 9u
#define TCP_INVALID_ACK_INTERVAL_US 500000u /* Linux tcp_invalid_ratelimit */
#define TCP_RECORD_MARKS 64u         /* record ends (MSG_EOR) remembered */
#define TCP_CHUNK_MAX 65535u         /* largest chunk of the send queue */
/* What one chunk costs SO_SNDBUF beyond its bytes: Linux charges an skb's
 * truesize (SKB_TRUESIZE: the struct sk_buff, its skb_shared_info and the
 * head TCP allocates for headers, tcp_stream_alloc_skb). 832 is what Linux
 * 6.18 on x86-64 adds to sk_wmem_queued (SO_MEMINFO) for one new skb. */
#define TCP_CHUNK_OVERHEAD 832u
#define TCP_PUSH_POINTS 16u          /* write ends remembered for PSH */
#define TCP_RESOURCE_PROBE_INTERVAL_US 500000u /* Linux: retry after local congestion */

/* What holds the sender back, in Linux's order of priority (enum
 * tcp_chrono): busy (data outstanding), limited by the peer's window,
 * limited by the send buffer. */
enum tcp_chrono {
    TCP_CHRONO_NONE,
    TCP_CHRONO_BUSY,
    TCP_CHRONO_RWND_LIMITED,
    TCP_CHRONO_SNDBUF_LIMITED,
    TCP_CHRONO_COUNT
};

/* Urgent data received (src/tcp/urgent.c), as Linux's tp->urg_data. */
enum tcp_urg {
    TCP_URG_NONE,
    TCP_URG_NOTYET, /* the pointer is known, the byte not yet received */
    TCP_URG_VALID,  /* the byte is here, unread out of band */
    TCP_URG_READ,   /* read with MSG_OOB */
};

enum tcb_timer {
    TT_RETRANSMIT = KEEL_TIMER_RETRANSMIT, /* also carries the persist timer */
    TT_PERSIST = KEEL_TIMER_PERSIST,
    TT_DELACK = KEEL_TIMER_DELACK,
    TT_KEEPALIVE = KEEL_TIMER_KEEPALIVE,
    TT_TIME_WAIT = KEEL_TIMER_TIME_WAIT,
    TT_WATCHDOG = KEEL_TIMER_WATCHDOG,
    TT_PACING = KEEL_TIMER_PACING,
    TT_COUNT = KEEL_TIMER_COUNT
};

struct tcb_send {
    seq_t una, nxt, wl1, wl2, iss, up;
    seq_t max;        /* highest sequence number sent (BSD snd_max) */
    seq_t sml;        /* end of the last short segment sent (Linux snd_sml) */
    uint32_t wnd;     /* peer's window, scaled */
    uint32_t max_wnd; /* largest window the peer has offered (RFC 9293 §3.8.6.2.1) */
    uint8_t wscale;   /* shift for the peer's windows (RFC 7323 Snd.Wind.Shift) */
};

struct tcb_recv {
    seq_t nxt, irs, up;
    seq_t adv;        /* right edge of the window last advertised */
    seq_t last_ack_sent; /* RFC 7323 Last.ACK.sent */
    uint32_t wnd;     /* window last advertised, scaled */
    uint8_t wscale;   /* shift for our windows (RFC 7323 Rcv.Wind.Shift) */
};

/* F-RTO (RFC 5682) after a timeout: waiting for the first ACK (step 2);
 * new data sent (step 2b), waiting for the verdict (step 3); or resending
 * again with no verdict yet, which original data acknowledged may still
 * give. */
enum frto_step { FRTO_OFF, FRTO_AWAIT_ACK, FRTO_NEW_SENT, FRTO_RESENDING };
struct frto {
    uint8_t step;                /* enum frto_step */
    bool orig_delivered;         /* this ACK delivered never-retransmitted data */
    seq_t resume;                /* resending's point while step 3 waits */
    seq_t new_from, new_to;      /* step 2b's new data (equal: none) */
};

/* What a fast recovery's or a timeout's cut may be undone to, and the
 * evidence (src/tcp/undo.c; Linux undo_marker, undo_retrans,
 * retrans_stamp, prior_cwnd, prior_ssthresh). */
struct undo {
    bool on;                     /* a cut may be undone (Linux undo_marker set) */
    bool undone;                 /* it was: the recovery's end leaves cwnd */
    bool rxt_seen;               /* something was retransmitted since it began */
    uint32_t retrans;            /* retransmitted segments not yet D-SACKed */
    uint32_t first_rxt_tsval;    /* TSval of the first retransmission */
    seq_t marker;                /* SND.UNA when it began */
    uint32_t prior_cwnd, prior_ssthresh;
};

struct tcb {
    keel_stack *st;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint8_t state;         /* enum keel_tcp_state */
    int handle;            /* -1 once the application closed it (orphan) */
    struct tcb *hash_next; /* demux chain */
    struct tcb *listener;  /* SYN_RECEIVED or accept-queued child: its listener */
    struct tcb *aq_next;   /* accept queue link */

    struct tcb_send snd;
    struct tcb_recv rcv;

    /* Segment sizes: peer's MSS option, ours, and the data per segment. */
    uint16_t peer_mss;
    uint16_t adv_mss;      /* the MSS option we send */
    uint16_t user_mss;     /* TCP_MAXSEG, 0 if unset */
    uint32_t mss;          /* effective send MSS: payload bytes per full segment */
    uint32_t rcv_mss;      /* estimate of the peer's segment size */
    /* The path MTU (RFC 1191) as the cached route gives it (Linux's dst):
     * read at open and again on the first transmission after the route
     * table changed (route_gen); lowered by ICMP. route_mtu is the route's
     * own; pmtu the MTU mss was last computed from (icsk_pmtu_cookie). */
    uint32_t route_gen;
    uint16_t route_mtu, path_mtu, pmtu;
    bool path_mtu_locked;
    uint32_t init_cwnd_segs;   /* the route's initcwnd, or RFC 6928's 10 */
    /* PLPMTUD (RFC 4821 §7, Linux icsk_mtup): the range of MTUs searched,
     * the probe in flight (probe_size, its MTU; 0: none) and when the
     * search last started. */
    struct {
        bool enabled;
        uint16_t search_low, search_high, probe_size;
        seq_t probe_start, probe_end;
        uint64_t probe_ts_us;
    } mtup;

    /* Options negotiated (RFC 7323, RFC 2018). */
    bool ts_ok, sack_ok, ws_ok;
    uint32_t ts_recent;        /* TS.Recent (RFC 7323 §4.3) */
    uint64_t ts_recent_us;     /* when ts_recent was stored (24-day PAWS rule) */
    uint32_t ts_offset;        /* per-connection random TSval offset */

    /* Send buffer: bytes from snd_buf_seq (the oldest unacknowledged byte) on. */
    struct ring sndq;
    seq_t snd_buf_seq;
    bool fin_queued;           /* the application shut down writing */
    /* Where application writes ended, unacknowledged (oldest first): a
     * segment holding one carries PSH, as Linux marks each write's tail. */
    seq_t push_at[TCP_PUSH_POINTS];
    uint8_t push_head, push_n;
    seq_t pushed_seq; /* the newest push point ever marked (Linux pushed_seq) */
    bool fin_acked;
    /* The send queue as Linux's write queue (src/tcp/sendq.c): the newest
     * chunk (Linux's tail skb), the record ends no segment may span (MSG_EOR,
     * unacknowledged, oldest first), and the options that hold data back. */
    seq_t chunk_start;
    seq_t record_end[TCP_RECORD_MARKS];
    uint8_t record_head, record_n;
    uint32_t notsent_lowat;    /* TCP_NOTSENT_LOWAT; 0: the stack's */
    bool cork;                 /* TCP_CORK */
    uint32_t sndbuf;           /* SO_SNDBUF as stored (Linux doubles it) */
    bool sndbuf_locked;        /* set by the user: no autotuning */

    /* Receive buffer: readable bytes, then out-of-order bytes at their offset. */
    struct ring rcvq;
    struct rangeset ofo;       /* out-of-order ranges held, above rcv.nxt */
    bool ofo_fin;              /* a FIN arrived out of order at ofo_fin_seq */
    seq_t ofo_fin_seq;
    bool rcv_fin;              /* FIN received and consumed into rcv.nxt */
    uint32_t rcvbuf;           /* SO_RCVBUF as stored (Linux doubles it) */
    bool rcvbuf_locked;
    uint32_t rcv_space;        /* window space granted to the peer (<= rcvbuf/2) */
    seq_t rcv_space_seq;       /* DRS: rcv.nxt at the start of the measurement */
    uint64_t rcv_space_us;
    uint8_t urg_state;         /* enum tcp_urg */
    uint8_t urg_byte;
    bool oobinline;            /* SO_OOBINLINE */
    struct tcp_sack_block sack_recent[TCP_MAX_SACK_BLOCKS]; /* RFC 2018 §4 order */
    uint8_t sack_recent_n;
    bool dsack_pending;        /* RFC 2883: report a duplicate next ACK */
    struct tcp_sack_block dsack;

    /* Retransmission (RFC 6298) and the SACK scoreboard (RFC 2018). */
    struct rangeset sacked;    /* SACKed ranges above snd.una */
    seq_t high_rxt;            /* RFC 6675 HighRxt: next hole to retransmit from */
    uint32_t sacked_now;       /* octets the ACK being processed SACKed for the first time */
    struct sent_times sack_times; /* when they were sent (never retransmitted ones) */
    uint32_t srtt_us, rttvar_us, rto_us, min_rtt_us;
    bool rtt_measured;
    uint8_t backoff;
    bool rtt_timing;           /* Karn: the SYN is being timed */
    seq_t rtt_seq;
    uint64_t rtt_start_us;
    uint64_t retrans_start_us; /* first retransmission of the current episode */
    uint32_t retransmits;      /* consecutive timeouts */
    uint32_t retrans_tsval;    /* TSval of the latest retransmission */
    struct rack rack;          /* RACK-TLP loss detection (RFC 8985) */
    struct frto frto;          /* spurious timeout detection (RFC 5682) */
    struct undo undo;          /* what a cut may be undone to */

    /* Congestion control (RFC 5681, RFC 6582). */
    const struct cc_ops *cc;
    union cc_state cc_state;
    uint32_t cwnd, ssthresh;
    uint32_t cwnd_acked;       /* congestion-avoidance byte counter */
    /* Duplicate ACKs since SND.UNA last moved; without SACK, in a recovery,
     * those that still stand for segments beyond SND.UNA. */
    uint32_t dupacks;
    bool in_recovery;
    seq_t recover;
    uint32_t prr_delivered, prr_out, recover_fs; /* RFC 9937 (recover_fs: prr_start) */
    /* ECN (RFC 3168): negotiated (while SYN-SENT: asked for); ECE to echo
     * until the peer's CWR; CWR to send on the next new data; and the
     * reduction a congestion echo started (Linux's CWR state), which lasts
     * until SND.UNA passes cwr_end. */
    bool ecn_ok, ecn_echo, ecn_cwr_queued, in_cwr;
    seq_t cwr_end;
    /* Was cwnd what held the sender back (Linux tcp_is_cwnd_limited)? Per
     * window of data, ending at usage_end: the largest flight, and whether
     * cwnd held the sender back. */
    seq_t usage_end;
    uint32_t max_flight;
    bool cwnd_limited;

    /* ACK generation (RFC 9293 §3.8.6.3, RFC 5681 §4.2). */
    bool ack_now;
    uint32_t unacked_bytes;    /* received in order since our last ACK */
    uint8_t quickacks;         /* immediate ACKs left (Linux quick-ack mode) */
    uint64_t last_invalid_ack_us;
    uint64_t challenge_window_us; /* RFC 5961 §7 per-connection rate limit */
    uint32_t challenge_count;

    /* Timers. */
    struct timer timers[TT_COUNT];
    uint8_t probes;            /* zero-window or keepalive probes unanswered */
    uint64_t persist_start_us;
    bool xmit_refused;         /* the device refused the last data, SYN or FIN (KEEL_ENOBUFS) */

    /* Socket options and application-facing state. */
    bool nodelay, keepalive;
    /* RFC 7413 client: TCP_FASTOPEN_CONNECT; the SYN carries the Fast Open
     * option (fo_len 0: a cookie request); connect() returned with the SYN
     * held until the first send (Linux tcp_fastopen_defer_connect). */
    bool fo_connect, fo_syn, fo_deferred;
    uint8_t fo_len;
    uint8_t fo_cookie[TCP_FASTOPEN_COOKIE_MAX];
    bool linger_on;
    uint32_t linger_s;
    uint64_t keepidle_us, keepintvl_us;
    uint32_t keepcnt;
    uint32_t user_timeout_ms;
    bool reuseaddr;
    uint8_t ip_tos;            /* IP_TOS */
    uint8_t pmtudisc;          /* IP_MTU_DISCOVER: KEEL_IP_PMTUDISC_* */
    bool freebind;             /* IP_FREEBIND */
    bool bound, shut_rd, shut_wr;
    bool closed_by_app;
    int soerror;               /* pending error for SO_ERROR / the next call */
    int soft_error;            /* last ICMP error: reported if the connection times out */
    int backlog;
    uint32_t syn_queue_len, accept_queue_len;
    struct tcb *aq_head, *aq_tail;
    bool event_queued;
    bool buried;               /* on the stack's graveyard, freed soon */
    uint64_t last_activity_us, state_since_us, last_ack_rcvd_us;

    /* Stall watchdog: kinds seen (enum keel_stall bits), kinds reported since
     * the last progress, and when each was first seen. */
    uint32_t stalls, stalls_active;
    bool syn_challenged;       /* a SYN on this 4-tuple was answered with a challenge */
    uint64_t stall_first_us[KEEL_STALL_COUNT];

    /* SO_TIMESTAMPING state (src/stack/tstamp.c); NULL until it is set. */
    struct tstamp *tstamp;
    /* TCP_MD5SIG keys (src/tcp/md5.c); NULL until one is set. */
    struct tcp_md5_keys *md5;

    /* Totals for introspection. */
    uint64_t bytes_sent, bytes_retrans, bytes_acked, bytes_received;
    uint64_t segs_out, segs_in, retrans_segs, dsack_received;
    uint64_t data_segs_out, data_segs_in; /* segments that carried data */
    uint64_t pace_next_us; /* departure time of the next data (Linux tcp_wstamp_ns) */
    uint32_t rcv_ooopack;      /* segments that arrived out of order */

    /* Introspection times (Linux lsndtime and icsk_ack.lrcvtime): the last
     * data segment sent, the last in-order data received. */
    uint64_t last_data_sent_us, last_data_rcvd_us;
    /* Chronographs (Linux tcp_chrono_start/stop): which one runs
     * (enum tcp_chrono), since when, and the time each has run before. */
    uint8_t chrono_type;
    uint64_t chrono_start_us;
    uint64_t chrono_us[TCP_CHRONO_COUNT];
    /* A write found the send buffer full, and not enough has been freed
     * since (Linux SOCK_NOSPACE). */
    bool snd_nospace;
};

/* RCV.WND as last advertised, measured from RCV.NXT. */
static inline uint32_t tcb_rcv_window(const struct tcb *tcb)
{
    return seq_gt(tcb->rcv.adv, tcb->rcv.nxt) ? seq_dist(tcb->rcv.nxt, tcb->rcv.adv) : 0;
}

/* Linux's rule: a backlog of N admits N + 1 connections waiting for accept. */
static inline bool tcb_accept_queue_full(const struct tcb *l)
{
    return l->accept_queue_len > (uint32_t)l->backlog;
}

/* Lifecycle (src/tcp/tcb.c). */
struct tcb *tcb_new(keel_stack *st);
void tcb_free(struct tcb *tcb);
void tcb_set_state(struct tcb *tcb, uint8_t state);
/* Before the first SYN: ISS-derived variables, our MSS, window and scale. */
void tcb_prepare_open(struct tcb *tcb);
/* The handshake completed: congestion control, ACK mode, keepalive. */
void tcb_established(struct tcb *tcb);
void tcb_enter_time_wait(struct tcb *tcb);
bool tcb_synchronized(const struct tcb *tcb);
/* Enters CLOSED, records err for the application (0: none), removes the TCB
 * from the demux and frees it if the application no longer holds it. */
void tcb_close(struct tcb *tcb, int err);
void tcb_bury(struct tcb *tcb);
/* Sends a RST for the connection (seq = SND.MAX) and closes with err. */
void tcb_abort(struct tcb *tcb, int err);
void tcb_arm(struct tcb *tcb, enum tcb_timer t, uint64_t after_us);
void tcb_disarm(struct tcb *tcb, enum tcb_timer t);
bool tcb_armed(const struct tcb *tcb, enum tcb_timer t);
void tcb_timer_fired(struct timer *t);
/* Bytes queued but not yet sent, and the sequence number just past them. */
seq_t tcb_snd_end(const struct tcb *tcb);
void tcb_check_invariants(const struct tcb *tcb);
void tcb_fill_info(const struct tcb *tcb, struct keel_tcp_info *info);
/* Options and sizes taken from a SYN or SYN-ACK (RFC 9293 §3.7.1, RFC 7323). */
void tcb_apply_syn_options(struct tcb *tcb, const struct tcp_hdr *h);
uint8_t tcb_choose_wscale(const struct tcb *tcb);
uint32_t tcb_ts_now(const struct tcb *tcb);

/* A received segment, parsed once. */
struct segment {
    struct tcp_hdr h;
    seq_t seq, ack;
    const uint8_t *data;
    uint32_t len;      /* data bytes */
    uint32_t seg_len;  /* SEG.LEN: data + SYN + FIN */
    uint32_t saddr, daddr;
    uint8_t ecn;       /* the IP header's ECN field (IP_ECN_*) */
};

/* The same segment with its SYN taken off: what follows the SYN. */
static inline struct segment segment_after_syn(const struct segment *s)
{
    struct segment rest = *s;
    rest.h.flags &= (uint8_t)~TCP_FLAG_SYN;
    rest.seq = seq_add(s->seq, 1);
    rest.h.seq = rest.seq.v;
    rest.seg_len = s->seg_len - 1;
    return rest;
}

/* Input (src/tcp/input.c and friends). */
void tcp_input(keel_stack *st, uint32_t src, uint32_t dst, uint8_t ecn, const uint8_t *seg,
               size_t len);
void tcp_input_listen(struct tcb *listener, const struct segment *s);
void tcp_reopen_from_time_wait(struct tcb *listener, const struct segment *s, seq_t iss);
void tcp_input_syn_sent(struct tcb *tcb, const struct segment *s);
void tcp_input_synchronized(struct tcb *tcb, const struct segment *s);
bool tcp_fast_path(struct tcb *tcb, const struct segment *s);
/* Shared steps of segment processing (src/tcp/ack.c, src/tcp/rcv.c). */
bool tcp_ack_accepted(struct tcb *tcb, const struct segment *s);
void tcp_text_and_fin(struct tcb *tcb, const struct segment *s);
void tcp_ack_advance(struct tcb *tcb, const struct segment *s);
void tcp_update_window(struct tcb *tcb, const struct segment *s);
void tcp_store_ts_recent(struct tcb *tcb, const struct segment *s);
bool tcp_rcv_data(struct tcb *tcb, const struct segment *s);
void tcp_schedule_ack(struct tcb *tcb, bool in_order);
void tcp_rcv_space_adjust(struct tcb *tcb);
void tcp_note_sack_blocks(struct tcb *tcb, const struct segment *s);
/* An ACK that did not move SND.UNA: a round-trip sample from what it SACKed. */
void tcp_sack_rtt_sample(struct tcb *tcb);
bool tcp_dupack(struct tcb *tcb, const struct segment *s);
/* An ACK that SACKed `delivered` new bytes without advancing SND.UNA. */
void tcp_sack_delivered(struct tcb *tcb, uint32_t delivered);
void tcp_send_challenge_ack(struct tcb *tcb);
void tcp_deliver_fin(struct tcb *tcb);

void tcp_icmp_error(struct tcb *tcb, uint8_t type, uint8_t code, uint16_t mtu, seq_t seq);

/* Path MTU and PLPMTUD (src/tcp/mtup.c, RFC 1191, RFC 4821). */
void tcp_route_init(struct tcb *tcb);
void tcp_route_check(struct tcb *tcb);
uint16_t tcp_route_advmss(const struct tcb *tcb);
void tcp_sync_mss(struct tcb *tcb, uint32_t pmtu);
void tcp_current_mss(struct tcb *tcb);
void tcp_mtup_init(struct tcb *tcb);
enum tcp_mtu_probe_result { MTU_PROBE_SKIP, MTU_PROBE_WAIT, MTU_PROBE_SENT };
enum tcp_mtu_probe_result tcp_mtu_probe(struct tcb *tcb);
bool tcp_mtu_probe_whole(const struct tcb *tcb, seq_t seq, uint32_t len);
void tcp_mtup_on_ack(struct tcb *tcb);
bool tcp_mtup_probe_lost(struct tcb *tcb);
void tcp_mtup_on_rto(struct tcb *tcb, bool black_hole_suspected);

/* Output (src/tcp/output.c). */
void tcp_output(struct tcb *tcb);
bool tcp_may_send_data(const struct tcb *tcb);
bool tcp_pacing_holds(struct tcb *tcb);
void tcp_send_ack(struct tcb *tcb);
/* The reset for segment s (RFC 9293 §3.10.7.1); owner (NULL: none) is the
 * socket that answers, whose key for the peer signs it (RFC 2385). */
void tcp_send_rst_for(keel_stack *st, const struct tcb *owner, const struct segment *s);
void tcp_send_rst(struct tcb *tcb, seq_t seq);
void tcp_send_syn(struct tcb *tcb);

/* TCP Fast Open, client side (src/tcp/fastopen.c, RFC 7413). */
/* At connect(): whether the SYN waits for the first send (a cookie is
 * cached for the peer); otherwise a TCP_FASTOPEN_CONNECT SYN asks for one. */
bool tcp_fastopen_defer_connect(struct tcb *tcb);
/* The Fast Open option of our SYN, if it carries one. */
void tcp_fastopen_syn_option(const struct tcb *tcb, struct tcp_opts *o);
/* A SYN-ACK answering our SYN: caches the cookie it carries. */
void tcp_fastopen_synack(struct tcb *tcb, const struct tcp_opts *o);
bool tcp_send_probe(struct tcb *tcb); /* false: the device refused it */
/* (Re)transmits [seq, seq + len) with flags; len 0 sends only a header.
 * Returns false if the device refused the packet (tcb->xmit_refused). */
bool tcp_xmit(struct tcb *tcb, seq_t seq, uint32_t len, uint8_t flags);
uint32_t tcp_retransmit_head(struct tcb *tcb);
uint32_t tcp_advertise_window(struct tcb *tcb);
uint32_t tcp_flight(const struct tcb *tcb);
uint32_t tcp_mss_now(const struct tcb *tcb);
uint32_t tcp_send_goal(const struct tcb *tcb, uint32_t mss);
uint32_t tcp_tso_goal(const struct tcb *tcb, uint32_t mss);
uint32_t tcp_resend_goal(const struct tcb *tcb, seq_t start, uint32_t mss);
void tcp_note_write_end(struct tcb *tcb);
void tcp_forget_push_points(struct tcb *tcb);
bool tcp_holds_push_point(const struct tcb *tcb, seq_t seq, uint32_t len);
bool tcp_cwnd_limited(const struct tcb *tcb);

/* Loss recovery with PRR (src/tcp/recovery.c: RFC 6675 with SACK, Linux's
 * NewReno without, RFC 9937). */
/* What one ACK did, for PRR (RFC 9937). */
struct prr_ack {
    uint32_t delivered; /* DeliveredData: SND.UNA's advance + newly SACKed bytes */
    bool safe;          /* SafeACK: SND.UNA advanced and no further loss shows */
    bool below_una;     /* SEG.ACK < SND.UNA: SACK information only */
    bool ece;           /* it echoes a congestion experienced mark (RFC 3168) */
    bool reordered;     /* its partial ACK undid the recovery (src/tcp/undo.c) */
};
uint32_t recovery_pipe(const struct tcb *tcb);
seq_t sack_lost_edge(const struct tcb *tcb);
/* Unacknowledged octets that are neither SACKed nor lost, and those lost. */
uint32_t recovery_lost_bytes(const struct tcb *tcb);
uint32_t sack_retrans_out(const struct tcb *tcb);
uint32_t retrans_out_from(const struct tcb *tcb, seq_t from);
bool recovery_retransmit_next(struct tcb *tcb, uint32_t usable, bool new_data_waiting);
void recovery_on_ack(struct tcb *tcb, struct prr_ack a);
void recovery_end(struct tcb *tcb, seq_t ack);
void prr_start(struct tcb *tcb);
/* Without SACK (Linux's NewReno scoreboard): the octets duplicate ACKs
 * report arrived; what an ACK delivered (acked: SND.UNA's advance,
 * dupacks: the count before it); the count after a cumulative ACK. */
uint32_t reno_sacked_bytes(const struct tcb *tcb);
uint32_t reno_delivered(const struct tcb *tcb, uint32_t acked, uint32_t dupacks);
uint32_t reno_dupacks_after(const struct tcb *tcb, uint32_t acked);
void reno_count_dupack(struct tcb *tcb);

/* F-RTO (src/tcp/frto.c, RFC 5682). A timeout, before its response; an
 * ACK's SACK blocks as they are taken (before the scoreboard changes); the
 * undo of a spurious timeout, after the SACK blocks and before SND.UNA
 * moves to ack; then steps 2 and 3, once SND.UNA and the window are
 * updated (dupack: the ACK counted as a duplicate). */
void frto_on_rto(struct tcb *tcb);
bool tcp_rto_cuts_ssthresh(const struct tcb *tcb);
/* The RTO from now, clamped to TCP_USER_TIMEOUT's end. */
uint64_t tcp_rto_after_retransmit(const struct tcb *tcb);
void frto_on_sacked(struct tcb *tcb, seq_t left, seq_t right);
void frto_undo_if_spurious(struct tcb *tcb, seq_t ack);
void frto_on_ack(struct tcb *tcb, seq_t una_before, bool dupack);
/* The episode's F-RTO ends: no step under way, no new data to step over. */
void frto_stop(struct tcb *tcb);
/* Where resending after the timeout has got to (SND.NXT, unless step 2b's
 * new data is out and resending waits). */
seq_t frto_resend_point(const struct tcb *tcb);
/* Before sending from SND.NXT: step past new data sent in step 2b; then
 * how much may be resent before it (UINT32_MAX: no limit). */
void frto_skip_new_data(struct tcb *tcb);
uint32_t frto_room_before_new_data(const struct tcb *tcb);
bool frto_pushes_new_data(const struct tcb *tcb);

/* Undo (src/tcp/undo.c). A fast recovery or a timeout that cuts ssthresh
 * starts an undo point (before the cut); retransmissions and D-SACKs of
 * them are counted; an ACK that advances SND.UNA may undo the cut (before
 * SND.UNA moves); after a D-SACK, true if every retransmission came back
 * D-SACKed and the cut was undone. undo_loss leaves a timeout's state. */
void undo_start(struct tcb *tcb, bool ece);
void undo_forget(struct tcb *tcb);
void undo_on_ece(struct tcb *tcb);
void undo_note_retransmit(struct tcb *tcb, uint32_t segs);
void undo_note_dsack(struct tcb *tcb, seq_t left, uint32_t segs);
void undo_sync(struct tcb *tcb);
bool undo_on_ack(struct tcb *tcb, const struct segment *s);
bool undo_dsack(struct tcb *tcb);
void undo_loss(struct tcb *tcb);

/* ECN (src/tcp/ecn.c, RFC 3168). */
uint8_t ecn_syn_flags(struct tcb *tcb);
void ecn_syn_received(struct tcb *tcb, const struct segment *s);
void ecn_synack_received(struct tcb *tcb, const struct segment *s);
uint8_t ecn_mark(struct tcb *tcb, seq_t seq, uint32_t len, uint8_t *flags);
void ecn_data_received(struct tcb *tcb, const struct segment *s);
void ecn_on_ack(struct tcb *tcb, const struct segment *s, const struct prr_ack *a);
void ecn_queue_cwr(struct tcb *tcb);
void prr_update(struct tcb *tcb, const struct prr_ack *a);

/* Urgent data received (src/tcp/urgent.c). A segment's urgent pointer,
 * before its text is taken; then the urgent byte, once it is in order. */
void tcp_urgent_pointer(struct tcb *tcb, const struct segment *s);
void tcp_urgent_arrived(struct tcb *tcb);
/* 1 if the next unread byte is the urgent byte, out of band: reads pass it. */
uint32_t tcp_urgent_skip(const struct tcb *tcb);
/* Unread bytes before the urgent byte (UINT32_MAX: none pending). */
uint32_t tcp_urgent_offset(const struct tcb *tcb);
/* How many of n bytes a read may take: it stops before the urgent byte. */
uint32_t tcp_urgent_read_limit(const struct tcb *tcb, uint32_t n);
/* After a read: the urgent byte is forgotten once read past. */
void tcp_urgent_consumed(struct tcb *tcb);
/* recv(MSG_OOB) (Linux tcp_recv_urg). */
long tcp_urgent_recv(struct tcb *tcb, void *buf, size_t len, bool peek);

/* Chronographs and activity times for introspection (src/tcp/chrono.c). */
void tcp_chrono_start(struct tcb *tcb, enum tcp_chrono type);
void tcp_chrono_stop(struct tcb *tcb, enum tcp_chrono type);
/* Microseconds the chronograph `type` has run, the running one included. */
uint64_t tcp_chrono_total(const struct tcb *tcb, enum tcp_chrono type);
void tcp_chrono_after_write(struct tcb *tcb, bool queue_was_empty, bool buffer_full);
void tcp_chrono_after_output(struct tcb *tcb, bool sent, bool rwnd_limited);
void tcp_chrono_after_ack(struct tcb *tcb);

/* Stall watchdog (src/tcp/watchdog.c). */
void watchdog_report(struct tcb *tcb, enum keel_stall kind);
void watchdog_progress(struct tcb *tcb);
void watchdog_after_output(struct tcb *tcb);
void watchdog_after_rto(struct tcb *tcb, uint64_t segs_out_before);
void watchdog_window_refused(struct tcb *tcb, const struct segment *s);
void watchdog_check_wl1(struct tcb *tcb);
void watchdog_syn_on_connection(struct tcb *tcb);
void watchdog_close_wait_start(struct tcb *tcb);
void watchdog_timer_fired(struct tcb *tcb);

/* TCP MD5 signatures (src/tcp/md5.c, RFC 2385): everything but the key
 * lookup runs only for a TCB whose md5 is set. */
struct tcp_md5_key {
    uint32_t addr;
    uint16_t len;
    uint8_t key[KEEL_TCP_MD5SIG_MAXKEYLEN];
};
int tcp_md5_set(struct tcb *tcb, const void *val, size_t len);
bool tcp_md5_inherit(struct tcb *child, const struct tcb *listener);
void tcp_md5_free(struct tcb *tcb);
const struct tcp_md5_key *tcp_md5_lookup(const struct tcb *tcb, uint32_t addr);
/* Checks a segment's signature against tcb's key for its source; false
 * (counted) means drop it. */
bool tcp_md5_inbound_ok(struct tcb *tcb, const struct segment *s, const uint8_t *seg,
                        size_t len);
static inline const struct tcp_md5_key *tcp_md5_key_for(const struct tcb *tcb, uint32_t addr)
{
    return tcb->md5 ? tcp_md5_lookup(tcb, addr) : NULL;
}

/* Are this connection's segments signed (RFC 2385)? A signed segment
 * cannot be cut by the device, whose copies would carry the first one's
 * digest: Linux turns offload off then (sk_gso_disable). */
static inline bool tcp_md5_signs(const struct tcb *tcb)
{
    return tcb->md5 && tcp_md5_key_for(tcb, tcb->raddr);
}

/* Transmit timestamps (src/stack/tstamp.c): the hooks run only for a TCB
 * whose tstamp is set. */
int tstamp_set_flags(struct tcb *tcb, int flags);
int tstamp_flags(const struct tcb *tcb);
void tstamp_free(struct tcb *tcb);
void tstamp_note_write(struct tcb *tcb);
void tstamp_on_xmit(struct tcb *tcb, seq_t seq, uint32_t len);
void tstamp_on_ack(struct tcb *tcb);
bool tstamp_queued(const struct tcb *tcb);

/* Event trace (src/stack/trace.c). */
void trace_event(struct tcb *tcb, enum keel_trace_kind kind, uint32_t a, uint32_t b);
/* A limit refused something: counted by name and traced. */
void tcb_limit_hit(struct tcb *tcb, enum keel_counter_id counter);

/* RTT and RTO (src/tcp/rtt.c, RFC 6298). */
void rtt_sample(struct tcb *tcb, uint32_t rtt_us);
void rtt_min_sample(struct tcb *tcb, uint32_t rtt_us);
uint32_t rto_current(const struct tcb *tcb);
void rto_backoff(struct tcb *tcb);

/* The send queue's Linux semantics (src/tcp/sendq.c). */
enum tcp_nagle {
    TCP_NAGLE_SOCKET, /* the socket's own: TCP_CORK, else TCP_NODELAY, else Nagle */
    TCP_NAGLE_CORK,   /* hold every partial segment (MSG_MORE) */
    TCP_NAGLE_PUSH,   /* send partial segments now, once */
};
/* Appends up to len bytes chunk by chunk, sending full chunks as they
 * fill; returns how many were queued. */
uint32_t sendq_append(struct tcb *tcb, const uint8_t *buf, uint32_t len);
/* Ends an application write that queued some bytes (complete: all). */
void sendq_write_end(struct tcb *tcb, bool complete, int flags);
/* Bytes queued beyond SND.MAX, never sent. */
uint32_t sendq_notsent(const struct tcb *tcb);
/* Linux __sk_stream_is_writeable(sk, 1): may a waiting writer go on? */
bool sendq_writable(const struct tcb *tcb);
/* Linux sk_stream_wspace >= sk_stream_min_wspace, SO_SNDBUF alone. */
bool sendq_has_wspace(const struct tcb *tcb);
/* Linux sk_wmem_queued: the queue's bytes and its chunks' overhead. */
uint32_t sendq_charged(const struct tcb *tcb);
/* A segment from seq may carry at most this much: up to the next record end. */
uint32_t sendq_record_room(const struct tcb *tcb, seq_t seq, uint32_t len);
bool sendq_is_record_end(const struct tcb *tcb, seq_t seq);
/* Drops the record ends SND.UNA has passed. */
void sendq_forget_records(struct tcb *tcb);
/* Sends what the rules allow, with partial segments judged by mode. */
void tcp_output_nagle(struct tcb *tcb, enum tcp_nagle mode);

/* Connection setup (src/tcp/isn.c, RFC 6528 and RFC 6056). */
seq_t isn_generate(keel_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
                   uint16_t rport);
int ephemeral_port(keel_stack *st, uint32_t laddr, uint32_t raddr, uint16_t rport,
                   uint16_t *port);

#endif
