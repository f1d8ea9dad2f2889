/* The socket calls with BSD semantics and Linux's errno values, each error
 * path include/keel/keel.h lists, and the segments the calls cause: listen
 * backlog (Linux admits backlog + 1), SO_LINGER {1, 0}, close with unread
 * data, shutdown, SO_ERROR, buffer sizes, TCP_INFO, TCP_CONGESTION. */
#include <string.h>

#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define P TCP_FLAG_PSH
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN

#define SEC 1000000ull

static const struct keel_sockaddr peer = {PEER_ADDR, PEER_PORT};

static int setopt(struct script *s, int sock, int level, int name, int v)
{
    return keel_setsockopt(s->st, sock, level, name, &v, sizeof v);
}

static int getopt_int(struct script *s, int sock, int level, int name)
{
    int v = -12345;
    size_t len = sizeof v;
    CHECK_EQ(keel_getsockopt(s->st, sock, level, name, &v, &len), 0);
    CHECK_EQ(len, sizeof v);
    return v;
}

static int bind_port(struct script *s, int sock, uint16_t port)
{
    return keel_bind(s->st, sock, &(struct keel_sockaddr){0, port});
}

static int new_socket(struct script *s)
{
    int c = keel_socket(s->st, KEEL_SOCK_STREAM);
    CHECK(c >= 0);
    return c;
}

/* ---- socket, bind, listen ---- */

TEST(socket_and_bind_errors)
{
    struct script s;
    script_init(&s, NULL);
    CHECK_EQ(keel_socket(s.st, 2), KEEL_EPROTONOSUPPORT);
    int a = new_socket(&s);
    CHECK_EQ(keel_bind(s.st, 999, &(struct keel_sockaddr){0, 5000}), KEEL_EBADF);
    CHECK_EQ(keel_bind(s.st, a, &(struct keel_sockaddr){0x0a000001, 5000}), KEEL_EADDRNOTAVAIL);
    CHECK_EQ(keel_bind(s.st, a, &(struct keel_sockaddr){KEEL_ADDR, 5000}), 0);
    CHECK_EQ(bind_port(&s, a, 5001), KEEL_EINVAL); /* already bound */
    struct keel_sockaddr name;
    CHECK_EQ(keel_getsockname(s.st, a, &name), 0);
    CHECK_EQ_U(name.addr, KEEL_ADDR);
    CHECK_EQ(name.port, 5000);
    CHECK_EQ(keel_getpeername(s.st, a, &name), KEEL_ENOTCONN);
    CHECK_EQ(keel_getsockname(s.st, 999, &name), KEEL_EBADF);
    script_free(&s);
}

/* keel_config.max_sockets bounds the handles: EMFILE beyond it, and a
 * closed handle can be had again. */
TEST(socket_emfile)
{
    struct script s;
    script_init(&s, &(struct keel_config){.max_sockets = 2});
    int a = new_socket(&s);
    new_socket(&s);
    CHECK_EQ(keel_socket(s.st, KEEL_SOCK_STREAM), KEEL_EMFILE);
    CHECK_EQ(keel_close(s.st, a), 0);
    CHECK_EQ(keel_socket(s.st, KEEL_SOCK_STREAM), a);
    script_free(&s);
}

/* A port held by a listener, or by a connection (TIME-WAIT included), is in
 * use for bind; SO_REUSEADDR allows it unless a listener holds it. */
TEST(bind_eaddrinuse)
{
    struct script s;
    script_init(&s, NULL);
    int ls = new_socket(&s);
    CHECK_EQ(bind_port(&s, ls, KEEL_PORT), 0);
    CHECK_EQ(keel_listen(s.st, ls, 4), 0);
    int b = new_socket(&s);
    CHECK_EQ(bind_port(&s, b, KEEL_PORT), KEEL_EADDRINUSE);
    CHECK_EQ(setopt(&s, b, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, 1), 0);
    CHECK_EQ(bind_port(&s, b, KEEL_PORT), KEEL_EADDRINUSE);
    /* A connection's local port, down to TIME-WAIT. */
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    uint16_t cport = s.keel_port;
    CHECK_EQ(bind_port(&s, new_socket(&s), cport), KEEL_EADDRINUSE);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(&s, .flags = A, .seq = 2, .ack = 2);
    int d = new_socket(&s);
    CHECK_EQ(bind_port(&s, d, cport), KEEL_EADDRINUSE); /* TIME-WAIT */
    CHECK_EQ(setopt(&s, d, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, 1), 0);
    CHECK_EQ(bind_port(&s, d, cport), 0);
    script_free(&s);
}

