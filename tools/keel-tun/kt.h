/* keel-tun: a keel stack on a TUN device, facing the Linux kernel. Shared
 * pieces of the tool: options, the runtime (stack + device + loop), the
 * generated content, the kernel side's configuration. */
#ifndef KEEL_TUN_KT_H
#define KEEL_TUN_KT_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "impair.h"
#include "keel/keel.h"
#include "link/pcap.h"
#include "link/tun.h"

struct kt_options {
    const char *mode;          /* serve-http, serve-echo, ... */
    const char *target;        /* HOST:PORT or URL of the client modes */
    const char *bulk_dir;      /* bulk: "send" or "recv" */
    const char *dev;           /* interface name */
    uint32_t addr;             /* keel's address, host byte order */
    uint32_t peer;             /* the kernel side's address */
    int prefix;                /* and its prefix length */
    uint32_t mtu;
    bool no_configure, no_tso, no_rx_offload;
    unsigned rx_batch;         /* tun_options.rx_batch */
    const char *pcap_path;
    const char *impair;        /* impair.h spec, NULL: none */
    const char *output;        /* get: where the body goes (NULL: stdout) */
    uint64_t seed;             /* the generated content's key */
    int port;                  /* servers and bulk recv: -1 picks the mode's default */
    uint64_t exit_after;       /* servers: exit after this many connections (0: never) */
    uint64_t bytes;            /* bulk send, echo-client, generate */
    uint64_t connections;      /* echo-client */
    uint32_t rcvbuf, sndbuf;   /* SO_RCVBUF / SO_SNDBUF of every socket (0: default) */
    double idle_timeout_s;     /* give up when nothing moves this long (0: never) */
    bool trace;                /* print every packet */
    bool quiet;                /* no summary */
};

/* The running tool: a stack on a TUN device (maybe behind a pcap writer). */
struct kt {
    const struct kt_options *o;
    keel_stack *st;
    struct tun_device tun;
    struct impair_device impair;
    struct pcap_device pcap;
    FILE *pcap_file;
    struct keel_device *dev;   /* what the stack uses */
    uint64_t now, last_progress;
    uint8_t *content;          /* the content's period, with its head repeated after it */
};

extern volatile sig_atomic_t kt_stop; /* set by SIGINT / SIGTERM */

/* One turn of the loop (tun_loop_once). Returns false when asked to stop or
 * when nothing moved for idle_timeout_s. */
bool kt_turn(struct kt *k, struct pollfd *extra, unsigned n_extra);
/* Marks progress (for the idle timeout). */
void kt_progress(struct kt *k);
/* Runs the loop until every connection has finished closing (our data and
 * FIN acknowledged), or at most max_us. */
void kt_linger(struct kt *k, uint64_t max_us);
/* Applies the socket options of the command line to a new socket. */
void kt_sockopts(struct kt *k, int sock);
/* "A.B.C.D:PORT" into addr. Returns 0 or -1. */
int kt_parse_hostport(const char *s, struct keel_sockaddr *addr);
int kt_parse_ipv4(const char *s, uint32_t *addr);
uint64_t kt_parse_size(const char *s);

/* ---- the generated content (content.c) ----
 * Byte i of the content is byte i mod CONTENT_PERIOD of a block drawn from
 * keel's seeded stream (src/sim/stream.h): cheap to serve at any offset, and
 * a prime period, so no whole number of segments or pages lines it up. */
#define CONTENT_PERIOD 1000003u
#define CONTENT_SPAN 65536u /* contiguous bytes available at any offset */
uint8_t *content_new(uint64_t seed);
/* Pointer to content at offset, valid for CONTENT_SPAN bytes. */
static inline const uint8_t *content_at(const uint8_t *c, uint64_t off)
{
    return c + off % CONTENT_PERIOD;
}
/* Offset of the first byte of buf that differs from the content at off, or -1. */
long content_mismatch(const uint8_t *c, uint64_t off, const uint8_t *buf, size_t len);

/* ---- the kernel side of the interface (netif.c) ---- */
/* Gives the interface addr/prefix and mtu and brings it up (SIOCSIFADDR,
 * SIOCSIFNETMASK, SIOCSIFMTU, SIOCSIFFLAGS). Returns 0 or -1 with a message
 * on stderr. */
int netif_configure(const char *name, uint32_t addr, int prefix, uint32_t mtu);

/* ---- the modes ---- */
int mode_serve(struct kt *k);        /* serve-http, serve-echo, serve-discard (serve.c) */
int mode_connect(struct kt *k);      /* connect HOST:PORT, like nc (client.c) */
int mode_get(struct kt *k);          /* get http://HOST:PORT/PATH (client.c) */
int mode_echo_client(struct kt *k);  /* echo-client HOST:PORT (client.c) */
int mode_bulk(struct kt *k);         /* bulk send HOST:PORT | bulk recv (bulk.c) */

#endif
