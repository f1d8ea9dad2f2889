/* Stories 2 and 4 of SCENARIOS.md: short connections in a loop. */
#include <stdio.h>
#include <string.h>

#include "sim/stories.h"
#include "sim/world.h"

#define ADDR_C 0xc0000201u
#define ADDR_S 0xc0000202u
#define PORT 7000
#define MAX_OPEN 64

struct server {
    keel_stack *st;
    int listener;
    int open[MAX_OPEN]; /* accepted, not yet done with */
    int nopen;
    bool leak;          /* story 4: answer, then never close */
};

struct client {
    keel_stack *st;
    int sock;           /* -1 between connections */
    uint32_t answer;    /* bytes of answer to read before closing; 0: read to EOF */
    uint32_t got;
    bool sent, connected;
    uint64_t started_us, connected_us;
};

static int server_listen(struct server *s)
{
    s->listener = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, PORT};
    if (keel_bind(s->st, s->listener, &a) < 0 || keel_listen(s->st, s->listener, 128) < 0)
        return -1;
    return 0;
}

/* Reads the 4-byte request; story 2 then closes, story 4 answers and keeps
 * the socket forever. Returns true when the socket is done with. */
static bool server_serve(struct server *s, int sock)
{
    char buf[64];
    long n = keel_recv(s->st, sock, buf, sizeof buf, 0);
    if (n == KEEL_EAGAIN)
        return false;
    if (s->leak) {
        if (n > 0)
            keel_send(s->st, sock, "ok", 2, 0);
        return true; /* leaked: the handle is never closed */
    }
    keel_close(s->st, sock);
    return true;
}

static void server_step(struct server *s)
{
    int c;
    while (s->nopen < MAX_OPEN && (c = keel_accept(s->st, s->listener, NULL)) >= 0)
        s->open[s->nopen++] = c;
    for (int i = 0; i < s->nopen;) {
        if (server_serve(s, s->open[i]))
            s->open[i] = s->open[--s->nopen];
        else
            i++;
    }
}

static int client_connect(struct client *c, bool linger0, uint64_t now_us)
{
    c->sock = keel_socket(c->st, KEEL_SOCK_STREAM);
    int one = 1;
    keel_setsockopt(c->st, c->sock, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &one, sizeof one);
    if (linger0) {
        struct keel_linger l = {1, 0};
        keel_setsockopt(c->st, c->sock, KEEL_SOL_SOCKET, KEEL_SO_LINGER, &l, sizeof l);
    }
    struct keel_sockaddr to = {ADDR_S, PORT};
    c->sent = c->connected = false;
    c->got = 0;
    c->started_us = now_us;
    int err = keel_connect(c->st, c->sock, &to);
    return err == KEEL_EINPROGRESS ? 0 : err;
}

/* Drives one connection; returns 1 when it completed, 0 while under way, or
 * a negative keel_err. */
static int client_step(struct client *c, uint64_t now_us)
{
    int ready = keel_readiness(c->st, c->sock);
    if (!c->connected) {
        if (ready & KEEL_POLLERR)
            return KEEL_ECONNREFUSED;
        if (!(ready & KEEL_POLLOUT))
            return 0;
        c->connected = true;
        c->connected_us = now_us;
    }
    if (!c->sent) {
        if (keel_send(c->st, c->sock, "ping", 4, 0) != 4)
            return KEEL_EPIPE;
        c->sent = true;
    }
    char buf[64];
    long n;
    while ((n = keel_recv(c->st, c->sock, buf, sizeof buf, 0)) > 0)
        c->got += (uint32_t)n;
    bool done = c->answer ? c->got >= c->answer : n == 0;
    if (!done)
        return n == KEEL_EAGAIN || n >= 0 ? 0 : (int)n;
    keel_close(c->st, c->sock);
    c->sock = -1;
    return 1;
}

struct loop {
    struct sim_world w;
    keel_stack *cs, *ss;
    struct server srv;
    struct client cli;
};

static int loop_init(struct loop *l, uint64_t seed, const struct sim_link_config *lc,
                     const struct keel_config *ccfg, const struct keel_config *scfg, bool leak)
{
    world_init(&l->w, seed);
    struct sim_link *link = world_add_link(&l->w, lc);
    l->cs = world_add_host(&l->w, ccfg, link, 0);
    l->ss = world_add_host(&l->w, scfg, link, 1);
    if (!l->cs || !l->ss)
        return -1;
    memset(&l->srv, 0, sizeof l->srv);
    l->srv.st = l->ss;
    l->srv.leak = leak;
    l->cli.st = l->cs;
    l->cli.sock = -1;
    l->cli.answer = leak ? 2 : 0;
    return server_listen(&l->srv);
}

/* Runs until the current connection completes or fails (or until limit). */
static int run_one(struct loop *l, bool linger0, uint64_t limit_us, struct story_result *r)
{
    int err = client_connect(&l->cli, linger0, l->w.now_us);
    if (err)
        return err;
    int st = 0;
    while (st == 0 && l->w.now_us < limit_us) {
        world_step(&l->w, limit_us);
        server_step(&l->srv);
        st = client_step(&l->cli, l->w.now_us);
    }
    if (st <= 0)
        return st ? st : KEEL_ETIMEDOUT;
    uint64_t total = l->w.now_us - l->cli.started_us;
    uint64_t connect = l->cli.connected_us - l->cli.started_us;
    if (total > r->slowest_conn_us)
        r->slowest_conn_us = total;
    if (connect > r->slowest_connect_us)
        r->slowest_connect_us = connect;
    r->connections++;
    return 0;
}

