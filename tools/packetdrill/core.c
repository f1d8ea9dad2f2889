/* The instance: init and release, flags, the device between keel and
 * packetdrill, virtual time, and the locking and wake-up protocol of
 * blocking calls (see kpd.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kpd.h"
#include "link/gso.h"
#include "link/trace.h"

/* Virtual time starts here: 2023-11-14 22:13:20 UTC, in microseconds. */
#define KPD_EPOCH_US 1700000000000000ull
/* How far (virtual time) packetdrill may wait for a packet keel never sends
 * before the wait fails: longer than any timer a script can expect (the
 * maximum RTO is 120 s), shorter than keepalive's two hours. */
#define KPD_SNIFF_LIMIT_US (600ull * 1000000)
#define KPD_DEFAULT_LOCAL "198.18.0.1"

struct kpd *kpd_current;

void kpd_lock(struct kpd *p)
{
    pthread_mutex_lock(&p->mu);
}

void kpd_unlock(struct kpd *p)
{
    pthread_mutex_unlock(&p->mu);
}

int kpd_errno(int err)
{
    errno = err;
    return -1;
}

int kpd_fail(int keel_err)
{
    return kpd_errno(-keel_err); /* keel_err values are Linux errnos, negated */
}

bool kpd_on_main_thread(const struct kpd *p)
{
    return pthread_equal(pthread_self(), p->main_thread) != 0;
}

/* ---- waking blocked calls ---- */

void kpd_kick(struct kpd *p)
{
    kpd_take_events(p);
    p->gen++;
    if (!p->waiters)
        return;
    p->busy += p->waiters;
    pthread_cond_broadcast(&p->wake);
    while (p->busy > 0)
        pthread_cond_wait(&p->settled, &p->mu);
}

void kpd_settle(struct kpd *p)
{
    if (--p->busy == 0)
        pthread_cond_broadcast(&p->settled);
}

long kpd_block(struct kpd *p, bool may_block, uint64_t deadline_us, kpd_attempt fn,
               void *arg, const char *what)
{
    bool woken = false;
    for (;;) {
        long r = fn(p, arg);
        if (woken)
            kpd_settle(p);
        woken = false;
        if (r != KEEL_EAGAIN || !may_block || p->now_us >= deadline_us)
            return r;
        if (kpd_on_main_thread(p)) {
            /* Nothing could ever wake it: packetdrill's main thread is the
             * one that brings packets and time. */
            fprintf(stderr, "keel-packetdrill: %s would block, but the script does not "
                            "run it as a blocking call (`...`)\n", what);
            return r;
        }
        kpd_wait_change(p, deadline_us);
        woken = true;
    }
}

static int add_deadline(struct kpd *p, uint64_t deadline_us)
{
    for (int i = 0; i < KPD_MAX_WAITERS; i++) {
        if (!p->waiter_deadline[i]) {
            p->waiter_deadline[i] = deadline_us;
            return i;
        }
    }
    return -1; /* more waiters than packetdrill has threads: no timeout kept */
}

void kpd_wait_change(struct kpd *p, uint64_t deadline_us)
{
    int slot = deadline_us != UINT64_MAX ? add_deadline(p, deadline_us) : -1;
    uint64_t gen = p->gen;
    p->waiters++;
    while (p->gen == gen)
        pthread_cond_wait(&p->wake, &p->mu);
    p->waiters--;
    if (slot >= 0)
        p->waiter_deadline[slot] = 0;
}

static uint64_t earliest_waiter_deadline(const struct kpd *p)
{
    uint64_t d = UINT64_MAX;
    for (int i = 0; i < KPD_MAX_WAITERS; i++)
        if (p->waiter_deadline[i] && p->waiter_deadline[i] < d)
            d = p->waiter_deadline[i];
    return d;
}

/* ---- the device ---- */

static struct kpd *of_dev(struct keel_device *dev)
{
    return (struct kpd *)((char *)dev - offsetof(struct kpd, dev));
}

