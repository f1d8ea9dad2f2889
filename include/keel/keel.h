/* keel: a user-space TCP/IP stack.
 *
 * A stack is created from a config, attached to a device, and driven by its
 * caller: feed it the current time (microseconds, any epoch, never decreasing)
 * with keel_poll(), which reads arrived packets from the device, runs expired
 * timers and sends what is due; then sleep until keel_next_deadline() or until
 * the device has a packet. Nothing inside keel reads a clock or calls back into
 * the application.
 *
 * Sockets are small integer handles. Every call returns a non-negative value on
 * success or a negative keel_err, whose meaning follows the BSD socket call the
 * function mirrors. Each function lists the errors it returns.
 * Buffers passed in are owned by the caller and not kept after the call returns.
 * The API is not thread-safe: one thread drives one stack (run one stack per core). */
#ifndef KEEL_KEEL_H
#define KEEL_KEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keel/device.h"
#include "keel/info.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors: the Linux errno numbers, negated. */
enum keel_err {
    KEEL_OK = 0,
    KEEL_EPERM = -1,
    KEEL_ENOENT = -2,
    KEEL_EINTR = -4,
    KEEL_EIO = -5,
    KEEL_EBADF = -9,
    KEEL_EAGAIN = -11,
    KEEL_ENOMEM = -12,
    KEEL_EFAULT = -14,
    KEEL_EINVAL = -22,
    KEEL_EMFILE = -24,
    KEEL_EPIPE = -32,
    KEEL_ENOPROTOOPT = -92,
    KEEL_EPROTONOSUPPORT = -93,
    KEEL_EOPNOTSUPP = -95,
    KEEL_EAFNOSUPPORT = -97,
    KEEL_EADDRINUSE = -98,
    KEEL_EADDRNOTAVAIL = -99,
    KEEL_ENETUNREACH = -101,
    KEEL_ECONNABORTED = -103,
    KEEL_ECONNRESET = -104,
    KEEL_ENOBUFS = -105,
    KEEL_EISCONN = -106,
    KEEL_ENOTCONN = -107,
    KEEL_ETIMEDOUT = -110,
    KEEL_ECONNREFUSED = -111,
    KEEL_EHOSTUNREACH = -113,
    KEEL_EALREADY = -114,
    KEEL_EINPROGRESS = -115,
    KEEL_EMSGSIZE = -90,
};
/* A static description of err ("Connection reset by peer"), or "Unknown error". */
const char *keel_strerror(int err);

struct keel_sockaddr {
    uint32_t addr; /* IPv4 address, host byte order; 0 = any */
    uint16_t port; /* host byte order; 0 = any (bind) / ephemeral */
};

typedef struct keel_stack keel_stack;

#define KEEL_ECN_ACCEPT 0
#define KEEL_ECN_ON 1
#define KEEL_ECN_OFF 2

