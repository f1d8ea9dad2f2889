/* The socket calls, with Linux's semantics over keel's: AF_INET addresses,
 * blocking unless O_NONBLOCK or MSG_DONTWAIT, -1 and errno on failure.
 * Every entry locks the instance, and on the way out wakes the blocked calls
 * its effects may concern (kpd_kick). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpd.h"

/* ---- addresses ---- */

static int sockaddr_in_arg(const struct sockaddr *sa, socklen_t len, struct keel_sockaddr *out)
{
    struct sockaddr_in sin;
    if (!sa)
        return KEEL_EFAULT;
    if (len < sizeof sin)
        return KEEL_EINVAL;
    memcpy(&sin, sa, sizeof sin);
    if (sin.sin_family != AF_INET)
        return KEEL_EAFNOSUPPORT;
    out->addr = ntohl(sin.sin_addr.s_addr);
    out->port = ntohs(sin.sin_port);
    return 0;
}

/* Linux copies min(*len, sizeof sin) and returns the full size in *len. */
static void sockaddr_in_out(const struct keel_sockaddr *a, struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(a->addr);
    sin.sin_port = htons(a->port);
    memcpy(sa, &sin, *len < sizeof sin ? *len : sizeof sin);
    *len = sizeof sin;
}

/* ---- socket, bind, listen, accept, connect ---- */

static int do_socket(struct kpd *p, int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET)
        return kpd_errno(EAFNOSUPPORT); /* keel is IPv4 only */
    if (base != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP))
        return kpd_errno(EPROTONOSUPPORT); /* keel is TCP only */
    if (!kpd_stack(p))
        return -1;
    int s = keel_socket(p->st, KEEL_SOCK_STREAM);
    if (s < 0)
        return kpd_fail(s);
    int fd = kpd_fd_new(p, KFD_SOCKET, s);
    if (fd < 0) {
        int e = errno;
        keel_close(p->st, s);
        return kpd_errno(e);
    }
    p->fds[fd].nonblock = (type & SOCK_NONBLOCK) != 0;
    p->fds[fd].cloexec = (type & SOCK_CLOEXEC) != 0;
    return fd;
}

static int k_socket(void *ctx, int domain, int type, int protocol)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    int r = do_socket(p, domain, type, protocol);
    kpd_unlock(p);
    return r;
}

/* The socket behind fd: NULL with errno EBADF (no such fd) or ENOTSOCK. */
static struct kfd *sock_fd(struct kpd *p, int fd)
{
    if (fd < 0 || fd >= KPD_MAX_FDS || p->fds[fd].kind == KFD_FREE) {
        errno = EBADF;
        return NULL;
    }
    if (p->fds[fd].kind != KFD_SOCKET) {
        errno = ENOTSOCK;
        return NULL;
    }
    return &p->fds[fd];
}

static int k_bind(void *ctx, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    struct kfd *f = sock_fd(p, fd);
    struct keel_sockaddr a;
    int r = -1;
    if (f) {
        int e = sockaddr_in_arg(addr, len, &a);
        if (!e)
            e = keel_bind(p->st, f->sock, &a);
        r = e < 0 ? kpd_fail(e) : 0;
    }
    kpd_unlock(p);
    return r;
}

static int k_listen(void *ctx, int fd, int backlog)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    struct kfd *f = sock_fd(p, fd);
    int r = -1;
    if (f) {
        int e = keel_listen(p->st, f->sock, backlog);
        r = e < 0 ? kpd_fail(e) : 0;
        kpd_kick(p);
    }
    kpd_unlock(p);
    return r;
}

struct accept_args {
    int sock;
    struct keel_sockaddr peer;
};

static long try_accept(struct kpd *p, void *arg)
{
    struct accept_args *a = arg;
    return keel_accept(p->st, a->sock, &a->peer);
}

