/* The socket calls: BSD semantics and Linux's errno values over TCBs. */
#include <string.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

static struct tcb *lookup(keel_stack *st, int sock)
{
    struct tcb *tcb = handle_get(st, sock);
    if (tcb)
        tcb->last_activity_us = st->now_us;
    return tcb;
}

int keel_socket(keel_stack *st, int type)
{
    if (type != KEEL_SOCK_STREAM)
        return KEEL_EPROTONOSUPPORT;
    struct tcb *tcb = tcb_new(st);
    if (!tcb)
        return KEEL_ENOMEM;
    int h = handle_alloc(st, tcb);
    if (h < 0)
        tcb_free(tcb);
    return h;
}

/* A socket bound to a port but neither listening nor connected is in no
 * demux table, yet Linux keeps its port in the bind table: a second bind to
 * it fails unless both sockets set SO_REUSEADDR. Binding is rare: a walk
 * over the handles is cheap enough. */
static bool port_bound_elsewhere(keel_stack *st, const struct tcb *tcb, uint16_t port)
{
    for (uint32_t h = 0; h < st->cfg.max_sockets; h++) {
        const struct tcb *t = st->handles[h];
        if (t && t != tcb && t->bound && t->lport == port && t->state == KEEL_TCP_CLOSED &&
            !t->rport && !(t->reuseaddr && tcb->reuseaddr))
            return true;
    }
    return false;
}

static bool port_taken(keel_stack *st, const struct tcb *tcb, uint16_t port)
{
    if (port_bound_elsewhere(st, tcb, port))
        return true;
    if (tcb->reuseaddr)
        return demux_listener(&st->demux, 0, port) != NULL;
    return demux_port_in_use(&st->demux, port);
}