struct keel_config {
    uint32_t addr;          /* this stack's IPv4 address, host byte order */
    uint64_t seed;          /* all randomness (ports, jitter of ISN clock) derives from it */
    uint8_t secret[16];     /* key of the RFC 6528 ISN function and the demux hash */
    uint32_t max_sockets;   /* 0: 65536 */
    uint16_t ephemeral_lo;  /* 0: 32768 (Linux ip_local_port_range) */
    uint16_t ephemeral_hi;  /* 0: 60999 */
    /* Defaults of new sockets; 0 picks Linux's default. */
    uint32_t sndbuf;        /* 16384, grows up to sndbuf_max as Linux autotunes */
    uint32_t rcvbuf;        /* 131072 */
    uint32_t sndbuf_max;    /* 4194304 (tcp_wmem[2]) */
    uint32_t rcvbuf_max;    /* 6291456 (tcp_rmem[2]); sets the window scale */
    uint32_t syn_retries;   /* 6 (tcp_syn_retries) */
    uint32_t synack_retries;/* 5 */
    uint32_t retries2;      /* 15 (tcp_retries2) */
    uint32_t time_wait_us;  /* 60 s (TCP_TIMEWAIT_LEN) */
    uint32_t fin_timeout_us;/* 60 s (tcp_fin_timeout) */
    uint32_t max_syn_backlog; /* 4096 */
    uint32_t challenge_ack_per_sec; /* 1000: per connection, RFC 5961 §7 */
    uint32_t ofo_max_ranges;/* 32: out-of-order ranges kept per connection */
    bool no_timestamps;     /* Linux tcp_timestamps=1 by default */
    bool no_sack;           /* Linux tcp_sack=1 by default */
    bool no_window_scaling; /* Linux tcp_window_scaling=1 by default */
    /* Linux net.ipv4.tcp_fastopen bit 0x1 (set by default): the client side
     * of TCP Fast Open (RFC 7413), TCP_FASTOPEN_CONNECT. */
    bool no_fastopen_client;
    /* Linux tcp_slow_start_after_idle=1 by default: after an idle period
     * longer than the RTO, cwnd restarts (RFC 5681 §4.1). */
    bool no_slow_start_after_idle;
    /* Linux tcp_frto=2 by default: F-RTO (RFC 5682, with SACK) tells a
     * spurious timeout from a real one and undoes a spurious one's cut. */
    bool no_frto;
    /* Pace every connection's data at its pacing rate (below), as Linux
     * TCP does over the fq qdisc: off by default. */
    bool pacing;
    /* Segmentation offload sizing (Linux tcp_tso_autosize): a TSO packet
     * carries about 1 ms of data at the pacing rate, cwnd/SRTT times
     * pacing_ss_ratio percent in slow start (0: 200) or pacing_ca_ratio
     * percent after (0: 120), and at least min_tso_segs segments (0: 2). */
    uint32_t pacing_ss_ratio;
    uint32_t pacing_ca_ratio;
    uint32_t min_tso_segs;
    const char *congestion_control; /* NULL: "cubic", as Linux; or "newreno" */
    /* ECN (RFC 3168), as Linux's net.ipv4.tcp_ecn: KEEL_ECN_ACCEPT (0, the
     * default, Linux's 2) answers a peer that asks; KEEL_ECN_ON (Linux's 1)
     * also asks on connect(); KEEL_ECN_OFF (Linux's 0) does neither. */
    uint8_t ecn;
    /* Stall watchdog (always on): how long a CLOSE_WAIT socket may go untouched
     * by the application before it is reported; 0: 60 s. */
    uint64_t close_wait_idle_us;
    /* Where the watchdog writes one line per stall it sees; NULL: nowhere. */
    FILE *log;
    /* Events kept in the trace ring (keel_trace_read); 0: 4096. */
    uint32_t trace_events;
    /* Added to every ISN (RFC 6528's clock part): lets a test start its
     * sequence numbers near the wrap. 0 in production. */
    uint32_t isn_offset;
    /* Default TCP_NOTSENT_LOWAT of sockets that set none (Linux
     * net.ipv4.tcp_notsent_lowat); 0: no limit (Linux's UINT_MAX). */
    uint32_t notsent_lowat;
    /* Packetization-layer path MTU discovery (RFC 4821), as Linux's
     * net.ipv4.tcp_mtu_probing: KEEL_MTU_PROBING_OFF (0, the default),
     * KEEL_MTU_PROBING_BLACKHOLE (1: probing starts once retransmission
     * timeouts suggest an ICMP black hole), KEEL_MTU_PROBING_ALWAYS (2).
     * Probing starts from base_mss (0: 1024, tcp_base_mss) and searches up
     * to the peer's MSS by halving the range, one probe segment at a time. */
    uint8_t mtu_probing;
    uint32_t base_mss;
};
#define KEEL_MTU_PROBING_OFF 0
#define KEEL_MTU_PROBING_BLACKHOLE 1
#define KEEL_MTU_PROBING_ALWAYS 2

/* Creates a stack sending through dev (which must outlive it), with now_us as
 * the current time. Returns NULL with *err = KEEL_ENOMEM or KEEL_EINVAL. */
keel_stack *keel_stack_new(const struct keel_config *cfg, struct keel_device *dev,
                           uint64_t now_us, int *err);
/* Frees the stack and every socket in it, sending nothing. */
void keel_stack_free(keel_stack *st);

/* Delivers one IPv4 packet to the stack (as if it had arrived on the device). */
void keel_input(keel_stack *st, const uint8_t *pkt, size_t len, uint64_t now_us);
/* Receives every packet waiting on the device, runs timers due by now_us and
 * sends what is due. Call it whenever time passes or the device is readable. */
void keel_poll(keel_stack *st, uint64_t now_us);
/* The earliest time at which keel_poll has timer work to do (UINT64_MAX: none).
 * It may be earlier than needed, never later. */
uint64_t keel_next_deadline(const keel_stack *st);

/* ---- sockets ---- */
#define KEEL_SOCK_STREAM 1

