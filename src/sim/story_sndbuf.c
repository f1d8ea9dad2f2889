/* Story 3 of SCENARIOS.md: the retransmission that could not be built. */
#include <stdio.h>
#include <string.h>

#include "sim/rawpeer.h"
#include "sim/stories.h"

#define PEER_ADDR 0xc0000202u
#define KEEL_ADDR 0xc0000201u
#define WRITES 6
#define WRITE_SIZE 3000
#define TOTAL (WRITES * WRITE_SIZE)
/* SO_SNDBUF 4512, 9024 stored: room for 8192 bytes of data beside the 832
 * Linux (and keel, TCP_CHUNK_OVERHEAD) charges for the skb holding them. */
#define SNDBUF 4512
#define RCVBUF 8192

struct sndbuf_app {
    keel_stack *st;
    int listener, conn;
    uint32_t written;
    bool closed;
};

static int listen_with_small_buffers(keel_stack *st)
{
    int s = keel_socket(st, KEEL_SOCK_STREAM);
    int sndbuf = SNDBUF, rcvbuf = RCVBUF;
    keel_setsockopt(st, s, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, &sndbuf, sizeof sndbuf);
    keel_setsockopt(st, s, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct keel_sockaddr a = {0, 8080};
    keel_bind(st, s, &a);
    keel_listen(st, s, 1);
    return s;
}

/* The application: accept, then write 3000 bytes at a time as the buffer
 * allows, six times, and close. */
static void app_step(struct sndbuf_app *a)
{
    if (a->conn < 0) {
        a->conn = keel_accept(a->st, a->listener, NULL);
        if (a->conn < 0)
            return;
    }
    static uint8_t chunk[WRITE_SIZE];
    while (a->written < TOTAL) {
        uint32_t in_write = a->written % WRITE_SIZE;
        long n = keel_send(a->st, a->conn, chunk + in_write, WRITE_SIZE - in_write, 0);
        if (n <= 0)
            break;
        a->written += (uint32_t)n;
    }
    if (a->written == TOTAL && !a->closed) {
        keel_close(a->st, a->conn);
        a->closed = true;
    }
}

static void note_memory(struct sndbuf_app *a, struct story_result *r)
{
    struct keel_tcp_info i;
    if (a->closed || a->conn < 0 || keel_tcp_info(a->st, a->conn, &i) < 0)
        return;
    uint64_t mem = (uint64_t)i.snd_mem + i.rcv_mem;
    if (mem > r->peak_mem)
        r->peak_mem = mem;
}

/* Runs in 1 ms steps so the application writes as soon as space frees up,
 * until until_us or, if stop_when_done, until the peer has everything. */
static void run_for(struct rawpeer *p, struct sndbuf_app *a, struct story_result *r,
                    uint64_t until_us, bool stop_when_done)
{
    while (p->now_us < until_us && !(stop_when_done && p->fin_seen)) {
        uint64_t step = p->now_us + 1000;
        rawpeer_run(p, step < until_us ? step : until_us);
        app_step(a);
        note_memory(a, r);
    }
}

static void check(const struct rawpeer *p, bool hostile, uint64_t timeouts_down,
                  uint64_t rtx_down, struct story_result *r)
{
    if (hostile && !r->sack_limit_hits)
        story_fail(r, "the hostile peer never reached the SACK scoreboard's bound");
    if (timeouts_down < 5)
        story_fail(r, "only %llu RTOs while the path was down", (unsigned long long)timeouts_down);
    if (rtx_down < timeouts_down)
        story_fail(r, "%llu RTOs but only %llu retransmissions on the wire",
                   (unsigned long long)timeouts_down, (unsigned long long)rtx_down);
    if (p->bytes_received != TOTAL || !p->fin_seen)
        story_fail(r, "the transfer did not complete after the path came back");
    if (r->peak_mem > 2 * SNDBUF + 2 * RCVBUF) /* SO_SNDBUF and SO_RCVBUF, as Linux doubles them */
        story_fail(r, "buffer memory exceeded the configured bound: %llu bytes",
                   (unsigned long long)r->peak_mem);
    story_require_silent_watchdog(r, 0);
}

void story_tiny_sndbuf(uint64_t seed, bool hostile, uint64_t fail_us, struct story_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    struct rawpeer p;
    struct rawpeer_config pc = {.peer_addr = PEER_ADDR, .keel_addr = KEEL_ADDR,
                                .peer_port = 40000, .keel_port = 8080,
                                .mss = hostile ? 48 : 1460, .wscale = 7, .syn_window = 32792,
                                .window = 257, .sack_ok = true, .delay_us = 5000};
    if (rawpeer_init(&p, &pc) < 0) {
        story_fail(r, "out of memory");
        return;
    }
    struct keel_config cfg = {.addr = KEEL_ADDR, .seed = seed, .log = stderr};
    int err;
    uint64_t t0 = 1000000;
    keel_stack *st = keel_stack_new(&cfg, &p.dev, t0, &err);
    if (!st) {
        story_fail(r, "%s", keel_strerror(err));
        rawpeer_free(&p);
        return;
    }
    struct sndbuf_app a = {.st = st, .conn = -1};
    a.listener = listen_with_small_buffers(st);
    rawpeer_connect(&p, st, t0);
    /* The recipe: the peer acknowledges 3001 (3000 bytes), then the path
     * fails. The hostile peer acknowledges more first, so that a full send
     * buffer of 48-byte segments is in flight for its SACK blocks to shred. */
    p.mode = hostile ? RAWPEER_ACK_THEN_HOLES : RAWPEER_ACK_THEN_DEAF;
    p.ack_limit = hostile ? 3 * WRITE_SIZE : WRITE_SIZE;
    run_for(&p, &a, r, t0 + fail_us, false);
    struct keel_counters c;
    keel_counters(st, &c);
    uint64_t timeouts_down = c.v[KEEL_C_TCPTimeouts], rtx_down = p.retransmissions_seen;
    p.mode = RAWPEER_ACK;
    run_for(&p, &a, r, p.now_us + 600000000ull, true);
    story_collect(r, &st, 1);
    r->bytes_up = p.bytes_received;
    r->virtual_us = p.now_us - t0;
    check(&p, hostile, timeouts_down, rtx_down, r);
    keel_stack_free(st);
    rawpeer_free(&p);
}
