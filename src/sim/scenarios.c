/* Building blocks of the seeded simulation suite: see scenarios.h. */
#include "sim/scenarios.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "link/trace.h"
#include "sim/stream.h"
#include "stack/stack.h"

#define CHUNK 16384
#define SEC UINT64_C(1000000)
#define SETTLE_CLOSING_US (120 * SEC) /* close handshakes must end within this */
#define SETTLE_IDLE_US (61 * SEC)     /* then TIME-WAIT (60 s) must be over */
#define DEFAULT_STALL_US (180 * SEC) /* > TCP_RTO_MAX: waiting out a backoff is no stall */
#define DEFAULT_LIMIT_US (1800 * SEC)

static void say(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

/* Appends to a message already in why. */
static void say_more(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say_more(char *why, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(why);
    if (used + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + used, cap - used, fmt, ap);
    va_end(ap);
}

uint64_t sc_pick(uint64_t seed, uint64_t salt, uint64_t lo, uint64_t hi)
{
    uint64_t x = rng_mix64(rng_mix64(seed) ^ (salt * 0x9e3779b97f4a7c15ull));
    return lo + x % (hi - lo + 1);
}

void sc_seed_range(uint64_t count, uint64_t *first, uint64_t *last)
{
    const char *one = getenv("KEEL_SIM_SEED");
    const char *many = getenv("KEEL_SIM_SEEDS");
    if (one && *one) {
        *first = *last = strtoull(one, NULL, 0);
        return;
    }
    if (many && *many)
        count = strtoull(many, NULL, 0);
    *first = 1;
    *last = count;
}

/* ---- the tap ---- */

static uint64_t hash_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return stream_hash(h, b, sizeof b);
}

static void parse_pkt(struct sc_pkt *p)
{
    struct ipv4_hdr ip;
    const uint8_t *l4, *data;
    size_t l4_len, dlen;
    p->tcp = false;
    if (ipv4_parse(p->raw, p->len, &ip, &l4, &l4_len) != WIRE_OK ||
        ip.proto != IPV4_PROTO_TCP)
        return;
    if (tcp_parse(l4, l4_len, ip.src, ip.dst, true, &p->h, &data, &dlen) != WIRE_OK)
        return;
    p->tcp = true;
    p->payload_len = (uint32_t)dlen;
}

static void record_pkt(struct sc_net *n, const struct sc_pkt *p, uint64_t h, bool dropped)
{
    if (n->nrec == n->caprec) {
        size_t cap = n->caprec ? 2 * n->caprec : 1024;
        struct sc_rec *r = realloc(n->rec, cap * sizeof *r);
        if (!r)
            return;
        n->rec = r;
        n->caprec = cap;
    }
    struct sc_rec *r = &n->rec[n->nrec++];
    r->host = p->host;
    r->now_us = p->now_us;
    r->hash = h;
    r->dropped = dropped;
    trace_format_packet(r->line, sizeof r->line, p->raw, p->len);
}

static int tap_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                        uint64_t now_us)
{
    struct sc_tap *t = (struct sc_tap *)dev;
    struct sc_net *n = t->net;
    struct sc_pkt p = {.host = t->host, .now_us = now_us, .raw = pkt, .len = len};
    parse_pkt(&p);
    uint64_t h = stream_hash(STREAM_HASH_INIT, pkt, len);
    n->trace_hash = hash_u64(hash_u64(hash_u64(n->trace_hash, (uint64_t)t->host), now_us), h);
    n->npkts++;
    bool drop = n->filter && n->filter(n->filter_arg, &p);
    if (n->record)
        record_pkt(n, &p, h, drop);
    if (drop) {
        n->ndropped++;
        return 0; /* lost on the wire: the sender cannot tell */
    }
    return t->inner->ops->transmit(t->inner, pkt, len, now_us);
}

static long tap_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    struct sc_tap *t = (struct sc_tap *)dev;
    return t->inner->ops->receive(t->inner, buf, cap, now_us);
}

static uint64_t tap_next_arrival(const struct keel_device *dev)
{
    const struct sc_tap *t = (const struct sc_tap *)dev;
    return t->inner->ops->next_arrival_us(t->inner);
}