static int do_accept(struct kpd *p, int fd, struct sockaddr *addr, socklen_t *len)
{
    struct kfd *f = sock_fd(p, fd);
    if (!f)
        return -1;
    struct accept_args a = {.sock = f->sock};
    long s = kpd_block(p, !f->nonblock, UINT64_MAX, try_accept, &a, "accept()");
    if (s < 0)
        return kpd_fail((int)s);
    int nfd = kpd_fd_new(p, KFD_SOCKET, (int)s);
    if (nfd < 0) {
        int e = errno;
        keel_close(p->st, (int)s);
        return kpd_errno(e);
    }
    p->fds[nfd].zerocopy = p->fds[fd].zerocopy; /* Linux sk_clone_lock copies sk_flags */
    sockaddr_in_out(&a.peer, addr, len);
    return nfd;
}

static int k_accept(void *ctx, int fd, struct sockaddr *addr, socklen_t *len)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    int r = do_accept(p, fd, addr, len);
    kpd_kick(p);
    kpd_unlock(p);
    return r;
}

/* A blocking connect returns once the handshake is over: 0, or the error
 * that ended it (SO_ERROR). */
static long try_connected(struct kpd *p, void *arg)
{
    int sock = *(int *)arg;
    struct keel_tcp_info info;
    keel_tcp_info(p->st, sock, &info);
    if (info.state == KEEL_TCP_SYN_SENT || info.state == KEEL_TCP_SYN_RECEIVED)
        return KEEL_EAGAIN;
    if (info.state != KEEL_TCP_CLOSED)
        return 0;
    int err = 0;
    size_t len = sizeof err;
    keel_getsockopt(p->st, sock, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &err, &len);
    return err ? -err : KEEL_ECONNREFUSED;
}

static int do_connect(struct kpd *p, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct kfd *f = sock_fd(p, fd);
    if (!f)
        return -1;
    struct keel_sockaddr a;
    int e = sockaddr_in_arg(addr, len, &a);
    if (e < 0)
        return kpd_fail(e);
    e = keel_connect(p->st, f->sock, &a);
    if (e != KEEL_EINPROGRESS || f->nonblock)
        return e < 0 ? kpd_fail(e) : 0;
    kpd_kick(p); /* the SYN is out */
    long r = kpd_block(p, true, UINT64_MAX, try_connected, &f->sock, "connect()");
    return r < 0 ? kpd_fail((int)r) : 0;
}

static int k_connect(void *ctx, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    int r = do_connect(p, fd, addr, len);
    kpd_kick(p);
    kpd_unlock(p);
    return r;
}

/* ---- receiving ---- */

struct recv_args {
    int sock;
    uint8_t *buf;
    size_t len, got;
    int flags;
};

/* Linux tcp_recvmsg: a blocking read returns as soon as some data is there
 * (all of it with MSG_WAITALL), or at the end of the stream, or with an
 * error; MSG_PEEK leaves the data queued. */
static long try_recv(struct kpd *p, void *arg)
{
    struct recv_args *a = arg;
    if (a->flags & (MSG_PEEK | MSG_OOB))
        return keel_recv(p->st, a->sock, a->buf, a->len,
                         (a->flags & MSG_PEEK ? KEEL_MSG_PEEK : 0) |
                             (a->flags & MSG_OOB ? KEEL_MSG_OOB : 0));
    long n = keel_recv(p->st, a->sock, a->buf + a->got, a->len - a->got, 0);
    if (n > 0) {
        a->got += (size_t)n;
        return a->got == a->len || !(a->flags & MSG_WAITALL) ? (long)a->got : KEEL_EAGAIN;
    }
    if (n == 0 || (n != KEEL_EAGAIN && a->got))
        return (long)a->got; /* end of stream; or an error, kept for the next call */
    return n;
}

