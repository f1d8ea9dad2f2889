/* keel as packetdrill's stack under test (libkeel-packetdrill.so): shared
 * declarations of the instance, its file descriptors, virtual time and the
 * blocking machinery.
 *
 * Threads: packetdrill calls in from its main thread (packets, time, and
 * system calls the script does not expect to block) and from a system-call
 * thread (calls written `+0...t call()` that block). One mutex guards the
 * stack. A blocking call waits on a condition variable; whatever changes the
 * stack (a packet, time passing, another call) wakes it and then waits until
 * it has looked again, so that everything a woken call does (the data a
 * write queues, the segments that go out) happens at the same virtual
 * instant as its cause, as it would in a kernel.
 *
 * Time is virtual: packetdrill's sleep and clock calls drive keel's clock;
 * nothing reads a real clock, so a script runs in milliseconds and every
 * outgoing packet carries the exact virtual time keel sent it at. */
#ifndef KEEL_PD_KPD_H
#define KEEL_PD_KPD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "keel/keel.h"
#include "pd_abi.h"

#define KPD_MAX_FDS 1024
#define KPD_MAX_WAITERS 8
#define KPD_MAX_EPOLL_ITEMS 64

/* KFD_PIPE: an end of a host pipe made by pipe() (splice.c); its number is
 * the host descriptor itself. */
enum kfd_kind { KFD_FREE, KFD_SOCKET, KFD_EPOLL, KFD_PIPE };

struct kpd_epitem {
    int fd;
    uint32_t events;   /* EPOLL* wanted, with EPOLLET / EPOLLONESHOT */
    uint64_t data;     /* epoll_data as given */
    bool ready;        /* queued for the next epoll_wait (Linux's ready list) */
    bool disabled;     /* EPOLLONESHOT fired */
};

/* A file descriptor number that packetdrill may also close() or getsockopt()
 * on the host: each is backed by a host descriptor (/dev/null) that holds
 * the number. */
struct kfd {
    enum kfd_kind kind;
    int sock;          /* keel handle (KFD_SOCKET) */
    bool nonblock;
    bool cloexec;
    bool inq;          /* TCP_INQ: recvmsg reports the bytes left to read */
    bool zerocopy;     /* SO_ZEROCOPY */
    uint32_t zc_next_id;      /* MSG_ZEROCOPY: the next send's notification id */
    bool zc_queued;           /* a notification waits on the error queue... */
    uint32_t zc_lo, zc_hi;    /* ...for the sends with ids zc_lo..zc_hi */
    struct kpd_epitem *items; /* KFD_EPOLL */
    int nitems;
};

struct kpd_packet {
    uint8_t *data;
    size_t len;
    uint64_t at_us;
};

/* Linux settings written by the scripts' `sysctl` commands (see
 * tools/packetdrill/shims) that keel has a counterpart for. */
struct kpd_sysctls {
    uint32_t rmem_default, rmem_max, wmem_default, wmem_max;
    int timestamps, sack, window_scaling, slow_start_after_idle, frto; /* -1: unset */
    uint32_t syn_retries, synack_retries, retries2, fin_timeout_s;
    uint32_t pacing_ss_ratio, pacing_ca_ratio, min_tso_segs; /* 0: unset */
    char congestion[16];
    uint32_t notsent_lowat; /* tcp_notsent_lowat; 0: unset (no limit) */
    int tso; /* device.tso (ethtool -K tso/gso): -1 unset, 0 off, 1 on */
    bool fq; /* device.qdisc=fq when the stack was made: TCP paces */
    int ecn; /* tcp_ecn: -1 unset, 0 off, 1 on, 2 accept only */
    uint32_t mtu_probing, base_mss; /* tcp_mtu_probing, tcp_base_mss; 0: unset */
    int fastopen; /* tcp_fastopen: -1 unset, else Linux's bits (0x1: client) */
};

/* The device's root queue discipline as `tc` set it (the tc shim records
 * it with the sysctls, possibly while the script runs): pfifo and bfifo
 * limits, in packets and bytes, -1 for none. */
struct kpd_qdisc {
    long limit_packets, limit_bytes;
    long long settings_size; /* of the settings file when last read */
};

struct kpd {
    pthread_mutex_t mu;
    pthread_cond_t wake;     /* a blocked call should look again */
    pthread_cond_t settled;  /* every woken call has looked again */
    uint64_t gen;            /* changes whenever the stack may have changed */
    int waiters;             /* calls waiting on `wake` */
    int busy;                /* woken calls that have not looked again yet */
    uint64_t waiter_deadline[KPD_MAX_WAITERS]; /* virtual-time timeouts */
    pthread_t main_thread;

    keel_stack *st;
    struct keel_device dev;
    uint64_t now_us;
    uint32_t local_addr;     /* host byte order */
    uint64_t seed;
    bool trace;              /* print every packet to stderr */
    char sysctl_path[512];
    char proc_net_dir[512];  /* where /proc/net/tcp is written ("": nowhere) */
    struct kpd_sysctls sysctls; /* read when the stack is created */
    struct kpd_qdisc qdisc;     /* read again whenever the settings change */
    long routes_read;           /* the settings file's bytes whose routes keel has */
    /* ethtool -K tun0 tso off / gso off: Linux's TCP still builds GSO
     * packets, which the stack then cuts up in software; so does the device. */
    bool soft_gso;