static const struct keel_device_ops tap_ops = {
    .transmit = tap_transmit,
    .receive = tap_receive,
    .next_arrival_us = tap_next_arrival,
};

/* ---- the network ---- */

static int add_stack(struct sc_net *n, int h, const struct keel_config *cfg, bool no_fast)
{
    struct keel_config c = cfg ? *cfg : (struct keel_config){0};
    c.addr = h ? SC_ADDR_B : SC_ADDR_A;
    c.seed = rng_mix64(n->w.seed ^ (0x2f00u + (unsigned)h)); /* as world_add_host */
    if (!c.max_sockets)
        c.max_sockets = SC_MAX_SOCKETS;
    struct sc_tap *t = &n->tap[h];
    t->inner = sim_link_device(n->link, h);
    t->dev.ops = &tap_ops;
    t->dev.mtu = t->inner->mtu;
    t->net = n;
    t->host = h;
    struct keel_device *dev = &t->dev;
    if (n->w.trace) {
        trace_device_init(&n->tracer[h], dev, n->w.trace, h ? "B" : "A");
        dev = &n->tracer[h].dev;
    }
    int err;
    keel_stack *st = keel_stack_new(&c, dev, n->w.now_us, &err);
    if (!st)
        return err;
    st->fast_path_disabled = no_fast;
    n->w.host[n->w.nhosts++] = st;
    n->host[h] = st;
    return 0;
}

int sc_net_init(struct sc_net *n, uint64_t seed, const struct sim_link_config *lc,
                const struct keel_config *cfg, bool fast_path_disabled)
{
    memset(n, 0, sizeof *n);
    world_init(&n->w, seed);
    n->trace_hash = STREAM_HASH_INIT;
    n->link = world_add_link(&n->w, lc);
    if (!n->link)
        return KEEL_ENOMEM;
    for (int h = 0; h < 2; h++) {
        int err = add_stack(n, h, cfg, fast_path_disabled);
        if (err)
            return err;
    }
    return 0;
}

void sc_net_free(struct sc_net *n)
{
    world_free(&n->w);
    free(n->rec);
    n->rec = NULL;
    n->nrec = n->caprec = 0;
}

uint64_t sc_counter(const struct sc_net *n, int h, enum keel_counter_id id)
{
    struct keel_counters c;
    keel_counters(n->host[h], &c);
    return c.v[id];
}

bool sc_trace_diff(const struct sc_net *x, const struct sc_net *y, char *why, size_t cap)
{
    size_t n = x->nrec < y->nrec ? x->nrec : y->nrec;
    for (size_t i = 0; i < n; i++) {
        const struct sc_rec *a = &x->rec[i], *b = &y->rec[i];
        if (a->host == b->host && a->now_us == b->now_us && a->hash == b->hash)
            continue;
        say(why, cap, "packet %zu differs:\n    %" PRIu64 " %c %s\n    %" PRIu64 " %c %s", i,
            a->now_us, "AB"[a->host], a->line, b->now_us, "AB"[b->host], b->line);
        return true;
    }
    if (x->nrec != y->nrec) {
        say(why, cap, "%zu packets against %zu; the first %zu are identical", x->nrec,
            y->nrec, n);
        return true;
    }
    return false;
}

/* ---- the application ---- */

const char *sc_status_name(enum sc_status s)
{
    switch (s) {
    case SC_RUNNING: return "running";
    case SC_DONE: return "done";
    case SC_FAILED: return "failed";
    case SC_STALLED: return "stalled";
    case SC_TIMEOUT: return "timeout";
    }
    return "?";
}

static uint64_t now_of(const struct sc_app *a)
{
    return a->net->w.now_us;
}

void sc_app_init(struct sc_app *a, struct sc_net *n, uint64_t seed)
{
    memset(a, 0, sizeof *a);
    a->net = n;
    a->seed = seed;
    a->listen_sock[0] = a->listen_sock[1] = -1;
    memset(a->sock_conn, 0xff, sizeof a->sock_conn); /* all -1 */
    a->stall_us = DEFAULT_STALL_US;
    a->last_progress_us = n->w.now_us;
}

