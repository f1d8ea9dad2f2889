/* keel-tun: attaches a keel stack to a TUN device it creates, configures the
 * kernel's side of it, and runs one application on keel: an HTTP, echo or
 * discard server, an nc-like client, an HTTP client, many echo clients, or a
 * bulk transfer. The Linux kernel is the peer. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kt.h"
#include "link/trace.h"

volatile sig_atomic_t kt_stop;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: keel-tun [options] MODE [ARGS]\n"
            "modes:\n"
            "  serve-http            HTTP/1.1: GET /bytes/N answers N bytes of generated content\n"
            "  serve-echo            echoes every connection's bytes back\n"
            "  serve-discard         reads and drops every connection's bytes\n"
            "  connect HOST:PORT     like nc: stdin to the peer, the peer to stdout\n"
            "  get URL               HTTP GET http://HOST[:PORT]/PATH; the body to stdout (-o FILE)\n"
            "  echo-client HOST:PORT --connections N --bytes N\n"
            "                        N concurrent connections, each sends N bytes and checks the echo\n"
            "  bulk send HOST:PORT --bytes N | bulk recv [--port P]\n"
            "                        one transfer of generated content; reports the throughput\n"
            "  generate --bytes N    writes the generated content to stdout (no device)\n"
            "device:  --dev NAME (keel0)  --addr A (keel's, 192.0.2.2)  --peer A/P (the kernel's,\n"
            "         192.0.2.1/24)  --mtu N (1500)  --no-configure  --no-tso  --no-rx-offload\n"
            "         --rx-batch N (packets read between application turns, 8; 0: all)\n"
            "sockets: --port P  --exit-after N (servers: connections)  --rcvbuf N  --sndbuf N\n"
            "other:   --pcap FILE  --seed N (content)  --idle-timeout S  --trace  --quiet\n"
            "         --impair loss=PCT,delay=MS,jitter=MS,reorder=PCT  (both ways, in keel-tun;\n"
            "         turns receive offload off so that segments are impaired one by one)\n"
            "sizes take K, M, G suffixes (powers of 1024)\n");
}

enum { O_DEV = 256, O_ADDR, O_PEER, O_MTU, O_NOCONF, O_NOTSO, O_NORXOFF, O_PCAP, O_SEED, O_PORT,
       O_EXIT, O_BYTES, O_CONNS, O_RCVBUF, O_SNDBUF, O_IDLE, O_TRACE, O_QUIET, O_IMPAIR, O_BATCH,
       O_HELP };

static const struct option long_opts[] = {
    {"dev", 1, 0, O_DEV}, {"addr", 1, 0, O_ADDR}, {"peer", 1, 0, O_PEER}, {"mtu", 1, 0, O_MTU},
    {"no-configure", 0, 0, O_NOCONF}, {"no-tso", 0, 0, O_NOTSO},
    {"no-rx-offload", 0, 0, O_NORXOFF}, {"pcap", 1, 0, O_PCAP}, {"seed", 1, 0, O_SEED},
    {"port", 1, 0, O_PORT}, {"exit-after", 1, 0, O_EXIT}, {"bytes", 1, 0, O_BYTES},
    {"connections", 1, 0, O_CONNS}, {"rcvbuf", 1, 0, O_RCVBUF}, {"sndbuf", 1, 0, O_SNDBUF},
    {"idle-timeout", 1, 0, O_IDLE}, {"trace", 0, 0, O_TRACE}, {"quiet", 0, 0, O_QUIET},
    {"impair", 1, 0, O_IMPAIR}, {"rx-batch", 1, 0, O_BATCH}, {"output", 1, 0, 'o'}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0},
};

uint64_t kt_parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'k': case 'K': v *= 1024; break;
    case 'm': case 'M': v *= 1024 * 1024; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
    }
    return (uint64_t)v;
}

int kt_parse_ipv4(const char *s, uint32_t *addr)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255)
        return -1;
    *addr = a << 24 | b << 16 | c << 8 | d;
    return 0;
}

int kt_parse_hostport(const char *s, struct keel_sockaddr *addr)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535 || kt_parse_ipv4(host, &addr->addr) < 0)
        return -1;
    addr->port = (uint16_t)port;
    return 0;
}

static int parse_peer(const char *s, struct kt_options *o)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    o->prefix = 24;
    if (slash) {
        *slash = 0;
        o->prefix = atoi(slash + 1);
    }
    return o->prefix < 1 || o->prefix > 32 ? -1 : kt_parse_ipv4(buf, &o->peer);
}

static int apply_option(struct kt_options *o, int c, const char *arg)
{
    switch (c) {
    case O_DEV: o->dev = arg; break;
    case O_ADDR: return kt_parse_ipv4(arg, &o->addr);
    case O_PEER: return parse_peer(arg, o);
    case O_MTU: o->mtu = (uint32_t)strtoul(arg, NULL, 0); break;
    case O_NOCONF: o->no_configure = true; break;
    case O_NOTSO: o->no_tso = true; break;
    case O_NORXOFF: o->no_rx_offload = true; break;
    case O_PCAP: o->pcap_path = arg; break;
    case O_SEED: o->seed = strtoull(arg, NULL, 0); break;
    case O_PORT: o->port = atoi(arg); break;
    case O_EXIT: o->exit_after = strtoull(arg, NULL, 0); break;
    case O_BYTES: o->bytes = kt_parse_size(arg); break;
    case O_CONNS: o->connections = strtoull(arg, NULL, 0); break;
    case O_RCVBUF: o->rcvbuf = (uint32_t)kt_parse_size(arg); break;
    case O_SNDBUF: o->sndbuf = (uint32_t)kt_parse_size(arg); break;
    case O_IDLE: o->idle_timeout_s = strtod(arg, NULL); break;
    case O_TRACE: o->trace = true; break;
    case O_QUIET: o->quiet = true; break;
    case O_BATCH: o->rx_batch = (unsigned)strtoul(arg, NULL, 0); break;
    case O_IMPAIR: {
        struct impair_config ic = {0};
        o->impair = arg;
        o->no_rx_offload = true;
        return impair_parse(arg, &ic);
    }
    case 'o': o->output = arg; break;
    default: return -1;
    }
    return 0;
}

static void default_options(struct kt_options *o)
{
    memset(o, 0, sizeof *o);
    o->dev = "keel0";
    o->addr = 0xc0000202u; /* 192.0.2.2 */
    o->peer = 0xc0000201u; /* 192.0.2.1 */
    o->prefix = 24;
    o->mtu = 1500;
    o->seed = 1;
    o->rx_batch = 8;
    o->port = -1;
}

