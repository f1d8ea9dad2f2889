/* SO_ZEROCOPY and MSG_ZEROCOPY (Linux Documentation/networking/
 * msg_zerocopy.rst) over keel, whose sends always copy into its send
 * buffer. Linux itself copies when the device cannot gather pages, and then
 * still completes each zerocopy send on the socket's error queue, marked
 * SO_EE_CODE_ZEROCOPY_COPIED; keel does the same. keel's copy is finished
 * when the send returns, so the completion is queued then, not when the
 * data is acknowledged: the buffer is the application's again at once. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */

#include <linux/errqueue.h>

#include "kpd.h"

#define L_IP_RECVERR 11

/* Linux sock_setsockopt SO_ZEROCOPY: an int, 0 or 1, on a TCP socket. */
int kpd_zerocopy_set(struct kfd *f, const void *val, socklen_t len)
{
    int v;
    if (len < sizeof v)
        return kpd_errno(EINVAL);
    if (!val)
        return kpd_errno(EFAULT);
    memcpy(&v, val, sizeof v);
    if (v < 0 || v > 1)
        return kpd_errno(EINVAL);
    f->zerocopy = v == 1;
    return 0;
}

/* Linux tcp_sendmsg_locked and msg_zerocopy_realloc: a MSG_ZEROCOPY send of
 * some bytes on a SO_ZEROCOPY socket takes the next notification id (a
 * send that queued nothing gives its id back); consecutive completions not
 * yet read share one notification (__msg_zerocopy_callback). */
void kpd_zerocopy_sent(struct kpd *p, int fd, int flags, long sent)
{
    struct kfd *f = kpd_fd(p, fd, KFD_SOCKET);
    if (!f || !(flags & MSG_ZEROCOPY) || !f->zerocopy || sent <= 0)
        return;
    uint32_t id = f->zc_next_id++;
    if (f->zc_queued && f->zc_hi + 1 == id) {
        f->zc_hi = id;
    } else {
        f->zc_queued = true;
        f->zc_lo = f->zc_hi = id;
    }
    kpd_epoll_wakeup(p, fd);
}

/* What an IP_RECVERR control message carries (Linux struct sock_exterr_skb
 * as ip_recv_error copies it): the error, then the offender's address,
 * all zeros for a zerocopy completion. */
struct recverr {
    struct sock_extended_err ee;
    struct sockaddr_in offender;
};

/* recvmsg(MSG_ERRQUEUE) (Linux ip_recv_error): the pending notification as
 * an IP_RECVERR control message and no data, or EAGAIN. */
long kpd_zerocopy_errqueue(struct kpd *p, int fd, struct msghdr *msg)
{
    struct kfd *f = kpd_fd(p, fd, KFD_SOCKET);
    if (!f->zc_queued)
        return kpd_errno(EAGAIN);
    struct recverr e;
    memset(&e, 0, sizeof e);
    e.ee.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
    e.ee.ee_code = SO_EE_CODE_ZEROCOPY_COPIED;
    e.ee.ee_info = f->zc_lo;
    e.ee.ee_data = f->zc_hi;
    f->zc_queued = false;
    msg->msg_namelen = 0;
    msg->msg_flags = MSG_ERRQUEUE;
    if (!msg->msg_control || msg->msg_controllen < CMSG_SPACE(sizeof e)) {
        msg->msg_flags |= MSG_CTRUNC;
        msg->msg_controllen = 0;
        return 0;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = L_IP_RECVERR;
    c->cmsg_len = CMSG_LEN(sizeof e);
    memcpy(CMSG_DATA(c), &e, sizeof e);
    msg->msg_controllen = CMSG_SPACE(sizeof e);
    return 0;
}

/* Linux sock_poll: a non-empty error queue is POLLERR. */
bool kpd_zerocopy_pending(const struct kfd *f)
{
    return f->zc_queued;
}