    struct kpd_packet *out;  /* packets keel sent, oldest first */
    size_t out_head, out_len, out_cap;

    struct kfd fds[KPD_MAX_FDS];
    int sock_fd[KPD_MAX_FDS]; /* keel handle -> fd (handles are small) */
};

/* The instance packetdrill created last (the getsockopt interposer uses it). */
extern struct kpd *kpd_current;

/* core.c */
void kpd_lock(struct kpd *p);
void kpd_unlock(struct kpd *p);
/* Creates the stack on first use, from the flags and the recorded sysctls.
 * Returns false (errno ENOMEM) if it cannot. */
bool kpd_stack(struct kpd *p);
/* Something changed: wakes blocked calls and waits until each has looked. */
void kpd_kick(struct kpd *p);
/* Waits (unlocking) until the stack changes or virtual time reaches
 * deadline_us. */
void kpd_wait_change(struct kpd *p, uint64_t deadline_us);
/* A call woken by kpd_kick has looked again. */
void kpd_settle(struct kpd *p);
bool kpd_on_main_thread(const struct kpd *p);
/* Runs fn until it returns something other than KEEL_EAGAIN: at once when
 * !may_block, else waiting for the stack to change between tries, until
 * virtual time reaches deadline_us (UINT64_MAX: none). `what` names the call
 * in the diagnostic printed when the main thread would block. */
typedef long (*kpd_attempt)(struct kpd *p, void *arg);
long kpd_block(struct kpd *p, bool may_block, uint64_t deadline_us, kpd_attempt fn,
               void *arg, const char *what);
/* Sets errno from a negative keel_err and returns -1. */
int kpd_fail(int keel_err);
int kpd_errno(int err); /* errno = err, returns -1 */

/* fds.c */
int kpd_fd_new(struct kpd *p, enum kfd_kind kind, int sock);
/* Enters host descriptor fd (a pipe end) in the table; false if it does not fit. */
bool kpd_fd_adopt(struct kpd *p, int fd, enum kfd_kind kind);
void kpd_fd_free(struct kpd *p, int fd);
struct kfd *kpd_fd(struct kpd *p, int fd, enum kfd_kind kind);
/* Marks the fds whose readiness keel reported changed, and puts the epoll
 * items they match on their ready lists. */
void kpd_take_events(struct kpd *p);

/* socket.c, sockopt.c, poll.c: the table's entries. */
void kpd_fill_socket_calls(struct kpd_table *t);
void kpd_fill_sockopt_calls(struct kpd_table *t);
void kpd_fill_poll_calls(struct kpd_table *t);
void kpd_fill_splice_calls(struct kpd_table *t);
/* Is fd a host pipe end from pipe()? (Its read, write and fcntl are the host's.) */
bool kpd_is_pipe(struct kpd *p, int fd);
/* read/recv and write/send on a keel socket fd, as the table's calls do
 * them (blocking unless the fd is non-blocking or MSG_DONTWAIT); -1 and
 * errno on failure. Called with the lock held. */
long kpd_recv(struct kpd *p, int fd, void *buf, size_t len, int flags);
long kpd_send(struct kpd *p, int fd, const void *buf, size_t len, int flags);
/* Linux poll bits for a socket fd (POLLIN|POLLRDNORM...), or POLLNVAL. */
uint32_t kpd_poll_mask(struct kpd *p, int fd);
/* An fd's readiness changed: epoll items watching it become ready if their
 * events match now (Linux ep_poll_callback). */
void kpd_epoll_wakeup(struct kpd *p, int fd);
int kpd_getsockopt(struct kpd *p, int fd, int level, int name, void *val, socklen_t *len);
/* sendfile(2) from a host file to the keel socket out_fd. */
ssize_t kpd_sendfile(struct kpd *p, int out_fd, int in_fd, off_t *offset, size_t count);

/* zerocopy.c */
int kpd_zerocopy_set(struct kfd *f, const void *val, socklen_t len);
void kpd_zerocopy_sent(struct kpd *p, int fd, int flags, long sent);
long kpd_zerocopy_errqueue(struct kpd *p, int fd, struct msghdr *msg);
bool kpd_zerocopy_pending(const struct kfd *f);

/* procnet.c: rewrites proc_net_dir/tcp and tcp6 from keel's sockets. */
void kpd_write_proc_net(struct kpd *p);

/* sysctl.c */
void kpd_sysctls_read(const char *path, struct kpd_sysctls *s);
void kpd_sysctls_apply(const struct kpd_sysctls *s, struct keel_config *cfg);
/* Gives keel the routes (`ip route`, see shims/ip) recorded since the last
 * call; none before the stack exists. */
void kpd_routes_apply(struct kpd *p);
/* Does the device's queue discipline refuse a packet of len bytes now? */
bool kpd_qdisc_refuses(struct kpd *p, size_t len);

#endif
