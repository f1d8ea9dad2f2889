#include "states.h"

#include <string.h>

#include "harness.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define P TCP_FLAG_PSH

void conn_start(struct conn *c)
{
    memset(c, 0, sizeof *c);
    script_init(&c->s, NULL);
    c->sock = -1;
    c->listener = -1;
}

void conn_done(struct conn *c)
{
    script_free(&c->s);
}

static int small_socket(struct conn *c)
{
    int sock = keel_socket(c->s.st, KEEL_SOCK_STREAM);
    CHECK(sock >= 0);
    int v = RCVBUF_OPT;
    CHECK_EQ(keel_setsockopt(c->s.st, sock, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, &v, sizeof v), 0);
    return sock;
}

/* What the scripted peer sends once the options are agreed (script.c does
 * the same for its own handshakes). */
static void peer_agrees(struct conn *c, const struct tcp_opts *peer, const struct tcp_opts *keel)
{
    bool ws = (peer->present & TCP_OPT_WSCALE) && (keel->present & TCP_OPT_WSCALE);
    c->s.peer_wscale = ws ? peer->wscale : 0;
    c->s.peer_ts = (peer->present & TCP_OPT_TS) && (keel->present & TCP_OPT_TS);
    if (peer->tsval)
        c->s.peer_tsval = peer->tsval;
}

struct find {
    uint16_t lport, rport;
    bool found;
    struct keel_tcp_info info;
};

static int find_conn(void *arg, int sock, const struct keel_tcp_info *i)
{
    struct find *f = arg;
    (void)sock;
    if (i->state == KEEL_TCP_LISTEN || i->local_port != f->lport || i->remote_port != f->rport)
        return 0;
    f->info = *i;
    f->found = true;
    return 1;
}

/* keel's view of the connection: through its handle, or (a child not yet
 * accepted, an orphan) by its ports. Returns false if the stack has none. */
static bool conn_info(struct conn *c, struct keel_tcp_info *i)
{
    if (c->sock >= 0) {
        CHECK_EQ(keel_tcp_info(c->s.st, c->sock, i), 0);
        return true;
    }
    struct find f = {.lport = c->s.keel_port, .rport = c->s.peer_port};
    keel_visit_sockets(c->s.st, find_conn, &f);
    *i = f.info;
    return f.found;
}

void conn_sync(struct conn *c, int state)
{
    struct keel_tcp_info i;
    CHECK(conn_info(c, &i));
    CHECK_STR(keel_tcp_state_name(i.state), keel_tcp_state_name(state));
    c->rcv_nxt = i.rcv_nxt - PEER_ISN;
    c->rcv_wnd = i.rcv_wnd;
    c->snd_una = i.snd_una - c->s.keel_isn;
    c->snd_nxt = i.snd_nxt - c->s.keel_isn;
}

static void check_vars(struct conn *c, uint32_t rcv_nxt, uint32_t rcv_wnd, uint32_t snd_una,
                       uint32_t snd_nxt)
{
    CHECK_EQ_U(c->rcv_nxt, rcv_nxt);
    CHECK_EQ_U(c->rcv_wnd, rcv_wnd);
    CHECK_EQ_U(c->snd_una, snd_una);
    CHECK_EQ_U(c->snd_nxt, snd_nxt);
    script_expect_none(&c->s);
}

static void syn_sent(struct conn *c)
{
    c->sock = small_socket(c);
    struct keel_sockaddr a = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(c->s.st, c->sock, &a), KEEL_EINPROGRESS);
    const struct captured *syn =
        script_expect(&c->s, .flags = S, .seq = 0, .win = SYN_WINDOW, .win_set = true);
    c->s.keel_port = syn->h.sport;
    c->s.peer_port = PEER_PORT;
    conn_sync(c, KEEL_TCP_SYN_SENT);
    c->rcv_nxt = 0;
    c->rcv_wnd = 0;
    CHECK_EQ_U(c->snd_una, 0);
    CHECK_EQ_U(c->snd_nxt, 1);
}

static void listen_small(struct conn *c)
{
    c->listener = small_socket(c);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(c->s.st, c->listener, &a), 0);
    CHECK_EQ(keel_listen(c->s.st, c->listener, 16), 0);
}

void reach_listen(struct conn *c)
{
    conn_start(c);
    listen_small(c);
}

void reach_syn_sent(struct conn *c)
{
    conn_start(c);
    syn_sent(c);
}

static void syn_received(struct conn *c, const struct tcp_opts *opts)
{
    conn_start(c);
    listen_small(c);
    script_send(&c->s, .flags = S, .seq = 0, .opts = *opts);
    const struct captured *sa = script_expect(&c->s, .flags = S | A, .seq = 0, .ack = 1,
                                              .win = SYN_WINDOW, .win_set = true);
    peer_agrees(c, opts, &sa->h.opts);
    conn_sync(c, KEEL_TCP_SYN_RECEIVED);
    check_vars(c, 1, SYN_WINDOW, 0, 1);
}