int sc_app_listen(struct sc_app *a, int h, uint16_t port)
{
    keel_stack *st = a->net->host[h];
    int ls = keel_socket(st, KEEL_SOCK_STREAM);
    if (ls < 0)
        return ls;
    struct keel_sockaddr any = {0, port};
    int err = keel_bind(st, ls, &any);
    if (!err)
        err = keel_listen(st, ls, 128);
    if (err)
        return err;
    a->listen_sock[h] = ls;
    a->listen_port[h] = port;
    return 0;
}

static void conn_init(struct sc_conn *c, int host, int peer, uint64_t send_key,
                      uint64_t recv_key, uint64_t to_send, uint64_t to_recv)
{
    memset(c, 0, sizeof *c);
    c->host = host;
    c->peer = peer;
    c->sock = -1;
    c->send_key = send_key;
    c->recv_key = recv_key;
    c->to_send = to_send;
    c->to_recv = to_recv;
    c->corrupt_at = -1;
}

static int add_pair(struct sc_app *a, uint64_t a_to_b, uint64_t b_to_a)
{
    if (a->nconns + 2 > SC_MAX_CONNS)
        return KEEL_ENOMEM;
    int i = a->nconns;
    a->nconns += 2;
    uint64_t k1 = rng_mix64(a->seed ^ (0xc100u + (unsigned)i));
    uint64_t k2 = rng_mix64(a->seed ^ (0x5e00u + (unsigned)i));
    conn_init(&a->conn[i], 0, i + 1, k1, k2, a_to_b, b_to_a);
    conn_init(&a->conn[i + 1], 1, i, k2, k1, b_to_a, a_to_b);
    return i;
}

static void map_sock(struct sc_app *a, int i, int sock)
{
    struct sc_conn *c = &a->conn[i];
    c->sock = sock;
    if (sock >= 0 && (uint32_t)sock < SC_MAX_SOCKETS)
        a->sock_conn[c->host][sock] = i;
}

static void set_ports(struct sc_app *a, int i, uint16_t lport, uint16_t rport)
{
    a->conn[i].lport = lport;
    a->conn[i].rport = rport;
    a->conn[a->conn[i].peer].lport = rport;
    a->conn[a->conn[i].peer].rport = lport;
}

int sc_app_connect(struct sc_app *a, uint64_t a_to_b, uint64_t b_to_a)
{
    if (a->listen_sock[1] < 0)
        return KEEL_EINVAL;
    int i = add_pair(a, a_to_b, b_to_a);
    if (i < 0)
        return i;
    keel_stack *st = a->net->host[0];
    int s = keel_socket(st, KEEL_SOCK_STREAM);
    if (s < 0)
        return s;
    struct keel_sockaddr to = {SC_ADDR_B, a->listen_port[1]}, me;
    int err = keel_connect(st, s, &to);
    if (err != KEEL_EINPROGRESS)
        return err < 0 ? err : KEEL_EINVAL;
    keel_getsockname(st, s, &me);
    map_sock(a, i, s);
    set_ports(a, i, me.port, to.port);
    return i;
}

int sc_app_connect_simultaneous(struct sc_app *a, uint16_t pa, uint16_t pb,
                                uint64_t a_to_b, uint64_t b_to_a)
{
    int i = add_pair(a, a_to_b, b_to_a);
    if (i < 0)
        return i;
    int s[2];
    for (int h = 0; h < 2; h++) {
        keel_stack *st = a->net->host[h];
        s[h] = keel_socket(st, KEEL_SOCK_STREAM);
        if (s[h] < 0)
            return s[h];
        struct keel_sockaddr me = {0, h ? pb : pa};
        int err = keel_bind(st, s[h], &me);
        if (err)
            return err;
    }
    for (int h = 0; h < 2; h++) { /* no time passes between the two calls */
        struct keel_sockaddr to = {h ? SC_ADDR_A : SC_ADDR_B, h ? pa : pb};
        int err = keel_connect(a->net->host[h], s[h], &to);
        if (err != KEEL_EINPROGRESS)
            return err < 0 ? err : KEEL_EINVAL;
        map_sock(a, i + h, s[h]);
    }
    set_ports(a, i, pa, pb);
    return i;
}

bool sc_conn_saw(const struct sc_conn *c, int state)
{
    return (c->states_seen >> state) & 1u;
}

/* ---- serving connections ---- */