static void trace_packet(const struct kpd *p, const char *dir, const uint8_t *pkt, size_t len)
{
    char line[512];
    trace_format_packet(line, sizeof line, pkt, len);
    uint64_t t = p->now_us - KPD_EPOCH_US;
    fprintf(stderr, "keel %" PRIu64 ".%06" PRIu64 " %s %s\n", t / 1000000, t % 1000000,
            dir, line);
}

static int queue_out(struct kpd *p, const uint8_t *pkt, size_t len)
{
    if (p->out_len == p->out_cap) {
        size_t cap = p->out_cap ? 2 * p->out_cap : 64;
        struct kpd_packet *q = malloc(cap * sizeof *q);
        if (!q)
            return KEEL_ENOMEM;
        for (size_t i = 0; i < p->out_len; i++)
            q[i] = p->out[(p->out_head + i) % p->out_cap];
        free(p->out);
        p->out = q;
        p->out_cap = cap;
        p->out_head = 0;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return KEEL_ENOMEM;
    memcpy(copy, pkt, len);
    p->out[(p->out_head + p->out_len) % p->out_cap] =
        (struct kpd_packet){copy, len, p->now_us};
    p->out_len++;
    if (p->trace)
        trace_packet(p, ">", pkt, len);
    return 0;
}

/* A packet the queue discipline refuses never reaches packetdrill: the
 * stack hears KEEL_ENOBUFS, as Linux's TCP hears NET_XMIT_DROP. */
static int dev_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                        uint64_t now_us)
{
    (void)now_us; /* the same as the instance's clock */
    struct kpd *p = of_dev(dev);
    if (kpd_qdisc_refuses(p, len)) {
        if (p->trace)
            trace_packet(p, "x (refused by the qdisc)", pkt, len);
        return KEEL_ENOBUFS;
    }
    return queue_out(p, pkt, len);
}

static int queue_piece(void *arg, const uint8_t *seg, size_t len)
{
    return queue_out(arg, seg, len);
}

/* Segmentation offload: the large packet goes to packetdrill whole, as a
 * Linux TSO device's packet does to a sniffer on the sending host, which is
 * what the scripts are written against (`P. 1:10001(10000)`). With TSO and
 * GSO off (soft_gso), it passes the queue discipline whole and reaches
 * packetdrill in MSS-sized segments, as Linux's software GSO cuts it after
 * the qdisc (validate_xmit_skb): PSH on the last only. */
static int dev_transmit_tso(struct keel_device *dev, const uint8_t *pkt, size_t len,
                            uint16_t mss, uint64_t now_us)
{
    struct kpd *p = of_dev(dev);
    if (!p->soft_gso)
        return dev_transmit(dev, pkt, len, now_us);
    if (kpd_qdisc_refuses(p, len)) {
        if (p->trace)
            trace_packet(p, "x (refused by the qdisc)", pkt, len);
        return KEEL_ENOBUFS;
    }
    return gso_segment(pkt, len, mss, queue_piece, p);
}

static long dev_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    (void)dev, (void)buf, (void)cap, (void)now_us;
    return 0; /* packets arrive through to_stack, straight into keel_input */
}

static const struct keel_device_ops kpd_dev_ops = {
    .transmit = dev_transmit,
    .receive = dev_receive,
    .transmit_tso = dev_transmit_tso,
};

/* ---- the stack ---- */

static void make_secret(uint64_t seed, uint8_t secret[16])
{
    for (int i = 0; i < 16; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        secret[i] = (uint8_t)(seed >> 56);
    }
}

bool kpd_stack(struct kpd *p)
{
    if (p->st)
        return true;
    struct keel_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.addr = p->local_addr;
    cfg.seed = p->seed;
    make_secret(p->seed, cfg.secret);
    cfg.max_sockets = KPD_MAX_FDS;
    kpd_sysctls_read(p->sysctl_path, &p->sysctls);
    kpd_sysctls_apply(&p->sysctls, &cfg);
    p->soft_gso = p->sysctls.tso == 0;
    int err;
    p->st = keel_stack_new(&cfg, &p->dev, p->now_us, &err);
    if (!p->st) {
        fprintf(stderr, "keel-packetdrill: keel_stack_new: %s\n", keel_strerror(err));
        errno = ENOMEM;
        return false;
    }
    kpd_routes_apply(p);
    return true;
}

