#include "sim/bulk.h"

#include <string.h>

#include "base/rng.h"
#include "sim/stream.h"

#define CHUNK 65536

static void side_init(struct bulk_side *s, keel_stack *st, uint64_t send_key,
                      uint64_t recv_key, uint64_t to_send, uint64_t to_recv)
{
    memset(s, 0, sizeof *s);
    s->st = st;
    s->sock = -1;
    s->listen_sock = -1;
    s->send_key = send_key;
    s->recv_key = recv_key;
    s->to_send = to_send;
    s->to_recv = to_recv;
    s->hash = STREAM_HASH_INIT;
    s->corrupt_at = -1;
}

static void apply_options(const struct bulk_config *cfg, keel_stack *st, int sock)
{
    int one = 1;
    if (cfg->sndbuf)
        keel_setsockopt(st, sock, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &cfg->sndbuf, sizeof(int));
    if (cfg->rcvbuf)
        keel_setsockopt(st, sock, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, &cfg->rcvbuf, sizeof(int));
    if (cfg->nodelay)
        keel_setsockopt(st, sock, KEEL_IPPROTO_TCP, KEEL_TCP_NODELAY, &one, sizeof one);
}

int bulk_start(struct bulk *b, const struct bulk_config *cfg, keel_stack *client,
               keel_stack *server, uint64_t now_us, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    if (!b->cfg.stall_us)
        b->cfg.stall_us = 120000000;
    uint64_t k1 = rng_mix64(seed ^ 0xc1), k2 = rng_mix64(seed ^ 0x5e);
    side_init(&b->client, client, k1, k2, cfg->client_to_server, cfg->server_to_client);
    side_init(&b->server, server, k2, k1, cfg->server_to_client, cfg->client_to_server);
    b->start_us = b->last_progress_us = now_us;
    int ls = keel_socket(server, KEEL_SOCK_STREAM);
    if (ls < 0)
        return ls;
    apply_options(cfg, server, ls);
    struct keel_sockaddr any = {0, cfg->port};
    int err = keel_bind(server, ls, &any);
    if (!err)
        err = keel_listen(server, ls, 128);
    if (err)
        return err;
    b->server.listen_sock = ls;
    int cs = keel_socket(client, KEEL_SOCK_STREAM);
    if (cs < 0)
        return cs;
    apply_options(cfg, client, cs);
    b->client.sock = cs;
    struct keel_sockaddr to = {cfg->server_addr, cfg->port};
    err = keel_connect(client, cs, &to);
    return err == KEEL_EINPROGRESS ? 0 : err;
}

static void note_error(struct bulk_side *s, long err)
{
    if (!s->error)
        s->error = (int)err;
}

static bool pump_send(struct bulk_side *s)
{
    uint8_t buf[CHUNK];
    bool progress = false;
    while (s->sent < s->to_send) {
        uint64_t left = s->to_send - s->sent;
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        stream_fill(s->send_key, s->sent, buf, n);
        long put = keel_send(s->st, s->sock, buf, n, 0);
        if (put == KEEL_EAGAIN)
            return progress;
        if (put < 0) {
            note_error(s, put);
            return progress;
        }
        s->sent += (uint64_t)put;
        progress = true;
    }
    if (!s->shut) {
        long err = keel_shutdown(s->st, s->sock, KEEL_SHUT_WR);
        if (err < 0)
            note_error(s, err);
        s->shut = true;
    }
    return progress;
}

static bool pump_recv(struct bulk_side *s)
{
    uint8_t buf[CHUNK];
    bool progress = false;
    while (!s->eof) {
        long n = keel_recv(s->st, s->sock, buf, sizeof buf, 0);
        if (n == KEEL_EAGAIN)
            return progress;
        if (n < 0) {
            note_error(s, n);
            return progress;
        }
        if (n == 0) {
            s->eof = true;
            break;
        }
        long bad = stream_mismatch(s->recv_key, s->received, buf, (size_t)n);
        if (bad >= 0 && s->corrupt_at < 0)
            s->corrupt_at = (long)s->received + bad;
        s->hash = stream_hash(s->hash, buf, (size_t)n);
        s->received += (uint64_t)n;
        progress = true;
    }
    return progress;
}

