/* poll and epoll over keel's readiness (keel_readiness, keel_take_events),
 * with Linux's bits and epoll's ready-list semantics: an item joins its
 * set's ready list when its socket wakes up with an event it wants (Linux
 * ep_poll_callback) or is ready when added; epoll_wait reports what the
 * socket is ready for then; level-triggered items stay on the list while
 * ready, EPOLLET ones leave it, EPOLLONESHOT ones are disabled. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kpd.h"

#define EPOLL_ALWAYS (EPOLLERR | EPOLLHUP) /* reported whether asked for or not */

/* keel's KEEL_POLL* bits are Linux's POLLIN, POLLOUT, POLLERR, POLLHUP and
 * POLLRDHUP; Linux's tcp_poll adds POLLRDNORM and POLLWRNORM with them. */
uint32_t kpd_poll_mask(struct kpd *p, int fd)
{
    struct kfd *f = kpd_fd(p, fd, KFD_SOCKET);
    if (!f)
        return POLLNVAL;
    int r = keel_readiness(p->st, f->sock);
    if (r < 0)
        return POLLNVAL;
    uint32_t m = (uint32_t)r;
    if (kpd_zerocopy_pending(f))
        m |= POLLERR;
    if (m & POLLIN)
        m |= POLLRDNORM;
    if (m & POLLOUT)
        m |= POLLWRNORM;
    return m;
}

/* ---- poll ---- */

struct poll_args {
    struct pollfd *fds;
    nfds_t n;
};

static long try_poll(struct kpd *p, void *arg)
{
    struct poll_args *a = arg;
    long ready = 0;
    for (nfds_t i = 0; i < a->n; i++) {
        struct pollfd *x = &a->fds[i];
        if (x->fd < 0) {
            x->revents = 0;
            continue;
        }
        uint32_t m = kpd_poll_mask(p, x->fd);
        if (!(m & POLLNVAL))
            m &= (uint32_t)(uint16_t)x->events | POLLERR | POLLHUP;
        x->revents = (short)m;
        ready += m != 0;
    }
    return ready ? ready : KEEL_EAGAIN;
}

static uint64_t deadline_after_ms(const struct kpd *p, int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : p->now_us + (uint64_t)timeout_ms * 1000;
}

static int k_poll(void *ctx, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    struct kpd *p = ctx;
    if (nfds && !fds)
        return kpd_errno(EFAULT);
    kpd_lock(p);
    struct poll_args a = {fds, nfds};
    long r = kpd_block(p, timeout_ms != 0, deadline_after_ms(p, timeout_ms), try_poll, &a,
                       "poll()");
    kpd_unlock(p);
    return r == KEEL_EAGAIN ? 0 : (int)r;
}

/* ---- epoll ---- */

static int k_epoll_create(void *ctx, int size)
{
    struct kpd *p = ctx;
    if (size <= 0)
        return kpd_errno(EINVAL);
    kpd_lock(p);
    int fd = kpd_fd_new(p, KFD_EPOLL, -1);
    if (fd >= 0) {
        p->fds[fd].items = calloc(KPD_MAX_EPOLL_ITEMS, sizeof(struct kpd_epitem));
        if (!p->fds[fd].items) {
            kpd_fd_free(p, fd);
            fd = kpd_errno(ENOMEM);
        }
    }
    kpd_unlock(p);
    return fd;
}

static bool item_wants_now(struct kpd *p, const struct kpd_epitem *it)
{
    return !it->disabled && (kpd_poll_mask(p, it->fd) & (it->events | EPOLL_ALWAYS));
}

void kpd_epoll_wakeup(struct kpd *p, int fd)
{
    for (int e = 0; e < KPD_MAX_FDS; e++) {
        struct kfd *ep = &p->fds[e];
        if (ep->kind != KFD_EPOLL)
            continue;
        for (int i = 0; i < ep->nitems; i++)
            if (ep->items[i].fd == fd && item_wants_now(p, &ep->items[i]))
                ep->items[i].ready = true;
    }
}

static struct kpd_epitem *find_item(struct kfd *ep, int fd)
{
    for (int i = 0; i < ep->nitems; i++)
        if (ep->items[i].fd == fd)
            return &ep->items[i];
    return NULL;
}