/* The mode and its arguments follow the options (getopt permutes them). */
static int take_mode(struct kt_options *o, int argc, char **argv)
{
    if (optind >= argc)
        return -1;
    o->mode = argv[optind++];
    if (strcmp(o->mode, "bulk") == 0) {
        if (optind >= argc)
            return -1;
        o->bulk_dir = argv[optind++];
        if (strcmp(o->bulk_dir, "send") == 0 && optind < argc)
            o->target = argv[optind++];
    } else if (strcmp(o->mode, "connect") == 0 || strcmp(o->mode, "get") == 0 ||
               strcmp(o->mode, "echo-client") == 0) {
        if (optind >= argc)
            return -1;
        o->target = argv[optind++];
    }
    return optind == argc ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct kt_options *o)
{
    int c;
    default_options(o);
    while ((c = getopt_long(argc, argv, "ho:", long_opts, NULL)) != -1) {
        if (c == O_HELP || c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?' || apply_option(o, c, optarg) < 0) {
            if (c != '?')
                fprintf(stderr, "keel-tun: bad value '%s'\n", optarg);
            usage(stderr);
            return -1;
        }
    }
    if (take_mode(o, argc, argv) < 0) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    kt_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- the runtime ---- */

void kt_progress(struct kt *k)
{
    k->last_progress = k->now;
}

/* At most 100 ms, and no later than a held packet falls due (impair.h). */
static uint64_t max_wait(const struct kt *k)
{
    uint64_t at = k->dev->ops->next_arrival_us ? k->dev->ops->next_arrival_us(k->dev) : UINT64_MAX;
    if (at == UINT64_MAX)
        return 100000;
    uint64_t now = tun_now_us();
    return at <= now ? 0 : at - now < 100000 ? at - now : 100000;
}

bool kt_turn(struct kt *k, struct pollfd *extra, unsigned n_extra)
{
    k->now = tun_loop_once(k->st, &k->tun, extra, n_extra, max_wait(k));
    if (kt_stop)
        return false;
    if (k->o->idle_timeout_s > 0 && k->now - k->last_progress > k->o->idle_timeout_s * 1e6) {
        fprintf(stderr, "keel-tun: nothing moved for %.1f s, giving up\n", k->o->idle_timeout_s);
        return false;
    }
    return true;
}

static int count_busy(void *arg, int sock, const struct keel_tcp_info *i)
{
    int *busy = arg;
    (void)sock;
    if (i->state != KEEL_TCP_LISTEN && i->state != KEEL_TCP_TIME_WAIT &&
        i->state != KEEL_TCP_CLOSED && i->state != KEEL_TCP_FIN_WAIT_2)
        (*busy)++;
    return 0;
}

void kt_linger(struct kt *k, uint64_t max_us)
{
    uint64_t until = k->now + max_us;
    while (k->now < until) {
        int busy = 0;
        keel_visit_sockets(k->st, count_busy, &busy);
        if (!busy)
            return;
        k->now = tun_loop_once(k->st, &k->tun, NULL, 0, max_wait(k) < 10000 ? max_wait(k) : 10000);
    }
}

void kt_sockopts(struct kt *k, int sock)
{
    int rcv = (int)k->o->rcvbuf, snd = (int)k->o->sndbuf;
    if (rcv)
        keel_setsockopt(k->st, sock, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, &rcv, sizeof rcv);
    if (snd)
        keel_setsockopt(k->st, sock, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &snd, sizeof snd);
}

static const char *ip_str(uint32_t a, char *buf, size_t cap)
{
    snprintf(buf, cap, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
    return buf;
}

static int open_device(struct kt *k, struct trace_device *tr)
{
    const struct kt_options *o = k->o;
    char err[256], a[16], p[16];
    struct tun_options to = {o->dev, o->mtu, o->no_tso, o->no_rx_offload, o->rx_batch};
    if (tun_open(&k->tun, &to, err, sizeof err) < 0) {
        fprintf(stderr, "keel-tun: %s\n", err);
        return -1;
    }
    if (!o->no_configure && netif_configure(k->tun.name, o->peer, o->prefix, o->mtu) < 0)
        return -1;
    k->dev = &k->tun.dev;
    if (o->impair) {
        struct impair_config ic = {.seed = o->seed};
        impair_parse(o->impair, &ic);
        impair_device_init(&k->impair, k->dev, &ic);
        k->dev = &k->impair.dev;
    }
    if (o->pcap_path) {
        if (!(k->pcap_file = fopen(o->pcap_path, "wb"))) {
            perror(o->pcap_path);
            return -1;
        }
        pcap_device_init(&k->pcap, k->dev, k->pcap_file);
        k->dev = &k->pcap.dev;
    }
    if (o->trace) {
        trace_device_init(tr, k->dev, stderr, k->tun.name);
        k->dev = &tr->dev;
    }
    fprintf(stderr, "keel-tun: %s up: keel %s, kernel %s/%d, mtu %u, tso %s, rx offload %s\n",
            k->tun.name, ip_str(o->addr, a, sizeof a), ip_str(o->peer, p, sizeof p), o->prefix,
            o->mtu, k->dev->tso_max ? "on" : "off", k->tun.rx_offload ? "on" : "off");
    return 0;
}

static int open_stack(struct kt *k)
{
    struct keel_config cfg = {.addr = k->o->addr, .seed = (uint64_t)tun_now_us() ^ (uint64_t)getpid(),
                              .log = stderr};
    for (size_t i = 0; i < sizeof cfg.secret; i++)
        cfg.secret[i] = (uint8_t)(cfg.seed >> (i % 8 * 8) ^ i * 37);
    int err;
    k->now = k->last_progress = tun_now_us();
    k->st = keel_stack_new(&cfg, k->dev, k->now, &err);
    if (!k->st)
        fprintf(stderr, "keel-tun: keel_stack_new: %s\n", keel_strerror(err));
    return k->st ? 0 : -1;
}

static void print_summary(struct kt *k)
{
    const struct tun_stats *s = &k->tun.stats;
    struct keel_counters c;
    fprintf(stderr, "keel-tun: %s: rx %" PRIu64 " packets (%" PRIu64 " gso, %" PRIu64
            " checksums completed, %" PRIu64 " dropped), tx %" PRIu64 " packets (%" PRIu64
            " tso, %" PRIu64 " cut in software, %" PRIu64 " errors)\n",
            k->tun.name, s->rx_packets, s->rx_gso, s->rx_csum_done, s->rx_dropped, s->tx_packets,
            s->tx_tso, s->tx_sw_segmented, s->tx_errors);
    keel_counters(k->st, &c);
    if (k->o->impair)
        fprintf(stderr, "keel-tun: impair: dropped %" PRIu64 " out, %" PRIu64 " in; reordered %"
                PRIu64 " out, %" PRIu64 " in\n", k->impair.dropped[0], k->impair.dropped[1],
                k->impair.reordered[0], k->impair.reordered[1]);
    fprintf(stderr, "keel-tun: counters:");
    for (int i = 0; i < KEEL_COUNTER_COUNT; i++)
        if (keel_counter_value(&c, i))
            fprintf(stderr, " %s=%" PRIu64, keel_counter_name(i), keel_counter_value(&c, i));
    fprintf(stderr, "\n");
}

static int run_mode(struct kt *k)
{
    const char *m = k->o->mode;
    if (strncmp(m, "serve-", 6) == 0)
        return mode_serve(k);
    if (strcmp(m, "connect") == 0)
        return mode_connect(k);
    if (strcmp(m, "get") == 0)
        return mode_get(k);
    if (strcmp(m, "echo-client") == 0)
        return mode_echo_client(k);
    return mode_bulk(k);
}

static bool mode_known(const char *m)
{
    static const char *const modes[] = {"serve-http", "serve-echo", "serve-discard", "connect",
                                        "get", "echo-client", "bulk"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(m, modes[i]) == 0)
            return true;
    return false;
}

static int generate(const struct kt_options *o)
{
    uint8_t *c = content_new(o->seed);
    if (!c)
        return 1;
    for (uint64_t off = 0; off < o->bytes;) {
        size_t n = o->bytes - off < CONTENT_SPAN ? (size_t)(o->bytes - off) : CONTENT_SPAN;
        if (fwrite(content_at(c, off), 1, n, stdout) != n) {
            free(c);
            return 1;
        }
        off += n;
    }
    free(c);
    return fflush(stdout) ? 1 : 0;
}

static void teardown(struct kt *k)
{
    if (k->st)
        keel_stack_free(k->st);
    if (k->pcap_file)
        fclose(k->pcap_file);
    if (k->o->impair)
        impair_device_free(&k->impair);
    tun_close(&k->tun);
    free(k->content);
}

int main(int argc, char **argv)
{
    struct kt_options o;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (strcmp(o.mode, "generate") == 0)
        return generate(&o);
    if (!mode_known(o.mode)) {
        fprintf(stderr, "keel-tun: unknown mode '%s'\n", o.mode);
        usage(stderr);
        return 2;
    }
    install_signals();
    struct kt k;
    struct trace_device tr;
    memset(&k, 0, sizeof k);
    memset(&tr, 0, sizeof tr);
    k.tun.fd = -1;
    k.o = &o;
    int rc = 2;
    if ((k.content = content_new(o.seed)) && open_device(&k, &tr) == 0 && open_stack(&k) == 0) {
        rc = run_mode(&k);
        if (!o.quiet)
            print_summary(&k);
    }
    teardown(&k);
    return rc;
}
