/* keel-sim: runs a named scenario on the simulated network and reports what
 * happened. Exits non-zero (printing the seed that replays the run) when data
 * arrives corrupted or a connection stalls. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/bulk.h"
#include "sim/stories.h"
#include "stories_cli.h"
#include "sim/world.h"

#define ADDR_CLIENT 0xc0000201u /* 192.0.2.1 */
#define ADDR_SERVER 0xc0000202u /* 192.0.2.2 */

struct options {
    const char *scenario;
    uint64_t seed;
    bool json;
    const char *pcap_path;
    bool size_given;
    uint64_t iterations;
    const char *cc;
    bool ecn;
    bool no_frto, no_timestamps, no_sack;
    uint64_t bytes_c2s, bytes_s2c;
    struct sim_link_config link;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: keel-sim [--scenario NAME] [--seed N] [--json] [link and size options]\n"
            "scenarios:\n"
            "  bulk   (default) bulk transfer both ways: 1 GiB client->server, 64 MiB back,\n"
            "         10 ms RTT, 1%% loss, 0.5%% adjacent reordering\n"
            "  wl1-wrap        story 1: 5 GiB one way while the other way waits behind a\n"
            "                  zero window; also with ISNs near the wrap, and light loss\n"
            "  rst-reorder     story 2: 1,000,000 short connections closed with a RST over\n"
            "                  a link that swaps adjacent segments (--iterations N)\n"
            "  close-wait-leak story 4: a server that leaks accepted sockets, clients that\n"
            "                  reconnect from 16 ports (--iterations N connections)\n"
            "  tiny-sndbuf     story 3: a 4 KiB send buffer, a failing path, then recovery;\n"
            "                  then a hostile peer (MSS 48, fragmenting SACK blocks)\n"
            "sizes:   --bytes-up N (client->server), --bytes-down N (server->client);\n"
            "         N takes K, M, G suffixes (powers of 1024)\n"
            "link:    --delay-ms MS (one way)  --jitter-ms MS  --loss PCT  --burst-loss PCT\n"
            "         --reorder PCT  --dup PCT  --corrupt PCT  --rate-mbps N  --queue-kb N\n"
            "         --mtu N  --ce-mark-kb N (mark ECN-capable packets CE above N KiB queued)\n"
            "         --spike PCT --spike-ms MS (a packet, and those behind it, held MS\n"
            "         longer: a stalling link; default 500 ms)\n"
            "tcp:     --cc newreno|cubic (congestion control of both stacks)\n"
            "         --ecn (the client asks for ECN, RFC 3168; the server answers)\n"
            "         --no-frto (both stacks without F-RTO, RFC 5682, as tcp_frto=0)\n"
            "         --no-timestamps (both stacks without RFC 7323 timestamps)\n"
            "         --no-sack (both stacks without SACK, RFC 2018: NewReno recovery)\n"
            "output:  --pcap FILE (the client's packets, both ways, for tcpdump/Wireshark)\n");
}

static uint64_t parse_size(const char *s)
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

static uint32_t pct_to_ppm(const char *s)
{
    return (uint32_t)(strtod(s, NULL) * 10000.0 + 0.5);
}

static void default_options(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->scenario = "bulk";
    o->seed = 1;
    o->bytes_c2s = 1ull << 30;
    o->bytes_s2c = 64ull << 20;
    o->link.delay_us = 5000;
    o->link.spike_us = 500000;
    o->link.loss_ppm = 10000;
    o->link.reorder_ppm = 5000;
}

enum { OPT_SEED = 256, OPT_JSON, OPT_UP, OPT_DOWN, OPT_DELAY, OPT_JITTER, OPT_LOSS,
       OPT_BURST, OPT_REORDER, OPT_DUP, OPT_CORRUPT, OPT_RATE, OPT_QUEUE, OPT_MTU,
       OPT_SCENARIO, OPT_PCAP, OPT_ITER, OPT_CC, OPT_ECN, OPT_NO_FRTO, OPT_NO_TS, OPT_NO_SACK, OPT_CE_MARK, OPT_SPIKE, OPT_SPIKE_MS,
       OPT_HELP };

