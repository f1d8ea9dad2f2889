/* keel-tun's servers: serve-http (RFC 9112 message framing, just enough for
 * curl and wget: GET and HEAD, Content-Length, keep-alive), serve-echo
 * (RFC 862) and serve-discard (RFC 863). One loop, edge-triggered events:
 * every connection is pumped until keel says EAGAIN both ways. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kt.h"

#define REQ_MAX 8192
#define ECHO_BUF 65536

enum kind { K_HTTP, K_ECHO, K_DISCARD };

struct conn {
    char req[REQ_MAX];         /* http: bytes of requests not yet answered */
    size_t req_len;
    char head[512];            /* http: status line, headers (and a short body) */
    size_t head_len, head_off;
    uint64_t body_off, body_end; /* http: generated content still to send */
    bool responding, close_after, shut, eof;
    uint8_t *pend;             /* echo: bytes read and not yet sent back */
    size_t pend_len, pend_off;
};

struct server {
    struct kt *k;
    enum kind kind;
    int ls;
    struct conn **conns;       /* by socket handle */
    uint64_t accepted, finished, failed, bytes_in, bytes_out;
};

/* ---- HTTP ---- */

static bool header_has(const char *head, size_t len, const char *name, const char *value)
{
    char line[256];
    for (const char *p = head; p < head + len;) {
        const char *eol = memchr(p, '\n', (size_t)(head + len - p));
        size_t n = (size_t)((eol ? eol : head + len) - p);
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        size_t nl = strlen(name);
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':' && strcasestr(line + nl, value))
            return true;
        p = eol ? eol + 1 : head + len;
    }
    return false;
}

/* "/bytes/N" (N may carry a K, M or G suffix). */
static bool bytes_path(const char *path, uint64_t *n)
{
    if (strncmp(path, "/bytes/", 7) != 0 || path[7] < '0' || path[7] > '9')
        return false;
    *n = kt_parse_size(path + 7);
    return true;
}

static void set_head(struct conn *c, int status, const char *reason, uint64_t len,
                     const char *text, bool head_only)
{
    int n = snprintf(c->head, sizeof c->head,
                     "HTTP/1.1 %d %s\r\nServer: keel-tun\r\nContent-Type: %s\r\n"
                     "Content-Length: %" PRIu64 "\r\nConnection: %s\r\n\r\n%s",
                     status, reason, text ? "text/plain" : "application/octet-stream", len,
                     c->close_after ? "close" : "keep-alive", text && !head_only ? text : "");
    c->head_len = (size_t)n < sizeof c->head ? (size_t)n : sizeof c->head - 1;
    c->head_off = 0;
    c->responding = true;
}

static void answer(struct conn *c, const char *method, const char *path, bool head_only)
{
    static const char index_text[] =
        "keel-tun: GET /bytes/N answers N bytes of generated content\n";
    uint64_t n;
    c->body_off = c->body_end = 0;
    if (strcmp(method, "GET") != 0 && !head_only) {
        c->close_after = true;
        set_head(c, 501, "Not Implemented", 16, "not implemented\n", false);
    } else if (bytes_path(path, &n)) {
        set_head(c, 200, "OK", n, NULL, head_only);
        c->body_end = head_only ? 0 : n;
    } else if (strcmp(path, "/") == 0) {
        set_head(c, 200, "OK", sizeof index_text - 1, index_text, head_only);
    } else {
        set_head(c, 404, "Not Found", 10, "not found\n", head_only);
    }
}

