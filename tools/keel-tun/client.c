/* keel-tun's clients: connect (nc-like), get (an HTTP/1.1 GET, RFC 9112
 * framing by Content-Length or the connection's end) and echo-client (many
 * concurrent connections checking an echo server). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kt.h"

#define BUF 65536

/* Opens a socket and starts its handshake. Returns the socket or -1. */
static int start_connect(struct kt *k, const struct keel_sockaddr *to)
{
    int s = keel_socket(k->st, KEEL_SOCK_STREAM);
    if (s < 0) {
        fprintf(stderr, "keel-tun: socket: %s\n", keel_strerror(s));
        return -1;
    }
    kt_sockopts(k, s);
    int err = keel_connect(k->st, s, to);
    if (err != KEEL_EINPROGRESS && err != 0) {
        fprintf(stderr, "keel-tun: connect: %s\n", keel_strerror(err));
        keel_close(k->st, s);
        return -1;
    }
    return s;
}

/* 1: connected, 0: not yet, negative: the handshake failed. */
static int connected(struct kt *k, int s)
{
    int r = keel_readiness(k->st, s);
    if (r & (KEEL_POLLERR | KEEL_POLLHUP)) { /* HUP alone: both ways shut, cleanly */
        int err = 0;
        size_t len = sizeof err;
        keel_getsockopt(k->st, s, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &err, &len);
        if (err)
            return err > 0 ? -err : err;
        return (r & KEEL_POLLERR) ? KEEL_ECONNRESET : 1;
    }
    return (r & KEEL_POLLOUT) ? 1 : 0;
}

/* Blocking writes, even when fd shares a non-blocking file description
 * with stdin (a terminal): EAGAIN waits for room. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, -1);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- connect: stdin to the peer, the peer to stdout ---- */

struct nc {
    int s;
    bool up, in_eof, shut;
    uint8_t in[BUF];
    size_t in_len, in_off;
};

static bool nc_stdin(struct nc *c, const struct pollfd *p)
{
    if (!(p->revents & (POLLIN | POLLHUP | POLLERR)))
        return true;
    ssize_t n = read(0, c->in, sizeof c->in);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (n == 0)
        c->in_eof = true;
    c->in_len = (size_t)n;
    c->in_off = 0;
    return true;
}

/* Moves bytes both ways. Returns false when done or failed (*rc says). */
static bool nc_pump(struct kt *k, struct nc *c, int *rc)
{
    uint8_t buf[BUF];
    while (c->in_off < c->in_len) {
        long w = keel_send(k->st, c->s, c->in + c->in_off, c->in_len - c->in_off, 0);
        if (w == KEEL_EAGAIN)
            break;
        if (w < 0) {
            fprintf(stderr, "keel-tun: send: %s\n", keel_strerror((int)w));
            return *rc = 1, false;
        }
        c->in_off += (size_t)w;
        kt_progress(k);
    }
    if (c->in_eof && c->in_off == c->in_len && !c->shut) {
        keel_shutdown(k->st, c->s, KEEL_SHUT_WR);
        c->shut = true;
    }
    long n;
    while ((n = keel_recv(k->st, c->s, buf, sizeof buf, 0)) > 0) {
        kt_progress(k);
        if (write_all(1, buf, (size_t)n) < 0)
            return *rc = 1, false;
    }
    if (n == 0)
        return *rc = 0, false;
    if (n != KEEL_EAGAIN) {
        fprintf(stderr, "keel-tun: recv: %s\n", keel_strerror((int)n));
        return *rc = 1, false;
    }
    return true;
}