int keel_bind(keel_stack *st, int sock, const struct keel_sockaddr *addr)
{
    struct tcb *tcb = lookup(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    if (tcb->bound || tcb->state != KEEL_TCP_CLOSED)
        return KEEL_EINVAL;
    /* Linux inet_bind: an address the stack does not have only with
     * IP_FREEBIND (its packets then never arrive). */
    if (addr->addr != 0 && addr->addr != st->cfg.addr && !tcb->freebind)
        return KEEL_EADDRNOTAVAIL;
    if (addr->port && port_taken(st, tcb, addr->port))
        return KEEL_EADDRINUSE;
    tcb->laddr = addr->addr;
    tcb->lport = addr->port;
    tcb->bound = true;
    return 0;
}

static int pick_listen_port(keel_stack *st, struct tcb *tcb)
{
    for (uint32_t tries = 0; tries < 65536; tries++) {
        uint32_t span = st->cfg.ephemeral_hi - st->cfg.ephemeral_lo + 1u;
        uint16_t p = (uint16_t)(st->cfg.ephemeral_lo + rng_below(&st->rng, span));
        if (!demux_port_in_use(&st->demux, p)) {
            tcb->lport = p;
            return 0;
        }
    }
    return KEEL_EADDRINUSE;
}

int keel_listen(keel_stack *st, int sock, int backlog)
{
    struct tcb *tcb = lookup(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    if (backlog < 0 || backlog > 4096)
        backlog = 4096; /* Linux: net.core.somaxconn */
    if (tcb->state == KEEL_TCP_LISTEN) {
        tcb->backlog = backlog;
        return 0;
    }
    if (tcb->state != KEEL_TCP_CLOSED || tcb->rport)
        return KEEL_EINVAL;
    if (!tcb->lport && pick_listen_port(st, tcb) < 0)
        return KEEL_EADDRINUSE;
    if (demux_listen_insert(&st->demux, tcb) < 0)
        return KEEL_EADDRINUSE;
    tcb->backlog = backlog;
    tcb->bound = true;
    tcb_set_state(tcb, KEEL_TCP_LISTEN);
    return 0;
}

int keel_accept(keel_stack *st, int sock, struct keel_sockaddr *peer)
{
    struct tcb *l = lookup(st, sock);
    if (!l)
        return KEEL_EBADF;
    if (l->state != KEEL_TCP_LISTEN)
        return KEEL_EINVAL;
    struct tcb *c = l->aq_head;
    if (!c)
        return KEEL_EAGAIN;
    int h = handle_alloc(st, c);
    if (h < 0)
        return h;
    l->aq_head = c->aq_next;
    if (!l->aq_head)
        l->aq_tail = NULL;
    l->accept_queue_len--;
    c->aq_next = NULL;
    c->listener = NULL;
    c->last_activity_us = st->now_us;
    if (peer) {
        peer->addr = c->raddr;
        peer->port = c->rport;
    }
    return h;
}

static int connect_state_error(const struct tcb *tcb)
{
    switch (tcb->state) {
    case KEEL_TCP_CLOSED:
        return tcb->rport ? KEEL_EISCONN : 0;
    case KEEL_TCP_SYN_SENT:
    case KEEL_TCP_SYN_RECEIVED:
        return KEEL_EALREADY;
    case KEEL_TCP_LISTEN:
        return KEEL_EINVAL;
    }
    return KEEL_EISCONN;
}

static int choose_local(keel_stack *st, struct tcb *tcb, const struct keel_sockaddr *addr)
{
    tcb->laddr = st->cfg.addr;
    if (!tcb->lport)
        return ephemeral_port(st, tcb->laddr, addr->addr, addr->port, &tcb->lport);
    if (demux_lookup(&st->demux, tcb->laddr, tcb->lport, addr->addr, addr->port))
        return KEEL_EADDRNOTAVAIL;
    return 0;
}

/* Linux tcp_connect: the active open starts with the first SYN. */
static void send_first_syn(struct tcb *tcb)
{
    tcb->fo_deferred = false;
    CTR_INC(tcb->st, TcpActiveOpens);
    tcp_send_syn(tcb);
    tcb_arm(tcb, TT_RETRANSMIT, rto_current(tcb));
}

int keel_connect(keel_stack *st, int sock, const struct keel_sockaddr *addr)
{
    struct tcb *tcb = lookup(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    int err = connect_state_error(tcb);
    if (err)
        return err;
    if (addr->addr == 0 || addr->port == 0)
        return addr->addr == 0 ? KEEL_ENETUNREACH : KEEL_ECONNREFUSED;
    err = choose_local(st, tcb, addr);
    if (err)
        return err;
    tcb->raddr = addr->addr;
    tcb->rport = addr->port;
    tcb->snd.iss = isn_generate(st, tcb->laddr, tcb->lport, tcb->raddr, tcb->rport);
    tcb_prepare_open(tcb);
    if (demux_insert(&st->demux, tcb) < 0) {
        tcb->rport = 0;
        return KEEL_EADDRNOTAVAIL;
    }
    tcb->state = KEEL_TCP_SYN_SENT;
    tcb->state_since_us = st->now_us;
    if (tcp_fastopen_defer_connect(tcb))
        return 0;
    send_first_syn(tcb);
    return KEEL_EINPROGRESS;
}

/* A pending error is reported once (SO_ERROR semantics), as Linux does. */
static int take_error(struct tcb *tcb)
{
    int e = tcb->soerror;
    tcb->soerror = 0;
    return e;
}

static long send_state_error(struct tcb *tcb)
{
    if (tcb->soerror)
        return take_error(tcb);
    if (tcb->shut_wr || tcb->fin_queued)
        return KEEL_EPIPE;
    switch (tcb->state) {
    case KEEL_TCP_ESTABLISHED:
    case KEEL_TCP_CLOSE_WAIT:
        return 0;
    case KEEL_TCP_SYN_SENT:
    case KEEL_TCP_SYN_RECEIVED:
        return KEEL_EAGAIN;
    case KEEL_TCP_CLOSED:
        return tcb->rport ? KEEL_EPIPE : KEEL_ENOTCONN;
    }
    return KEEL_ENOTCONN;
}

long keel_send(keel_stack *st, int sock, const void *buf, size_t len, int flags)
{
    struct tcb *tcb = lookup(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    /* A connect() Fast Open deferred: this write sends the SYN with the
     * cookie and takes no data, answered as Linux tcp_sendmsg_fastopen
     * answers a SYN that carried none. */
    if (tcb->fo_deferred) {
        send_first_syn(tcb);
        return KEEL_EINPROGRESS;
    }
    long err = send_state_error(tcb);
    if (err)
        return err;
    if (len == 0)
        return 0;
    uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    bool nothing_unsent = seq_ge(tcb->snd.max, tcb_snd_end(tcb));
    uint32_t put = sendq_append(tcb, buf, n);
    tcp_chrono_after_write(tcb, nothing_unsent && put, put < n);
    if (!put)
        return KEEL_EAGAIN;
    if (tcb->tstamp)
        tstamp_note_write(tcb);
    sendq_write_end(tcb, put == len, flags);
    tcb_check_invariants(tcb);
    return put;
}

/* RFC 9293 §3.8.6.2.2 and Linux's tcp_cleanup_rbuf: after the application
 * reads, announce the larger window if it at least doubles the one offered
 * and grows by the SWS threshold. Linux compares the window it would
 * advertise (__tcp_select_window: at most 65535 << Rcv.Wind.Shift), not the
 * free space: without window scaling a 64 KB window that cannot grow is not
 * announced again however much the read frees. */
static void window_update_after_read(struct tcb *tcb)
{
    if (!tcb_synchronized(tcb) || tcb->rcv_fin)
        return;
    uint32_t old = tcb_rcv_window(tcb);
    uint32_t space = tcb->rcv_space > tcb->rcvq.len ? tcb->rcv_space - tcb->rcvq.len : 0;
    uint32_t max_wnd = (uint32_t)65535 << tcb->rcv.wscale;
    if (space > max_wnd)
        space = max_wnd;
    uint32_t sws = tcb->rcv_mss < tcb->rcv_space / 2 ? tcb->rcv_mss : tcb->rcv_space / 2;
    if (space >= 2 * old && space - old >= sws) {
        tcp_send_ack(tcb);
    }
}

static long recv_empty_result(struct tcb *tcb)
{
    if (tcb->rcv_fin || tcb->shut_rd)
        return 0;
    if (tcb->soerror)
        return take_error(tcb);
    switch (tcb->state) {
    case KEEL_TCP_LISTEN:
        return KEEL_ENOTCONN;
    case KEEL_TCP_CLOSED:
        return tcb->rport ? 0 : KEEL_ENOTCONN;
    }
    return KEEL_EAGAIN;
}

long keel_recv(keel_stack *st, int sock, void *buf, size_t len, int flags)
{
    struct tcb *tcb = lookup(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    if (flags & KEEL_MSG_OOB)
        return tcp_urgent_recv(tcb, buf, len, (flags & KEEL_MSG_PEEK) != 0);
    uint32_t skip = tcp_urgent_skip(tcb); /* the out-of-band byte, passed over */
    uint32_t avail = tcb->rcvq.len - skip;
    if (avail == 0 || len == 0)
        return avail ? 0 : recv_empty_result(tcb);
    uint32_t n = tcp_urgent_read_limit(tcb, len < avail ? (uint32_t)len : avail);
    ring_peek(&tcb->rcvq, skip, buf, n);
    if (flags & KEEL_MSG_PEEK)
        return n;
    ring_consume(&tcb->rcvq, skip + n);
    tcp_urgent_consumed(tcb);
    tcp_rcv_space_adjust(tcb);
    window_update_after_read(tcb);
    return n;
}

/* RFC 9293 §3.10.4 CLOSE: queue the FIN behind the data; ESTABLISHED goes to
 * FIN-WAIT-1 and CLOSE-WAIT to LAST-ACK at once. */
static int shutdown_write(struct tcb *tcb)
{
    if (tcb->fin_queued)
        return 0;
    switch (tcb->state) {
    case KEEL_TCP_SYN_RECEIVED:
        break; /* the FIN waits for ESTABLISHED (§3.10.4, tcb_established) */
    case KEEL_TCP_ESTABLISHED:
        tcb_set_state(tcb, KEEL_TCP_FIN_WAIT_1);
        break;
    case KEEL_TCP_CLOSE_WAIT:
        tcb_set_state(tcb, KEEL_TCP_LAST_ACK);
        break;
    default:
        return KEEL_ENOTCONN;
    }
    tcb->fin_queued = true;
    tcb->shut_wr = true;
    /* Linux tcp_send_fin pushes with TCP_NAGLE_OFF: corking holds no data
     * back from the FIN. */
    tcp_output_nagle(tcb, TCP_NAGLE_PUSH);
    return 0;
}

int keel_shutdown(keel_stack *st, int sock, int how)
{
    struct tcb *tcb = lookup(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    if (how < KEEL_SHUT_RD || how > KEEL_SHUT_RDWR)
        return KEEL_EINVAL;
    if (!tcb_synchronized(tcb) && tcb->state != KEEL_TCP_SYN_RECEIVED)
        return KEEL_ENOTCONN;
    if (how != KEEL_SHUT_WR) {
        tcb->shut_rd = true;
        event_notify(st, tcb);
    }
    if (how != KEEL_SHUT_RD)
        return shutdown_write(tcb);
    return 0;
}

struct children {
    struct tcb *listener, *list;
};

static int collect_embryonic(void *arg, struct tcb *t)
{
    struct children *c = arg;
    if (t->listener == c->listener && t->state == KEEL_TCP_SYN_RECEIVED) {
        t->aq_next = c->list;
        c->list = t;
    }
    return 0;
}

/* Connections waiting on a closed listener are reset, as Linux does. */
static void close_listener(keel_stack *st, struct tcb *l)
{
    demux_listen_remove(&st->demux, l);
    while (l->aq_head)
        tcb_abort(l->aq_head, 0); /* detaches it from the accept queue */
    struct children c = {l, NULL};
    demux_visit(&st->demux, collect_embryonic, &c);
    while (c.list) {
        struct tcb *t = c.list;
        c.list = t->aq_next;
        t->aq_next = NULL;
        tcb_abort(t, 0);
    }
    tcb_bury(l);
}

static int close_abortive(struct tcb *tcb)
{
    return tcb->rcvq.len || (tcb->linger_on && tcb->linger_s == 0);
}

static void close_connection(keel_stack *st, struct tcb *tcb)
{
    if (tcb->state == KEEL_TCP_SYN_SENT || tcb->state == KEEL_TCP_CLOSED) {
        tcb_close(tcb, 0);
        return;
    }
    if (close_abortive(tcb)) {
        if (tcb->rcvq.len)
            CTR_INC(st, TCPAbortOnClose);
        else
            CTR_INC(st, TCPAbortOnLinger);
        tcb_abort(tcb, 0);
        return;
    }
    shutdown_write(tcb);
    if (tcb->state == KEEL_TCP_FIN_WAIT_2)
        tcb_arm(tcb, TT_TIME_WAIT, st->cfg.fin_timeout_us);
}

int keel_close(keel_stack *st, int sock)
{
    struct tcb *tcb = handle_get(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    handle_release(st, sock);
    tcb->handle = -1;
    tcb->closed_by_app = true;
    if (tcb->state == KEEL_TCP_LISTEN)
        close_listener(st, tcb);
    else
        close_connection(st, tcb);
    stack_reap(st);
    return 0;
}

static int sockname(keel_stack *st, int sock, struct keel_sockaddr *a, bool peer)
{
    struct tcb *tcb = handle_get(st, sock);
    if (!tcb)
        return KEEL_EBADF;
    if (peer && !tcb->rport)
        return KEEL_ENOTCONN;
    a->addr = peer ? tcb->raddr : (tcb->laddr ? tcb->laddr : 0);
    a->port = peer ? tcb->rport : tcb->lport;
    return 0;
}

int keel_getsockname(keel_stack *st, int sock, struct keel_sockaddr *addr)
{
    return sockname(st, sock, addr, false);
}

int keel_getpeername(keel_stack *st, int sock, struct keel_sockaddr *addr)
{
    return sockname(st, sock, addr, true);
}
