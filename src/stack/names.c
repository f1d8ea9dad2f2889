/* Static names: errors, states, counters. */
#include "keel/keel.h"

const char *keel_strerror(int err)
{
    switch (err) {
    case KEEL_OK: return "Success";
    case KEEL_EPERM: return "Operation not permitted";
    case KEEL_ENOENT: return "No such file or directory";
    case KEEL_EINTR: return "Interrupted system call";
    case KEEL_EIO: return "Input/output error";
    case KEEL_EBADF: return "Bad file descriptor";
    case KEEL_EAGAIN: return "Resource temporarily unavailable";
    case KEEL_ENOMEM: return "Cannot allocate memory";
    case KEEL_EFAULT: return "Bad address";
    case KEEL_EINVAL: return "Invalid argument";
    case KEEL_EMFILE: return "Too many open files";
    case KEEL_EPIPE: return "Broken pipe";
    case KEEL_EMSGSIZE: return "Message too long";
    case KEEL_ENOPROTOOPT: return "Protocol not available";
    case KEEL_EPROTONOSUPPORT: return "Protocol not supported";
    case KEEL_EOPNOTSUPP: return "Operation not supported";
    case KEEL_EAFNOSUPPORT: return "Address family not supported by protocol";
    case KEEL_EADDRINUSE: return "Address already in use";
    case KEEL_EADDRNOTAVAIL: return "Cannot assign requested address";
    case KEEL_ENETUNREACH: return "Network is unreachable";
    case KEEL_ECONNABORTED: return "Software caused connection abort";
    case KEEL_ECONNRESET: return "Connection reset by peer";
    case KEEL_ENOBUFS: return "No buffer space available";
    case KEEL_EISCONN: return "Transport endpoint is already connected";
    case KEEL_ENOTCONN: return "Transport endpoint is not connected";
    case KEEL_ETIMEDOUT: return "Connection timed out";
    case KEEL_ECONNREFUSED: return "Connection refused";
    case KEEL_EHOSTUNREACH: return "No route to host";
    case KEEL_EALREADY: return "Operation already in progress";
    case KEEL_EINPROGRESS: return "Operation now in progress";
    }
    return "Unknown error";
}

const char *keel_tcp_state_name(int state)
{
    static const char *const names[] = {
        [KEEL_TCP_ESTABLISHED] = "ESTABLISHED", [KEEL_TCP_SYN_SENT] = "SYN_SENT",
        [KEEL_TCP_SYN_RECEIVED] = "SYN_RECEIVED", [KEEL_TCP_FIN_WAIT_1] = "FIN_WAIT_1",
        [KEEL_TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [KEEL_TCP_TIME_WAIT] = "TIME_WAIT",
        [KEEL_TCP_CLOSED] = "CLOSED",           [KEEL_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
        [KEEL_TCP_LAST_ACK] = "LAST_ACK",       [KEEL_TCP_LISTEN] = "LISTEN",
        [KEEL_TCP_CLOSING] = "CLOSING",
    };
    if (state < KEEL_TCP_ESTABLISHED || state > KEEL_TCP_CLOSING)
        return "?";
    return names[state];
}

const char *keel_stall_name(int stall)
{
    static const char *const names[KEEL_STALL_COUNT] = {
        [KEEL_STALL_SENDER_IDLE] = "sender-idle",
        [KEEL_STALL_RTO_SILENT] = "rto-silent",
        [KEEL_STALL_WINDOW_REFUSED] = "window-refused",
        [KEEL_STALL_WL1_LAG] = "wl1-lag",
        [KEEL_STALL_CLOSE_WAIT_IDLE] = "close-wait-idle",
        [KEEL_STALL_HALF_OPEN] = "half-open",
        [KEEL_STALL_FIN_WAIT_2_TIMEOUT] = "fin-wait-2-timeout",
    };
    return stall >= 0 && stall < KEEL_STALL_COUNT ? names[stall] : "?";
}

const char *keel_trace_kind_name(int kind)
{
    static const char *const names[] = {
        [KEEL_EV_STATE] = "state",
        [KEEL_EV_RTO] = "rto",
        [KEEL_EV_FAST_RETRANSMIT] = "fast-retransmit",
        [KEEL_EV_PERSIST_PROBE] = "persist-probe",
        [KEEL_EV_KEEPALIVE_PROBE] = "keepalive-probe",
        [KEEL_EV_RST_SENT] = "rst-sent",
        [KEEL_EV_RST_RECEIVED] = "rst-received",
        [KEEL_EV_CHALLENGE_ACK] = "challenge-ack",
        [KEEL_EV_STALL] = "stall",
        [KEEL_EV_LIMIT] = "limit",
        [KEEL_EV_TIMEOUT] = "timeout",
        [KEEL_EV_UNDO] = "undo",
    };
    if (kind < 0 || kind > KEEL_EV_UNDO)
        return "?";
    return names[kind];
}

static const char *const counter_names[] = {
#define KEEL_COUNTER_NAME(name) #name,
    KEEL_COUNTERS(KEEL_COUNTER_NAME)
#undef KEEL_COUNTER_NAME
};

const char *keel_counter_name(int i)
{
    if (i < 0 || i >= KEEL_COUNTER_COUNT)
        return "?";
    return counter_names[i];
}

uint64_t keel_counter_value(const struct keel_counters *c, int i)
{
    if (i < 0 || i >= KEEL_COUNTER_COUNT)
        return 0;
    return c->v[i];
}
