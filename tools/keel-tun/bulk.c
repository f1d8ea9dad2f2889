/* keel-tun bulk: one transfer of generated content and its throughput.
 * send: connects, sends --bytes, shuts down writing, and waits for the
 * peer's FIN (the peer has everything); recv: accepts one connection, reads
 * to its end checking every byte. Both print one line:
 *   keel-tun: bulk recv: N bytes in T s: X Gbit/s, intact */
#include <inttypes.h>
#include <string.h>

#include "kt.h"

struct xfer {
    struct kt *k;
    int s;
    uint64_t bytes, done, start;
    bool shut, eof;
    long corrupt_at;
    int error;
};

static bool send_step(struct xfer *x)
{
    while (x->done < x->bytes) {
        uint64_t left = x->bytes - x->done;
        size_t n = left < CONTENT_SPAN ? (size_t)left : CONTENT_SPAN;
        long w = keel_send(x->k->st, x->s, content_at(x->k->content, x->done), n, 0);
        if (w == KEEL_EAGAIN)
            return true;
        if (w < 0)
            return x->error = (int)w, false;
        x->done += (uint64_t)w;
        kt_progress(x->k);
    }
    if (!x->shut)
        keel_shutdown(x->k->st, x->s, KEEL_SHUT_WR);
    x->shut = true;
    return true;
}

/* Reads and checks; with count false (send), only looks for the end. */
static bool recv_step(struct xfer *x, bool count)
{
    static uint8_t buf[65536];
    long n;
    while ((n = keel_recv(x->k->st, x->s, buf, sizeof buf, 0)) > 0) {
        if (count && x->corrupt_at < 0) {
            long bad = content_mismatch(x->k->content, x->done, buf, (size_t)n);
            x->corrupt_at = bad >= 0 ? (long)x->done + bad : -1;
        }
        x->done += count ? (uint64_t)n : 0;
        kt_progress(x->k);
    }
    if (n == 0)
        x->eof = true;
    else if (n != KEEL_EAGAIN)
        x->error = (int)n;
    return !x->eof && !x->error;
}

static int report(struct xfer *x, const char *dir)
{
    double secs = (x->k->now - x->start) / 1e6;
    if (x->error) {
        fprintf(stderr, "keel-tun: bulk %s: %s after %" PRIu64 " bytes\n", dir,
                keel_strerror(x->error), x->done);
        return 1;
    }
    bool intact = x->corrupt_at < 0 && (!x->bytes || x->done == x->bytes);
    fprintf(stderr, "keel-tun: bulk %s: %" PRIu64 " bytes in %.3f s: %.3f Gbit/s, %s",
            dir, x->done, secs, secs > 0 ? x->done * 8 / secs / 1e9 : 0,
            intact ? "intact" : "NOT INTACT");
    if (x->corrupt_at >= 0)
        fprintf(stderr, " (first wrong byte at %ld)", x->corrupt_at);
    fprintf(stderr, "\n");
    return intact && x->eof ? 0 : 1;
}

static int bulk_send(struct kt *k)
{
    struct keel_sockaddr to;
    if (!k->o->target || kt_parse_hostport(k->o->target, &to) < 0) {
        fprintf(stderr, "keel-tun: bulk send: want A.B.C.D:PORT\n");
        return 2;
    }
    struct xfer x = {.k = k, .bytes = k->o->bytes, .corrupt_at = -1};
    x.s = keel_socket(k->st, KEEL_SOCK_STREAM);
    kt_sockopts(k, x.s);
    int err = keel_connect(k->st, x.s, &to);
    if (err != KEEL_EINPROGRESS) {
        fprintf(stderr, "keel-tun: bulk send: connect: %s\n", keel_strerror(err));
        return 1;
    }
    bool up = false;
    while (!x.error && !x.eof && kt_turn(k, NULL, 0)) {
        int r = keel_readiness(k->st, x.s);
        if (!up && (r & (KEEL_POLLOUT | KEEL_POLLERR))) {
            up = true;
            x.start = k->now;
        }
        if (up && send_step(&x))
            recv_step(&x, false);
    }
    if (!x.eof && !x.error)
        x.error = KEEL_EINTR;
    keel_close(k->st, x.s);
    kt_linger(k, 3000000);
    return report(&x, "send");
}

static int accept_one(struct kt *k, int port, struct xfer *x)
{
    struct keel_sockaddr any = {0, (uint16_t)port};
    int ls = keel_socket(k->st, KEEL_SOCK_STREAM);
    kt_sockopts(k, ls);
    int err = keel_bind(k->st, ls, &any);
    if (!err)
        err = keel_listen(k->st, ls, 16);
    if (err) {
        fprintf(stderr, "keel-tun: bulk recv: port %d: %s\n", port, keel_strerror(err));
        return -1;
    }
    fprintf(stderr, "keel-tun: bulk recv listening on port %d\n", port);
    x->s = -1;
    while (x->s < 0 && kt_turn(k, NULL, 0))
        x->s = keel_accept(k->st, ls, NULL);
    keel_close(k->st, ls);
    x->start = k->now;
    return x->s < 0 ? -1 : 0;
}

static int bulk_recv(struct kt *k)
{
    struct xfer x = {.k = k, .bytes = k->o->bytes, .corrupt_at = -1};
    if (accept_one(k, k->o->port >= 0 ? k->o->port : 5001, &x) < 0)
        return 1;
    kt_progress(k);
    while (recv_step(&x, true) && kt_turn(k, NULL, 0))
        ;
    if (!x.eof && !x.error)
        x.error = KEEL_EINTR;
    keel_close(k->st, x.s);
    kt_linger(k, 3000000);
    return report(&x, "recv");
}

int mode_bulk(struct kt *k)
{
    if (strcmp(k->o->bulk_dir, "send") == 0)
        return bulk_send(k);
    if (strcmp(k->o->bulk_dir, "recv") == 0)
        return bulk_recv(k);
    fprintf(stderr, "keel-tun: bulk: want 'send HOST:PORT' or 'recv'\n");
    return 2;
}