/* Two sockets bound to one port, neither listening yet: Linux refuses the
 * second bind (the port is in its bind table from the first). */
TEST(bind_eaddrinuse_for_bound_socket)
{
    struct script s;
    script_init(&s, NULL);
    int a = new_socket(&s), b = new_socket(&s);
    CHECK_EQ(bind_port(&s, a, 6000), 0);
    CHECK_EQ(bind_port(&s, b, 6000), KEEL_EADDRINUSE);
    /* With SO_REUSEADDR on both, Linux allows it (neither listens). */
    int c = new_socket(&s), d = new_socket(&s);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, 1), 0);
    CHECK_EQ(setopt(&s, d, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, 1), 0);
    CHECK_EQ(bind_port(&s, c, 6001), 0);
    CHECK_EQ(bind_port(&s, d, 6001), 0);
    /* Once the port is released it is free again. */
    CHECK_EQ(keel_close(s.st, a), 0);
    CHECK_EQ(bind_port(&s, b, 6000), 0);
    script_free(&s);
}

TEST(listen_errors)
{
    struct script s;
    script_init(&s, NULL);
    CHECK_EQ(keel_listen(s.st, 999, 4), KEEL_EBADF);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_listen(s.st, c, 4), KEEL_EINVAL); /* connected */
    /* Listening unbound picks a port of the ephemeral range. */
    int l = new_socket(&s);
    CHECK_EQ(keel_listen(s.st, l, 4), 0);
    struct keel_sockaddr name;
    CHECK_EQ(keel_getsockname(s.st, l, &name), 0);
    CHECK(name.port >= 32768 && name.port <= 60999);
    CHECK_EQ(keel_listen(s.st, l, 8), 0); /* again: only the backlog changes */
    CHECK_EQ(keel_accept(s.st, c, NULL), KEEL_EINVAL); /* not listening */
    CHECK_EQ(keel_accept(s.st, 999, NULL), KEEL_EBADF);
    CHECK_EQ(keel_accept(s.st, l, NULL), KEEL_EAGAIN);
    script_free(&s);
}

/* The handshake from peer port `port`; keel's ISN for it is returned. */
static uint32_t peer_syn(struct script *s, uint16_t port)
{
    s->peer_port = port;
    s->keel_isn = 0;
    script_send(s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    const struct captured *sa = script_expect(s, .flags = S | A, .seq = 0, .ack = 1);
    return sa->h.seq;
}

static void peer_ack(struct script *s, uint16_t port, uint32_t isn)
{
    s->peer_port = port;
    s->keel_isn = isn;
    script_send(s, .flags = A, .seq = 1, .ack = 1);
}

/* Linux: a backlog of N admits N + 1 completed connections to the accept
 * queue; the ACK completing one more is dropped (ListenOverflows) and the
 * connection waits in SYN-RECEIVED; while the queue is full new SYNs are
 * dropped too. Once the application accepts, the waiting one completes. */
TEST(listen_backlog_admits_n_plus_1)
{
    struct script s;
    script_init(&s, NULL);
    int ls = new_socket(&s);
    CHECK_EQ(bind_port(&s, ls, KEEL_PORT), 0);
    CHECK_EQ(keel_listen(s.st, ls, 2), 0);
    uint32_t isn[4];
    for (int k = 0; k < 4; k++)
        isn[k] = peer_syn(&s, (uint16_t)(PEER_PORT + k));
    for (int k = 0; k < 4; k++)
        peer_ack(&s, (uint16_t)(PEER_PORT + k), isn[k]);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_ListenOverflows), 1);
    /* A fifth SYN is not answered. */
    s.peer_port = PEER_PORT + 4;
    script_send(&s, .flags = S, .seq = 0, .opts = OPTS_MSS_ONLY);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_ListenOverflows), 2);
    CHECK_EQ(script_counter(&s, KEEL_C_ListenDrops), 2);
    struct keel_sockaddr from;
    for (int k = 0; k < 3; k++) {
        int c = keel_accept(s.st, ls, &from);
        CHECK(c >= 0);
        CHECK_EQ(from.port, PEER_PORT + k);
        CHECK_EQ_U(from.addr, PEER_ADDR);
    }
    CHECK_EQ(keel_accept(s.st, ls, NULL), KEEL_EAGAIN);
    /* The fourth peer's next segment (its ACK again) completes it. */
    peer_ack(&s, PEER_PORT + 3, isn[3]);
    int c = keel_accept(s.st, ls, &from);
    CHECK(c >= 0);
    CHECK_EQ(from.port, PEER_PORT + 3);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_ESTABLISHED);
    script_free(&s);
}