/* Runs keel up to virtual time t: every timer at its own instant, each
 * followed by the blocked calls it woke. */
static void advance_to(struct kpd *p, uint64_t t)
{
    for (;;) {
        uint64_t next = p->st ? keel_next_deadline(p->st) : UINT64_MAX;
        uint64_t w = earliest_waiter_deadline(p);
        if (w < next)
            next = w;
        if (next > t)
            break;
        p->now_us = next > p->now_us ? next : p->now_us + 1; /* always progress */
        if (p->st)
            keel_poll(p->st, p->now_us);
        kpd_kick(p);
    }
    if (t > p->now_us)
        p->now_us = t;
    if (p->st)
        keel_poll(p->st, p->now_us);
    kpd_kick(p);
}

/* ---- the wire ---- */

static int to_stack(void *ctx, const void *pkt, size_t len)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    if (!kpd_stack(p)) {
        kpd_unlock(p);
        return -1;
    }
    if (p->trace)
        trace_packet(p, "<", pkt, len);
    keel_input(p->st, pkt, len, p->now_us);
    kpd_kick(p);
    kpd_unlock(p);
    return 0;
}

static bool pop_out(struct kpd *p, void *buf, size_t *len, long long *at_us)
{
    if (!p->out_len)
        return false;
    struct kpd_packet *k = &p->out[p->out_head];
    size_t n = k->len < *len ? k->len : *len;
    memcpy(buf, k->data, n);
    *len = n;
    *at_us = (long long)k->at_us;
    free(k->data);
    p->out_head = (p->out_head + 1) % p->out_cap;
    p->out_len--;
    return true;
}

/* The next packet keel sends. packetdrill waits here for the packet a
 * script expects; time moves on to keel's next timer (or a blocked call's
 * timeout) until one leaves. When nothing is left that could send one, the
 * wait fails with an empty packet, which packetdrill reports as an error. */
static int from_stack(void *ctx, void *buf, size_t *len, long long *at_us)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    uint64_t limit = p->now_us + KPD_SNIFF_LIMIT_US;
    while (!pop_out(p, buf, len, at_us)) {
        uint64_t next = p->st ? keel_next_deadline(p->st) : UINT64_MAX;
        uint64_t w = earliest_waiter_deadline(p);
        if (w < next)
            next = w;
        if (next == UINT64_MAX || next > limit) {
            fprintf(stderr, "keel-packetdrill: waiting for an outgoing packet, but keel "
                            "has %s\n", next == UINT64_MAX ? "no timer armed: nothing will "
                            "leave" : "nothing to send for 600 s");
            *len = 0;
            *at_us = (long long)p->now_us;
            break;
        }
        advance_to(p, next > p->now_us ? next : p->now_us);
    }
    kpd_unlock(p);
    return 0;
}

/* ---- the clock ---- */

static int sleep_us(void *ctx, useconds_t us)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    advance_to(p, p->now_us + us);
    kpd_unlock(p);
    return 0;
}

/* Every reading moves the clock on by 1 us: packetdrill spins on the clock
 * for the last microseconds before an event, and a clock that only sleeps
 * move would never get there. Timers due by then run. */
static int now(void *ctx, struct timeval *tv, struct timezone *tz)
{
    struct kpd *p = ctx;
    (void)tz;
    kpd_lock(p);
    p->now_us++;
    if (p->st && keel_next_deadline(p->st) <= p->now_us)
        advance_to(p, p->now_us);
    tv->tv_sec = (time_t)(p->now_us / 1000000);
    tv->tv_usec = (suseconds_t)(p->now_us % 1000000);
    kpd_unlock(p);
    return 0;
}

/* ---- init and release ---- */

