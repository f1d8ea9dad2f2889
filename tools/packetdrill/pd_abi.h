/* The binary interface a stack under test offers packetdrill when it is
 * loaded with --so_filename: packetdrill dlopen()s the object, calls its
 * exported init function with the --so_flags string and a table to fill, then
 * makes every system call of the script, and moves every packet, through
 * the table.
 *
 * This is keel's own declaration of that table. Only the binary layout is
 * shared with packetdrill: one opaque pointer, then function pointers in a
 * fixed order with fixed C types. The order and types must not change. */
#ifndef KEEL_PD_ABI_H
#define KEEL_PD_ABI_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct kpd_table {
    void *ctx; /* handed back as the first argument of every call */
    void (*release)(void *ctx);

    /* Socket calls, with the C library's signatures after ctx. Failures
     * return -1 and set errno, as the system calls do. */
    int (*socket)(void *ctx, int domain, int type, int protocol);
    int (*bind)(void *ctx, int fd, const struct sockaddr *addr, socklen_t len);
    int (*listen)(void *ctx, int fd, int backlog);
    int (*accept)(void *ctx, int fd, struct sockaddr *addr, socklen_t *len);
    int (*connect)(void *ctx, int fd, const struct sockaddr *addr, socklen_t len);
    ssize_t (*read)(void *ctx, int fd, void *buf, size_t n);
    ssize_t (*readv)(void *ctx, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(void *ctx, int fd, void *buf, size_t n, int flags);
    ssize_t (*recvfrom)(void *ctx, int fd, void *buf, size_t n, int flags,
                        struct sockaddr *from, socklen_t *fromlen);
    ssize_t (*recvmsg)(void *ctx, int fd, struct msghdr *msg, int flags);
    ssize_t (*write)(void *ctx, int fd, const void *buf, size_t n);
    ssize_t (*writev)(void *ctx, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*send)(void *ctx, int fd, const void *buf, size_t n, int flags);
    ssize_t (*sendto)(void *ctx, int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *to, socklen_t tolen);
    ssize_t (*sendmsg)(void *ctx, int fd, const struct msghdr *msg, int flags);
    int (*fcntl)(void *ctx, int fd, int cmd, ...);
    int (*ioctl)(void *ctx, int fd, unsigned long request, ...);
    int (*close)(void *ctx, int fd);
    int (*shutdown)(void *ctx, int fd, int how);
    int (*getsockopt)(void *ctx, int fd, int level, int name, void *val, socklen_t *len);
    int (*setsockopt)(void *ctx, int fd, int level, int name, const void *val,
                      socklen_t len);
    int (*poll)(void *ctx, struct pollfd *fds, nfds_t nfds, int timeout_ms);

    /* The wire. to_stack: one IPv4 packet (no link header) arrives at the
     * stack; 0 or -1. from_stack: the next packet the stack sent, copied
     * into buf (*len: its size in, the packet's length out, 0 for none),
     * with the time it left in *at_us; 0 or -1 (packetdrill asks again). */
    int (*to_stack)(void *ctx, const void *pkt, size_t len);
    int (*from_stack)(void *ctx, void *buf, size_t *len, long long *at_us);

    /* The clock packetdrill runs the script by. */
    int (*sleep_us)(void *ctx, useconds_t us);
    int (*now)(void *ctx, struct timeval *tv, struct timezone *tz);

    int (*epoll_create)(void *ctx, int size);
    int (*epoll_ctl)(void *ctx, int epfd, int op, int fd, struct epoll_event *ev);
    int (*epoll_wait)(void *ctx, int epfd, struct epoll_event *evs, int max,
                      int timeout_ms);
    int (*pipe)(void *ctx, int fds[2]);
    int (*splice)(void *ctx, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
                  size_t len, unsigned int flags);
};

/* The symbol packetdrill looks up. */
void packetdrill_interface_init(const char *flags, struct kpd_table *table);

#endif