/* A listener becomes readable when a connection is ready to accept. */
TEST(accept_readiness)
{
    struct script s;
    script_init(&s, NULL);
    int ls = new_socket(&s);
    CHECK_EQ(bind_port(&s, ls, KEEL_PORT), 0);
    CHECK_EQ(keel_listen(s.st, ls, 4), 0);
    CHECK_EQ(keel_readiness(s.st, ls), 0);
    uint32_t isn = peer_syn(&s, PEER_PORT);
    CHECK_EQ(keel_readiness(s.st, ls), 0); /* SYN-RECEIVED is not ready */
    peer_ack(&s, PEER_PORT, isn);
    CHECK_EQ(keel_readiness(s.st, ls), KEEL_POLLIN);
    CHECK(keel_accept(s.st, ls, NULL) >= 0);
    CHECK_EQ(keel_readiness(s.st, ls), 0);
    CHECK_EQ(keel_readiness(s.st, 999), KEEL_EBADF);
    script_free(&s);
}

/* ---- connect ---- */

TEST(connect_einprogress_ealready_eisconn)
{
    struct script s;
    script_init(&s, NULL);
    CHECK_EQ(keel_connect(s.st, 999, &peer), KEEL_EBADF);
    int c = new_socket(&s);
    CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){0, PEER_PORT}), KEEL_ENETUNREACH);
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EALREADY);
    CHECK_EQ(keel_readiness(s.st, c) & KEEL_POLLOUT, 0);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EAGAIN); /* not yet connected */
    struct keel_sockaddr name;
    CHECK_EQ(keel_getpeername(s.st, c, &name), 0);
    CHECK_EQ(name.port, PEER_PORT);
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLOUT);
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EISCONN);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_ERROR), 0);
    /* A listening socket cannot connect. */
    int l = new_socket(&s);
    CHECK_EQ(keel_listen(s.st, l, 1), 0);
    CHECK_EQ(keel_connect(s.st, l, &peer), KEEL_EINVAL);
    script_free(&s);
}

/* A RST answering the SYN (with an acceptable ACK) refuses the connection:
 * SO_ERROR reports ECONNREFUSED once, the socket shows POLLERR. A RST with
 * a wrong ACK is ignored (RFC 9293 §3.10.7.3). */
TEST(connect_refused_so_error)
{
    struct script s;
    script_init(&s, NULL);
    int c = new_socket(&s);
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    s.keel_port = syn->h.sport;
    script_send(&s, .flags = R | A, .seq = 0, .ack = 5);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_SYN_SENT);
    script_send(&s, .flags = R | A, .seq = 0, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_CLOSED);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLERR);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_ERROR), -KEEL_ECONNREFUSED);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_ERROR), 0);
    CHECK_EQ(keel_readiness(s.st, c) & KEEL_POLLERR, 0);
    CHECK_EQ(script_counter(&s, KEEL_C_TcpAttemptFails), 1);
    script_free(&s);
}

/* ---- send, recv, shutdown ---- */