static long do_recv(struct kpd *p, int fd, void *buf, size_t len, int flags)
{
    struct kfd *f = sock_fd(p, fd);
    if (!f)
        return -1;
    if (len && !buf)
        return kpd_errno(EFAULT); /* Linux: copying out to NULL faults */
    struct recv_args a = {.sock = f->sock, .buf = buf, .len = len, .flags = flags};
    /* MSG_OOB never waits (Linux tcp_recv_urg: EAGAIN until the byte is in). */
    bool block = !f->nonblock && !(flags & (MSG_DONTWAIT | MSG_OOB));
    long r = kpd_block(p, block, UINT64_MAX, try_recv, &a, "a read");
    if (r == KEEL_EAGAIN && a.got)
        r = (long)a.got; /* MSG_WAITALL cut short by a non-blocking return */
    return r < 0 ? kpd_fail((int)r) : r;
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

static void scatter(const struct iovec *iov, int iovcnt, const uint8_t *src, size_t n)
{
    for (int i = 0; i < iovcnt && n; i++) {
        size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
        memcpy(iov[i].iov_base, src, k);
        src += k;
        n -= k;
    }
}

static long recv_iov(struct kpd *p, int fd, const struct iovec *iov, int iovcnt, int flags)
{
    if (iovcnt < 0 || (iovcnt > 0 && !iov))
        return kpd_errno(iovcnt < 0 ? EINVAL : EFAULT);
    size_t total = iov_total(iov, iovcnt);
    uint8_t *tmp = malloc(total ? total : 1);
    if (!tmp)
        return kpd_errno(ENOMEM);
    long r = do_recv(p, fd, tmp, total, flags);
    if (r > 0)
        scatter(iov, iovcnt, tmp, (size_t)r);
    free(tmp);
    return r;
}

#define KPD_RECV_ENTRY(p, expr)                                               \
    do {                                                                      \
        kpd_lock(p);                                                          \
        long r_ = (expr);                                                     \
        kpd_kick(p);                                                          \
        kpd_unlock(p);                                                        \
        return r_;                                                            \
    } while (0)

static ssize_t k_read(void *ctx, int fd, void *buf, size_t n)
{
    if (kpd_is_pipe(ctx, fd))
        return read(fd, buf, n);
    KPD_RECV_ENTRY((struct kpd *)ctx, do_recv(ctx, fd, buf, n, 0));
}

static ssize_t k_readv(void *ctx, int fd, const struct iovec *iov, int iovcnt)
{
    KPD_RECV_ENTRY((struct kpd *)ctx, recv_iov(ctx, fd, iov, iovcnt, 0));
}

static ssize_t k_recv(void *ctx, int fd, void *buf, size_t n, int flags)
{
    KPD_RECV_ENTRY((struct kpd *)ctx, do_recv(ctx, fd, buf, n, flags));
}

static ssize_t k_recvfrom(void *ctx, int fd, void *buf, size_t n, int flags,
                          struct sockaddr *from, socklen_t *fromlen)
{
    (void)from; /* TCP leaves the source address alone */
    if (fromlen)
        *fromlen = 0;
    KPD_RECV_ENTRY((struct kpd *)ctx, do_recv(ctx, fd, buf, n, flags));
}

/* TCP_INQ (Linux tcp_recvmsg, tcp_inq_hint): a control message with the
 * bytes still queued after this read; once the peer's FIN is in and the
 * data is all read, 1, so that the reader comes back for the end of file. */
static void put_inq(struct kpd *p, int fd, struct msghdr *msg)
{
    struct kfd *f = &p->fds[fd];
    if (!f->inq || !msg->msg_control || msg->msg_controllen < CMSG_SPACE(sizeof(int))) {
        msg->msg_controllen = 0;
        return;
    }
    struct keel_tcp_info info;
    keel_tcp_info(p->st, f->sock, &info);
    int inq = (int)info.rcv_queued;
    if (!inq && (keel_readiness(p->st, f->sock) & KEEL_POLLRDHUP))
        inq = 1;
    struct cmsghdr *c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = IPPROTO_TCP;
    c->cmsg_type = 36; /* TCP_CM_INQ, the same number as TCP_INQ */
    c->cmsg_len = CMSG_LEN(sizeof inq);
    memcpy(CMSG_DATA(c), &inq, sizeof inq);
    msg->msg_controllen = CMSG_SPACE(sizeof inq);
}

/* ---- the error queue: transmit timestamps (SO_TIMESTAMPING) ---- */

/* Appends one control message; false (MSG_CTRUNC) when it does not fit. */
static bool put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data,
                     size_t len)
{
    if (!msg->msg_control || *used + CMSG_SPACE(len) > msg->msg_controllen)
        return false;
    struct cmsghdr *c = (struct cmsghdr *)((uint8_t *)msg->msg_control + *used);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
    *used += CMSG_SPACE(len);
    return true;
}