static void note_error(struct sc_conn *c, long err)
{
    if (!c->error)
        c->error = (int)err;
}

static bool pump_recv(struct sc_app *a, struct sc_conn *c, keel_stack *st)
{
    uint8_t buf[CHUNK];
    bool progress = false;
    while (!c->eof && !c->pause_reads) {
        long n = keel_recv(st, c->sock, buf, sizeof buf, 0);
        if (n == KEEL_EAGAIN)
            break;
        if (n < 0) {
            note_error(c, n);
            break;
        }
        progress = true;
        if (n == 0) {
            c->eof = true;
            c->eof_us = now_of(a);
            break;
        }
        long bad = stream_mismatch(c->recv_key, c->received, buf, (size_t)n);
        if (bad >= 0 && c->corrupt_at < 0)
            c->corrupt_at = (long)(c->received + (uint64_t)bad);
        c->received += (uint64_t)n;
    }
    return progress;
}

static bool pump_send(struct sc_app *a, struct sc_conn *c, keel_stack *st)
{
    uint8_t buf[CHUNK];
    bool progress = false;
    while (c->sent < c->to_send) {
        uint64_t left = c->to_send - c->sent;
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        stream_fill(c->send_key, c->sent, buf, n);
        long put = keel_send(st, c->sock, buf, n, 0);
        if (put == KEEL_EAGAIN)
            return progress;
        if (put < 0) {
            note_error(c, put);
            return progress;
        }
        c->sent += (uint64_t)put;
        c->last_send_us = now_of(a);
        progress = true;
    }
    if (!c->shut && now_of(a) >= c->shut_at_us) {
        int err = keel_shutdown(st, c->sock, KEEL_SHUT_WR);
        if (err < 0)
            note_error(c, err);
        c->shut = true;
        c->shut_us = now_of(a);
        progress = true;
    }
    return progress;
}

static bool maybe_close(struct sc_app *a, struct sc_conn *c, keel_stack *st)
{
    if (c->closed || c->keep_open || !c->eof || !c->shut || c->error)
        return false;
    if (c->sock >= 0 && (uint32_t)c->sock < SC_MAX_SOCKETS)
        a->sock_conn[c->host][c->sock] = -1;
    keel_close(st, c->sock);
    c->closed = true;
    return true;
}

static bool serve(struct sc_app *a, int i)
{
    struct sc_conn *c = &a->conn[i];
    if (c->sock < 0 || c->closed || c->error)
        return false;
    keel_stack *st = a->net->host[c->host];
    bool progress = pump_recv(a, c, st);
    progress |= pump_send(a, c, st);
    progress |= maybe_close(a, c, st);
    return progress;
}

void sc_app_kick(struct sc_app *a, int i)
{
    if (serve(a, i))
        a->last_progress_us = now_of(a);
}

/* Takes every connection waiting on host h's listener. */
static bool accept_all(struct sc_app *a, int h)
{
    keel_stack *st = a->net->host[h];
    bool progress = false;
    struct keel_sockaddr peer;
    int s;
    while ((s = keel_accept(st, a->listen_sock[h], &peer)) >= 0) {
        progress = true;
        int found = -1;
        for (int i = 0; i < a->nconns && found < 0; i++) {
            const struct sc_conn *c = &a->conn[i];
            if (c->host == h && c->sock < 0 && c->rport == peer.port)
                found = i;
        }
        if (found < 0) {
            keel_close(st, s); /* not ours: never happens unless keel is wrong */
            a->stray = true;
            say(a->why, sizeof a->why, "host %c accepted an unknown connection from port %u",
                "AB"[h], peer.port);
            continue;
        }
        map_sock(a, found, s);
        a->conn[found].accepted_us = now_of(a);
        serve(a, found);
    }
    return progress;
}

static bool dispatch(struct sc_app *a, int h, int sock)
{
    if (sock == a->listen_sock[h])
        return accept_all(a, h);
    if (sock < 0 || (uint32_t)sock >= SC_MAX_SOCKETS || a->sock_conn[h][sock] < 0)
        return false;
    return serve(a, a->sock_conn[h][sock]);
}