TEST(send_recv_errors)
{
    struct script s;
    script_init(&s, NULL);
    char buf[16];
    CHECK_EQ(keel_send(s.st, 999, "x", 1, 0), KEEL_EBADF);
    CHECK_EQ(keel_recv(s.st, 999, buf, sizeof buf, 0), KEEL_EBADF);
    int u = new_socket(&s);
    CHECK_EQ(keel_send(s.st, u, "x", 1, 0), KEEL_ENOTCONN);
    CHECK_EQ(keel_recv(s.st, u, buf, sizeof buf, 0), KEEL_ENOTCONN);
    CHECK_EQ(keel_shutdown(s.st, u, KEEL_SHUT_WR), KEEL_ENOTCONN);
    /* Linux tcp_recvmsg: a listening socket gives ENOTCONN. */
    int l = new_socket(&s);
    CHECK_EQ(keel_listen(s.st, l, 1), 0);
    CHECK_EQ(keel_recv(s.st, l, buf, sizeof buf, 0), KEEL_ENOTCONN);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), KEEL_EAGAIN);
    CHECK_EQ(keel_shutdown(s.st, c, 3), KEEL_EINVAL);
    CHECK_EQ(keel_shutdown(s.st, 999, KEEL_SHUT_WR), KEEL_EBADF);
    /* MSG_PEEK leaves the data. */
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 4);
    script_expect(&s, .flags = A, .seq = 1, .ack = 5);
    CHECK_EQ(keel_recv(s.st, c, buf, 2, KEEL_MSG_PEEK), 2);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 4);
    CHECK_EQ(keel_send(s.st, c, "", 0, 0), 0);
    script_expect_none(&s);
    script_free(&s);
}

/* shutdown(SHUT_WR) sends the FIN after the queued data; further sends fail
 * with EPIPE; reading still works, and the peer's FIN reads as 0 (EOF), as
 * often as asked. */
TEST(shutdown_wr_sends_fin_then_epipe_and_eof)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = F | A, .seq = 4, .ack = 1); /* Nagle never holds a FIN */
    script_send(&s, .flags = A, .seq = 1, .ack = 4);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EPIPE);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0); /* again: nothing more */
    script_expect_none(&s);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 5, .len = 2);
    script_expect(&s, .flags = A, .seq = 5, .ack = 3);
    script_send(&s, .flags = F | A, .seq = 3, .ack = 5);
    script_expect(&s, .flags = A, .seq = 5, .ack = 4);
    char buf[8];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 2);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 0);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 0);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_TIME_WAIT);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLHUP);
    script_free(&s);
}

/* The FIN goes at once when nothing is outstanding. */
TEST(shutdown_wr_idle_sends_fin_at_once)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(keel_shutdown(s.st, c, KEEL_SHUT_WR), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    CHECK_EQ(script_state(&s, c), KEEL_TCP_FIN_WAIT_1);
    CHECK_EQ(keel_send(s.st, c, "x", 1, 0), KEEL_EPIPE);
    script_free(&s);
}

/* The peer's FIN: EOF after the data, POLLIN and POLLRDHUP; writing still
 * works in CLOSE-WAIT. */
TEST(recv_eof_after_peer_fin)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = F | P | A, .seq = 1, .ack = 1, .len = 3);
    script_expect(&s, .flags = A, .seq = 1, .ack = 5);
    int r = keel_readiness(s.st, c);
    CHECK(r & KEEL_POLLIN);
    CHECK(r & KEEL_POLLRDHUP);
    char buf[8];
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 3);
    CHECK_EQ(keel_recv(s.st, c, buf, sizeof buf, 0), 0);
    CHECK_EQ(keel_send(s.st, c, "ok", 2, 0), 2);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 5, .len = 2);
    script_free(&s);
}

/* The send buffer bounds what send accepts, as Linux's does
 * (tcp_sendmsg_locked): a new chunk (here one MSS: no offload) starts only
 * while less than SO_SNDBUF is charged (the bytes and 832 per skb of
 * Linux's size goal, here one: sendq_charged), and fills up. SO_SNDBUF 1
 * gives Linux's minimum, 4608 bytes: three segments fit (the fourth would
 * start at 5212 charged), the rest is EAGAIN. The socket is writable
 * again only when the free part of the buffer is half the charged part
 * (sk_stream_min_wspace), yet a send may queue a new chunk before that,
 * as on Linux. */