/* Linux __sock_recv_timestamp: ts[0] holds the software time; without one
 * (no SOF_TIMESTAMPING_SOFTWARE) there is no SCM_TIMESTAMPING at all. */
static bool put_scm_timestamping(struct msghdr *msg, size_t *used,
                                 const struct keel_tx_timestamp *t)
{
    if (!t->time_us)
        return true;
    struct scm_timestamping sts;
    memset(&sts, 0, sizeof sts);
    sts.ts[0].tv_sec = (time_t)(t->time_us / 1000000);
    sts.ts[0].tv_nsec = (long)(t->time_us % 1000000) * 1000;
    return put_cmsg(msg, used, SOL_SOCKET, SCM_TIMESTAMPING, &sts, sizeof sts);
}

/* Linux ip_recv_error: the extended error, then the offender's address,
 * which a timestamp report leaves empty (AF_UNSPEC). */
static bool put_recverr(struct msghdr *msg, size_t *used, const struct keel_tx_timestamp *t)
{
    struct {
        struct sock_extended_err ee;
        struct sockaddr_in offender;
    } e;
    memset(&e, 0, sizeof e);
    e.ee.ee_errno = ENOMSG;
    e.ee.ee_origin = SO_EE_ORIGIN_TIMESTAMPING;
    e.ee.ee_info = t->type;
    e.ee.ee_data = t->key;
    return put_cmsg(msg, used, SOL_IP, IP_RECVERR, &e, sizeof e);
}

/* recvmsg(MSG_ERRQUEUE): never blocks (EAGAIN when empty). keel does not
 * loop the transmitted data back: the bytes Linux would return with the
 * report are reported as cut off (MSG_TRUNC), and none are copied. */
static long recv_errqueue(struct kpd *p, int fd, struct msghdr *msg)
{
    struct kfd *f = sock_fd(p, fd);
    if (!f)
        return -1;
    struct keel_tx_timestamp t;
    int e = keel_errqueue_read(p->st, f->sock, &t);
    if (e < 0)
        return kpd_fail(e);
    size_t used = 0;
    msg->msg_namelen = 0;
    msg->msg_flags = MSG_ERRQUEUE | (t.bytes ? MSG_TRUNC : 0);
    if (!put_scm_timestamping(msg, &used, &t) || !put_recverr(msg, &used, &t))
        msg->msg_flags |= MSG_CTRUNC;
    msg->msg_controllen = used;
    return 0;
}