/* Takes one complete request off the buffer and sets up its response. */
static bool parse_request(struct conn *c)
{
    char *end = memmem(c->req, c->req_len, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t used = (size_t)(end - c->req) + 4;
    char method[16], path[1024];
    int major = 0, minor = 0;
    *end = 0;
    if (sscanf(c->req, "%15s %1023s HTTP/%d.%d", method, path, &major, &minor) != 4) {
        c->close_after = true;
        set_head(c, 400, "Bad Request", 12, "bad request\n", false);
    } else {
        bool v11 = major > 1 || (major == 1 && minor >= 1);
        c->close_after = v11 ? header_has(c->req, used, "connection", "close")
                             : !header_has(c->req, used, "connection", "keep-alive");
        answer(c, method, path, strcmp(method, "HEAD") == 0);
    }
    memmove(c->req, c->req + used, c->req_len - used);
    c->req_len -= used;
    return true;
}

/* ---- pumping bytes ---- */

/* The connection failed (reset, timed out, or a request head too large). */
static bool fail_conn(struct server *s)
{
    s->failed++;
    return false;
}

static int send_some(struct server *s, int sock, const void *p, size_t n, uint64_t *moved)
{
    long r = keel_send(s->k->st, sock, p, n, 0);
    if (r < 0)
        return r == KEEL_EAGAIN ? 0 : (int)r;
    *moved += (uint64_t)r;
    s->bytes_out += (uint64_t)r;
    return r > 0 ? 1 : 0;
}

/* Sends what the response still owes. Returns false on an error. */
static bool http_out(struct server *s, int sock, struct conn *c, bool *progress)
{
    uint64_t moved = 0;
    int r = 1;
    while (r > 0 && c->head_off < c->head_len) {
        uint64_t before = moved;
        r = send_some(s, sock, c->head + c->head_off, c->head_len - c->head_off, &moved);
        c->head_off += moved - before;
    }
    while (r > 0 && c->head_off == c->head_len && c->body_off < c->body_end) {
        uint64_t left = c->body_end - c->body_off, before = moved;
        size_t n = left < CONTENT_SPAN ? (size_t)left : CONTENT_SPAN;
        r = send_some(s, sock, content_at(s->k->content, c->body_off), n, &moved);
        c->body_off += moved - before;
    }
    if (r < 0)
        return fail_conn(s);
    *progress |= moved > 0;
    if (c->responding && c->head_off == c->head_len && c->body_off == c->body_end) {
        c->responding = false;
        if (c->close_after && !c->shut) {
            keel_shutdown(s->k->st, sock, KEEL_SHUT_WR);
            c->shut = true;
        }
        *progress = true;
    }
    return true;
}

static bool echo_out(struct server *s, int sock, struct conn *c, bool *progress)
{
    uint64_t moved = 0;
    int r = 1;
    while (r > 0 && c->pend_off < c->pend_len) {
        uint64_t before = moved;
        r = send_some(s, sock, c->pend + c->pend_off, c->pend_len - c->pend_off, &moved);
        c->pend_off += moved - before;
    }
    if (r < 0)
        return fail_conn(s);
    if (c->pend_off == c->pend_len)
        c->pend_off = c->pend_len = 0;
    *progress |= moved > 0;
    return true;
}

/* Where the next bytes read go, and how many fit. NULL: do not read now. */
static uint8_t *read_room(struct server *s, struct conn *c, size_t *room)
{
    static uint8_t sink[65536];
    switch (s->kind) {
    case K_HTTP:
        if (c->shut) { /* answered for good: wait for the peer's FIN */
            *room = sizeof sink;
            return sink;
        }
        *room = REQ_MAX - c->req_len;
        return c->responding || !*room ? NULL : (uint8_t *)c->req + c->req_len;
    case K_ECHO:
        if (!c->pend && !(c->pend = malloc(ECHO_BUF)))
            return NULL;
        *room = ECHO_BUF;
        return c->pend_len ? NULL : c->pend;
    case K_DISCARD:
        *room = sizeof sink;
        return sink;
    }
    return NULL;
}

static bool pump_in(struct server *s, int sock, struct conn *c, bool *progress)
{
    size_t room;
    uint8_t *at;
    while (!c->eof && (at = read_room(s, c, &room)) != NULL) {
        long n = keel_recv(s->k->st, sock, at, room, 0);
        if (n == KEEL_EAGAIN)
            break;
        if (n < 0)
            return fail_conn(s);
        *progress = true;
        if (n == 0) {
            c->eof = true;
            break;
        }
        s->bytes_in += (uint64_t)n;
        if (s->kind == K_HTTP && !c->shut)
            c->req_len += (size_t)n;
        else if (s->kind == K_ECHO)
            c->pend_len = (size_t)n;
    }
    if (s->kind == K_HTTP && !c->responding && !c->shut && parse_request(c))
        *progress = true;
    else if (s->kind == K_HTTP && !c->responding && c->req_len == REQ_MAX)
        return fail_conn(s); /* a request head larger than we keep */
    return true;
}

/* Whether the connection has nothing left to do. */
static bool finished(const struct server *s, const struct conn *c)
{
    if (!c->eof)
        return false;
    if (s->kind == K_HTTP)
        return !c->responding;
    return s->kind == K_DISCARD || c->pend_len == 0;
}

static void drop_conn(struct server *s, int sock)
{
    struct conn *c = s->conns[sock];
    keel_close(s->k->st, sock);
    free(c->pend);
    free(c);
    s->conns[sock] = NULL;
    s->finished++;
}

static void service(struct server *s, int sock)
{
    struct conn *c = s->conns[sock];
    bool ok = true, progress = true;
    while (ok && progress) {
        progress = false;
        ok = s->kind == K_HTTP ? http_out(s, sock, c, &progress)
             : s->kind == K_ECHO ? echo_out(s, sock, c, &progress)
                                 : true;
        ok = ok && pump_in(s, sock, c, &progress);
        if (progress)
            kt_progress(s->k);
    }
    if (!ok || finished(s, c))
        drop_conn(s, sock);
}

static void accept_all(struct server *s)
{
    int c;
    while ((c = keel_accept(s->k->st, s->ls, NULL)) >= 0) {
        s->conns[c] = calloc(1, sizeof *s->conns[c]);
        if (!s->conns[c]) {
            keel_close(s->k->st, c);
            continue;
        }
        kt_sockopts(s->k, c);
        s->accepted++;
        kt_progress(s->k);
        service(s, c);
    }
}

static void dispatch(struct server *s)
{
    struct keel_event ev[256];
    int n;
    while ((n = keel_take_events(s->k->st, ev, 256)) > 0)
        for (int i = 0; i < n; i++) {
            if (ev[i].sock == s->ls)
                accept_all(s);
            else if (ev[i].sock >= 0 && ev[i].sock < 65536 && s->conns[ev[i].sock])
                service(s, ev[i].sock);
        }
}

static int open_listener(struct server *s, int port)
{
    keel_stack *st = s->k->st;
    struct keel_sockaddr any = {0, (uint16_t)port};
    int one = 1, ls = keel_socket(st, KEEL_SOCK_STREAM);
    if (ls < 0)
        return ls;
    keel_setsockopt(st, ls, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, &one, sizeof one);
    kt_sockopts(s->k, ls);
    int err = keel_bind(st, ls, &any);
    if (!err)
        err = keel_listen(st, ls, 4096);
    s->ls = ls;
    return err;
}

static enum kind mode_kind(const char *mode, int *port)
{
    if (strcmp(mode, "serve-echo") == 0) {
        *port = 7;
        return K_ECHO;
    }
    if (strcmp(mode, "serve-discard") == 0) {
        *port = 9;
        return K_DISCARD;
    }
    *port = 80;
    return K_HTTP;
}

static void close_all(struct server *s)
{
    for (int i = 0; i < 65536; i++)
        if (s->conns[i])
            drop_conn(s, i);
    keel_close(s->k->st, s->ls);
}

int mode_serve(struct kt *k)
{
    struct server s = {.k = k, .ls = -1};
    int port;
    s.kind = mode_kind(k->o->mode, &port);
    if (k->o->port >= 0)
        port = k->o->port;
    s.conns = calloc(65536, sizeof *s.conns);
    int err = s.conns ? open_listener(&s, port) : KEEL_ENOMEM;
    if (err < 0) {
        fprintf(stderr, "keel-tun: cannot listen on port %d: %s\n", port, keel_strerror(err));
        free(s.conns);
        return 1;
    }
    fprintf(stderr, "keel-tun: %s listening on port %d\n", k->o->mode, port);
    while (kt_turn(k, NULL, 0)) {
        dispatch(&s);
        if (k->o->exit_after && s.finished >= k->o->exit_after)
            break;
    }
    close_all(&s);
    kt_linger(k, 3000000);
    fprintf(stderr, "keel-tun: %s: %" PRIu64 " connections (%" PRIu64 " failed), %" PRIu64
            " bytes in, %" PRIu64 " bytes out\n", k->o->mode, s.accepted, s.failed, s.bytes_in,
            s.bytes_out);
    free(s.conns);
    return 0;
}