TEST(send_eagain_when_buffer_full)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, 1), 0);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF), 4608);
    static char big[10000];
    CHECK_EQ(keel_send(s.st, c, big, sizeof big, 0), 3 * 1460);
    CHECK_EQ(keel_send(s.st, c, big, sizeof big, 0), KEEL_EAGAIN);
    CHECK_EQ(keel_readiness(s.st, c) & KEEL_POLLOUT, 0);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = 1460);
    script_expect(&s, .flags = A, .seq = 1461, .ack = 1, .len = 1460);
    /* Each chunk left as it filled (Linux tcp_push_one): when the write
     * stopped, nothing was left unsent to mark with PSH. */
    script_expect(&s, .flags = A, .seq = 2921, .ack = 1, .len = 1460);
    script_expect_none(&s);
    /* An ACK frees 1460 bytes: 3752 charged, under SO_SNDBUF, so one more
     * chunk fits; but 856 bytes free is not half of 3752: not writable. */
    script_send(&s, .flags = A, .seq = 1, .ack = 1461);
    CHECK_EQ(keel_readiness(s.st, c) & KEEL_POLLOUT, 0);
    CHECK_EQ(keel_send(s.st, c, big, sizeof big, 0), 1460);
    CHECK_EQ(keel_send(s.st, c, big, sizeof big, 0), KEEL_EAGAIN);
    /* 1460 queued, 2292 charged, 2316 free: writable. */
    script_send(&s, .flags = A, .seq = 1, .ack = 4381);
    CHECK(keel_readiness(s.st, c) & KEEL_POLLOUT);
    script_free(&s);
}

/* ---- close ---- */

/* SO_LINGER {1, 0}: close resets the connection, <SEQ=SND.NXT><CTL=RST,ACK>,
 * instead of the FIN handshake (Linux tcp_disconnect path, TCPAbortOnLinger). */
TEST(so_linger_zero_close_sends_rst)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    struct keel_linger lg = {1, 0};
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_LINGER, &lg, sizeof lg), 0);
    struct keel_linger got = {-1, -1};
    size_t len = sizeof got;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_LINGER, &got, &len), 0);
    CHECK_EQ(got.l_onoff, 1);
    CHECK_EQ(got.l_linger, 0);
    CHECK_EQ(keel_send(s.st, c, "abc", 3, 0), 3);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 3);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = R | A, .seq = 4, .ack = 1);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPAbortOnLinger), 1);
    CHECK_EQ(keel_close(s.st, c), KEEL_EBADF);
    /* Gone: the peer's next segment meets no connection. */
    script_send(&s, .flags = A, .seq = 1, .ack = 4);
    script_expect(&s, .flags = R, .seq = 4);
    script_free(&s);
}

/* Closing with unread data resets the connection (RFC 9293 §3.10.4 allows
 * it; Linux tcp_close does it and counts TCPAbortOnClose). */
TEST(close_with_unread_data_sends_rst)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    script_expect(&s, .flags = A, .seq = 1, .ack = 11);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = R | A, .seq = 1, .ack = 11);
    script_expect_none(&s);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPAbortOnClose), 1);
    script_free(&s);
}

/* A plain close with everything read is the graceful FIN handshake. */
TEST(close_sends_fin)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 10);
    script_expect(&s, .flags = A, .seq = 1, .ack = 11);
    CHECK_EQ(keel_recv(s.st, c, (char[16]){0}, 16, 0), 10);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 11);
    script_expect_none(&s);
    script_free(&s);
}

/* ---- options ---- */

/* Linux doubles SO_SNDBUF and SO_RCVBUF (bookkeeping overhead) and reports
 * the doubled value; below the minimum it stores the minimum. */
TEST(buffer_sizes_doubled)
{
    struct script s;
    script_init(&s, NULL);
    int c = new_socket(&s);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF), 16384);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF), 131072);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, 10000), 0);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, 30000), 0);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF), 20000);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF), 60000);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF, 100), 0);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF, 100), 0);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_SNDBUF), 4608);
    CHECK_EQ(getopt_int(&s, c, KEEL_SOL_SOCKET, KEEL_SO_RCVBUF), 2304);
    script_free(&s);
}

