/* Introspection: every RFC variable of a connection, and stack-wide counters. */
#ifndef KEEL_INFO_H
#define KEEL_INFO_H

#include <stdint.h>

/* RFC 9293 §3.3.2 states, numbered as Linux numbers them (TCP_ESTABLISHED = 1). */
enum keel_tcp_state {
    KEEL_TCP_ESTABLISHED = 1,
    KEEL_TCP_SYN_SENT,
    KEEL_TCP_SYN_RECEIVED,
    KEEL_TCP_FIN_WAIT_1,
    KEEL_TCP_FIN_WAIT_2,
    KEEL_TCP_TIME_WAIT,
    KEEL_TCP_CLOSED,
    KEEL_TCP_CLOSE_WAIT,
    KEEL_TCP_LAST_ACK,
    KEEL_TCP_LISTEN,
    KEEL_TCP_CLOSING,
};
const char *keel_tcp_state_name(int state);

enum keel_timer_kind {
    KEEL_TIMER_RETRANSMIT, /* RFC 6298 retransmission timer */
    KEEL_TIMER_PERSIST,    /* zero-window probe (RFC 9293 §3.8.6.1) */
    KEEL_TIMER_DELACK,     /* delayed ACK (RFC 9293 §3.8.6.3) */
    KEEL_TIMER_KEEPALIVE,  /* RFC 9293 §3.8.4 */
    KEEL_TIMER_TIME_WAIT,  /* 2MSL, or the FIN_WAIT_2 timeout */
    KEEL_TIMER_WATCHDOG,   /* the stall watchdog's check of an idle CLOSE_WAIT */
    KEEL_TIMER_PACING,     /* the next departure time of a paced sender */
    KEEL_TIMER_COUNT
};

/* The stall watchdog: conditions under which a connection that could make
 * progress does not (SCENARIOS.md). Each is counted stack-wide, flagged in the
 * connection's info, traced, and optionally logged. */
enum keel_stall {
    KEEL_STALL_SENDER_IDLE,    /* data queued, peer window open, nothing in flight, no timer */
    KEEL_STALL_RTO_SILENT,     /* the retransmission timer fired and no segment left */
    KEEL_STALL_WINDOW_REFUSED, /* a current segment's window update refused (SND.WL1/WL2) */
    KEEL_STALL_WL1_LAG,        /* SND.WL1 lags RCV.NXT by more than 2^30 */
    KEEL_STALL_CLOSE_WAIT_IDLE,/* CLOSE_WAIT, nothing left to send, and the application
                                * has not touched the socket for close_wait_idle_us */
    KEEL_STALL_HALF_OPEN,      /* SYNs for the connection's own 4-tuple keep coming: the
                                * peer has forgotten it and the challenge ACK did not
                                * clear it (RFC 9293 §3.5.1, half-open) */
    KEEL_STALL_FIN_WAIT_2_TIMEOUT, /* an orphaned FIN_WAIT_2 gave up on the peer's FIN
                                    * (Linux tcp_fin_timeout): its peer went silent */
    KEEL_STALL_COUNT
};
/* "sender-idle", "rto-silent", "window-refused", "wl1-lag", "close-wait-idle",
 * "half-open", "fin-wait-2-timeout". */
const char *keel_stall_name(int stall);

struct keel_tcp_info {
    uint8_t state;      /* enum keel_tcp_state */
    uint32_t local_addr, remote_addr;
    uint16_t local_port, remote_port;
    /* Send sequence variables (RFC 9293 §3.3.1) */
    uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2, snd_iss, snd_up;
    uint8_t snd_wscale;  /* shift applied to the peer's windows */
    /* Receive sequence variables */
    uint32_t rcv_nxt, rcv_wnd, rcv_irs, rcv_up;
    /* Urgent data received: 0 none, 1 pointer known but byte not yet here,
     * 2 byte waiting out of band, 3 byte read (MSG_OOB); and the unread
     * bytes before the urgent byte (0: at the mark), if 1 to 3. */
    uint8_t rcv_urgent;
    uint32_t rcv_urgent_offset;
    uint8_t rcv_wscale;  /* shift applied to our advertised windows */
    uint32_t snd_mss, rcv_mss;
    uint32_t adv_mss;        /* the MSS we advertise */
    /* Congestion control and RTT (RFC 5681, RFC 6298) */
    char cc_name[16];
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t recover;        /* RFC 6582 */
    uint8_t in_recovery;
    uint8_t in_loss;         /* after a timeout, until SND.UNA passes SND.MAX as it was */
    uint8_t ecn_ok, in_cwr;  /* ECN negotiated (RFC 3168); an ECN reduction under way */
    uint32_t srtt_us, rttvar_us, rto_us, min_rtt_us;
    uint8_t backoff;         /* RTO backoff exponent */
    uint8_t probes;          /* zero-window or keepalive probes unanswered */
    /* Options negotiated */
    uint8_t ts_ok, sack_ok, wscale_ok;
    uint32_t ts_recent;
    /* Queues */
    uint32_t snd_queued;     /* bytes in the send buffer, unacked included */
    uint32_t snd_unacked;    /* snd.nxt - snd.una */
    uint32_t rcv_queued;     /* bytes readable by the application */
    uint32_t rcv_ooo_bytes;  /* out-of-order bytes held */
    uint32_t sndbuf, rcvbuf; /* limits */
    uint32_t snd_mem, rcv_mem; /* bytes of buffer memory allocated now */
    uint32_t sack_ranges;    /* ranges in the SACK scoreboard (bounded) */
    uint32_t sacked_bytes, lost_bytes, retrans_out;
    uint32_t reordering;     /* reordering degree seen, in segments (Linux tcpi_reordering) */
    uint32_t reord_seen;     /* reordering events seen (Linux tcpi_reord_seen) */
    /* Timers: armed flag and absolute expiry per enum keel_timer_kind */
    uint8_t timer_armed[KEEL_TIMER_COUNT];
    uint64_t timer_expiry_us[KEEL_TIMER_COUNT];
    /* Per-connection totals */
    uint64_t bytes_sent, bytes_retrans, bytes_acked, bytes_received;
    uint64_t segs_out, segs_in, retrans_segs, dsack_received;
    uint64_t data_segs_out, data_segs_in; /* segments carrying data */
    uint32_t rcv_ooopack;    /* segments that arrived out of order */
    /* When the last data segment left, the last in-order data arrived and
     * the last acceptable ACK arrived (the handshake counts for all three). */
    uint64_t last_data_sent_us, last_data_recv_us, last_ack_recv_us;
    /* Time (us) with data outstanding or waiting, and the part of it spent
     * limited by the peer's window and by the send buffer (Linux's
     * tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited). */
    uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us;
    uint64_t last_activity_us; /* last application call on this socket */
    uint64_t state_since_us;   /* when the current state was entered */
    /* Stall watchdog: bit k set when enum keel_stall k was seen, and when. */
    uint32_t stalls;
    uint64_t stall_first_us[KEEL_STALL_COUNT];
};

