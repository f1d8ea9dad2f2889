/* The layout of Linux's TCP_INFO answer (struct tcp_info of the kernel's
 * UAPI header include/uapi/linux/tcp.h, as of Linux 6.7), written out here
 * field by field so that TCP_INFO and packetdrill's %{ }% assertions see
 * keel's connection in the layout every Linux tool reads. Fields Linux adds
 * at the end later stay zero for a caller that asks for more: getsockopt
 * copies min(asked, sizeof). Times are microseconds unless named _ms; counts
 * of "packets" are MSS-sized segments, as Linux counts them. */
#ifndef KEEL_PD_LINUX_TCP_INFO_H
#define KEEL_PD_LINUX_TCP_INFO_H

#include <stddef.h>
#include <stdint.h>

/* Bits of `options`. */
#define LTI_OPT_TIMESTAMPS 1
#define LTI_OPT_SACK 2
#define LTI_OPT_WSCALE 4
#define LTI_OPT_ECN 8

/* Values of `ca_state` (Linux enum tcp_ca_state). */
#define LTI_CA_OPEN 0
#define LTI_CA_DISORDER 1
#define LTI_CA_CWR 2
#define LTI_CA_RECOVERY 3
#define LTI_CA_LOSS 4

struct linux_tcp_info {
    uint8_t state;        /* TCP_ESTABLISHED = 1 ... (keel numbers them alike) */
    uint8_t ca_state;
    uint8_t retransmits;  /* consecutive timeouts */
    uint8_t probes;       /* zero-window / keepalive probes unanswered */
    uint8_t backoff;
    uint8_t options;      /* LTI_OPT_* */
    uint8_t wscales;      /* low nibble: peer's shift (snd), high: ours (rcv) */
    uint8_t flags7;       /* delivery_rate_app_limited:1, fastopen_client_fail:2 */

    uint32_t rto, ato, snd_mss, rcv_mss;
    uint32_t unacked, sacked, lost, retrans, fackets;
    uint32_t last_data_sent_ms, last_ack_sent_ms, last_data_recv_ms, last_ack_recv_ms;
    uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
    uint32_t rcv_rtt, rcv_space;
    uint32_t total_retrans;

    uint64_t pacing_rate, max_pacing_rate; /* bytes per second */
    uint64_t bytes_acked, bytes_received;
    uint32_t segs_out, segs_in;
    uint32_t notsent_bytes, min_rtt;
    uint32_t data_segs_in, data_segs_out;
    uint64_t delivery_rate;
    uint64_t busy_time, rwnd_limited, sndbuf_limited;
    uint32_t delivered, delivered_ce;
    uint64_t bytes_sent, bytes_retrans; /* bytes_sent counts retransmissions too */
    uint32_t dsack_dups, reord_seen;
    uint32_t rcv_ooopack;
    uint32_t snd_wnd, rcv_wnd;
    uint32_t rehash;
    uint16_t total_rto, total_rto_recoveries;
    uint32_t total_rto_time_ms;
};

/* The offsets every Linux reader relies on. */
_Static_assert(offsetof(struct linux_tcp_info, rto) == 8, "tcp_info: rto");
_Static_assert(offsetof(struct linux_tcp_info, snd_cwnd) == 80, "tcp_info: snd_cwnd");
_Static_assert(offsetof(struct linux_tcp_info, pacing_rate) == 104, "tcp_info: pacing_rate");
_Static_assert(offsetof(struct linux_tcp_info, delivery_rate) == 160, "tcp_info: delivery_rate");
_Static_assert(offsetof(struct linux_tcp_info, bytes_sent) == 200, "tcp_info: bytes_sent");
_Static_assert(offsetof(struct linux_tcp_info, snd_wnd) == 228, "tcp_info: snd_wnd");
_Static_assert(sizeof(struct linux_tcp_info) == 248, "tcp_info: size");

#endif
