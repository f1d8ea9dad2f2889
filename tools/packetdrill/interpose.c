/* packetdrill runs %{ }% assertions on data it reads with the host's own
 * getsockopt(TCP_INFO) (and TCP_CC_INFO, SO_MEMINFO), not through the
 * shared-object table. With this library also in LD_PRELOAD (run-suite.sh
 * does that), the host call lands here: descriptors that are keel sockets
 * are answered by keel, every other call goes on to the C library. The
 * preloaded copy and the one packetdrill dlopen()s are the same object, so
 * kpd_current is the running instance. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "kpd.h"

typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);

static getsockopt_fn next_getsockopt(void)
{
    static getsockopt_fn next;
    if (!next) {
        void *sym = dlsym(RTLD_NEXT, "getsockopt");
        union {
            void *obj;
            getsockopt_fn fn;
        } u = {sym}; /* POSIX: dlsym's object pointer holds a function */
        next = u.fn;
    }
    return next;
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
 * command sees them as they are at that instant. */
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
    return next.fn(command);
}