/* Connections whose plan waits for the clock: a delayed shutdown. */
static bool serve_due(struct sc_app *a)
{
    bool progress = false;
    for (int i = 0; i < a->nconns; i++) {
        struct sc_conn *c = &a->conn[i];
        if (c->sock >= 0 && !c->shut && !c->closed && c->sent == c->to_send &&
            c->shut_at_us && now_of(a) >= c->shut_at_us)
            progress |= serve(a, i);
    }
    return progress;
}

struct state_visit {
    struct sc_app *a;
    int host;
    bool changed;
};

static int note_state(void *arg, int sock, const struct keel_tcp_info *info)
{
    (void)sock;
    struct state_visit *v = arg;
    if (!info->remote_port)
        return 0;
    for (int i = 0; i < v->a->nconns; i++) {
        struct sc_conn *c = &v->a->conn[i];
        if (c->host != v->host || c->lport != info->local_port ||
            c->rport != info->remote_port)
            continue;
        uint32_t bit = 1u << info->state;
        v->changed |= !(c->states_seen & bit);
        c->states_seen |= bit;
    }
    return 0;
}

static bool sample_states(struct sc_app *a)
{
    bool changed = false;
    for (int h = 0; h < 2; h++) {
        struct state_visit v = {a, h, false};
        keel_visit_sockets(a->net->host[h], note_state, &v);
        changed |= v.changed;
    }
    return changed;
}

/* Serves whatever happened during the last step. */
static void drive(struct sc_app *a)
{
    bool progress = false;
    struct keel_event ev[64];
    for (int h = 0; h < 2; h++) {
        int n;
        while ((n = keel_take_events(a->net->host[h], ev, 64)) > 0)
            for (int k = 0; k < n; k++)
                progress |= dispatch(a, h, ev[k].sock);
    }
    progress |= serve_due(a);
    if (a->track_states)
        progress |= sample_states(a);
    if (progress)
        a->last_progress_us = now_of(a);
    if (a->hook)
        a->hook(a, a->hook_arg);
}

static bool conn_done(const struct sc_conn *c)
{
    return c->sent == c->to_send && c->shut && c->eof && c->received == c->to_recv &&
           (c->closed || c->keep_open);
}

static void describe_conn(struct sc_app *a, int i)
{
    const struct sc_conn *c = &a->conn[i];
    const char *state = "-";
    struct keel_tcp_info info;
    if (c->sock >= 0 && !c->closed && keel_tcp_info(a->net->host[c->host], c->sock, &info) == 0)
        state = keel_tcp_state_name(info.state);
    say_more(a->why, sizeof a->why,
             "\n  conn %d on %c %u->%u: %s, sent %" PRIu64 "/%" PRIu64 ", received %" PRIu64
             "/%" PRIu64 "%s%s%s, error %s",
             i, "AB"[c->host], c->lport, c->rport, state, c->sent, c->to_send, c->received,
             c->to_recv, c->shut ? ", shut" : "", c->eof ? ", eof" : "",
             c->closed ? ", closed" : "", c->error ? keel_strerror(c->error) : "none");
}

static bool conn_failed(struct sc_app *a, int i)
{
    const struct sc_conn *c = &a->conn[i];
    if (c->corrupt_at >= 0)
        say(a->why, sizeof a->why, "conn %d: stream byte %ld is wrong", i, c->corrupt_at);
    else if (c->received > c->to_recv || (c->eof && c->received != c->to_recv))
        say(a->why, sizeof a->why, "conn %d: %" PRIu64 " bytes arrived, %" PRIu64 " were sent",
            i, c->received, c->to_recv);
    else if (c->error)
        say(a->why, sizeof a->why, "conn %d failed: %s", i, keel_strerror(c->error));
    else
        return false;
    describe_conn(a, i);
    return true;
}

static enum sc_status app_status(struct sc_app *a)
{
    if (a->stray)
        return SC_FAILED;
    bool all_done = true;
    for (int i = 0; i < a->nconns; i++) {
        if (conn_failed(a, i))
            return SC_FAILED;
        all_done &= conn_done(&a->conn[i]);
    }
    if (all_done)
        return SC_DONE;
    if (now_of(a) - a->last_progress_us > a->stall_us)
        return SC_STALLED;
    return SC_RUNNING;
}