int mode_connect(struct kt *k)
{
    struct keel_sockaddr to;
    if (kt_parse_hostport(k->o->target, &to) < 0) {
        fprintf(stderr, "keel-tun: connect: want A.B.C.D:PORT, got '%s'\n", k->o->target);
        return 2;
    }
    struct nc *c = calloc(1, sizeof *c);
    if (!c || (c->s = start_connect(k, &to)) < 0) {
        free(c);
        return 1;
    }
    int stdin_flags = fcntl(0, F_GETFL);
    fcntl(0, F_SETFL, stdin_flags | O_NONBLOCK);
    int rc = 1;
    struct pollfd p = {.fd = 0};
    for (;;) {
        bool want_in = c->up && !c->in_eof && c->in_off == c->in_len;
        p.fd = want_in ? 0 : -1;
        p.events = POLLIN;
        if (!kt_turn(k, &p, 1))
            break;
        int up = c->up ? 1 : connected(k, c->s);
        if (up < 0) {
            fprintf(stderr, "keel-tun: connect: %s\n", keel_strerror(up));
            break;
        }
        c->up = up == 1;
        if (c->up && (!nc_stdin(c, &p) || !nc_pump(k, c, &rc)))
            break;
    }
    fcntl(0, F_SETFL, stdin_flags);
    keel_close(k->st, c->s);
    kt_linger(k, 3000000);
    free(c);
    return rc;
}

/* ---- get: an HTTP/1.1 GET ---- */

struct get {
    int s;
    FILE *out;
    char head[16384];
    size_t head_len;
    bool have_head, sent, chunked;
    int status;
    int64_t length;             /* Content-Length, -1 if none */
    uint64_t body, start;
    char req[1200];
    size_t req_len, req_off;
};

static int parse_url(const char *url, struct keel_sockaddr *to, char *host, size_t hcap,
                     const char **path)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= hcap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    *path = slash ? slash : "/";
    char hp[80];
    snprintf(hp, sizeof hp, "%s%s", host, strchr(host, ':') ? "" : ":80");
    return kt_parse_hostport(hp, to);
}

static int64_t find_length(const char *head, bool *chunked)
{
    int64_t len = -1;
    for (const char *p = head; (p = strchr(p, '\n')) != NULL;) {
        p++;
        if (strncasecmp(p, "content-length:", 15) == 0)
            len = strtoll(p + 15, NULL, 10);
        if (strncasecmp(p, "transfer-encoding:", 18) == 0 && strcasestr(p, "chunked"))
            *chunked = true;
    }
    return len;
}

/* Splits the response head off; the rest of buf is body. */
static size_t take_head(struct get *g, const uint8_t *buf, size_t n)
{
    size_t room = sizeof g->head - 1 - g->head_len, take = n < room ? n : room;
    memcpy(g->head + g->head_len, buf, take);
    g->head_len += take;
    g->head[g->head_len] = 0;
    char *end = strstr(g->head, "\r\n\r\n");
    if (!end)
        return g->head_len == sizeof g->head - 1 ? (size_t)-1 : n;
    size_t head_bytes = (size_t)(end - g->head) + 4, extra = g->head_len - head_bytes;
    end[2] = 0;
    g->have_head = true;
    sscanf(g->head, "HTTP/%*d.%*d %d", &g->status);
    g->length = find_length(g->head, &g->chunked);
    return take - extra;
}

static int get_body(struct get *g, const uint8_t *p, size_t n)
{
    if (g->length >= 0 && g->body + n > (uint64_t)g->length)
        n = (size_t)((uint64_t)g->length - g->body);
    g->body += n;
    return n && fwrite(p, 1, n, g->out) != n ? -1 : 0;
}

/* Reads what arrived. Returns 1 to go on, 0 when the response is complete,
 * negative on an error. */