static void maybe_close(struct bulk_side *s)
{
    if (s->closed || !s->eof || !s->shut)
        return;
    keel_close(s->st, s->sock);
    s->closed = true;
}

/* client_reads_last: reading waits until everything sent is acknowledged. */
static bool reading_allowed(struct bulk *b, struct bulk_side *s, uint64_t now_us)
{
    if (!b->cfg.client_reads_last || s != &b->client || b->reopen.at_us)
        return true;
    struct keel_tcp_info ci, si;
    if (s->sent < s->to_send || keel_tcp_info(s->st, s->sock, &ci) < 0 || ci.snd_queued)
        return false;
    b->reopen.at_us = now_us;
    b->reopen.buffered = ci.rcv_queued;
    if (b->server.sock >= 0 && keel_tcp_info(b->server.st, b->server.sock, &si) == 0) {
        b->reopen.server_window_zero = si.snd_wnd == 0;
        b->reopen.persist_us = si.rto_us;
    }
    return true;
}

static void note_resume(struct bulk *b, uint64_t now_us)
{
    struct bulk_reopen *ro = &b->reopen;
    if (ro->at_us && !ro->resume_us && b->client.received > ro->buffered)
        ro->resume_us = now_us - ro->at_us;
}

static bool serve_connection(struct bulk *b, struct bulk_side *s, uint64_t now_us)
{
    if (s->sock < 0 || s->closed || s->error)
        return false;
    bool progress = reading_allowed(b, s, now_us) && pump_recv(s);
    note_resume(b, now_us);
    progress |= pump_send(s);
    maybe_close(s);
    return progress;
}

static void serve_listener(struct bulk_side *s)
{
    if (s->sock >= 0)
        return;
    int c = keel_accept(s->st, s->listen_sock, NULL);
    if (c >= 0) {
        s->sock = c;
        keel_close(s->st, s->listen_sock);
        s->listen_sock = -1;
    }
}

static bool serve_side(struct bulk *b, struct bulk_side *s, uint64_t now_us)
{
    struct keel_event ev[64];
    bool progress = false;
    int n;
    while ((n = keel_take_events(s->st, ev, 64)) > 0) {
        for (int i = 0; i < n; i++) {
            if (ev[i].sock == s->listen_sock)
                serve_listener(s);
        }
        progress |= serve_connection(b, s, now_us);
    }
    return progress;
}

static bool side_done(const struct bulk_side *s)
{
    return s->closed && s->received == s->to_recv && s->sent == s->to_send;
}

enum bulk_status bulk_drive(struct bulk *b, uint64_t now_us)
{
    bool progress = serve_side(b, &b->server, now_us);
    progress |= serve_side(b, &b->client, now_us);
    if (progress)
        b->last_progress_us = now_us;
    if (b->client.error || b->server.error || b->client.corrupt_at >= 0 ||
        b->server.corrupt_at >= 0 || (b->client.eof && b->client.received != b->client.to_recv) ||
        (b->server.eof && b->server.received != b->server.to_recv))
        return BULK_FAILED;
    if (side_done(&b->client) && side_done(&b->server)) {
        if (!b->end_us)
            b->end_us = now_us;
        return BULK_DONE;
    }
    if (now_us - b->last_progress_us > b->cfg.stall_us)
        return BULK_STALLED;
    return BULK_RUNNING;
}

enum bulk_status bulk_run(struct bulk *b, struct sim_world *w, uint64_t limit_us)
{
    enum bulk_status s = bulk_drive(b, w->now_us);
    while (s == BULK_RUNNING) {
        uint64_t limit = b->last_progress_us + b->cfg.stall_us + 1;
        if (limit > limit_us)
            limit = limit_us;
        bool more = world_step(w, limit);
        s = bulk_drive(b, w->now_us);
        if (!more && s == BULK_RUNNING)
            return w->now_us >= limit_us ? BULK_RUNNING : BULK_STALLED;
    }
    return s;
}

const char *bulk_status_name(enum bulk_status s)
{
    switch (s) {
    case BULK_RUNNING: return "running";
    case BULK_DONE: return "done";
    case BULK_FAILED: return "failed";
    case BULK_STALLED: return "stalled";
    }
    return "?";
}