static uint64_t next_wake(const struct sc_app *a)
{
    uint64_t now = now_of(a), t = UINT64_MAX;
    for (int i = 0; i < a->nconns; i++) {
        const struct sc_conn *c = &a->conn[i];
        if (!c->shut && c->shut_at_us > now && c->shut_at_us < t)
            t = c->shut_at_us;
    }
    if (a->wake_us > now && a->wake_us < t)
        t = a->wake_us;
    return t;
}

static void describe_unfinished(struct sc_app *a)
{
    int shown = 0;
    for (int i = 0; i < a->nconns && shown < 4; i++) {
        if (!conn_done(&a->conn[i])) {
            describe_conn(a, i);
            shown++;
        }
    }
}

enum sc_status sc_app_run(struct sc_app *a, uint64_t limit_us)
{
    struct sim_world *w = &a->net->w;
    drive(a);
    enum sc_status s = app_status(a);
    while (s == SC_RUNNING && w->now_us < limit_us) {
        uint64_t lim = a->last_progress_us + a->stall_us + 1;
        uint64_t wake = next_wake(a);
        if (lim > limit_us)
            lim = limit_us;
        if (wake < lim)
            lim = wake;
        world_step(w, lim);
        drive(a);
        s = app_status(a);
    }
    if (s == SC_RUNNING)
        s = SC_TIMEOUT;
    if (s == SC_STALLED || s == SC_TIMEOUT) {
        say(a->why, sizeof a->why, "%s at %" PRIu64 " us, last progress at %" PRIu64 " us",
            sc_status_name(s), w->now_us, a->last_progress_us);
        describe_unfinished(a);
    }
    return s;
}

/* ---- settling ---- */

static bool held_by_app(const struct sc_app *a, int h, int sock)
{
    if (sock == a->listen_sock[h])
        return true;
    for (int i = 0; i < a->nconns; i++) {
        const struct sc_conn *c = &a->conn[i];
        if (c->host == h && c->sock == sock && !c->closed)
            return true;
    }
    return false;
}

struct leftover_visit {
    const struct sc_app *a;
    int host;
    bool time_wait_ok; /* orphans in TIME-WAIT are still allowed */
    int count;
    char *why;
    size_t cap;
};

static int note_leftover(void *arg, int sock, const struct keel_tcp_info *info)
{
    struct leftover_visit *v = arg;
    if (sock >= 0 && held_by_app(v->a, v->host, sock))
        return 0;
    if (v->time_wait_ok && sock < 0 && info->state == KEEL_TCP_TIME_WAIT)
        return 0;
    if (v->count++ < 4 && v->why)
        say_more(v->why, v->cap, "\n  host %c: socket %d %u->%u in %s since %" PRIu64 " us",
                 "AB"[v->host], sock, info->local_port, info->remote_port,
                 keel_tcp_state_name(info->state), info->state_since_us);
    return 0;
}

/* Sockets on either host the application does not hold (TIME-WAIT orphans
 * excepted when time_wait_ok), described into why when it is not NULL. */
static int count_leftovers(const struct sc_app *a, bool time_wait_ok, char *why, size_t cap)
{
    int count = 0;
    for (int h = 0; h < 2; h++) {
        struct leftover_visit v = {a, h, time_wait_ok, 0, why, cap};
        keel_visit_sockets(a->net->host[h], note_leftover, &v);
        count += v.count;
    }
    return count;
}

static void step_until(struct sc_app *a, uint64_t until_us)
{
    world_step(&a->net->w, until_us);
    drive(a);
}

bool sc_app_settle(struct sc_app *a)
{
    struct sim_world *w = &a->net->w;
    uint64_t deadline = w->now_us + SETTLE_CLOSING_US;
    while (count_leftovers(a, true, NULL, 0) > 0) {
        if (w->now_us >= deadline) {
            say(a->why, sizeof a->why,
                "connections still closing %" PRIu64 " s after the transfer (at %" PRIu64
                " us):", SETTLE_CLOSING_US / SEC, w->now_us);
            count_leftovers(a, true, a->why, sizeof a->why);
            return false;
        }
        step_until(a, deadline);
    }
    uint64_t end = w->now_us + SETTLE_IDLE_US;
    while (w->now_us < end)
        step_until(a, end);
    a->why[0] = 0;
    if (count_leftovers(a, false, NULL, 0) == 0)
        return true;
    say(a->why, sizeof a->why, "sockets left %" PRIu64 " s after the last close handshake:",
        SETTLE_IDLE_US / SEC);
    count_leftovers(a, false, a->why, sizeof a->why);
    return false;
}