void reach_syn_received(struct conn *c)
{
    syn_received(c, &OPTS_MSS_ONLY);
}

void reach_syn_received_simultaneous(struct conn *c)
{
    reach_syn_sent(c);
    script_send(&c->s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect(&c->s, .flags = S | A, .seq = 0, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_SYN_RECEIVED);
    check_vars(c, 1, SYN_WINDOW, 0, 1);
}

/* keel sends 100 bytes, the peer acknowledges them with 100 of its own,
 * which the application reads. */
static void exchange(struct conn *c)
{
    conn_keel_sends(c, XCHG_LEN);
    script_send(&c->s, .flags = P | A, .seq = 1, .ack = 1 + XCHG_LEN, .len = XCHG_LEN);
    script_expect(&c->s, .flags = A, .seq = 1 + XCHG_LEN, .ack = 1 + XCHG_LEN,
                  .win = EST_WINDOW, .win_set = true);
    conn_expect_read(c, 1, XCHG_LEN);
    conn_sync(c, KEEL_TCP_ESTABLISHED);
    check_vars(c, 101, EST_WINDOW, 101, 101);
}

static void established_active(struct conn *c, const struct tcp_opts *opts)
{
    reach_syn_sent(c);
    const struct captured *syn = &c->s.out[c->s.next_out - 1];
    peer_agrees(c, opts, &syn->h.opts);
    script_send(&c->s, .flags = S | A, .seq = 0, .ack = 1, .opts = *opts);
    script_expect(&c->s, .flags = A, .seq = 1, .ack = 1, .win = SYN_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_ESTABLISHED);
    check_vars(c, 1, SYN_WINDOW, 1, 1);
    exchange(c);
}

void reach_established(struct conn *c)
{
    established_active(c, &OPTS_MSS_ONLY);
}

void reach_established_linux(struct conn *c)
{
    established_active(c, &OPTS_LINUX);
}

void reach_established_passive(struct conn *c)
{
    syn_received(c, &OPTS_MSS_ONLY);
    script_send(&c->s, .flags = A, .seq = 1, .ack = 1);
    c->sock = keel_accept(c->s.st, c->listener, NULL);
    CHECK(c->sock >= 0);
    conn_sync(c, KEEL_TCP_ESTABLISHED);
    check_vars(c, 1, SYN_WINDOW, 1, 1);
    exchange(c);
}

static void to_fin_wait_1(struct conn *c)
{
    CHECK_EQ(keel_shutdown(c->s.st, c->sock, KEEL_SHUT_WR), 0);
    script_expect(&c->s, .flags = F | A, .seq = 101, .ack = 101, .win = EST_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_FIN_WAIT_1);
    check_vars(c, 101, EST_WINDOW, 101, 102);
}

static void to_fin_wait_2(struct conn *c)
{
    script_send(&c->s, .flags = A, .seq = 101, .ack = 102);
    conn_sync(c, KEEL_TCP_FIN_WAIT_2);
    check_vars(c, 101, EST_WINDOW, 102, 102);
}

/* After the peer's FIN RCV.NXT is 102 and the window's right edge has not
 * moved: 1051 bytes. */
static void to_time_wait(struct conn *c)
{
    script_send(&c->s, .flags = F | A, .seq = 101, .ack = 102);
    script_expect(&c->s, .flags = A, .seq = 102, .ack = 102, .win = FIN_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_TIME_WAIT);
    check_vars(c, 102, FIN_WINDOW, 102, 102);
}

void reach_fin_wait_1(struct conn *c)
{
    reach_established(c);
    to_fin_wait_1(c);
}

/* The application closes its socket instead: the connection is orphaned. */
void reach_fin_wait_1_orphan(struct conn *c)
{
    reach_established(c);
    CHECK_EQ(keel_close(c->s.st, c->sock), 0);
    c->sock = -1;
    script_expect(&c->s, .flags = F | A, .seq = 101, .ack = 101, .win = EST_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_FIN_WAIT_1);
    check_vars(c, 101, EST_WINDOW, 101, 102);
}

void reach_fin_wait_2_orphan(struct conn *c)
{
    reach_fin_wait_1_orphan(c);
    to_fin_wait_2(c);
}

void reach_fin_wait_2(struct conn *c)
{
    reach_fin_wait_1(c);
    to_fin_wait_2(c);
}

void reach_close_wait(struct conn *c)
{
    reach_established(c);
    script_send(&c->s, .flags = F | A, .seq = 101, .ack = 101);
    script_expect(&c->s, .flags = A, .seq = 101, .ack = 102, .win = FIN_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_CLOSE_WAIT);
    check_vars(c, 102, FIN_WINDOW, 101, 101);
}

void reach_closing(struct conn *c)
{
    reach_fin_wait_1(c);
    script_send(&c->s, .flags = F | A, .seq = 101, .ack = 101);
    script_expect(&c->s, .flags = A, .seq = 102, .ack = 102, .win = FIN_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_CLOSING);
    check_vars(c, 102, FIN_WINDOW, 101, 102);
}

void reach_last_ack(struct conn *c)
{
    reach_close_wait(c);
    CHECK_EQ(keel_shutdown(c->s.st, c->sock, KEEL_SHUT_WR), 0);
    script_expect(&c->s, .flags = F | A, .seq = 101, .ack = 102, .win = FIN_WINDOW, .win_set = true);
    conn_sync(c, KEEL_TCP_LAST_ACK);
    check_vars(c, 102, FIN_WINDOW, 101, 102);
}

void reach_time_wait(struct conn *c)
{
    reach_fin_wait_2(c);
    to_time_wait(c);
}

void reach_time_wait_passive(struct conn *c)
{
    reach_established_passive(c);
    to_fin_wait_1(c);
    to_fin_wait_2(c);
    to_time_wait(c);
}

void conn_keel_sends(struct conn *c, uint32_t n)
{
    uint8_t buf[1000];
    CHECK(n <= sizeof buf);
    for (uint32_t i = 0; i < n; i++)
        buf[i] = (uint8_t)('A' + i % 26);
    CHECK_EQ(keel_send(c->s.st, c->sock, buf, n, 0), n);
    script_expect(&c->s, .flags = P | A, .seq = c->snd_nxt, .ack = c->rcv_nxt, .len = n);
    c->snd_nxt += n;
}

void conn_expect_state_at(struct conn *c, int state, const char *file, int line)
{
    struct keel_tcp_info i;
    const char *got = conn_info(c, &i) ? keel_tcp_state_name(i.state) : "(gone)";
    if (strcmp(got, keel_tcp_state_name(state)) != 0)
        harness_fail(file, line, "state %s, want %s", got, keel_tcp_state_name(state));
}

void conn_expect_closed_at(struct conn *c, int err, const char *file, int line)
{
    struct keel_tcp_info i;
    if (c->sock < 0) {
        if (conn_info(c, &i))
            harness_fail(file, line, "connection still there, in %s",
                         keel_tcp_state_name(i.state));
        return;
    }
    conn_expect_state_at(c, KEEL_TCP_CLOSED, file, line);
    int e = -1; /* SO_ERROR holds a positive errno, as in Linux */
    size_t len = sizeof e;
    CHECK_EQ(keel_getsockopt(c->s.st, c->sock, KEEL_SOL_SOCKET, KEEL_SO_ERROR, &e, &len), 0);
    if (-e != err)
        harness_fail(file, line, "SO_ERROR %d (%s), want %d (%s)", e, keel_strerror(-e), -err,
                     keel_strerror(err));
}

void conn_expect_read_at(struct conn *c, uint32_t seq, uint32_t len, const char *file, int line)
{
    uint8_t buf[2048];
    long n = keel_recv(c->s.st, c->sock, buf, sizeof buf, 0);
    if (n != (long)len)
        harness_fail(file, line, "read %ld bytes, want %u", n, len);
    for (uint32_t k = 0; k < len; k++)
        if (buf[k] != (uint8_t)('a' + (PEER_ISN + seq + k) % 26))
            harness_fail(file, line, "byte %u is not the peer's byte %u", k, seq + k);
}

void conn_expect_no_read_at(struct conn *c, const char *file, int line)
{
    uint8_t buf[16];
    long n = keel_recv(c->s.st, c->sock, buf, sizeof buf, 0);
    if (n != KEEL_EAGAIN)
        harness_fail(file, line, "read returned %ld, want EAGAIN", n);
}

void conn_expect_eof_at(struct conn *c, const char *file, int line)
{
    uint8_t buf[16];
    long n = keel_recv(c->s.st, c->sock, buf, sizeof buf, 0);
    if (n != 0)
        harness_fail(file, line, "read returned %ld, want 0 (end of stream)", n);
}

uint32_t conn_snd_una(struct conn *c)
{
    struct keel_tcp_info i;
    CHECK(conn_info(c, &i));
    return i.snd_una - c->s.keel_isn;
}

uint32_t conn_snd_iss(struct conn *c)
{
    struct keel_tcp_info i;
    CHECK(conn_info(c, &i));
    return i.snd_iss;
}

uint32_t conn_ooo_bytes(struct conn *c)
{
    struct keel_tcp_info i;
    CHECK(conn_info(c, &i));
    return i.rcv_ooo_bytes;
}

uint64_t conn_timer(struct conn *c, int kind)
{
    struct keel_tcp_info i;
    CHECK(conn_info(c, &i));
    return i.timer_armed[kind] ? i.timer_expiry_us[kind] : 0;
}