/* Creates a TCP socket. Errors: KEEL_EPROTONOSUPPORT (type), KEEL_EMFILE. */
int keel_socket(keel_stack *st, int type);
/* Errors: KEEL_EBADF, KEEL_EINVAL (already bound), KEEL_EADDRNOTAVAIL (addr not
 * ours), KEEL_EADDRINUSE. */
int keel_bind(keel_stack *st, int sock, const struct keel_sockaddr *addr);
/* Errors: KEEL_EBADF, KEEL_EINVAL (connected), KEEL_EADDRINUSE (no free port). */
int keel_listen(keel_stack *st, int sock, int backlog);
/* Returns a new socket. Errors: KEEL_EBADF, KEEL_EINVAL (not listening),
 * KEEL_EAGAIN (none ready), KEEL_EMFILE. peer may be NULL. */
int keel_accept(keel_stack *st, int sock, struct keel_sockaddr *peer);
/* Starts the handshake: returns KEEL_EINPROGRESS; the socket becomes writable
 * when connected (or reports its error via SO_ERROR). Errors: KEEL_EBADF,
 * KEEL_EISCONN, KEEL_EALREADY, KEEL_EINVAL, KEEL_EADDRNOTAVAIL (no port),
 * KEEL_ENETUNREACH (addr 0). */
int keel_connect(keel_stack *st, int sock, const struct keel_sockaddr *addr);
/* Queues up to len bytes; returns how many. Errors: KEEL_EBADF, KEEL_EAGAIN
 * (buffer full), KEEL_ENOTCONN, KEEL_EPIPE (shut down for writing or closed
 * by the peer's RST after it), KEEL_ECONNRESET, KEEL_ETIMEDOUT.
 * The queue fills as Linux's does (tcp_sendmsg_locked): in chunks of one
 * TSO packet (at most 64 KB and half the peer's largest window; one MSS
 * without offload); a new chunk starts only while less than SO_SNDBUF is
 * queued and fewer than TCP_NOTSENT_LOWAT bytes are unsent, and a chunk
 * started fills up: the queue may pass SO_SNDBUF by less than one chunk.
 * flags: KEEL_MSG_MORE: more data follows; hold a partial segment (as
 * TCP_CORK) for this call, and mark no push point at its end.
 * KEEL_MSG_EOR: the data ends a record: no segment, sent or resent, joins
 * it to what is written after (applies only when all len bytes are
 * queued). */
long keel_send(keel_stack *st, int sock, const void *buf, size_t len, int flags);
#define KEEL_MSG_OOB 0x1  /* the out-of-band urgent byte (Linux tcp_recv_urg) */
#define KEEL_MSG_PEEK 0x2
#define KEEL_MSG_EOR 0x80
#define KEEL_MSG_MORE 0x8000
/* Returns bytes read, 0 at end of stream. Errors: KEEL_EBADF, KEEL_EAGAIN,
 * KEEL_ENOTCONN (never connected, or listening, as Linux answers),
 * KEEL_ECONNRESET, KEEL_ETIMEDOUT, KEEL_EPIPE (reset in CLOSE_WAIT). */
long keel_recv(keel_stack *st, int sock, void *buf, size_t len, int flags);
#define KEEL_SHUT_RD 0
#define KEEL_SHUT_WR 1
#define KEEL_SHUT_RDWR 2
/* Errors: KEEL_EBADF, KEEL_EINVAL (how), KEEL_ENOTCONN. */
int keel_shutdown(keel_stack *st, int sock, int how);
/* Releases the handle; the connection closes gracefully in the background
 * (or with a RST: unread data, or SO_LINGER with a zero timeout).
 * Errors: KEEL_EBADF. */
int keel_close(keel_stack *st, int sock);
/* Local and peer addresses. Errors: KEEL_EBADF, KEEL_ENOTCONN (peer). */
int keel_getsockname(keel_stack *st, int sock, struct keel_sockaddr *addr);
int keel_getpeername(keel_stack *st, int sock, struct keel_sockaddr *addr);

/* Options, with Linux's levels, names and semantics (values are ints unless
 * noted). SOL_SOCKET: SO_SNDBUF, SO_RCVBUF (stored doubled, as Linux does),
 * SO_KEEPALIVE, SO_LINGER (struct keel_linger), SO_ERROR (get; clears),
 * SO_REUSEADDR. IPPROTO_TCP: TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT (seconds / count), TCP_USER_TIMEOUT (ms),
 * TCP_QUICKACK, TCP_CONGESTION (string), TCP_INFO (get: struct keel_tcp_info),
 * TCP_CORK (hold partial segments until uncorked; a probe sends one when
 * nothing is in flight for an RTO, as Linux's probe timer does),
 * TCP_NOTSENT_LOWAT (bytes; 0: the stack's notsent_lowat).
 * Errors: KEEL_EBADF, KEEL_ENOPROTOOPT (unknown), KEEL_EINVAL (value or length). */