static long do_recvmsg(struct kpd *p, int fd, struct msghdr *msg, int flags)
{
    if (!msg)
        return kpd_errno(EFAULT);
    if (flags & MSG_ERRQUEUE) {
        struct kfd *f = sock_fd(p, fd);
        if (!f)
            return -1;
        if (kpd_zerocopy_pending(f))
            return kpd_zerocopy_errqueue(p, fd, msg);
        return recv_errqueue(p, fd, msg);
    }
    long r = recv_iov(p, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    if (r < 0)
        return r;
    msg->msg_namelen = 0;
    msg->msg_flags = 0;
    put_inq(p, fd, msg);
    return r;
}

static ssize_t k_recvmsg(void *ctx, int fd, struct msghdr *msg, int flags)
{
    KPD_RECV_ENTRY((struct kpd *)ctx, do_recvmsg(ctx, fd, msg, flags));
}

/* ---- sending ---- */

struct send_args {
    int sock;
    const uint8_t *buf;
    size_t len, done;
    int flags;   /* KEEL_MSG_MORE, KEEL_MSG_EOR: Linux's numbers */
    bool waited; /* a try found the queue full */
};

/* Linux tcp_sendmsg: a blocking send returns when all of it is queued, or
 * with what was queued before an error; a non-blocking one queues what
 * fits (EAGAIN if nothing does). A writer that found the queue full sleeps
 * until the socket is writable again (sk_stream_wait_memory, woken by
 * sk_stream_write_space: keel's POLLOUT), not at the first byte freed. */
static long try_send(struct kpd *p, void *arg)
{
    struct send_args *a = arg;
    if (a->len == 0)
        return keel_send(p->st, a->sock, a->buf, 0, 0);
    if (a->waited && !(keel_readiness(p->st, a->sock) & (KEEL_POLLOUT | KEEL_POLLERR | KEEL_POLLHUP)))
        return KEEL_EAGAIN;
    long n = keel_send(p->st, a->sock, a->buf + a->done, a->len - a->done, a->flags);
    a->waited = n == KEEL_EAGAIN || (n > 0 && a->done + (size_t)n < a->len);
    if (n > 0)
        a->done += (size_t)n;
    if (a->done == a->len)
        return (long)a->done;
    if (n == KEEL_EAGAIN || n > 0)
        return KEEL_EAGAIN;
    return a->done ? (long)a->done : n;
}

static long do_send(struct kpd *p, int fd, const void *buf, size_t len, int flags)
{
    struct kfd *f = sock_fd(p, fd);
    if (!f)
        return -1;
    if (len && !buf)
        return kpd_errno(EFAULT);
    struct send_args a = {.sock = f->sock, .buf = buf, .len = len,
                          .flags = flags & (MSG_MORE | MSG_EOR)};
    bool block = !f->nonblock && !(flags & MSG_DONTWAIT);
    long r = kpd_block(p, block, UINT64_MAX, try_send, &a, "a write");
    /* The write sent a deferred Fast Open SYN: a blocking one waits for the
     * connection and writes then, as Linux tcp_sendmsg_fastopen. */
    if (r == KEEL_EINPROGRESS && block && len) {
        kpd_kick(p);
        r = kpd_block(p, true, UINT64_MAX, try_connected, &f->sock, "connect()");
        if (r == 0)
            r = kpd_block(p, true, UINT64_MAX, try_send, &a, "a write");
    }
    if (r == KEEL_EAGAIN && a.done)
        r = (long)a.done; /* non-blocking, or a main-thread call that would block */
    if (r < 0)
        return kpd_fail((int)r);
    kpd_zerocopy_sent(p, fd, flags, r);
    return r;
}

/* The pieces of an iovec go to keel as one write, as Linux copies them all
 * into the send queue before it pushes. */
static long send_iov(struct kpd *p, int fd, const struct iovec *iov, int iovcnt, int flags)
{
    if (iovcnt < 0 || (iovcnt > 0 && !iov))
        return kpd_errno(iovcnt < 0 ? EINVAL : EFAULT);
    size_t total = iov_total(iov, iovcnt), off = 0;
    uint8_t *tmp = malloc(total ? total : 1);
    if (!tmp)
        return kpd_errno(ENOMEM);
    for (int i = 0; i < iovcnt; i++) {
        memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    long r = do_send(p, fd, tmp, total, flags);
    free(tmp);
    return r;
}

#define KPD_SEND_ENTRY KPD_RECV_ENTRY

long kpd_recv(struct kpd *p, int fd, void *buf, size_t len, int flags)
{
    return do_recv(p, fd, buf, len, flags);
}

long kpd_send(struct kpd *p, int fd, const void *buf, size_t len, int flags)
{
    return do_send(p, fd, buf, len, flags);
}

/* ---- sendfile (reached through interpose.c) ---- */

#define KPD_SENDFILE_CHUNK 65536

/* One piece of the file, written as a send() would write it: all of it
 * unless the socket is non-blocking and its buffer fills. */
static long sendfile_piece(struct kpd *p, int out_fd, const uint8_t *buf, size_t n)
{
    kpd_lock(p);
    long r = do_send(p, out_fd, buf, n, 0);
    int err = errno;
    kpd_kick(p);
    kpd_unlock(p);
    errno = err;
    return r;
}

/* Copies up to count bytes from in_fd, starting at pos, to the socket;
 * returns the bytes sent, or -1 (errno set) if none could be. */
static long sendfile_copy(struct kpd *p, int out_fd, int in_fd, off_t pos, size_t count,
                          uint8_t *buf)
{
    size_t done = 0;
    while (done < count) {
        size_t want = count - done < KPD_SENDFILE_CHUNK ? count - done : KPD_SENDFILE_CHUNK;
        ssize_t got = pread(in_fd, buf, want, pos + (off_t)done);
        if (got <= 0)
            return done || got == 0 ? (long)done : -1;
        long sent = sendfile_piece(p, out_fd, buf, (size_t)got);
        if (sent < 0)
            return done ? (long)done : -1;
        done += (size_t)sent;
        if ((size_t)sent < (size_t)got)
            break;
    }
    return (long)done;
}

/* Linux sendfile(2) with a keel socket as out_fd: reads from *offset and
 * advances it, or, without one, from the file's position and advances
 * that; returns the bytes sent. */
ssize_t kpd_sendfile(struct kpd *p, int out_fd, int in_fd, off_t *offset, size_t count)
{
    if (offset && *offset < 0)
        return kpd_errno(EINVAL);
    off_t pos = offset ? *offset : lseek(in_fd, 0, SEEK_CUR);
    if (pos < 0)
        return kpd_errno(errno == ESPIPE ? EINVAL : errno);
    uint8_t *buf = malloc(KPD_SENDFILE_CHUNK);
    if (!buf)
        return kpd_errno(ENOMEM);
    long sent = sendfile_copy(p, out_fd, in_fd, pos, count, buf);
    int err = errno;
    free(buf);
    if (sent < 0)
        return kpd_errno(err);
    if (offset)
        *offset = pos + sent;
    else
        lseek(in_fd, pos + sent, SEEK_SET);
    return sent;
}

static ssize_t k_write(void *ctx, int fd, const void *buf, size_t n)
{
    if (kpd_is_pipe(ctx, fd))
        return write(fd, buf, n);
    KPD_SEND_ENTRY((struct kpd *)ctx, do_send(ctx, fd, buf, n, 0));
}

static ssize_t k_writev(void *ctx, int fd, const struct iovec *iov, int iovcnt)
{
    KPD_SEND_ENTRY((struct kpd *)ctx, send_iov(ctx, fd, iov, iovcnt, 0));
}

static ssize_t k_send(void *ctx, int fd, const void *buf, size_t n, int flags)
{
    KPD_SEND_ENTRY((struct kpd *)ctx, do_send(ctx, fd, buf, n, flags));
}

/* Whether a send with MSG_FASTOPEN must connect first: the socket has
 * never connected (Linux tcp_sendmsg_fastopen; a connected one ignores the
 * flag here, a deferred one sends its SYN in do_send). */
static bool fastopen_connects(struct kpd *p, int fd, int flags)
{
    struct keel_sockaddr peer;
    struct kfd *f = sock_fd(p, fd);
    return (flags & MSG_FASTOPEN) && f && keel_getpeername(p->st, f->sock, &peer) == KEEL_ENOTCONN;
}

/* Linux tcp_sendmsg_fastopen: connect with Fast Open (TCP_FASTOPEN_CONNECT)
 * before the write. Without a cached cookie the SYN asks for one and a
 * non-blocking call fails with EINPROGRESS, the data unsent; with one the
 * connect is deferred and the write sends the SYN. */
static int do_connect_fastopen(struct kpd *p, int fd, const struct sockaddr *to, socklen_t tolen)
{
    int on = 1;
    int e = keel_setsockopt(p->st, sock_fd(p, fd)->sock, KEEL_IPPROTO_TCP,
                            KEEL_TCP_FASTOPEN_CONNECT, &on, sizeof on);
    return e < 0 ? kpd_fail(e) : do_connect(p, fd, to, tolen);
}

/* A bad buffer fails first (EFAULT), connecting and sending nothing. */
static long send_fastopen(struct kpd *p, int fd, const void *buf, size_t len, int flags,
                          const struct sockaddr *to, socklen_t tolen)
{
    if (len && !buf)
        return kpd_errno(EFAULT);
    if (do_connect_fastopen(p, fd, to, tolen) < 0)
        return -1;
    return do_send(p, fd, buf, len, flags & ~MSG_FASTOPEN);
}

static long send_to(struct kpd *p, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen)
{
    if (fastopen_connects(p, fd, flags))
        return send_fastopen(p, fd, buf, len, flags, to, tolen);
    return do_send(p, fd, buf, len, flags); /* a connected TCP socket ignores to */
}

static ssize_t k_sendto(void *ctx, int fd, const void *buf, size_t n, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
    KPD_SEND_ENTRY((struct kpd *)ctx, send_to(ctx, fd, buf, n, flags, to, tolen));
}

/* sendmsg(MSG_FASTOPEN) connects to msg_name as sendto does. */
static long send_msg(struct kpd *p, int fd, const struct msghdr *msg, int flags)
{
    if (!fastopen_connects(p, fd, flags))
        return send_iov(p, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    if (do_connect_fastopen(p, fd, msg->msg_name, msg->msg_namelen) < 0)
        return -1;
    return send_iov(p, fd, msg->msg_iov, (int)msg->msg_iovlen, flags & ~MSG_FASTOPEN);
}

static ssize_t k_sendmsg(void *ctx, int fd, const struct msghdr *msg, int flags)
{
    if (!msg)
        return kpd_errno(EFAULT);
    KPD_SEND_ENTRY((struct kpd *)ctx, send_msg(ctx, fd, msg, flags));
}

/* ---- close, shutdown ---- */

static int k_close(void *ctx, int fd)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    int r = 0;
    if (fd < 0 || fd >= KPD_MAX_FDS || p->fds[fd].kind == KFD_FREE) {
        r = kpd_errno(EBADF);
    } else {
        if (p->fds[fd].kind == KFD_SOCKET)
            keel_close(p->st, p->fds[fd].sock);
        kpd_fd_free(p, fd);
        kpd_kick(p);
    }
    kpd_unlock(p);
    return r;
}

static int k_shutdown(void *ctx, int fd, int how)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    struct kfd *f = sock_fd(p, fd);
    int r = -1;
    if (f) {
        int e = keel_shutdown(p->st, f->sock, how);
        r = e < 0 ? kpd_fail(e) : 0;
        kpd_kick(p);
    }
    kpd_unlock(p);
    return r;
}

void kpd_fill_socket_calls(struct kpd_table *t)
{
    t->socket = k_socket;
    t->bind = k_bind;
    t->listen = k_listen;
    t->accept = k_accept;
    t->connect = k_connect;
    t->read = k_read;
    t->readv = k_readv;
    t->recv = k_recv;
    t->recvfrom = k_recvfrom;
    t->recvmsg = k_recvmsg;
    t->write = k_write;
    t->writev = k_writev;
    t->send = k_send;
    t->sendto = k_sendto;
    t->sendmsg = k_sendmsg;
    t->close = k_close;
    t->shutdown = k_shutdown;
}
