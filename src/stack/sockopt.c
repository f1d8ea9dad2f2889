/* setsockopt/getsockopt with Linux's names, ranges and semantics. */
#include <string.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

#define SOCK_MIN_SNDBUF 4608u /* Linux: 2 * (2048 + sizeof(struct sk_buff)) */
#define SOCK_MIN_RCVBUF 2304u
#define TCP_MIN_USER_MSS 88u
#define MAX_TCP_KEEPIDLE 32767
#define MAX_TCP_KEEPCNT 127

static int int_arg(const void *val, size_t len, int *out)
{
    if (!val || len < sizeof(int))
        return KEEL_EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

/* Linux doubles SO_SNDBUF and SO_RCVBUF to account for bookkeeping overhead,
 * and getsockopt returns the doubled value. */
static uint32_t doubled(int v, uint32_t min, uint32_t max)
{
    uint64_t d = v < 0 ? 0 : 2 * (uint64_t)v;
    if (d < min)
        d = min;
    if (d > max)
        d = max;
    return (uint32_t)d;
}

static void set_rcvbuf(struct tcb *t, int v)
{
    t->rcvbuf = doubled(v, SOCK_MIN_RCVBUF, 2 * t->st->cfg.rcvbuf_max);
    t->rcvbuf_locked = true;
    if (!tcb_synchronized(t))
        return;
    if (t->rcvbuf / 2 > t->rcv_space) { /* never withdraw space already offered */
        t->rcv_space = t->rcvbuf / 2;
        ring_set_limit(&t->rcvq, t->rcv_space);
    }
}

static int set_socket_opt(struct tcb *t, int name, int v)
{
    switch (name) {
    case KEEL_SO_REUSEADDR: t->reuseaddr = v != 0; return 0;
    case KEEL_SO_KEEPALIVE:
        t->keepalive = v != 0;
        if (t->keepalive && tcb_synchronized(t))
            tcb_arm(t, TT_KEEPALIVE, t->keepidle_us);
        return 0;
    case KEEL_SO_SNDBUF:
        t->sndbuf = doubled(v, SOCK_MIN_SNDBUF, 2 * t->st->cfg.sndbuf_max);
        t->sndbuf_locked = true;
        ring_set_limit(&t->sndq, t->sndbuf);
        return 0;
    case KEEL_SO_RCVBUF: set_rcvbuf(t, v); return 0;
    case KEEL_SO_TIMESTAMPING: return tstamp_set_flags(t, v);
    case KEEL_SO_OOBINLINE: t->oobinline = v != 0; return 0;
    }
    return KEEL_ENOPROTOOPT;
}

/* Linux tcp_sock_set_keepidle: on a socket with SO_KEEPALIVE the new idle
 * time applies at once, counted from the last segment received. */
static void set_keepidle(struct tcb *t, int v)
{
    t->keepidle_us = (uint64_t)v * 1000000;
    if (!t->keepalive || !tcb_synchronized(t))
        return;
    uint64_t idle = t->st->now_us - t->last_ack_rcvd_us;
    tcb_arm(t, TT_KEEPALIVE, idle < t->keepidle_us ? t->keepidle_us - idle : 0);
}

/* ---- the send queue's options (src/tcp/sendq.c) ---- */

/* Linux __tcp_sock_set_cork: uncorking pushes what waits, past Nagle too
 * when TCP_NODELAY is on. */
static void set_cork(struct tcb *t, bool on)
{
    t->cork = on;
    if (!on && tcb_synchronized(t))
        tcp_output_nagle(t, t->nodelay ? TCP_NAGLE_PUSH : TCP_NAGLE_SOCKET);
}

/* Linux __tcp_sock_set_nodelay: turning it on pushes what waits once, even
 * through TCP_CORK or a write's MSG_MORE. */
static void set_nodelay(struct tcb *t, bool on)
{
    t->nodelay = on;
    if (on && tcb_synchronized(t))
        tcp_output_nagle(t, TCP_NAGLE_PUSH);
}

/* Linux do_tcp_setsockopt, TCP_NOTSENT_LOWAT: any value, kept unsigned; a
 * lower mark may make a waiting writer's socket writable. */
static void set_notsent_lowat(struct tcb *t, int v)
{
    t->notsent_lowat = (uint32_t)v;
    event_notify(t->st, t);
}

static int set_sendq_opt(struct tcb *t, int name, int v)
{
    switch (name) {
    case KEEL_TCP_NODELAY: set_nodelay(t, v != 0); return 0;
    case KEEL_TCP_CORK: set_cork(t, v != 0); return 0;
    case KEEL_TCP_NOTSENT_LOWAT: set_notsent_lowat(t, v); return 0;
    }
    return KEEL_ENOPROTOOPT;
}

static int get_sendq_opt(const struct tcb *t, int name, int *v)
{
    switch (name) {
    case KEEL_TCP_NODELAY: *v = t->nodelay; return 0;
    case KEEL_TCP_CORK: *v = t->cork; return 0;
    case KEEL_TCP_NOTSENT_LOWAT: *v = (int)t->notsent_lowat; return 0;
    }
    return KEEL_ENOPROTOOPT;
}

/* Linux do_tcp_setsockopt, TCP_FASTOPEN_CONNECT: 0 or 1, only while the
 * socket is closed, only with the Fast Open client on. */
static int set_fastopen_connect(struct tcb *t, int v)
{
    if (v < 0 || v > 1)
        return KEEL_EINVAL;
    if (t->st->cfg.no_fastopen_client)
        return KEEL_EOPNOTSUPP;
    if (t->state != KEEL_TCP_CLOSED || t->rport)
        return KEEL_EINVAL;
    t->fo_connect = v != 0;
    return 0;
}

static int set_tcp_opt(struct tcb *t, int name, int v)
{
    switch (name) {
    case KEEL_TCP_MAXSEG:
        if (v != 0 && (v < (int)TCP_MIN_USER_MSS || v > 32767))
            return KEEL_EINVAL;
        t->user_mss = (uint16_t)v;
        return 0;
    case KEEL_TCP_KEEPIDLE:
        if (v < 1 || v > MAX_TCP_KEEPIDLE)
            return KEEL_EINVAL;
        set_keepidle(t, v);
        return 0;
    case KEEL_TCP_KEEPINTVL:
        if (v < 1 || v > MAX_TCP_KEEPIDLE)
            return KEEL_EINVAL;
        t->keepintvl_us = (uint64_t)v * 1000000;
        return 0;
    case KEEL_TCP_KEEPCNT:
        if (v < 1 || v > MAX_TCP_KEEPCNT)
            return KEEL_EINVAL;
        t->keepcnt = (uint32_t)v;
        return 0;
    case KEEL_TCP_USER_TIMEOUT:
        if (v < 0)
            return KEEL_EINVAL;
        t->user_timeout_ms = (uint32_t)v;
        return 0;
    case KEEL_TCP_FASTOPEN_CONNECT: return set_fastopen_connect(t, v);
    case KEEL_TCP_QUICKACK:
        if (v) {
            t->quickacks = TCP_MAX_QUICKACKS;
            if (tcb_armed(t, TT_DELACK))
                tcp_send_ack(t);
        }
        return 0;
    }
    return set_sendq_opt(t, name, v);
}

static int set_congestion(struct tcb *t, const void *val, size_t len)
{
    char name[16];
    if (!val || len == 0)
        return KEEL_EINVAL;
    size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
    memcpy(name, val, n);
    name[n] = 0;
    const struct cc_ops *cc = cc_find(name);
    if (!cc)
        return KEEL_ENOENT; /* as Linux answers an unknown algorithm */
    if (cc != t->cc) {
        t->cc = cc;
        if (tcb_synchronized(t))
            cc->init(t);
    }
    return 0;
}

static int set_linger(struct tcb *t, const void *val, size_t len)
{
    struct keel_linger l;
    if (!val || len < sizeof l)
        return KEEL_EINVAL;
    memcpy(&l, val, sizeof l);
    t->linger_on = l.l_onoff != 0;
    t->linger_s = l.l_linger < 0 ? 0 : (uint32_t)l.l_linger;
    return 0;
}

/* ---- IPPROTO_IP ---- */

/* Linux do_ip_setsockopt: an int, or a single byte when less is given
 * (nothing at all reads as 0). */
static int ip_int_arg(const void *val, size_t len, int *out)
{
    *out = 0;
    if (len && !val)
        return KEEL_EFAULT;
    if (len >= sizeof(int))
        memcpy(out, val, sizeof(int));
    else if (len >= 1)
        *out = *(const uint8_t *)val;
    return 0;
}

/* Linux __ip_sock_set_tos: on a TCP socket the ECN bits (IP_ECN_MASK)
 * stay the stack's. */
static int set_ip_opt(struct tcb *t, int name, const void *val, size_t len)
{
    int v;
    int err = ip_int_arg(val, len, &v);
    if (err)
        return err;
    switch (name) {
    case KEEL_IP_TOS:
        t->ip_tos = (uint8_t)((v & ~IP_ECN_MASK) | (t->ip_tos & IP_ECN_MASK));
        return 0;
    case KEEL_IP_MTU_DISCOVER:
        if (v < KEEL_IP_PMTUDISC_DONT || v > KEEL_IP_PMTUDISC_OMIT)
            return KEEL_EINVAL;
        t->pmtudisc = (uint8_t)v;
        return 0;
    case KEEL_IP_FREEBIND: t->freebind = v != 0; return 0;
    }
    return KEEL_ENOPROTOOPT;
}

static int get_ip_opt(const struct tcb *t, int name, int *v)
{
    switch (name) {
    case KEEL_IP_TOS: *v = t->ip_tos; return 0;
    case KEEL_IP_MTU_DISCOVER: *v = t->pmtudisc; return 0;
    case KEEL_IP_FREEBIND: *v = t->freebind; return 0;
    }
    return KEEL_ENOPROTOOPT;
}

static int copy_out(void *val, size_t *len, const void *src, size_t n)
{
    if (!val || !len)
        return KEEL_EFAULT;
    if (*len < n)
        n = *len;
    memcpy(val, src, n);
    *len = n;
    return 0;
}

/* Linux do_ip_getsockopt: a buffer shorter than an int gets one byte. */
static int ip_int_out(void *val, size_t *len, int v)
{
    if (!val || !len)
        return KEEL_EFAULT;
    if (*len > 0 && *len < sizeof(int)) {
        *(uint8_t *)val = (uint8_t)v;
        *len = 1;
        return 0;
    }
    return copy_out(val, len, &v, sizeof v);
}

/* ---- setsockopt / getsockopt ---- */

int keel_setsockopt(keel_stack *st, int sock, int level, int name, const void *val,
                    size_t len)
{
    struct tcb *t = handle_get(st, sock);
    if (!t)
        return KEEL_EBADF;
    if (level == KEEL_IPPROTO_TCP && name == KEEL_TCP_CONGESTION)
        return set_congestion(t, val, len);
    if (level == KEEL_SOL_SOCKET && name == KEEL_SO_LINGER)
        return set_linger(t, val, len);
    if (level == KEEL_IPPROTO_TCP && name == KEEL_TCP_MD5SIG)
        return tcp_md5_set(t, val, len);
    if (level == KEEL_IPPROTO_IP)
        return set_ip_opt(t, name, val, len);
    int v;
    if (level != KEEL_SOL_SOCKET && level != KEEL_IPPROTO_TCP)
        return KEEL_ENOPROTOOPT;
    if (int_arg(val, len, &v) < 0)
        return KEEL_EINVAL;
    return level == KEEL_SOL_SOCKET ? set_socket_opt(t, name, v) : set_tcp_opt(t, name, v);
}

static int get_socket_opt(struct tcb *t, int name, int *v)
{
    switch (name) {
    case KEEL_SO_REUSEADDR: *v = t->reuseaddr; return 0;
    case KEEL_SO_KEEPALIVE: *v = t->keepalive; return 0;
    case KEEL_SO_SNDBUF: *v = (int)t->sndbuf; return 0;
    case KEEL_SO_RCVBUF: *v = (int)t->rcvbuf; return 0;
    case KEEL_SO_TIMESTAMPING: *v = tstamp_flags(t); return 0;
    case KEEL_SO_OOBINLINE: *v = t->oobinline; return 0;
    case KEEL_SO_ERROR:
        *v = -t->soerror;
        t->soerror = 0;
        return 0;
    }
    return KEEL_ENOPROTOOPT;
}

static int get_tcp_opt(struct tcb *t, int name, int *v)
{
    switch (name) {
    case KEEL_TCP_MAXSEG: *v = (int)(t->mss ? t->mss : (t->user_mss ? t->user_mss : 536)); return 0;
    case KEEL_TCP_KEEPIDLE: *v = (int)(t->keepidle_us / 1000000); return 0;
    case KEEL_TCP_KEEPINTVL: *v = (int)(t->keepintvl_us / 1000000); return 0;
    case KEEL_TCP_KEEPCNT: *v = (int)t->keepcnt; return 0;
    case KEEL_TCP_USER_TIMEOUT: *v = (int)t->user_timeout_ms; return 0;
    case KEEL_TCP_QUICKACK: *v = t->quickacks > 0; return 0;
    case KEEL_TCP_FASTOPEN_CONNECT: *v = t->fo_connect; return 0;
    }
    return get_sendq_opt(t, name, v);
}


int keel_getsockopt(keel_stack *st, int sock, int level, int name, void *val, size_t *len)
{
    struct tcb *t = handle_get(st, sock);
    if (!t)
        return KEEL_EBADF;
    if (level == KEEL_IPPROTO_TCP && name == KEEL_TCP_INFO) {
        struct keel_tcp_info info;
        tcb_fill_info(t, &info);
        return copy_out(val, len, &info, sizeof info);
    }
    if (level == KEEL_IPPROTO_TCP && name == KEEL_TCP_CONGESTION)
        return copy_out(val, len, t->cc->name, strlen(t->cc->name) + 1);
    if (level == KEEL_SOL_SOCKET && name == KEEL_SO_LINGER) {
        struct keel_linger l = {t->linger_on, (int)t->linger_s};
        return copy_out(val, len, &l, sizeof l);
    }
    int v, err;
    if (level == KEEL_IPPROTO_IP) {
        err = get_ip_opt(t, name, &v);
        return err ? err : ip_int_out(val, len, v);
    }
    if (level == KEEL_SOL_SOCKET)
        err = get_socket_opt(t, name, &v);
    else if (level == KEEL_IPPROTO_TCP)
        err = get_tcp_opt(t, name, &v);
    else
        err = KEEL_ENOPROTOOPT;
    return err ? err : copy_out(val, len, &v, sizeof v);
}