static int get_read(struct kt *k, struct get *g)
{
    uint8_t buf[BUF];
    long n;
    while ((n = keel_recv(k->st, g->s, buf, sizeof buf, 0)) > 0) {
        kt_progress(k);
        size_t used = g->have_head ? 0 : take_head(g, buf, (size_t)n);
        if (used == (size_t)-1 || g->chunked)
            return KEEL_EMSGSIZE; /* a huge head, or chunked coding: not supported */
        if (g->have_head && get_body(g, buf + used, (size_t)n - used) < 0)
            return KEEL_EIO;
        if (g->have_head && g->length >= 0 && g->body == (uint64_t)g->length)
            return 0;
    }
    if (n == 0)
        return g->have_head && g->length < 0 ? 0 : KEEL_ECONNRESET; /* ended early */
    return n == KEEL_EAGAIN ? 1 : (int)n;
}

static int get_step(struct kt *k, struct get *g)
{
    int up = connected(k, g->s);
    if (up <= 0)
        return up < 0 ? up : 1;
    while (g->req_off < g->req_len) {
        long w = keel_send(k->st, g->s, g->req + g->req_off, g->req_len - g->req_off, 0);
        if (w < 0)
            return w == KEEL_EAGAIN ? 1 : (int)w;
        g->req_off += (size_t)w;
    }
    return get_read(k, g);
}

static int get_report(struct kt *k, struct get *g, int r)
{
    double secs = (k->now - g->start) / 1e6;
    if (r < 0) {
        fprintf(stderr, "keel-tun: get: %s after %" PRIu64 " body bytes%s\n", keel_strerror(r),
                g->body, g->chunked ? " (chunked transfer coding is not supported)" : "");
        return 1;
    }
    fprintf(stderr, "keel-tun: get: status %d, %" PRIu64 " bytes in %.3f s (%.3f Gbit/s)\n",
            g->status, g->body, secs, secs > 0 ? g->body * 8 / secs / 1e9 : 0);
    return g->status == 200 ? 0 : 1;
}

int mode_get(struct kt *k)
{
    struct keel_sockaddr to;
    char host[64];
    const char *path;
    if (parse_url(k->o->target, &to, host, sizeof host, &path) < 0) {
        fprintf(stderr, "keel-tun: get: want http://A.B.C.D[:PORT]/PATH, got '%s'\n", k->o->target);
        return 2;
    }
    struct get *g = calloc(1, sizeof *g);
    if (!g)
        return 1;
    g->out = k->o->output ? fopen(k->o->output, "wb") : stdout;
    if (!g->out)
        perror(k->o->output);
    g->length = -1;
    g->start = k->now;
    int n = snprintf(g->req, sizeof g->req, "GET %.1024s HTTP/1.1\r\nHost: %s\r\n"
                     "User-Agent: keel-tun\r\nAccept: */*\r\nConnection: close\r\n\r\n", path, host);
    g->req_len = (size_t)n < sizeof g->req ? (size_t)n : sizeof g->req - 1;
    int r = KEEL_EIO;
    if (g->out && (g->s = start_connect(k, &to)) >= 0) {
        r = 1;
        while (r > 0 && kt_turn(k, NULL, 0))
            r = get_step(k, g);
        r = r > 0 ? KEEL_EINTR : r;
        keel_close(k->st, g->s);
        kt_linger(k, 3000000);
    }
    if (g->out && fflush(g->out) != 0)
        r = KEEL_EIO;
    int rc = get_report(k, g, r);
    if (g->out && g->out != stdout)
        fclose(g->out);
    free(g);
    return rc;
}

/* ---- echo-client: many connections, each checks its echo ---- */

struct echo_conn {
    uint64_t sent, received, off;
    bool shut, done, ok;
};

struct echo {
    struct kt *k;
    struct echo_conn *c;
    int *by_sock;               /* socket handle -> connection index */
    uint64_t n, bytes, done, ok;
    long first_error;
};

static void echo_finish(struct echo *e, int s, struct echo_conn *c, bool ok, long err)
{
    c->done = true;
    c->ok = ok;
    e->done++;
    e->ok += ok;
    if (!ok && !e->first_error)
        e->first_error = err;
    keel_close(e->k->st, s);
    e->by_sock[s] = -1;
}

