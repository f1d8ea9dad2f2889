/* getsockopt/setsockopt, fcntl and ioctl with Linux's numbers and answers.
 * keel's option numbers are Linux's; what keel names differently (the
 * congestion control "reno", TCP_INFO's layout) is translated here, and
 * what keel does not have is refused with keel's own ENOPROTOOPT. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kpd.h"
#include "linux_tcp_info.h"

/* Linux option numbers keel has no constant for. */
#define L_SO_TYPE 3
#define L_SO_ACCEPTCONN 30
#define L_SO_PROTOCOL 38
#define L_SO_DOMAIN 39
#define L_SO_MEMINFO 55
#define L_SO_ZEROCOPY 60
#define L_SK_MEMINFO_VARS 9
#define L_TCP_CC_INFO 26
#define L_TCP_INQ 36
#define L_SIOCINQ 0x541B     /* FIONREAD */
#define L_SIOCOUTQ 0x5411    /* TIOCOUTQ */
#define L_SIOCOUTQNSD 0x894B
#define L_SIOCATMARK 0x8905
#define L_FIONBIO 0x5421
#define L_INFINITE_SSTHRESH 0x7fffffffu /* Linux TCP_INFINITE_SSTHRESH */

/* ---- TCP_INFO in Linux's layout ---- */

static uint32_t segs(uint64_t bytes, uint32_t mss)
{
    return mss ? (uint32_t)((bytes + mss - 1) / mss) : 0;
}

/* Linux's congestion-control state machine, from keel's recovery state. */
static uint8_t ca_state(const struct keel_tcp_info *k)
{
    if (k->in_recovery)
        return LTI_CA_RECOVERY;
    if (k->in_cwr)
        return LTI_CA_CWR;
    if (k->in_loss)
        return LTI_CA_LOSS;
    if (k->sacked_bytes)
        return LTI_CA_DISORDER;
    return LTI_CA_OPEN;
}

static void fill_header(const struct keel_tcp_info *k, struct linux_tcp_info *l)
{
    l->state = k->state;
    l->ca_state = ca_state(k);
    l->retransmits = k->backoff;
    l->probes = k->probes;
    l->backoff = k->backoff;
    l->options = (uint8_t)((k->ts_ok ? LTI_OPT_TIMESTAMPS : 0) | (k->sack_ok ? LTI_OPT_SACK : 0) |
                           (k->wscale_ok ? LTI_OPT_WSCALE : 0) | (k->ecn_ok ? LTI_OPT_ECN : 0));
    if (k->wscale_ok)
        l->wscales = (uint8_t)((k->snd_wscale & 0xf) | (k->rcv_wscale & 0xf) << 4);
}

static void fill_counts(const struct keel_tcp_info *k, struct linux_tcp_info *l)
{
    uint32_t mss = k->snd_mss;
    l->rto = k->state == KEEL_TCP_LISTEN ? 0 : k->rto_us;
    l->ato = k->state == KEEL_TCP_ESTABLISHED ? 40000 : 0; /* TCP_DELACK_MIN */
    l->snd_mss = mss;
    l->rcv_mss = k->rcv_mss;
    l->unacked = segs(k->snd_unacked, mss);
    l->sacked = segs(k->sacked_bytes, mss);
    l->lost = segs(k->lost_bytes, mss);
    l->retrans = segs(k->retrans_out, mss);
    l->pmtu = 1500;
    l->rcv_ssthresh = k->rcv_wnd;
    l->rtt = k->srtt_us;
    l->rttvar = k->rttvar_us;
    l->snd_ssthresh = k->ssthresh == UINT32_MAX || !mss ? L_INFINITE_SSTHRESH : k->ssthresh / mss;
    l->snd_cwnd = mss ? k->cwnd / mss : 0;
    l->advmss = k->adv_mss;
    l->reordering = k->reordering;
    l->total_retrans = (uint32_t)k->retrans_segs;
}