/* ---- a randomized run ---- */

static void fill_report(struct sc_report *r, const struct sc_net *n)
{
    for (int h = 0; h < 2; h++) {
        keel_counters(n->host[h], &r->ctr[h]);
        r->link[h] = *sim_link_stats(n->link, h);
    }
    r->trace_hash = n->trace_hash;
    r->npkts = n->npkts;
}

static bool start_conns(struct sc_app *a, const struct sc_spec *spec, char *why, size_t cap)
{
    int err = sc_app_listen(a, 1, 5001);
    int n = spec->nconns ? spec->nconns : 1;
    for (int k = 0; k < n && !err; k++) {
        int i = sc_app_connect(a, spec->a_to_b, spec->b_to_a);
        err = i < 0 ? i : 0;
    }
    if (err)
        say(why, cap, "setting up: %s", keel_strerror(err));
    return !err;
}

static bool run_app(struct sc_app *a, const struct sc_spec *spec, struct sc_report *r)
{
    uint64_t start = now_of(a);
    uint64_t limit = start + (spec->limit_us ? spec->limit_us : DEFAULT_LIMIT_US);
    if (!start_conns(a, spec, r->why, sizeof r->why))
        return false;
    r->status = sc_app_run(a, limit);
    r->duration_us = now_of(a) - start;
    bool ok = r->status == SC_DONE && sc_app_settle(a);
    if (!ok)
        say(r->why, sizeof r->why, "%s", a->why);
    return ok;
}

bool sc_run_bulk(uint64_t seed, const struct sc_spec *spec, struct sc_report *r,
                 struct sc_net *net)
{
    struct sc_net local;
    struct sc_net *n = net ? net : &local;
    memset(r, 0, sizeof *r);
    int err = sc_net_init(n, seed, &spec->link, &spec->cfg, spec->fast_path_disabled);
    bool ok = err == 0;
    if (!ok)
        say(r->why, sizeof r->why, "setting up the network: %s", keel_strerror(err));
    struct sc_app *a = ok ? malloc(sizeof *a) : NULL;
    if (ok && !a) {
        say(r->why, sizeof r->why, "out of memory");
        ok = false;
    }
    if (ok) {
        n->record = spec->record;
        n->filter = spec->filter;
        n->filter_arg = spec->filter_arg;
        sc_app_init(a, n, seed);
        ok = run_app(a, spec, r);
        fill_report(r, n);
    }
    free(a);
    if (!net)
        sc_net_free(n);
    return ok;
}

void sc_spec_random(uint64_t seed, struct sc_spec *s)
{
    memset(s, 0, sizeof *s);
    s->link.delay_us = sc_pick(seed, 1, 1000, 40000);
    s->link.jitter_us = sc_pick(seed, 2, 0, 1) ? sc_pick(seed, 3, 0, s->link.delay_us / 4) : 0;
    s->a_to_b = sc_pick(seed, 4, 64, 512) * 1024 + sc_pick(seed, 5, 0, 1023);
    s->b_to_a = sc_pick(seed, 6, 0, 3) ? sc_pick(seed, 7, 0, 128 * 1024) : 0;
    s->cfg.no_sack = sc_pick(seed, 8, 0, 3) == 0;
    s->cfg.no_timestamps = sc_pick(seed, 9, 0, 3) == 0;
    s->cfg.no_window_scaling = sc_pick(seed, 10, 0, 5) == 0;
    if (sc_pick(seed, 11, 0, 4) == 0) { /* small buffers: window-limited */
        s->cfg.rcvbuf = (uint32_t)sc_pick(seed, 12, 8, 64) * 1024;
        s->cfg.sndbuf = (uint32_t)sc_pick(seed, 13, 8, 64) * 1024;
    }
}

