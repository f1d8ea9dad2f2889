/* Host calls that packetdrill makes on keel's descriptors without going
 * through the shared-object table: getsockopt (its %{ }% assertions read
 * TCP_INFO, TCP_CC_INFO and SO_MEMINFO with the host's own call) and
 * sendfile (sendfile/ scripts: the file is the host's, the socket keel's).
 * With this library also in LD_PRELOAD (run-suite.sh does that), the host
 * call lands here: descriptors that are keel sockets are answered by keel,
 * every other call goes on to the C library untouched. The preloaded copy
 * and the one packetdrill dlopen()s are the same object, so kpd_current is
 * the running instance. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/sendfile.h>

#include "kpd.h"

/* The C library's definition of the symbol this library overrides. */
static void *next_symbol(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);
typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);

static getsockopt_fn next_getsockopt(void)
{
    static getsockopt_fn next;
    if (!next) {
        union {
            void *obj;
            getsockopt_fn fn;
        } u = {next_symbol("getsockopt")}; /* POSIX: dlsym's object pointer holds a function */
        next = u.fn;
    }
    return next;
}

static sendfile_fn next_sendfile(void)
{
    static sendfile_fn next;
    if (!next) {
        union {
            void *obj;
            sendfile_fn fn;
        } u = {next_symbol("sendfile")};
        next = u.fn;
    }
    return next;
}

/* The running instance if fd is one of its sockets, else NULL. */
static struct kpd *keel_socket_owner(int fd)
{
    struct kpd *p = kpd_current;
    if (!p || fd < 0 || fd >= KPD_MAX_FDS)
        return NULL;
    kpd_lock(p);
    bool ours = p->fds[fd].kind == KFD_SOCKET;
    kpd_unlock(p);
    return ours ? p : NULL;
}

__attribute__((visibility("default"))) int getsockopt(int fd, int level, int name,
                                                      void *restrict val,
                                                      socklen_t *restrict len)
{
    struct kpd *p = kpd_current;
    if (p && fd >= 0 && fd < KPD_MAX_FDS) {
        kpd_lock(p);
        if (p->fds[fd].kind == KFD_SOCKET) {
            int r = kpd_getsockopt(p, fd, level, name, val, len);
            kpd_unlock(p);
            return r;
        }
        kpd_unlock(p);
    }
    getsockopt_fn next = next_getsockopt();
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd, level, name, val, len);
}

/* packetdrill runs a script's shell commands with system(): keel's sockets
 * are written to the /proc/net/tcp stand-in first (procnet.c), so that the
 * command sees them as they are at that instant; the routes the command
 * set (`ip route`, shims/ip) reach keel when it returns, before the
 * script's next event. */
typedef int (*system_fn)(const char *);

__attribute__((visibility("default"))) int system(const char *command)
{
    struct kpd *p = kpd_current;
    if (p) {
        kpd_lock(p);
        kpd_write_proc_net(p);
        kpd_unlock(p);
    }
    union {
        void *obj;
        system_fn fn;
    } next = {dlsym(RTLD_NEXT, "system")};
    if (!next.fn) {
        errno = ENOSYS;
        return -1;
    }
    int rc = next.fn(command);
    if (p) {
        kpd_lock(p);
        kpd_routes_apply(p);
        kpd_unlock(p);
    }
    return rc;
}

__attribute__((visibility("default"))) ssize_t sendfile(int out_fd, int in_fd, off_t *offset,
                                                        size_t count)
{
    struct kpd *p = keel_socket_owner(out_fd);
    if (p)
        return kpd_sendfile(p, out_fd, in_fd, offset, count);
    sendfile_fn next = next_sendfile();
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    return next(out_fd, in_fd, offset, count);
}
