/* Segment-level scripts (after smoltcp's send!/recv! tests and FreeBSD's
 * tcp-testsuite): one keel stack, a scripted peer, explicit virtual time.
 * The test injects segments and expects keel's exact replies.
 *
 * Numbering is relative, as in packetdrill: an injected segment's seq counts
 * from the peer's ISN and its ack from keel's ISN; an expected segment's seq
 * counts from keel's ISN and its ack from the peer's ISN. */
#ifndef KEEL_TEST_SCRIPT_H
#define KEEL_TEST_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/keel.h"
#include "wire/wire.h"

#define KEEL_ADDR 0xc0000201u /* 192.0.2.1: keel */
#define PEER_ADDR 0xc0000202u /* 192.0.2.2: the scripted peer */
#define KEEL_PORT 8080
#define PEER_PORT 40000
#define PEER_ISN 1000000u
#define CAPTURE_MAX 256
#define RAW_CAPTURE_MAX 16

/* A segment to inject or expect. Unset fields take these meanings:
 * win 0 means "the peer's default window" when injected (65535 >> wscale)
 * and "any window" when expected, unless win_set; opts.present 0 injects no
 * options, and when expected means "no options checked" unless opts_set. */
struct seg {
    uint8_t flags;
    uint32_t seq, ack;      /* relative, see above */
    uint16_t win;
    bool win_set;           /* expect exactly win (even 0) */
    uint32_t len;           /* payload bytes; injected payload is 'a' + offset % 26 */
    const uint8_t *data;    /* injected payload, if not the default pattern */
    uint16_t urp;           /* injected only: the urgent pointer (with URG) */
    struct tcp_opts opts;
    bool opts_set;          /* expect exactly these options (TS val is never compared) */
    bool abs_seq, abs_ack;  /* numbers are absolute */
    /* Injected only: these option bytes instead of opts (a multiple of 4,
     * at most 40), for malformed or unknown options. */
    const uint8_t *raw_opts;
    uint8_t raw_opts_len;
    /* Injected only: signed with this key (RFC 2385), the MD5 option first. */
    const char *md5_key;
    uint8_t ecn;            /* injected only: the IP header's ECN field (IP_ECN_*) */
};

struct captured {
    struct tcp_hdr h;
    uint8_t ecn;            /* the IP header's ECN field (IP_ECN_*) */
    uint32_t len;
    uint8_t payload[1500];
    uint64_t at_us;
    bool md5_valid;         /* its MD5 option verifies with the script's md5_key */
};

/* A packet keel sent that is not TCP (ICMP), as it left: IPv4 header on. */
struct captured_raw {
    uint8_t pkt[1500];
    uint32_t len;
    uint64_t at_us;
};

struct script {
    keel_stack *st;
    struct keel_device dev;
    uint64_t now_us;
    uint32_t keel_isn;      /* learned from keel's SYN or SYN-ACK */
    uint16_t keel_port, peer_port;
    struct captured out[CAPTURE_MAX];
    int nout, next_out;
    uint32_t peer_tsval;    /* TS val the peer sends (advances with time) */
    bool peer_ts;           /* the peer sends timestamps on every segment */
    uint8_t peer_wscale;    /* the peer's window shift, once negotiated */
    const char *md5_key;    /* the peer's TCP-MD5 key, to check keel's signatures */
    struct captured_raw raw[RAW_CAPTURE_MAX]; /* non-TCP packets keel sent */
    int nraw, next_raw;
};

/* A stack at time 1 s with cfg (addr is set to KEEL_ADDR). */
void script_init(struct script *s, const struct keel_config *cfg);
/* A segmentation-offload device (device.h transmit_tso, tso_max 64 KB)
 * whose large packets are captured whole, as a sniffer on a Linux TSO
 * device sees them. */
void script_use_tso_device(struct script *s);
/* keel_send of n bytes of 'x' (n <= 65536), all of which must be taken. */
void script_write(struct script *s, int sock, uint32_t n);
void script_free(struct script *s);
/* Advances virtual time by us, running keel's timers. */
void script_advance(struct script *s, uint64_t us);
/* Advances time to keel's next deadline (fails if there is none). The
 * deadline is exact for timers within the wheel's 4 s span. */
void script_run_timer(struct script *s);
/* Sends seg from the peer to keel. */
void script_inject(struct script *s, const struct seg *seg);
/* Injects a raw IPv4 packet. */
void script_inject_raw(struct script *s, const uint8_t *pkt, size_t len);
/* The next segment keel sent, compared with want; the test fails with both
 * renderings when they differ. Returns the captured segment. */
const struct captured *script_expect_at(struct script *s, const struct seg *want,
                                        const char *file, int line);
#define script_expect(s, ...) script_expect_at((s), &(struct seg){__VA_ARGS__}, __FILE__, __LINE__)
/* Fails if keel sent anything not yet expected. */
void script_expect_none_at(struct script *s, const char *file, int line);
#define script_expect_none(s) script_expect_none_at((s), __FILE__, __LINE__)
/* How many segments keel sent that are not yet expected. */
int script_pending(const struct script *s);
#define script_send(s, ...) script_inject((s), &(struct seg){__VA_ARGS__})

/* Handshakes. Passive: keel listens on KEEL_PORT, the peer connects with the
 * given SYN options; returns the accepted socket. Active: keel connects to
 * the peer, which answers with the given SYN-ACK options; returns the socket.
 * Both leave the connection ESTABLISHED with nothing pending. */
int script_passive_open(struct script *s, const struct tcp_opts *peer_syn_opts);
int script_active_open(struct script *s, const struct tcp_opts *peer_synack_opts);
/* As script_active_open, with the SYN-ACK arriving rtt_us after the SYN: the
 * handshake gives keel one RTT sample of rtt_us. */
int script_active_open_rtt(struct script *s, const struct tcp_opts *peer_synack_opts,
                           uint64_t rtt_us);
/* Common option sets: MSS 1460 only; and Linux's SYN (MSS, SACK-permitted,
 * TS, window scale 7). */
extern const struct tcp_opts OPTS_MSS_ONLY;
extern const struct tcp_opts OPTS_LINUX;

/* The stack's counter id (enum keel_counter_id). */
uint64_t script_counter(struct script *s, enum keel_counter_id id);
/* An ACK from the peer of `ack` (relative to keel's ISN), SACKing [left,
 * right) (relative) when right > 0. */
void script_ack_sack(struct script *s, uint32_t ack, uint32_t left, uint32_t right);

/* keel's state for sock (enum keel_tcp_state). */
int script_state(struct script *s, int sock);
/* keel's TCP_INFO for sock (fails if there is no such socket). */
struct keel_tcp_info script_info(struct script *s, int sock);

/* Advances virtual time to the absolute time at_us, stopping at every timer
 * deadline on the way so that each timer runs (and each segment is captured)
 * at its exact expiry. */
void script_advance_to(struct script *s, uint64_t at_us);
/* The next non-TCP packet keel sent (fails if there is none). */
const struct captured_raw *script_expect_raw_at(struct script *s, const char *file, int line);
#define script_expect_raw(s) script_expect_raw_at((s), __FILE__, __LINE__)
/* How many non-TCP packets keel sent that are not yet expected. */
int script_raw_pending(const struct script *s);

#endif