/* TCP_INFO through getsockopt: the same struct as keel_tcp_info, cut to the
 * caller's length. */
TEST(tcp_info_via_getsockopt)
{
    struct script s;
    script_init(&s, NULL);
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    struct keel_tcp_info i, j;
    memset(&i, 0xaa, sizeof i);
    size_t len = sizeof i;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_INFO, &i, &len), 0);
    CHECK_EQ(len, sizeof i);
    CHECK_EQ(keel_tcp_info(s.st, c, &j), 0);
    CHECK_EQ(i.state, KEEL_TCP_ESTABLISHED);
    CHECK_EQ(i.snd_mss, 1460);
    CHECK_EQ(i.snd_una, j.snd_una);
    CHECK_EQ(i.rcv_nxt, PEER_ISN + 1);
    CHECK_EQ(i.remote_port, PEER_PORT);
    CHECK_STR(i.cc_name, "cubic"); /* the default, as on Linux */
    uint8_t small[4];
    len = sizeof small;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_INFO, small, &len), 0);
    CHECK_EQ(len, sizeof small);
    CHECK_EQ(small[0], KEEL_TCP_ESTABLISHED);
    CHECK_EQ(keel_tcp_info(s.st, 999, &j), KEEL_EBADF);
    script_free(&s);
}

/* TCP_CONGESTION: an unknown algorithm is ENOENT (Linux), a known one is
 * taken, and reading gives its name. */
TEST(tcp_congestion_names)
{
    struct script s;
    script_init(&s, NULL);
    int c = new_socket(&s);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_CONGESTION, "bogus", 5),
             KEEL_ENOENT);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_CONGESTION, "newreno", 7), 0);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_CONGESTION, "x", 0), KEEL_EINVAL);
    char name[16];
    size_t len = sizeof name;
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, KEEL_TCP_CONGESTION, name, &len), 0);
    CHECK_STR(name, "newreno");
    script_free(&s);
}

TEST(sockopt_errors)
{
    struct script s;
    script_init(&s, NULL);
    int c = new_socket(&s);
    int v = 1;
    size_t len = sizeof v;
    CHECK_EQ(keel_setsockopt(s.st, 999, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, &v, sizeof v), KEEL_EBADF);
    CHECK_EQ(keel_getsockopt(s.st, 999, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, &v, &len), KEEL_EBADF);
    CHECK_EQ(setopt(&s, c, 99, KEEL_SO_KEEPALIVE, 1), KEEL_ENOPROTOOPT);
    CHECK_EQ(setopt(&s, c, KEEL_SOL_SOCKET, 77, 1), KEEL_ENOPROTOOPT);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, 77, 1), KEEL_ENOPROTOOPT);
    CHECK_EQ(keel_getsockopt(s.st, c, KEEL_IPPROTO_TCP, 77, &v, &len), KEEL_ENOPROTOOPT);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_KEEPALIVE, &v, 2), KEEL_EINVAL);
    CHECK_EQ(keel_setsockopt(s.st, c, KEEL_SOL_SOCKET, KEEL_SO_LINGER, &v, sizeof v), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_MAXSEG, 10), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_MAXSEG, 40000), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, -1), KEEL_EINVAL);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT, 1234), 0);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_USER_TIMEOUT), 1234);
    script_free(&s);
}

/* TCP_MAXSEG before connecting lowers the MSS keel announces and uses. */
TEST(tcp_maxseg_lowers_mss)
{
    struct script s;
    script_init(&s, NULL);
    int c = new_socket(&s);
    CHECK_EQ(setopt(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_MAXSEG, 1000), 0);
    CHECK_EQ(keel_connect(s.st, c, &peer), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S, .seq = 0);
    CHECK_EQ(syn->h.opts.mss, 1000);
    s.keel_port = syn->h.sport;
    script_send(&s, .flags = S | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_ONLY);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK_EQ(getopt_int(&s, c, KEEL_IPPROTO_TCP, KEEL_TCP_MAXSEG), 1000);
    script_free(&s);
}