struct leftovers {
    uint64_t count, close_wait, oldest_us, now_us;
};

static int count_socket(void *arg, int sock, const struct keel_tcp_info *i)
{
    struct leftovers *l = arg;
    (void)sock;
    if (i->state == KEEL_TCP_LISTEN)
        return 0;
    l->count++;
    if (i->state == KEEL_TCP_CLOSE_WAIT) {
        l->close_wait++;
        if (l->now_us - i->state_since_us > l->oldest_us)
            l->oldest_us = l->now_us - i->state_since_us;
    }
    return 0;
}

static struct leftovers leftovers(keel_stack *st, uint64_t now_us)
{
    struct leftovers l = {0, 0, 0, now_us};
    keel_visit_sockets(st, count_socket, &l);
    return l;
}

/* Runs the world for us of virtual time with no application activity. */
static void settle(struct loop *l, uint64_t us)
{
    uint64_t until = l->w.now_us + us;
    while (world_step(&l->w, until))
        server_step(&l->srv);
}

void story_rst_reorder(uint64_t seed, uint64_t iterations, struct story_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    struct loop l;
    /* A loopback-like path: 25 us one way; 10% of segments swap places with
     * the next one (a lone one is held 25 us at most). */
    struct sim_link_config lc = {.delay_us = 25, .reorder_ppm = 100000, .reorder_hold_us = 25};
    struct keel_config cc = {.addr = ADDR_C, .ephemeral_lo = 40000, .ephemeral_hi = 40063,
                             .log = stderr};
    struct keel_config sc = {.addr = ADDR_S, .log = stderr};
    if (loop_init(&l, seed, &lc, &cc, &sc, false) < 0) {
        story_fail(r, "could not set up the world");
        world_free(&l.w);
        return;
    }
    uint64_t start = l.w.now_us;
    for (uint64_t i = 0; i < iterations && r->ok; i++) {
        int err = run_one(&l, true, l.w.now_us + 60000000, r);
        if (err)
            story_fail(r, "connection %llu failed: %s", (unsigned long long)i, keel_strerror(err));
    }
    r->virtual_us = l.w.now_us - start;
    r->bytes_up = 4 * r->connections;
    /* Nothing should linger: no FIN-WAIT-2 or TIME-WAIT on either side once
     * the last RST has had a second to arrive. Then let every timer run out
     * (a stale FIN-WAIT-2 would time out and be named by the watchdog). */
    settle(&l, 1000000);
    struct leftovers lc_left = leftovers(l.cs, l.w.now_us), ls_left = leftovers(l.ss, l.w.now_us);
    settle(&l, 61000000);
    keel_stack *hosts[2] = {l.cs, l.ss};
    story_collect(r, hosts, 2);
    if (r->slowest_conn_us >= 200000) /* an RTO (200 ms and up) would show here */
        story_fail(r, "the slowest connection took %.3f ms", r->slowest_conn_us / 1e3);
    if (lc_left.count || ls_left.count)
        story_fail(r, "sockets left behind: %llu on the client, %llu on the server",
                   (unsigned long long)lc_left.count, (unsigned long long)ls_left.count);
    story_require_silent_watchdog(r, 0);
    world_free(&l.w);
}

void story_close_wait_leak(uint64_t seed, uint64_t connections, struct story_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    struct loop l;
    struct sim_link_config lc = {.delay_us = 500};
    /* No log: these clients' FIN-WAIT-2 timeouts are the expected, counted
     * consequence of the server's leak. */
    struct keel_config cc = {.addr = ADDR_C, .ephemeral_lo = 50000, .ephemeral_hi = 50015,
                             .fin_timeout_us = 2000000};
    /* The server logs: each leaked socket is reported with its CLOSE_WAIT age. */
    struct keel_config sc = {.addr = ADDR_S, .close_wait_idle_us = 10000000, .log = stderr};
    if (loop_init(&l, seed, &lc, &cc, &sc, true) < 0) {
        story_fail(r, "could not set up the world");
        world_free(&l.w);
        return;
    }
    uint64_t start = l.w.now_us;
    for (uint64_t i = 0; i < connections && r->ok; i++) {
        int err = run_one(&l, false, l.w.now_us + 60000000, r);
        if (err)
            story_fail(r, "connect %llu failed: %s", (unsigned long long)i, keel_strerror(err));
        settle(&l, 200000); /* the next client comes 200 ms later */
    }
    settle(&l, 11000000);
    r->virtual_us = l.w.now_us - start;
    r->bytes_up = 4 * r->connections;
    r->bytes_down = 2 * r->connections;
    struct leftovers left = leftovers(l.ss, l.w.now_us);
    r->leaked = left.close_wait;
    r->leaked_oldest_us = left.oldest_us;
    keel_stack *hosts[2] = {l.cs, l.ss};
    story_collect(r, hosts, 2);
    if (r->slowest_connect_us >= 200000)
        story_fail(r, "the slowest connect took %.3f ms", r->slowest_connect_us / 1e3);
    if (!r->leaked || !r->stalls[KEEL_STALL_CLOSE_WAIT_IDLE])
        story_fail(r, "the leaked CLOSE_WAIT sockets were not reported by the watchdog");
    /* Expected here: the application leaks, reused ports meet the leaks, and
     * the clients' FIN-WAIT-2 gives up on FINs that will never come. */
    story_require_silent_watchdog(r, 1u << KEEL_STALL_CLOSE_WAIT_IDLE | 1u << KEEL_STALL_HALF_OPEN |
                                         1u << KEEL_STALL_FIN_WAIT_2_TIMEOUT);
    world_free(&l.w);
}