static const struct option long_opts[] = {
    {"scenario", 1, 0, OPT_SCENARIO}, {"seed", 1, 0, OPT_SEED}, {"json", 0, 0, OPT_JSON},
    {"bytes-up", 1, 0, OPT_UP}, {"bytes-down", 1, 0, OPT_DOWN},
    {"delay-ms", 1, 0, OPT_DELAY}, {"jitter-ms", 1, 0, OPT_JITTER},
    {"spike", 1, 0, OPT_SPIKE}, {"spike-ms", 1, 0, OPT_SPIKE_MS},
    {"loss", 1, 0, OPT_LOSS}, {"burst-loss", 1, 0, OPT_BURST},
    {"reorder", 1, 0, OPT_REORDER}, {"dup", 1, 0, OPT_DUP}, {"corrupt", 1, 0, OPT_CORRUPT},
    {"rate-mbps", 1, 0, OPT_RATE}, {"queue-kb", 1, 0, OPT_QUEUE}, {"mtu", 1, 0, OPT_MTU},
    {"pcap", 1, 0, OPT_PCAP}, {"iterations", 1, 0, OPT_ITER}, {"cc", 1, 0, OPT_CC},
    {"ecn", 0, 0, OPT_ECN}, {"no-frto", 0, 0, OPT_NO_FRTO},
    {"no-timestamps", 0, 0, OPT_NO_TS}, {"no-sack", 0, 0, OPT_NO_SACK},
    {"ce-mark-kb", 1, 0, OPT_CE_MARK},
    {"help", 0, 0, OPT_HELP}, {0, 0, 0, 0},
};

static void apply_option(struct options *o, int c, const char *arg)
{
    switch (c) {
    case OPT_SCENARIO: o->scenario = arg; break;
    case OPT_SEED: o->seed = strtoull(arg, NULL, 0); break;
    case OPT_JSON: o->json = true; break;
    case OPT_PCAP: o->pcap_path = arg; break;
    case OPT_ITER: o->iterations = strtoull(arg, NULL, 0); break;
    case OPT_CC: o->cc = arg; break;
    case OPT_ECN: o->ecn = true; break;
    case OPT_NO_FRTO: o->no_frto = true; break;
    case OPT_NO_TS: o->no_timestamps = true; break;
    case OPT_NO_SACK: o->no_sack = true; break;
    case OPT_CE_MARK: o->link.ce_mark_bytes = (uint32_t)(strtoul(arg, NULL, 0) * 1024); break;
    case OPT_UP:
        o->bytes_c2s = parse_size(arg);
        o->size_given = true;
        break;
    case OPT_DOWN: o->bytes_s2c = parse_size(arg); break;
    case OPT_DELAY: o->link.delay_us = (uint64_t)(strtod(arg, NULL) * 1000); break;
    case OPT_JITTER: o->link.jitter_us = (uint64_t)(strtod(arg, NULL) * 1000); break;
    case OPT_SPIKE: o->link.spike_ppm = pct_to_ppm(arg); break;
    case OPT_SPIKE_MS: o->link.spike_us = (uint64_t)(strtod(arg, NULL) * 1000); break;
    case OPT_LOSS: o->link.loss_ppm = pct_to_ppm(arg); break;
    case OPT_BURST:
        o->link.burst_enter_ppm = pct_to_ppm(arg);
        o->link.burst_exit_ppm = 500000;
        break;
    case OPT_REORDER: o->link.reorder_ppm = pct_to_ppm(arg); break;
    case OPT_DUP: o->link.dup_ppm = pct_to_ppm(arg); break;
    case OPT_CORRUPT: o->link.corrupt_ppm = pct_to_ppm(arg); break;
    case OPT_RATE: o->link.rate_bps = (uint64_t)(strtod(arg, NULL) * 1e6); break;
    case OPT_QUEUE: o->link.queue_bytes = (uint32_t)(strtoul(arg, NULL, 0) * 1024); break;
    case OPT_MTU: o->link.mtu = (uint32_t)strtoul(arg, NULL, 0); break;
    }
}

static int parse_args(int argc, char **argv, struct options *o)
{
    int c;
    default_options(o);
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        if (c == OPT_HELP || c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?') {
            usage(stderr);
            return -1;
        }
        apply_option(o, c, optarg);
    }
    return 0;
}

struct final_states {
    int count;
    char text[256];
};