/* Stack-wide counters, named as Linux's /proc/net/snmp and /proc/net/netstat
 * name them where such a name exists. One list: names and fields come from it. */
#define KEEL_COUNTERS(X)                                                      \
    X(IpInReceives) X(IpInHdrErrors) X(IpInAddrErrors) X(IpInUnknownProtos)   \
    X(IpInDelivers) X(IpOutRequests) X(IpReasmFails) X(IpOutDiscards)         \
    X(IcmpInMsgs) X(IcmpInErrors) X(IcmpInEchos) X(IcmpOutEchoReps)           \
    X(IcmpInDestUnreachs) X(IcmpOutMsgs)                                      \
    X(TcpActiveOpens) X(TcpPassiveOpens) X(TcpAttemptFails) X(TcpEstabResets) \
    X(TcpInSegs) X(TcpOutSegs) X(TcpRetransSegs) X(TcpInErrs) X(TcpOutRsts)   \
    X(TcpInCsumErrors) X(TcpInBadHeader) X(TcpInBadOptions)                   \
    X(TcpBadOptionLength) X(TcpUnknownOptions)                                \
    X(TCPChallengeACK) X(TCPChallengeACKLimited) X(TCPSYNChallenge)           \
    X(TCPPAWSRejected) X(TCPDSACKRecv) X(TCPDSACKSent) X(TCPSACKRecv)         \
    X(TCPSACKDiscard) X(TCPSackLimitHit) X(TCPOFOQueue) X(TCPOFODrop)         \
    X(TCPRcvQDrop) X(TCPFastRetrans) X(TCPTimeouts) X(TCPLossProbes)          \
    X(TCPLossProbeRecovery) X(TCPSACKReorder) X(TCPTSReorder)                 \
    X(TCPRackLogLimitHit) X(TCPDSACKUndo) X(TCPLossUndo) X(TCPFullUndo)       \
    X(TCPPartialUndo) X(TCPSpuriousRTOs)                                      \
    X(TCPPersistProbes) X(TCPKeepAliveProbes) X(TCPKeepAliveTimeouts)         \
    X(TCPUserTimeouts) X(TCPAbortOnTimeout) X(TCPAbortOnData)                 \
    X(TCPAbortOnClose) X(TCPAbortOnLinger) X(TCPFinWait2Timeouts)             \
    X(TCPRecordMarksMerged)                                                   \
    X(TCPTimeWaitRecycled) X(TCPHPHits) X(TCPHPAcks) X(TCPPureAcks)           \
    X(TCPDelayedACKs) X(TCPQuickAcks) X(ListenOverflows) X(ListenDrops)       \
    X(TCPReqQFullDrop) X(TCPRcvWndShrinkPrevented) X(TCPZeroWindowAdv)        \
    X(TCPWinProbe) X(TCPAckForUnsent) X(TCPOutOfWindow) X(TCPMinMssClamped)   \
    X(TCPEphemeralExhausted) X(TCPInvariantViolations)                       \
    X(TCPMTUPSuccess) X(TCPMTUPFail)                                          \
    X(InNoECTPkts) X(InECT1Pkts) X(InECT0Pkts) X(InCEPkts)                    \
    X(TCPECNEchoRecv) X(TCPECNCwrEntered) X(TCPECNEchoSent)                   \
    X(WatchdogSenderIdle) X(WatchdogRtoSilent) X(WatchdogWindowRefused)       \
    X(WatchdogWl1Lag) X(WatchdogCloseWaitIdle) X(WatchdogHalfOpen)  \
    X(WatchdogFinWait2Timeout)                                                \
    X(TxTimestampDropped)                                                     \
    X(TCPMD5NotFound) X(TCPMD5Unexpected) X(TCPMD5Failure)                   \
    X(TCPFastOpenCookieRequested) X(TCPFastOpenCookieCached)                 \
    X(TCPFastOpenDeferredConnect) X(TCPFastOpenUnsolicitedCookie)

enum keel_counter_id {
#define KEEL_COUNTER_ENUM(name) KEEL_C_##name,
    KEEL_COUNTERS(KEEL_COUNTER_ENUM)
#undef KEEL_COUNTER_ENUM
    KEEL_COUNTER_COUNT
};

struct keel_counters {
    uint64_t v[KEEL_COUNTER_COUNT];
};

#endif