static void fill_totals(const struct keel_tcp_info *k, struct linux_tcp_info *l)
{
    l->max_pacing_rate = UINT64_MAX; /* no SO_MAX_PACING_RATE */
    l->bytes_acked = k->bytes_acked;
    l->bytes_received = k->bytes_received;
    l->segs_out = (uint32_t)k->segs_out;
    l->segs_in = (uint32_t)k->segs_in;
    l->notsent_bytes = k->snd_queued > k->snd_unacked ? k->snd_queued - k->snd_unacked : 0;
    l->min_rtt = k->min_rtt_us ? k->min_rtt_us : UINT32_MAX;
    l->delivered = segs(k->bytes_acked, k->snd_mss);
    l->bytes_sent = k->bytes_sent + k->bytes_retrans;
    l->bytes_retrans = k->bytes_retrans;
    l->dsack_dups = (uint32_t)k->dsack_received;
    l->reord_seen = k->reord_seen;
    l->snd_wnd = k->snd_wnd;
    l->rcv_wnd = k->rcv_wnd;
    l->data_segs_out = (uint32_t)k->data_segs_out;
    l->data_segs_in = (uint32_t)k->data_segs_in;
    l->rcv_ooopack = k->rcv_ooopack;
    l->busy_time = k->busy_us;
    l->rwnd_limited = k->rwnd_limited_us;
    l->sndbuf_limited = k->sndbuf_limited_us;
}

/* Linux reports how long ago, in milliseconds (jiffies_to_msecs). */
static uint32_t ms_since(uint64_t now_us, uint64_t then_us)
{
    return now_us > then_us ? (uint32_t)((now_us - then_us) / 1000) : 0;
}

static void fill_ages(const struct keel_tcp_info *k, uint64_t now_us, struct linux_tcp_info *l)
{
    l->last_data_sent_ms = ms_since(now_us, k->last_data_sent_us);
    l->last_data_recv_ms = ms_since(now_us, k->last_data_recv_us);
    l->last_ack_recv_ms = ms_since(now_us, k->last_ack_recv_us);
}

static void linux_tcp_info(struct kpd *p, int sock, struct linux_tcp_info *l)
{
    struct keel_tcp_info k;
    keel_tcp_info(p->st, sock, &k);
    memset(l, 0, sizeof *l);
    fill_header(&k, l);
    fill_counts(&k, l);
    fill_totals(&k, l);
    fill_ages(&k, p->now_us, l);
    /* keel does not pace and keeps no delivery-rate samples: pacing_rate
     * and delivery_rate stay 0; last_ack_sent is 0 on Linux too. */
}

/* ---- getsockopt ---- */

static int copy_out(void *val, socklen_t *len, const void *src, size_t n)
{
    if (!val || !len)
        return kpd_errno(EFAULT);
    if ((int)*len < 0)
        return kpd_errno(EINVAL);
    if (*len < n)
        n = *len;
    memcpy(val, src, n);
    *len = (socklen_t)n;
    return 0;
}

static int int_out(void *val, socklen_t *len, int v)
{
    return copy_out(val, len, &v, sizeof v);
}

static int get_meminfo(struct kpd *p, int sock, void *val, socklen_t *len)
{
    struct keel_tcp_info k;
    keel_tcp_info(p->st, sock, &k);
    uint32_t m[L_SK_MEMINFO_VARS] = {0};
    m[0] = k.rcv_queued; /* rmem_alloc */
    m[1] = k.rcvbuf;
    m[2] = k.snd_unacked; /* wmem_alloc: in flight */
    m[3] = k.sndbuf;
    m[5] = k.snd_queued; /* wmem_queued */
    return copy_out(val, len, m, sizeof m);
}

static int get_special(struct kpd *p, struct kfd *f, int level, int name, void *val,
                       socklen_t *len, bool *done)
{
    *done = true;
    if (level == IPPROTO_TCP && name == TCP_INFO) {
        /* Newer kernels' struct is longer; their extra fields (ECN byte
         * counters) read 0, and a caller that asks for them gets them. */
        union {
            struct linux_tcp_info l;
            uint8_t bytes[512];
        } u;
        memset(&u, 0, sizeof u);
        linux_tcp_info(p, f->sock, &u.l);
        return copy_out(val, len, u.bytes, sizeof u.bytes);
    }
    if (level == IPPROTO_TCP && name == L_TCP_CC_INFO)
        return copy_out(val, len, "", 0); /* cubic and reno have none */
    if (level == IPPROTO_TCP && name == L_TCP_INQ)
        return int_out(val, len, f->inq);
    if (level == SOL_SOCKET && name == L_SO_MEMINFO)
        return get_meminfo(p, f->sock, val, len);
    if (level == SOL_SOCKET && name == L_SO_ZEROCOPY)
        return int_out(val, len, f->zerocopy);
    if (level == SOL_SOCKET && (name == L_SO_TYPE || name == L_SO_PROTOCOL || name == L_SO_DOMAIN))
        return int_out(val, len, name == L_SO_TYPE ? SOCK_STREAM
                                 : name == L_SO_PROTOCOL ? IPPROTO_TCP : AF_INET);
    if (level == SOL_SOCKET && name == L_SO_ACCEPTCONN) {
        struct keel_tcp_info k;
        keel_tcp_info(p->st, f->sock, &k);
        return int_out(val, len, k.state == KEEL_TCP_LISTEN);
    }
    *done = false;
    return 0;
}