static int ctl_add(struct kpd *p, struct kfd *ep, int fd, const struct epoll_event *ev)
{
    if (find_item(ep, fd))
        return kpd_errno(EEXIST);
    if (ep->nitems == KPD_MAX_EPOLL_ITEMS)
        return kpd_errno(ENOSPC);
    struct kpd_epitem *it = &ep->items[ep->nitems++];
    *it = (struct kpd_epitem){.fd = fd, .events = ev->events, .data = ev->data.u64};
    it->ready = item_wants_now(p, it);
    return 0;
}

static int do_epoll_ctl(struct kpd *p, int epfd, int op, int fd, struct epoll_event *ev)
{
    if (epfd < 0 || epfd >= KPD_MAX_FDS || !p->fds[epfd].kind || fd < 0 ||
        fd >= KPD_MAX_FDS || !p->fds[fd].kind)
        return kpd_errno(EBADF);
    struct kfd *ep = kpd_fd(p, epfd, KFD_EPOLL);
    if (!ep || epfd == fd)
        return kpd_errno(EINVAL);
    if (op != EPOLL_CTL_DEL && !ev)
        return kpd_errno(EFAULT);
    struct kpd_epitem *it = find_item(ep, fd);
    switch (op) {
    case EPOLL_CTL_ADD:
        return ctl_add(p, ep, fd, ev);
    case EPOLL_CTL_MOD:
        if (!it)
            return kpd_errno(ENOENT);
        it->events = ev->events;
        it->data = ev->data.u64;
        it->disabled = false;
        it->ready = item_wants_now(p, it);
        return 0;
    case EPOLL_CTL_DEL:
        if (!it)
            return kpd_errno(ENOENT);
        *it = ep->items[--ep->nitems];
        return 0;
    }
    return kpd_errno(EINVAL);
}

static int k_epoll_ctl(void *ctx, int epfd, int op, int fd, struct epoll_event *ev)
{
    struct kpd *p = ctx;
    kpd_lock(p);
    kpd_take_events(p);
    int r = do_epoll_ctl(p, epfd, op, fd, ev);
    kpd_unlock(p);
    return r;
}

struct wait_args {
    struct kfd *ep;
    struct epoll_event *evs;
    int max;
};

static long try_epoll_wait(struct kpd *p, void *arg)
{
    struct wait_args *a = arg;
    kpd_take_events(p);
    int n = 0;
    for (int i = 0; i < a->ep->nitems && n < a->max; i++) {
        struct kpd_epitem *it = &a->ep->items[i];
        bool et = (it->events & EPOLLET) != 0;
        if (it->disabled || (et && !it->ready))
            continue;
        it->ready = false;
        uint32_t m = kpd_poll_mask(p, it->fd) & (it->events | EPOLL_ALWAYS);
        if (!m)
            continue;
        a->evs[n].events = m;
        a->evs[n].data.u64 = it->data;
        n++;
        if (it->events & EPOLLONESHOT)
            it->disabled = true;
    }
    return n ? n : KEEL_EAGAIN;
}

static int k_epoll_wait(void *ctx, int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
    struct kpd *p = ctx;
    if (max <= 0)
        return kpd_errno(EINVAL);
    if (!evs)
        return kpd_errno(EFAULT);
    kpd_lock(p);
    struct kfd *ep = kpd_fd(p, epfd, KFD_EPOLL);
    long r;
    if (!ep) {
        r = kpd_errno(epfd >= 0 && epfd < KPD_MAX_FDS && p->fds[epfd].kind ? EINVAL : EBADF);
    } else {
        struct wait_args a = {ep, evs, max};
        r = kpd_block(p, timeout_ms != 0, deadline_after_ms(p, timeout_ms), try_epoll_wait, &a,
                      "epoll_wait()");
        if (r == KEEL_EAGAIN)
            r = 0;
    }
    kpd_unlock(p);
    return (int)r;
}

void kpd_fill_poll_calls(struct kpd_table *t)
{
    t->poll = k_poll;
    t->epoll_create = k_epoll_create;
    t->epoll_ctl = k_epoll_ctl;
    t->epoll_wait = k_epoll_wait;
}