void sc_spec_describe(const struct sc_spec *s, char *buf, size_t cap)
{
    const struct sim_link_config *l = &s->link;
    say(buf, cap,
        "%d conn(s) of %" PRIu64 "/%" PRIu64 " bytes; delay %" PRIu64 " us jitter %" PRIu64
        " loss %u burst %u/%u reorder %u dup %u corrupt %u ppm rate %" PRIu64
        " bps queue %u mtu %u; %s%s%s rcvbuf %u sndbuf %u%s",
        s->nconns ? s->nconns : 1, s->a_to_b, s->b_to_a, l->delay_us, l->jitter_us,
        l->loss_ppm, l->burst_enter_ppm, l->burst_exit_ppm, l->reorder_ppm, l->dup_ppm,
        l->corrupt_ppm, l->rate_bps, l->queue_bytes, l->mtu, s->cfg.no_sack ? "nosack " : "",
        s->cfg.no_timestamps ? "nots " : "", s->cfg.no_window_scaling ? "nows " : "",
        s->cfg.rcvbuf, s->cfg.sndbuf, s->fast_path_disabled ? " no-fast-path" : "");
}

void sc_report_print(const char *name, uint64_t seed, const struct sc_report *r)
{
    if (!getenv("KEEL_SIM_VERBOSE"))
        return;
    const uint64_t *a = r->ctr[0].v, *b = r->ctr[1].v;
    printf("%s seed %" PRIu64 ": %s in %.3f s, %" PRIu64 " packets, retrans %" PRIu64 "/%" PRIu64
           ", timeouts %" PRIu64 "/%" PRIu64 ", fast retrans %" PRIu64 "/%" PRIu64
           ", lost %" PRIu64 "+%" PRIu64 "\n",
           name, seed, sc_status_name(r->status), (double)r->duration_us / 1e6, r->npkts,
           a[KEEL_C_TcpRetransSegs], b[KEEL_C_TcpRetransSegs], a[KEEL_C_TCPTimeouts],
           b[KEEL_C_TCPTimeouts], a[KEEL_C_TCPFastRetrans], b[KEEL_C_TCPFastRetrans],
           r->link[0].lost_random + r->link[0].lost_burst + r->link[0].dropped_queue,
           r->link[1].lost_random + r->link[1].lost_burst + r->link[1].dropped_queue);
}

/* ---- drop rules ---- */

struct sc_drop *sc_drops_add(struct sc_drops *d, int host, uint8_t mask, uint8_t want,
                             int payload, int skip, int count)
{
    if (d->nrules == SC_MAX_DROP_RULES)
        return NULL;
    struct sc_drop *r = &d->rule[d->nrules++];
    memset(r, 0, sizeof *r);
    r->host = host;
    r->mask = mask;
    r->want = want;
    r->payload = payload;
    r->skip = skip;
    r->count = count;
    return r;
}

static void count_sent(struct sc_drops *d, const struct sc_pkt *p)
{
    uint8_t f = p->h.flags;
    int h = p->host;
    if ((f & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN)
        d->syn[h]++;
    if ((f & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == (TCP_FLAG_SYN | TCP_FLAG_ACK))
        d->synack[h]++;
    if (f & TCP_FLAG_FIN)
        d->fin[h]++;
    if (f & TCP_FLAG_RST)
        d->rst[h]++;
    if (p->payload_len)
        d->data[h]++;
    else if ((f & ~TCP_FLAG_PSH) == TCP_FLAG_ACK)
        d->pure_ack[h]++;
}

static bool rule_matches(const struct sc_drop *r, const struct sc_pkt *p)
{
    if (r->host != p->host || (p->h.flags & r->mask) != r->want)
        return false;
    return r->payload < 0 || (r->payload > 0) == (p->payload_len > 0);
}

bool sc_drops_filter(void *arg, const struct sc_pkt *p)
{
    struct sc_drops *d = arg;
    if (!p->tcp)
        return false;
    count_sent(d, p);
    bool drop = false;
    for (int i = 0; i < d->nrules; i++) {
        struct sc_drop *r = &d->rule[i];
        if (!rule_matches(r, p) || r->matched++ < r->skip || r->dropped >= r->count)
            continue;
        if (!r->dropped)
            r->first_drop_us = p->now_us;
        r->last_drop_us = p->now_us;
        r->dropped++;
        drop = true;
    }
    return drop;
}