static int note_state(void *arg, int sock, const struct keel_tcp_info *i)
{
    struct final_states *f = arg;
    size_t len = strlen(f->text);
    (void)sock;
    snprintf(f->text + len, sizeof f->text - len, "%s%s", f->count ? " " : "",
             keel_tcp_state_name(i->state));
    f->count++;
    return 0;
}

static void describe_states(keel_stack *st, struct final_states *f)
{
    memset(f, 0, sizeof *f);
    keel_visit_sockets(st, note_state, f);
    if (!f->count)
        snprintf(f->text, sizeof f->text, "none");
}

struct report {
    enum bulk_status status;
    double wall_s, virtual_s, linger_s;
    uint64_t retrans_c, retrans_s, timeouts, rto_undone, rto_undone_frto;
    uint64_t queue_drops, ce_marked, ecn_reductions; /* bottleneck and RFC 3168 */
    uint64_t stalls[KEEL_STALL_COUNT];
    struct final_states end_c, end_s, after_c, after_s;
};

static uint64_t counter(keel_stack *st, enum keel_counter_id id)
{
    struct keel_counters c;
    keel_counters(st, &c);
    return c.v[id];
}

/* The watchdog's counters of both stacks, by kind. */
static void count_stalls(keel_stack *c, keel_stack *s, struct report *r)
{
    for (int k = 0; k < KEEL_STALL_COUNT; k++)
        r->stalls[k] = counter(c, KEEL_C_WatchdogSenderIdle + k) +
                       counter(s, KEEL_C_WatchdogSenderIdle + k);
}

static double goodput_mbps(uint64_t bytes, double seconds)
{
    return seconds > 0 ? bytes * 8 / seconds / 1e6 : 0;
}

static void print_text(const struct options *o, const struct bulk *b, const struct report *r)
{
    printf("keel-sim: scenario %s, seed %" PRIu64 "\n", o->scenario, o->seed);
    printf("  link: %.1f ms one way, loss %.2f%%, reorder %.2f%%, dup %.2f%%, corrupt %.2f%%\n",
           o->link.delay_us / 1000.0, o->link.loss_ppm / 1e4, o->link.reorder_ppm / 1e4,
           o->link.dup_ppm / 1e4, o->link.corrupt_ppm / 1e4);
    if (o->link.spike_ppm)
        printf("  delay spikes: %.3f%% of packets held %.0f ms longer\n", o->link.spike_ppm / 1e4,
               o->link.spike_us / 1000.0);
    printf("  client -> server: %" PRIu64 " of %" PRIu64 " bytes, hash %016" PRIx64 ", %s\n",
           b->server.received, b->client.to_send, b->server.hash,
           b->server.corrupt_at < 0 && b->server.received == b->client.to_send ? "intact" : "NOT INTACT");
    printf("  server -> client: %" PRIu64 " of %" PRIu64 " bytes, hash %016" PRIx64 ", %s\n",
           b->client.received, b->server.to_send, b->client.hash,
           b->client.corrupt_at < 0 && b->client.received == b->server.to_send ? "intact" : "NOT INTACT");
    printf("  virtual time: %.3f s; goodput %.2f Mbit/s up, %.2f Mbit/s down\n", r->virtual_s,
           goodput_mbps(b->server.received, r->virtual_s), goodput_mbps(b->client.received, r->virtual_s));
    printf("  retransmitted segments: client %" PRIu64 ", server %" PRIu64 "; RTO timeouts %" PRIu64
           ", undone as spurious %" PRIu64 " (by F-RTO %" PRIu64 ")\n",
           r->retrans_c, r->retrans_s, r->timeouts, r->rto_undone, r->rto_undone_frto);
    printf("  bottleneck: %" PRIu64 " queue drops, %" PRIu64 " CE marks; ECN reductions %" PRIu64 "\n",
           r->queue_drops, r->ce_marked, r->ecn_reductions);
    print_watchdog(r->stalls);
    printf("  states at the end of the transfer: client [%s], server [%s]\n", r->end_c.text, r->end_s.text);
    printf("  sockets left %.0f s later: client [%s], server [%s]\n", r->linger_s,
           r->after_c.text, r->after_s.text);
    printf("  wall time: %.2f s\n", r->wall_s);
    printf("result: %s\n", bulk_status_name(r->status));
}