#define KEEL_SOL_SOCKET 1
#define KEEL_IPPROTO_TCP 6
#define KEEL_SO_REUSEADDR 2
#define KEEL_SO_ERROR 4
#define KEEL_SO_SNDBUF 7
#define KEEL_SO_RCVBUF 8
#define KEEL_SO_KEEPALIVE 9
#define KEEL_SO_OOBINLINE 10
#define KEEL_SO_LINGER 13
#define KEEL_TCP_NODELAY 1
#define KEEL_TCP_MAXSEG 2
#define KEEL_TCP_KEEPIDLE 4
#define KEEL_TCP_KEEPINTVL 5
#define KEEL_TCP_KEEPCNT 6
#define KEEL_TCP_INFO 11
#define KEEL_TCP_QUICKACK 12
#define KEEL_TCP_CONGESTION 13
#define KEEL_TCP_USER_TIMEOUT 18
/* IPPROTO_IP (an int, or a single byte as Linux also takes): IP_TOS (the
 * TOS byte of every packet the connection sends; the two ECN bits stay
 * TCP's), IP_MTU_DISCOVER (KEEL_IP_PMTUDISC_*: DO and WANT, the default,
 * send with DF and follow ICMP "fragmentation needed"; DONT sends without
 * DF and ignores them; INTERFACE and OMIT ignore them too), IP_FREEBIND
 * (bind may name an address the stack does not have). */
#define KEEL_IPPROTO_IP 0
#define KEEL_IP_TOS 1
#define KEEL_IP_MTU_DISCOVER 10
#define KEEL_IP_FREEBIND 15
#define KEEL_IP_PMTUDISC_DONT 0
#define KEEL_IP_PMTUDISC_WANT 1
#define KEEL_IP_PMTUDISC_DO 2
#define KEEL_IP_PMTUDISC_PROBE 3
#define KEEL_IP_PMTUDISC_INTERFACE 4
#define KEEL_IP_PMTUDISC_OMIT 5
struct keel_linger {
    int l_onoff;
    int l_linger; /* seconds */
};
/* IPPROTO_TCP TCP_FASTOPEN_CONNECT (0 or 1; before connect; KEEL_EOPNOTSUPP
 * when the stack's Fast Open client is off, KEEL_EINVAL once connecting), as
 * Linux: connect() asks the peer for a Fast Open cookie (RFC 7413 §4.1.1:
 * an empty option on the SYN) and returns KEEL_EINPROGRESS; once the
 * stack holds a cookie for the peer's address (the last ones a SYN-ACK
 * gave, a few peers' worth), connect() returns 0 at once and the SYN, with
 * the cookie, leaves at the first keel_send (Linux tcp_fastopen_defer_connect),
 * which takes no data and returns KEEL_EINPROGRESS (keel's SYN carries no
 * data); the socket is writable until then. */
#define KEEL_TCP_FASTOPEN_CONNECT 30
/* The send queue's options (IPPROTO_TCP). */
#define KEEL_TCP_CORK 3
#define KEEL_TCP_NOTSENT_LOWAT 25
int keel_setsockopt(keel_stack *st, int sock, int level, int name, const void *val,
                    size_t len);
/* *len holds the buffer's size and returns the value's. */
int keel_getsockopt(keel_stack *st, int sock, int level, int name, void *val,
                    size_t *len);

/* ---- TCP MD5 signatures (RFC 2385): IPPROTO_TCP TCP_MD5SIG ----
 * A key per peer address: every segment to that peer carries the MD5
 * signature option, and every segment from it must carry a correct one.
 * Set with struct keel_tcp_md5sig; key_len 0 removes the peer's key. A
 * listener's key for a peer passes to the connections it accepts from it.
 * Segments that fail are dropped and counted: TCPMD5NotFound (a key but no
 * option), TCPMD5Unexpected (an option but no key), TCPMD5Failure (a wrong
 * digest). As Linux, a connection with a key sends no timestamps on its
 * SYN, and a passive one keeps them only without SACK (40 option bytes).
 * Errors: KEEL_EINVAL (length), KEEL_ENOENT (removing no key), KEEL_ENOMEM
 * (more than KEEL_TCP_MD5_MAX_KEYS peers). Keys cannot be read back. */
