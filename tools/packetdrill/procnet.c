/* keel's sockets as Linux's /proc/net/tcp shows them, for the scripts that
 * read that file (md5/md5-only-on-client-ack greps it for a listener).
 * run-suite.sh points the scripts' /proc/net/tcp and /proc/net/tcp6 at
 * files in its scratch directory (flag proc_net=DIR); the interposed
 * system() (interpose.c) rewrites them from keel_visit_sockets just before
 * each command a script runs, so the command sees the sockets of that
 * virtual instant. keel is IPv4 only: tcp6 has only its header line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kpd.h"

#define PROC_LINE_WIDTH 149 /* Linux tcp4_seq_show: TMPSZ - 1 */
#define USER_HZ 100          /* the clock_t unit of the timer column */

struct proc_dump {
    FILE *f;
    uint64_t now_us;
    int row;
};

/* Linux prints the address as the __be32 it stores, read as a native
 * (here little-endian) integer: 198.18.0.1 is C6120001 on the wire and
 * 010012C6 in the file. */
static uint32_t as_printed(uint32_t host_order)
{
    return __builtin_bswap32(host_order);
}

/* Linux's timer column: 1 retransmission (or loss probe), 4 zero-window
 * probe, 2 keepalive, 0 none; with when it fires, in clock ticks. */
static void timer_column(const struct keel_tcp_info *k, uint64_t now_us, int *kind,
                         unsigned long *ticks)
{
    static const struct {
        int keel, linux_kind;
    } order[] = {{KEEL_TIMER_RETRANSMIT, 1}, {KEEL_TIMER_PERSIST, 4}, {KEEL_TIMER_KEEPALIVE, 2}};
    *kind = 0;
    *ticks = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!k->timer_armed[order[i].keel])
            continue;
        uint64_t at = k->timer_expiry_us[order[i].keel];
        *kind = order[i].linux_kind;
        *ticks = at > now_us ? (unsigned long)((at - now_us) * USER_HZ / 1000000) : 0;
        return;
    }
}

/* -1 while slow start has no threshold yet, as Linux prints it. */
static int ssthresh_segments(const struct keel_tcp_info *k)
{
    return k->ssthresh == UINT32_MAX || !k->snd_mss ? -1 : (int)(k->ssthresh / k->snd_mss);
}

/* One row, in tcp4_seq_show's columns: queues are the unsent-or-unacked
 * and unread bytes (0 for a listener: keel's info has no backlog counts);
 * uid 0, inode 0 and refcount 1, which keel does not have. */
static int write_row(void *arg, int sock, const struct keel_tcp_info *k)
{
    (void)sock;
    struct proc_dump *d = arg;
    int kind;
    unsigned long ticks;
    timer_column(k, d->now_us, &kind, &ticks);
    bool listen = k->state == KEEL_TCP_LISTEN;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d "
                     "%016llx %u %u %u %u %d",
                     d->row++, as_printed(k->local_addr), k->local_port,
                     as_printed(k->remote_addr), k->remote_port, k->state,
                     listen ? 0 : k->snd_queued, listen ? 0 : k->rcv_queued, kind, ticks,
                     (unsigned)k->backoff, 0u, 0, 0ul, 1, 0ull,
                     (unsigned)(k->rto_us * USER_HZ / 1000000), 0u, 0u,
                     k->snd_mss ? k->cwnd / k->snd_mss : 0, ssthresh_segments(k));
    fprintf(d->f, "%-*.*s\n", PROC_LINE_WIDTH, n, line);
    return 0;
}

static const char *const HEADER =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode";

static void write_file(const char *path, struct kpd *p, bool with_sockets)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "keel-packetdrill: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "%-*s\n", PROC_LINE_WIDTH, HEADER);
    struct proc_dump d = {f, p->now_us, 0};
    if (with_sockets && p->st)
        keel_visit_sockets(p->st, write_row, &d);
    fclose(f);
}

void kpd_write_proc_net(struct kpd *p)
{
    if (!p->proc_net_dir[0])
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/tcp", p->proc_net_dir);
    write_file(path, p, true);
    snprintf(path, sizeof path, "%s/tcp6", p->proc_net_dir);
    write_file(path, p, false);
}