static void print_json(const struct options *o, const struct bulk *b, const struct report *r)
{
    printf("{\"scenario\":\"%s\",\"seed\":%" PRIu64 ",\"result\":\"%s\","
           "\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64 ",\"expected_up\":%" PRIu64
           ",\"expected_down\":%" PRIu64 ",\"hash_up\":\"%016" PRIx64 "\",\"hash_down\":\"%016" PRIx64
           "\",\"intact\":%s,\"virtual_s\":%.6f,\"wall_s\":%.3f,\"goodput_up_mbps\":%.3f,"
           "\"goodput_down_mbps\":%.3f,\"retrans_client\":%" PRIu64 ",\"retrans_server\":%" PRIu64
           ",\"timeouts\":%" PRIu64 ",\"rto_undone\":%" PRIu64 ",\"rto_undone_frto\":%" PRIu64
           ",\"watchdog_stalls\":%" PRIu64
           ",\"states_end_client\":\"%s\",\"states_end_server\":\"%s\","
           "\"states_after_client\":\"%s\",\"states_after_server\":\"%s\","
           "\"queue_drops\":%" PRIu64 ",\"ce_marked\":%" PRIu64 ",\"ecn_reductions\":%" PRIu64 "}\n",
           o->scenario, o->seed, bulk_status_name(r->status), b->server.received, b->client.received,
           b->client.to_send, b->server.to_send, b->server.hash, b->client.hash,
           b->server.corrupt_at < 0 && b->client.corrupt_at < 0 ? "true" : "false", r->virtual_s,
           r->wall_s, goodput_mbps(b->server.received, r->virtual_s),
           goodput_mbps(b->client.received, r->virtual_s), r->retrans_c, r->retrans_s, r->timeouts,
           r->rto_undone, r->rto_undone_frto, stall_total(r->stalls), r->end_c.text, r->end_s.text, r->after_c.text, r->after_s.text,
           r->queue_drops, r->ce_marked, r->ecn_reductions);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* After the transfer, run the world until every connection is gone: past
 * TIME-WAIT (60 s), which a lost last ACK restarts, and a LAST-ACK's
 * retransmissions. Nothing may be left after 10 virtual minutes. */
static void linger(struct sim_world *w, struct report *r, keel_stack *c, keel_stack *s)
{
    uint64_t start = w->now_us, until = start + 600ull * 1000000;
    do {
        uint64_t step = w->now_us + 1000000;
        while (world_step(w, step < until ? step : until))
            ;
        describe_states(c, &r->after_c);
        describe_states(s, &r->after_s);
    } while ((r->after_c.count || r->after_s.count) && w->now_us < until);
    r->linger_s = (w->now_us - start) / 1e6;
}

static int run_bulk(const struct options *o)
{
    struct sim_world w;
    struct report r;
    struct bulk b;
    memset(&r, 0, sizeof r);
    double t0 = wall_now();
    world_init(&w, o->seed);
    if (o->pcap_path && !(w.pcap = fopen(o->pcap_path, "wb"))) {
        perror(o->pcap_path);
        return 2;
    }
    struct sim_link *link = world_add_link(&w, &o->link);
    struct keel_config cc = {.addr = ADDR_CLIENT, .log = stderr, .congestion_control = o->cc,
                             .ecn = o->ecn ? KEEL_ECN_ON : KEEL_ECN_ACCEPT, .no_frto = o->no_frto,
                             .no_timestamps = o->no_timestamps, .no_sack = o->no_sack};
    struct keel_config sc = {.addr = ADDR_SERVER, .log = stderr, .congestion_control = o->cc,
                             .no_frto = o->no_frto, .no_timestamps = o->no_timestamps,
                             .no_sack = o->no_sack};
    keel_stack *c = world_add_host(&w, &cc, link, 0);
    keel_stack *s = world_add_host(&w, &sc, link, 1);
    struct bulk_config cfg = {.client_to_server = o->bytes_c2s, .server_to_client = o->bytes_s2c,
                              .server_addr = ADDR_SERVER, .port = 5001};
    if (!c || !s || bulk_start(&b, &cfg, c, s, w.now_us, o->seed) < 0) {
        fprintf(stderr, "keel-sim: could not set up the scenario\n");
        return 2;
    }
    r.status = bulk_run(&b, &w, UINT64_MAX);
    r.virtual_s = ((b.end_us ? b.end_us : w.now_us) - b.start_us) / 1e6;
    r.retrans_c = counter(c, KEEL_C_TcpRetransSegs);
    r.retrans_s = counter(s, KEEL_C_TcpRetransSegs);
    r.timeouts = counter(c, KEEL_C_TCPTimeouts) + counter(s, KEEL_C_TCPTimeouts);
    r.rto_undone = counter(c, KEEL_C_TCPLossUndo) + counter(s, KEEL_C_TCPLossUndo);
    r.rto_undone_frto = counter(c, KEEL_C_TCPSpuriousRTOs) + counter(s, KEEL_C_TCPSpuriousRTOs);
    r.ecn_reductions = counter(c, KEEL_C_TCPECNCwrEntered) + counter(s, KEEL_C_TCPECNCwrEntered);
    for (int end = 0; end < 2; end++) {
        r.queue_drops += sim_link_stats(link, end)->dropped_queue;
        r.ce_marked += sim_link_stats(link, end)->ce_marked;
    }
    count_stalls(c, s, &r);
    describe_states(c, &r.end_c);
    describe_states(s, &r.end_s);
    if (r.status == BULK_DONE) {
        linger(&w, &r, c, s);
        if (r.after_c.count || r.after_s.count)
            r.status = BULK_STALLED;
    }
    if (stall_total(r.stalls) && r.status == BULK_DONE)
        r.status = BULK_FAILED; /* the watchdog must stay silent on keel */
    r.wall_s = wall_now() - t0;
    if (o->json)
        print_json(o, &b, &r);
    else
        print_text(o, &b, &r);
    world_free(&w);
    if (w.pcap)
        fclose(w.pcap);
    if (r.status != BULK_DONE) {
        fprintf(stderr, "keel-sim: %s; replay with --seed %" PRIu64 "\n", bulk_status_name(r.status),
                o->seed);
        return 1;
    }
    return 0;
}

static int run_tiny_sndbuf(const struct options *o)
{
    int rc = 0;
    for (int hostile = 0; hostile < 2; hostile++) {
        struct story_result r;
        double t0 = wall_now();
        story_tiny_sndbuf(o->seed, hostile, 60000000, &r);
        rc |= report_story(hostile ? "tiny-sndbuf (hostile peer)" : "tiny-sndbuf", o->seed,
                           o->json, &r, wall_now() - t0);
    }
    return rc;
}

static int run_wl1_wrap(const struct options *o, bool size_given)
{
    static const struct {
        const char *name;
        bool isn_near_wrap;
        uint32_t loss_ppm;
    } variants[] = {
        {"wl1-wrap", false, 0},
        {"wl1-wrap (ISNs near the wrap)", true, 0},
        {"wl1-wrap (light loss 0.01%)", false, 100},
    };
    uint64_t bytes = size_given ? o->bytes_c2s : 5ull << 30;
    int rc = 0;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        struct story_result r;
        double t0 = wall_now();
        story_wl1_wrap(o->seed, bytes, variants[i].isn_near_wrap, variants[i].loss_ppm, &r);
        rc |= report_story(variants[i].name, o->seed, o->json, &r, wall_now() - t0);
    }
    return rc;
}

static int run_conns(const struct options *o, bool leak)
{
    struct story_result r;
    double t0 = wall_now();
    if (leak)
        story_close_wait_leak(o->seed, o->iterations ? o->iterations : 2000, &r);
    else
        story_rst_reorder(o->seed, o->iterations ? o->iterations : 1000000, &r);
    return report_story(leak ? "close-wait-leak" : "rst-reorder", o->seed, o->json, &r,
                        wall_now() - t0);
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (strcmp(o.scenario, "bulk") == 0)
        return run_bulk(&o);
    if (strcmp(o.scenario, "wl1-wrap") == 0)
        return run_wl1_wrap(&o, o.size_given);
    if (strcmp(o.scenario, "rst-reorder") == 0 || strcmp(o.scenario, "close-wait-leak") == 0)
        return run_conns(&o, o.scenario[0] == 'c');
    if (strcmp(o.scenario, "tiny-sndbuf") == 0)
        return run_tiny_sndbuf(&o);
    fprintf(stderr, "keel-sim: unknown scenario '%s'\n", o.scenario);
    usage(stderr);
    return 2;
}
