/* pipe(2) and splice(2) for packetdrill's splice scripts. A pipe is the
 * host's own (keel has none): both ends enter the descriptor table so that
 * close, read, write and fcntl reach them. splice moves bytes between a
 * pipe and a keel socket as Linux does (tcp_splice_read, and a pipe's
 * contents written to the socket): one end must be a pipe, a socket end
 * takes no offset, a blocking call returns as soon as it moved something. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kpd.h"

#define SPLICE_CHUNK 65536

static int k_pipe(void *ctx, int fds[2])
{
    struct kpd *p = ctx;
    if (!fds)
        return kpd_errno(EFAULT);
    int host[2];
    if (pipe(host) < 0)
        return -1;
    kpd_lock(p);
    bool ok = kpd_fd_adopt(p, host[0], KFD_PIPE) && kpd_fd_adopt(p, host[1], KFD_PIPE);
    kpd_unlock(p);
    if (!ok) {
        close(host[0]);
        close(host[1]);
        return kpd_errno(EMFILE);
    }
    fds[0] = host[0];
    fds[1] = host[1];
    return 0;
}

bool kpd_is_pipe(struct kpd *p, int fd)
{
    if (fd < 0 || fd >= KPD_MAX_FDS)
        return false;
    kpd_lock(p);
    bool pipe_end = p->fds[fd].kind == KFD_PIPE;
    kpd_unlock(p);
    return pipe_end;
}

static enum kfd_kind kind_of(struct kpd *p, int fd)
{
    return fd >= 0 && fd < KPD_MAX_FDS ? p->fds[fd].kind : KFD_FREE;
}

/* Bytes a write to the pipe can take now. */
static size_t pipe_room(int fd)
{
    int size = fcntl(fd, F_GETPIPE_SZ), used = 0;
    if (size < 0 || ioctl(fd, FIONREAD, &used) < 0 || used >= size)
        return 0;
    return (size_t)(size - used);
}

/* Waits (unlocked) until the pipe end is ready for `events`. */
static void wait_pipe(struct kpd *p, int fd, short events)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    kpd_unlock(p);
    poll(&pfd, 1, -1);
    kpd_lock(p);
}

/* Socket to pipe (Linux tcp_splice_read): what the socket has, up to len
 * and the pipe's room; the bytes leave the socket only once in the pipe. */
static long socket_to_pipe(struct kpd *p, int sock_fd, int pipe_fd, size_t len, bool nonblock,
                           uint8_t *buf)
{
    size_t room;
    while ((room = pipe_room(pipe_fd)) == 0) {
        if (nonblock)
            return kpd_errno(EAGAIN);
        wait_pipe(p, pipe_fd, POLLOUT);
    }
    size_t want = len < room ? len : room;
    if (want > SPLICE_CHUNK)
        want = SPLICE_CHUNK;
    /* Linux tcp_read_sock stops at the urgent mark, inline or not, and
     * moves nothing while at it. */
    struct keel_tcp_info k;
    keel_tcp_info(p->st, p->fds[sock_fd].sock, &k);
    if (k.rcv_urgent && k.rcv_urgent_offset == 0)
        return 0;
    if (k.rcv_urgent && k.rcv_urgent_offset < want)
        want = k.rcv_urgent_offset;
    long got = kpd_recv(p, sock_fd, buf, want, MSG_PEEK | (nonblock ? MSG_DONTWAIT : 0));
    if (got <= 0)
        return got;
    ssize_t put = write(pipe_fd, buf, (size_t)got);
    if (put <= 0)
        return put < 0 ? -1 : 0;
    return kpd_recv(p, sock_fd, buf, (size_t)put, MSG_DONTWAIT);
}

/* Pipe to socket: what the pipe holds, up to len and, for a non-blocking
 * socket, the send buffer's room (a blocking one takes it all). */
static long pipe_to_socket(struct kpd *p, int pipe_fd, int sock_fd, size_t len, bool nonblock,
                           uint8_t *buf)
{
    struct keel_tcp_info k;
    keel_tcp_info(p->st, p->fds[sock_fd].sock, &k);
    size_t room = k.sndbuf > k.snd_queued ? k.sndbuf - k.snd_queued : 0;
    size_t want = len < SPLICE_CHUNK ? len : SPLICE_CHUNK;
    if ((nonblock || p->fds[sock_fd].nonblock) && want > room)
        want = room;
    if (want == 0)
        return kpd_errno(EAGAIN);
    int pipe_flags = fcntl(pipe_fd, F_GETFL);
    if (!(pipe_flags & O_NONBLOCK) && !nonblock)
        wait_pipe(p, pipe_fd, POLLIN);
    ssize_t got = read(pipe_fd, buf, want);
    if (got <= 0)
        return got < 0 && errno == EAGAIN ? kpd_errno(EAGAIN) : got;
    return kpd_send(p, sock_fd, buf, (size_t)got, nonblock ? MSG_DONTWAIT : 0);
}

/* packetdrill hands the shared object a pointer to the script's offset,
 * whose NULL is 0: an offset of 0 means none. */
static loff_t *script_offset(loff_t *off)
{
    return off && *off ? off : NULL;
}

static long do_splice(struct kpd *p, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
                      size_t len, unsigned int flags, uint8_t *buf)
{
    off_in = script_offset(off_in);
    off_out = script_offset(off_out);
    enum kfd_kind in = kind_of(p, fd_in), out = kind_of(p, fd_out);
    if (in == KFD_FREE || out == KFD_FREE)
        return kpd_errno(EBADF);
    bool nonblock = (flags & SPLICE_F_NONBLOCK) != 0;
    if (in == KFD_PIPE && out == KFD_PIPE) {
        kpd_unlock(p);
        long r = splice(fd_in, off_in, fd_out, off_out, len, flags);
        kpd_lock(p);
        return r;
    }
    if ((in == KFD_SOCKET && off_in) || (out == KFD_SOCKET && off_out))
        return kpd_errno(ESPIPE);
    if (len == 0)
        return 0;
    if (in == KFD_SOCKET && out == KFD_PIPE)
        return socket_to_pipe(p, fd_in, fd_out, len, nonblock, buf);
    if (in == KFD_PIPE && out == KFD_SOCKET)
        return pipe_to_socket(p, fd_in, fd_out, len, nonblock, buf);
    return kpd_errno(EINVAL); /* neither end a pipe */
}

static int k_splice(void *ctx, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
                    size_t len, unsigned int flags)
{
    struct kpd *p = ctx;
    uint8_t *buf = malloc(SPLICE_CHUNK);
    if (!buf)
        return kpd_errno(ENOMEM);
    kpd_lock(p);
    long r = do_splice(p, fd_in, off_in, fd_out, off_out, len, flags, buf);
    int err = errno;
    kpd_kick(p);
    kpd_unlock(p);
    free(buf);
    errno = err;
    return (int)r;
}

void kpd_fill_splice_calls(struct kpd_table *t)
{
    t->pipe = k_pipe;
    t->splice = k_splice;
}