#define KEEL_TCP_MD5SIG 14
#define KEEL_TCP_MD5SIG_MAXKEYLEN 80
#define KEEL_TCP_MD5_MAX_KEYS 8
struct keel_tcp_md5sig {
    uint32_t addr;     /* the peer, host byte order */
    uint16_t key_len;  /* 0..KEEL_TCP_MD5SIG_MAXKEYLEN */
    uint8_t key[KEEL_TCP_MD5SIG_MAXKEYLEN];
};

/* ---- transmit timestamps (SOL_SOCKET SO_TIMESTAMPING, an int of flags) ----
 * As Linux reports them for TCP (Documentation/networking/timestamping.rst):
 * the last byte of each send call is followed through the stack, and each
 * stage it reaches is queued as a report on the socket's error queue:
 * TX_SCHED when a segment holding it is queued for the device, TX_SOFTWARE
 * when the device takes it (both on every transmission, retransmissions
 * included), TX_ACK when the peer has acknowledged it cumulatively.
 * SOFTWARE puts the time in the report; OPT_ID numbers the reports by the
 * byte's offset from SND.UNA when the option was set (OPT_ID_TCP: from the
 * next byte to be written); OPT_TSONLY loops no data back with the report.
 * OPT_ID needs a connection (KEEL_EINVAL when closed or listening); other
 * Linux flags are refused with KEEL_EINVAL. A socket with reports queued
 * is readable as KEEL_POLLERR. */
#define KEEL_SO_TIMESTAMPING 37
#define KEEL_SOF_TIMESTAMPING_TX_SOFTWARE (1u << 1)
#define KEEL_SOF_TIMESTAMPING_SOFTWARE (1u << 4)
#define KEEL_SOF_TIMESTAMPING_OPT_ID (1u << 7)
#define KEEL_SOF_TIMESTAMPING_TX_SCHED (1u << 8)
#define KEEL_SOF_TIMESTAMPING_TX_ACK (1u << 9)
#define KEEL_SOF_TIMESTAMPING_OPT_TSONLY (1u << 11)
#define KEEL_SOF_TIMESTAMPING_OPT_ID_TCP (1u << 16)
/* Report types: Linux's SCM_TSTAMP_* numbers. */
#define KEEL_TSTAMP_SND 0
#define KEEL_TSTAMP_SCHED 1
#define KEEL_TSTAMP_ACK 2
struct keel_tx_timestamp {
    uint64_t time_us;  /* when the stage was reached; 0 without SOFTWARE */
    uint32_t key;      /* OPT_ID: the byte's number (see above); else 0 */
    uint8_t type;      /* KEEL_TSTAMP_* */
    uint32_t bytes;    /* payload of the segment that carried the byte, which
                        * Linux loops back with the report; 0 with OPT_TSONLY */
};
/* Takes the oldest report from sock's error queue (recvmsg(MSG_ERRQUEUE)).
 * Bounded: the queue keeps KEEL_ERRQUEUE_MAX reports and at most as many
 * unacknowledged writes are followed; beyond, reports are dropped and
 * counted (TxTimestampDropped). Errors: KEEL_EBADF, KEEL_EAGAIN (none). */
#define KEEL_ERRQUEUE_MAX 64
int keel_errqueue_read(keel_stack *st, int sock, struct keel_tx_timestamp *ts);

/* ---- routes (Linux `ip route ... advmss N mtu [lock] N initcwnd N`) ----
 * Metrics for the destinations in dst/prefix_len (the longest prefix that
 * matches wins; 0.0.0.0/0 is a default). Unset (0) metrics keep keel's
 * defaults. advmss: the MSS option keel sends (default: the MTU less 40);
 * mtu: the path MTU, capped at the device's (default: the device's); with
 * mtu_locked, ICMP "fragmentation needed" never lowers it and packets leave
 * without DF unless IP_PMTUDISC_DO (Linux ip_dont_fragment); initcwnd: the
 * initial (and restart) congestion window, in segments (default 10).
 * Connections see a change as Linux's do through their cached route: on
 * their next transmission; their segment size follows on the next output
 * after that (tcp_current_mss). advmss and initcwnd matter only to new
 * connections. Errors: KEEL_EINVAL (prefix_len > 32, mtu under 68),
 * KEEL_ENOMEM (KEEL_ROUTES_MAX routes already). Setting a route replaces
 * the one with the same dst/prefix_len. */