static void release(void *ctx)
{
    struct kpd *p = ctx;
    if (kpd_current == p)
        kpd_current = NULL;
    keel_stack_free(p->st);
    while (p->out_len) {
        free(p->out[p->out_head].data);
        p->out_head = (p->out_head + 1) % p->out_cap;
        p->out_len--;
    }
    free(p->out);
    for (int i = 0; i < KPD_MAX_FDS; i++)
        free(p->fds[i].items);
    /* The host descriptors that held our fd numbers are left alone:
     * packetdrill closes the ones it knows of itself. */
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->settled);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* --so_flags: comma-separated key=value: local_ip (the address packetdrill's
 * --local_ip gives), sysctls (file the sysctl shims write), proc_net
 * (directory for /proc/net/tcp, see procnet.c), seed, mtu, trace (1: print
 * every packet). */
static void parse_flag(struct kpd *p, const char *key, const char *val)
{
    if (strcmp(key, "local_ip") == 0) {
        struct in_addr a;
        if (inet_pton(AF_INET, val, &a) == 1)
            p->local_addr = ntohl(a.s_addr);
        else
            fprintf(stderr, "keel-packetdrill: bad local_ip %s\n", val);
    } else if (strcmp(key, "sysctls") == 0) {
        snprintf(p->sysctl_path, sizeof p->sysctl_path, "%s", val);
    } else if (strcmp(key, "proc_net") == 0) {
        snprintf(p->proc_net_dir, sizeof p->proc_net_dir, "%s", val);
    } else if (strcmp(key, "seed") == 0) {
        p->seed = strtoull(val, NULL, 0);
    } else if (strcmp(key, "mtu") == 0) {
        p->dev.mtu = (uint32_t)strtoul(val, NULL, 0);
    } else if (strcmp(key, "trace") == 0) {
        p->trace = atoi(val) != 0;
    } else {
        fprintf(stderr, "keel-packetdrill: unknown flag %s\n", key);
    }
}

static void parse_flags(struct kpd *p, const char *flags)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", flags ? flags : "");
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = 0;
        parse_flag(p, tok, eq ? eq + 1 : "1");
    }
}

static struct kpd *kpd_new(const char *flags)
{
    struct kpd *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->settled, NULL);
    p->main_thread = pthread_self();
    p->now_us = KPD_EPOCH_US;
    p->seed = 1;
    p->dev.ops = &kpd_dev_ops;
    p->dev.mtu = 1500;         /* packetdrill's tun device */
    p->dev.tso_max = 65536;    /* Linux's GSO limit (keel trims to one IPv4 packet) */
    p->qdisc = (struct kpd_qdisc){.limit_packets = -1, .limit_bytes = -1, .settings_size = -1};
    struct in_addr a;
    inet_pton(AF_INET, KPD_DEFAULT_LOCAL, &a);
    p->local_addr = ntohl(a.s_addr);
    const char *env = getenv("KEEL_PD_SYSCTLS");
    if (env)
        snprintf(p->sysctl_path, sizeof p->sysctl_path, "%s", env);
    parse_flags(p, flags);
    if (getenv("KEEL_PD_TRACE"))
        p->trace = true;
    for (int i = 0; i < KPD_MAX_FDS; i++)
        p->sock_fd[i] = -1;
    return p;
}

__attribute__((visibility("default"))) void
packetdrill_interface_init(const char *flags, struct kpd_table *t)
{
    struct kpd *p = kpd_new(flags);
    if (!p) {
        fprintf(stderr, "keel-packetdrill: out of memory\n");
        abort();
    }
    memset(t, 0, sizeof *t);
    t->ctx = p;
    t->release = release;
    t->to_stack = to_stack;
    t->from_stack = from_stack;
    t->sleep_us = sleep_us;
    t->now = now;
    kpd_fill_socket_calls(t);
    kpd_fill_sockopt_calls(t);
    kpd_fill_poll_calls(t);
    kpd_fill_splice_calls(t);
    kpd_current = p;
}
