/* File descriptors: keel sockets and epoll sets behind numbers that are
 * real host descriptors too. packetdrill closes every socket it still holds
 * at the end of a script with the host's close(), and reads TCP_INFO for
 * %{ }% assertions with the host's getsockopt() (see interpose.c), so each
 * number must be one the host knows; a descriptor on /dev/null reserves it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "kpd.h"

int kpd_fd_new(struct kpd *p, enum kfd_kind kind, int sock)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fd >= KPD_MAX_FDS) {
        close(fd);
        return kpd_errno(EMFILE);
    }
    struct kfd *f = &p->fds[fd];
    free(f->items);
    *f = (struct kfd){.kind = kind, .sock = sock};
    if (kind == KFD_SOCKET && sock >= 0 && sock < KPD_MAX_FDS)
        p->sock_fd[sock] = fd;
    return fd;
}

/* Removes fd from every epoll set, as closing a descriptor does on Linux
 * once its last reference goes. */
static void forget_in_epoll_sets(struct kpd *p, int fd)
{
    for (int e = 0; e < KPD_MAX_FDS; e++) {
        struct kfd *ep = &p->fds[e];
        if (ep->kind != KFD_EPOLL)
            continue;
        for (int i = 0; i < ep->nitems; i++) {
            if (ep->items[i].fd == fd) {
                ep->items[i] = ep->items[--ep->nitems];
                i--;
            }
        }
    }
}

bool kpd_fd_adopt(struct kpd *p, int fd, enum kfd_kind kind)
{
    if (fd < 0 || fd >= KPD_MAX_FDS)
        return false;
    struct kfd *f = &p->fds[fd];
    free(f->items);
    *f = (struct kfd){.kind = kind, .sock = -1};
    return true;
}

void kpd_fd_free(struct kpd *p, int fd)
{
    struct kfd *f = &p->fds[fd];
    if (f->kind == KFD_SOCKET && f->sock >= 0 && f->sock < KPD_MAX_FDS)
        p->sock_fd[f->sock] = -1;
    free(f->items);
    *f = (struct kfd){.kind = KFD_FREE};
    forget_in_epoll_sets(p, fd);
    close(fd);
}

struct kfd *kpd_fd(struct kpd *p, int fd, enum kfd_kind kind)
{
    if (fd < 0 || fd >= KPD_MAX_FDS || p->fds[fd].kind == KFD_FREE)
        return NULL;
    if (p->fds[fd].kind != kind)
        return NULL;
    return &p->fds[fd];
}

void kpd_take_events(struct kpd *p)
{
    if (!p->st)
        return;
    struct keel_event ev[64];
    int n;
    while ((n = keel_take_events(p->st, ev, 64)) > 0) {
        for (int i = 0; i < n; i++) {
            int s = ev[i].sock;
            if (s >= 0 && s < KPD_MAX_FDS && p->sock_fd[s] >= 0)
                kpd_epoll_wakeup(p, p->sock_fd[s]);
        }
    }
}