static bool echo_send(struct echo *e, int s, struct echo_conn *c)
{
    while (c->sent < e->bytes) {
        uint64_t left = e->bytes - c->sent;
        size_t n = left < CONTENT_SPAN ? (size_t)left : CONTENT_SPAN;
        long w = keel_send(e->k->st, s, content_at(e->k->content, c->off + c->sent), n, 0);
        if (w == KEEL_EAGAIN)
            return true;
        if (w < 0)
            return echo_finish(e, s, c, false, w), false;
        c->sent += (uint64_t)w;
    }
    if (!c->shut) {
        keel_shutdown(e->k->st, s, KEEL_SHUT_WR);
        c->shut = true;
    }
    return true;
}

static void echo_recv(struct echo *e, int s, struct echo_conn *c)
{
    uint8_t buf[BUF];
    long n;
    while ((n = keel_recv(e->k->st, s, buf, sizeof buf, 0)) > 0) {
        if (content_mismatch(e->k->content, c->off + c->received, buf, (size_t)n) >= 0 ||
            c->received + (uint64_t)n > e->bytes)
            return echo_finish(e, s, c, false, KEEL_EIO);
        c->received += (uint64_t)n;
    }
    if (n == 0)
        echo_finish(e, s, c, c->received == e->bytes, KEEL_ECONNRESET);
    else if (n != KEEL_EAGAIN)
        echo_finish(e, s, c, false, n);
}

static void echo_service(struct echo *e, int s)
{
    struct echo_conn *c = &e->c[e->by_sock[s]];
    int up = connected(e->k, s);
    if (up < 0)
        return echo_finish(e, s, c, false, up);
    if (up == 0)
        return;
    kt_progress(e->k);
    if (echo_send(e, s, c))
        echo_recv(e, s, c);
}

static int echo_start(struct echo *e, const struct keel_sockaddr *to)
{
    for (uint64_t i = 0; i < e->n; i++) {
        int s = start_connect(e->k, to);
        if (s < 0 || s >= 65536)
            return -1;
        e->by_sock[s] = (int)i;
        e->c[i].off = i * 7919; /* each connection its own stretch of the content */
    }
    return 0;
}

int mode_echo_client(struct kt *k)
{
    struct keel_sockaddr to;
    if (kt_parse_hostport(k->o->target, &to) < 0) {
        fprintf(stderr, "keel-tun: echo-client: want A.B.C.D:PORT, got '%s'\n", k->o->target);
        return 2;
    }
    struct echo e = {.k = k, .n = k->o->connections ? k->o->connections : 1,
                     .bytes = k->o->bytes ? k->o->bytes : 1000};
    e.c = calloc(e.n, sizeof *e.c);
    e.by_sock = malloc(65536 * sizeof *e.by_sock);
    if (!e.c || !e.by_sock)
        return 1;
    memset(e.by_sock, -1, 65536 * sizeof *e.by_sock);
    uint64_t t0 = k->now;
    int rc = echo_start(&e, &to) < 0 ? 1 : 0;
    struct keel_event ev[256];
    while (!rc && e.done < e.n && kt_turn(k, NULL, 0)) {
        int n;
        while ((n = keel_take_events(k->st, ev, 256)) > 0)
            for (int i = 0; i < n; i++)
                if (ev[i].sock >= 0 && ev[i].sock < 65536 && e.by_sock[ev[i].sock] >= 0)
                    echo_service(&e, ev[i].sock);
    }
    kt_linger(k, 3000000);
    fprintf(stderr, "keel-tun: echo-client: %" PRIu64 "/%" PRIu64 " connections ok, %" PRIu64
            " bytes each, %.3f s%s%s\n", e.ok, e.n, e.bytes, (k->now - t0) / 1e6,
            e.first_error ? "; first error: " : "", e.first_error ? keel_strerror((int)e.first_error) : "");
    rc = rc || e.ok != e.n;
    free(e.c);
    free(e.by_sock);
    return rc;
}