/* keel's "newreno" is Linux's "reno". */
static int get_congestion(struct kpd *p, int sock, void *val, socklen_t *len)
{
    char name[16] = {0};
    size_t n = sizeof name;
    int e = keel_getsockopt(p->st, sock, KEEL_IPPROTO_TCP, KEEL_TCP_CONGESTION, name, &n);
    if (e < 0)
        return kpd_fail(e);
    const char *linux_name = strcmp(name, "newreno") == 0 ? "reno" : name;
    char out[16] = {0}; /* TCP_CA_NAME_MAX: Linux copies the whole buffer */
    snprintf(out, sizeof out, "%s", linux_name);
    return copy_out(val, len, out, sizeof out);
}

int kpd_getsockopt(struct kpd *p, int fd, int level, int name, void *val, socklen_t *len)
{
    struct kfd *f = kpd_fd(p, fd, KFD_SOCKET);
    if (!f)
        return kpd_errno(fd >= 0 && fd < KPD_MAX_FDS && p->fds[fd].kind ? ENOTSOCK : EBADF);
    bool done;
    int r = get_special(p, f, level, name, val, len, &done);
    if (done)
        return r;
    if (level == IPPROTO_TCP && name == TCP_CONGESTION)
        return get_congestion(p, f->sock, val, len);
    if (!len)
        return kpd_errno(EFAULT);
    size_t n = *len;
    int e = keel_getsockopt(p->st, f->sock, level, name, val, &n);
    if (e < 0)
        return kpd_fail(e);
    *len = (socklen_t)n;
    return 0;
}

static int k_getsockopt(void *ctx, int fd, int level, int name, void *val, socklen_t *len)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    int r = kpd_getsockopt(p, fd, level, name, val, len);
    kpd_unlock(p);
    return r;
}

/* ---- setsockopt ---- */

static int set_congestion(struct kpd *p, int sock, const void *val, socklen_t len)
{
    char name[16] = {0};
    if (!val)
        return kpd_errno(EFAULT);
    memcpy(name, val, len < sizeof name - 1 ? len : sizeof name - 1);
    const char *keel_name = strcmp(name, "reno") == 0 ? "newreno" : name;
    int e = keel_setsockopt(p->st, sock, KEEL_IPPROTO_TCP, KEEL_TCP_CONGESTION, keel_name,
                            strlen(keel_name));
    return e < 0 ? kpd_fail(e) : 0;
}

/* Linux struct tcp_md5sig (TCP_MD5SIG: the peer's address and the key;
 * flags, prefix and interface are TCP_MD5SIG_EXT's) as keel's. */
static int set_md5sig(struct kpd *p, int sock, const void *val, socklen_t len)
{
    struct tcp_md5sig l;
    if (!val)
        return kpd_errno(EFAULT);
    if (len < sizeof l)
        return kpd_errno(EINVAL);
    memcpy(&l, val, sizeof l);
    struct sockaddr_in sin;
    memcpy(&sin, &l.tcpm_addr, sizeof sin);
    if (sin.sin_family != AF_INET)
        return kpd_errno(EINVAL);
    struct keel_tcp_md5sig k = {.addr = ntohl(sin.sin_addr.s_addr), .key_len = l.tcpm_keylen};
    memcpy(k.key, l.tcpm_key, sizeof k.key);
    int e = keel_setsockopt(p->st, sock, KEEL_IPPROTO_TCP, KEEL_TCP_MD5SIG, &k, sizeof k);
    return e < 0 ? kpd_fail(e) : 0;
}

static int do_setsockopt(struct kpd *p, int fd, int level, int name, const void *val,
                         socklen_t len)
{
    struct kfd *f = kpd_fd(p, fd, KFD_SOCKET);
    if (!f)
        return kpd_errno(fd >= 0 && fd < KPD_MAX_FDS && p->fds[fd].kind ? ENOTSOCK : EBADF);
    if (level == IPPROTO_TCP && name == TCP_CONGESTION)
        return set_congestion(p, f->sock, val, len);
    if (level == IPPROTO_TCP && name == TCP_MD5SIG)
        return set_md5sig(p, f->sock, val, len);
    if (level == SOL_SOCKET && name == L_SO_ZEROCOPY)
        return kpd_zerocopy_set(f, val, len);
    if (level == IPPROTO_TCP && name == L_TCP_INQ) {
        int v;
        if (!val || len < sizeof v)
            return kpd_errno(EINVAL);
        memcpy(&v, val, sizeof v);
        f->inq = v != 0;
        return 0;
    }
    int e = keel_setsockopt(p->st, f->sock, level, name, val, len);
    return e < 0 ? kpd_fail(e) : 0;
}