#define KEEL_ROUTES_MAX 16
struct keel_route {
    uint32_t dst;        /* host byte order */
    uint8_t prefix_len;  /* 32: one host */
    uint16_t advmss;
    uint16_t mtu;
    bool mtu_locked;
    uint32_t initcwnd;
};
int keel_route_set(keel_stack *st, const struct keel_route *r);
/* Errors: KEEL_EINVAL (prefix_len), KEEL_ENOENT (no such route). */
int keel_route_del(keel_stack *st, uint32_t dst, uint8_t prefix_len);

/* ---- readiness and events ---- */
#define KEEL_POLLIN 0x001
#define KEEL_POLLPRI 0x002 /* an urgent byte waits out of band */
#define KEEL_POLLOUT 0x004
#define KEEL_POLLERR 0x008
#define KEEL_POLLHUP 0x010
#define KEEL_POLLRDHUP 0x2000
/* Current readiness of a socket (KEEL_POLL* bits), like poll(2). Returns
 * KEEL_EBADF for a bad handle. KEEL_POLLOUT follows Linux's tcp_poll: the
 * free part of SO_SNDBUF is at least half the queued part, and unsent
 * bytes are under half of TCP_NOTSENT_LOWAT. */
int keel_readiness(const keel_stack *st, int sock);

/* Event queue: a socket whose readiness changed is queued once until it is
 * taken, edge-triggered, like epoll with EPOLLET. */
struct keel_event {
    int sock;
    uint32_t readiness; /* KEEL_POLL* at the time the event is taken */
};
/* Takes up to max events; returns how many (0: none). */
int keel_take_events(keel_stack *st, struct keel_event *ev, int max);

/* ---- introspection ---- */
/* Every RFC variable of the connection. Errors: KEEL_EBADF. */
int keel_tcp_info(const keel_stack *st, int sock, struct keel_tcp_info *info);
/* Stack-wide counters. */
void keel_counters(const keel_stack *st, struct keel_counters *c);
/* Name of counter i (0 <= i < KEEL_COUNTER_COUNT) and its value in c. */
const char *keel_counter_name(int i);
uint64_t keel_counter_value(const struct keel_counters *c, int i);
/* Visits every socket of the stack (an ss-style dump); stops early when fn
 * returns non-zero. Listeners and connections without a handle (closing in the
 * background, or waiting in an accept queue) are visited with sock = -1. */
typedef int (*keel_socket_visitor)(void *arg, int sock, const struct keel_tcp_info *info);
void keel_visit_sockets(const keel_stack *st, keel_socket_visitor fn, void *arg);

/* ---- event trace ---- */
/* Notable events of every connection (not every segment), in a ring that
 * keeps the newest trace_events; reading consumes them. */
enum keel_trace_kind {
    KEEL_EV_STATE,            /* a: new state, b: old state */
    KEEL_EV_RTO,              /* retransmission timeout: a: SND.UNA, b: backoff */
    KEEL_EV_FAST_RETRANSMIT,  /* a: SND.UNA, b: ssthresh */
    KEEL_EV_PERSIST_PROBE,    /* a: SND.UNA, b: probes */
    KEEL_EV_KEEPALIVE_PROBE,  /* a: SND.UNA, b: probes */
    KEEL_EV_RST_SENT,         /* a: sequence number */
    KEEL_EV_RST_RECEIVED,     /* a: sequence number, b: 1 if it reset the connection */
    KEEL_EV_CHALLENGE_ACK,    /* a: SEG.SEQ of the segment challenged */
    KEEL_EV_STALL,            /* a: enum keel_stall */
    KEEL_EV_LIMIT,            /* a limit was hit: a: counter id (enum keel_counter_id) */
    KEEL_EV_TIMEOUT,          /* the connection gave up: a: error (negative keel_err) */
    KEEL_EV_UNDO,             /* a cut proved unneeded was undone (src/tcp/undo.c): a: SND.UNA, b: cwnd */
};
const char *keel_trace_kind_name(int kind);

struct keel_trace_event {
    uint64_t time_us;
    uint32_t local_addr, remote_addr;
    uint16_t local_port, remote_port;
    uint8_t kind;  /* enum keel_trace_kind */
    uint8_t state; /* the connection's state when it happened */
    uint32_t a, b;
};
/* Copies up to max of the oldest events not yet read and consumes them;
 * returns how many. *lost (if not NULL) receives how many were overwritten
 * before they could be read since the last call. */
int keel_trace_read(keel_stack *st, struct keel_trace_event *ev, int max, uint64_t *lost);

#ifdef __cplusplus
}
#endif
#endif