static int k_setsockopt(void *ctx, int fd, int level, int name, const void *val, socklen_t len)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    int r = do_setsockopt(p, fd, level, name, val, len);
    kpd_kick(p);
    kpd_unlock(p);
    return r;
}

/* ---- fcntl ---- */

static int do_fcntl(struct kpd *p, int fd, int cmd, int arg)
{
    if (fd < 0 || fd >= KPD_MAX_FDS || p->fds[fd].kind == KFD_FREE)
        return kpd_errno(EBADF);
    struct kfd *f = &p->fds[fd];
    switch (cmd) {
    case F_GETFL:
        return O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        f->nonblock = (arg & O_NONBLOCK) != 0;
        return 0;
    case F_GETFD:
        return f->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        f->cloexec = (arg & FD_CLOEXEC) != 0;
        return 0;
    }
    return kpd_errno(EINVAL);
}

static int k_fcntl(void *ctx, int fd, int cmd, ...)
{
    struct kpd *p = ctx;
    int arg = 0;
    if (cmd == F_SETFL || cmd == F_SETFD) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    if (kpd_is_pipe(p, fd))
        return cmd == F_SETFL || cmd == F_SETFD ? fcntl(fd, cmd, arg) : fcntl(fd, cmd);
    kpd_lock(p);
    int r = do_fcntl(p, fd, cmd, arg);
    kpd_unlock(p);
    return r;
}

/* ---- ioctl ---- */

/* Linux tcp_ioctl: SIOCINQ counts unread bytes (the FIN not included),
 * SIOCOUTQ bytes not yet acknowledged (the FIN included), SIOCOUTQNSD
 * bytes not yet sent; a listener answers EINVAL, a connection still in its
 * handshake 0. SIOCATMARK: is the urgent byte the next to read? */
static int queue_size(struct kpd *p, int sock, unsigned long req, int *out)
{
    struct keel_tcp_info k;
    keel_tcp_info(p->st, sock, &k);
    if (req == L_SIOCATMARK) { /* Linux tcp_ioctl: the urgent byte is next */
        *out = k.rcv_urgent && k.rcv_urgent_offset == 0;
        return 0;
    }
    if (k.state == KEEL_TCP_LISTEN)
        return kpd_errno(EINVAL);
    bool opening = k.state == KEEL_TCP_SYN_SENT || k.state == KEEL_TCP_SYN_RECEIVED;
    bool fin_out = k.state == KEEL_TCP_FIN_WAIT_1 || k.state == KEEL_TCP_CLOSING ||
                   k.state == KEEL_TCP_LAST_ACK;
    uint32_t unsent = k.snd_queued > k.snd_unacked ? k.snd_queued - k.snd_unacked : 0;
    if (req == L_SIOCINQ)
        *out = opening ? 0 : (int)k.rcv_queued;
    else if (req == L_SIOCOUTQ)
        *out = opening ? 0 : (int)(k.snd_queued + fin_out);
    else
        *out = opening ? 0 : (int)unsent;
    return 0;
}

static int do_ioctl(struct kpd *p, int fd, unsigned long req, int *arg)
{
    if (fd < 0 || fd >= KPD_MAX_FDS || p->fds[fd].kind == KFD_FREE)
        return kpd_errno(EBADF);
    struct kfd *f = &p->fds[fd];
    if (req == L_FIONBIO) {
        if (!arg)
            return kpd_errno(EFAULT);
        f->nonblock = *arg != 0;
        return 0;
    }
    if (req != L_SIOCINQ && req != L_SIOCOUTQ && req != L_SIOCOUTQNSD && req != L_SIOCATMARK)
        return kpd_errno(ENOTTY);
    if (f->kind != KFD_SOCKET)
        return kpd_errno(ENOTTY);
    if (!arg)
        return kpd_errno(EFAULT);
    return queue_size(p, f->sock, req, arg);
}

static int k_ioctl(void *ctx, int fd, unsigned long req, ...)
{
    struct kpd *p = ctx;
    va_list ap;
    va_start(ap, req);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    kpd_lock(p);
    int r = do_ioctl(p, fd, req, arg);
    kpd_unlock(p);
    return r;
}

void kpd_fill_sockopt_calls(struct kpd_table *t)
{
    t->getsockopt = k_getsockopt;
    t->setsockopt = k_setsockopt;
    t->fcntl = k_fcntl;
    t->ioctl = k_ioctl;
}
