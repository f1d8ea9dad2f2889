/* Urgent data received (RFC 9293 §3.8.5 and §3.10.7.4 sixth step), kept as
 * Linux keeps it (tcp_check_urg, tcp_urg, tcp_recvmsg, tcp_recv_urg): the
 * urgent pointer points past the urgent data (RFC 6093 §4), and the last
 * urgent byte is taken out of band, readable with MSG_OOB, unless
 * SO_OOBINLINE. A read stops before that byte and one that starts at it
 * passes over it; the application learns of it through POLLPRI. */
#include "tcp/tcb.h"

/* The urgent byte: RCV.UP points one past it (RFC 9293 §3.8.5). */
static seq_t urgent_seq(const struct tcb *tcb)
{
    return seq_sub_n(tcb->rcv.up, 1);
}

/* The sequence number of the first byte the application has not read. */
static seq_t first_unread(const struct tcb *tcb)
{
    return seq_sub_n(tcb->rcv.nxt, tcb->rcvq.len + (tcb->rcv_fin ? 1u : 0u));
}

/* Linux tcp_check_urg: a new urgent byte while the old one, not inline,
 * waits at the read position: the old one is dropped from the stream. */
static void drop_old_urgent_byte(struct tcb *tcb)
{
    if (tcb->urg_state != TCP_URG_NONE && !tcb->oobinline && tcb->rcvq.len &&
        seq_eq(urgent_seq(tcb), first_unread(tcb)))
        ring_consume(&tcb->rcvq, 1);
}

void tcp_urgent_pointer(struct tcb *tcb, const struct segment *s)
{
    if (!(s->h.flags & TCP_FLAG_URG))
        return;
    seq_t ptr = seq_add(s->seq, s->h.urp ? s->h.urp - 1u : 0u);
    if (seq_lt(ptr, first_unread(tcb)) || seq_lt(ptr, tcb->rcv.nxt))
        return; /* read already, or in data held: not replayed (Linux) */
    if (tcb->urg_state != TCP_URG_NONE && !seq_gt(ptr, urgent_seq(tcb)))
        return; /* not newer */
    drop_old_urgent_byte(tcb);
    tcb->urg_state = TCP_URG_NOTYET;
    tcb->rcv.up = seq_add(ptr, 1);
    event_notify(tcb->st, tcb);
}

void tcp_urgent_arrived(struct tcb *tcb)
{
    if (tcb->urg_state != TCP_URG_NOTYET || !seq_lt(urgent_seq(tcb), tcb->rcv.nxt))
        return;
    seq_t head = first_unread(tcb);
    if (seq_lt(urgent_seq(tcb), head) || seq_dist(head, urgent_seq(tcb)) >= tcb->rcvq.len)
        return; /* read already, or no data byte there (the FIN's number) */
    ring_peek(&tcb->rcvq, seq_dist(head, urgent_seq(tcb)), &tcb->urg_byte, 1);
    tcb->urg_state = TCP_URG_VALID;
    event_notify(tcb->st, tcb);
}

uint32_t tcp_urgent_skip(const struct tcb *tcb)
{
    return tcb->urg_state != TCP_URG_NONE && !tcb->oobinline && tcb->rcvq.len &&
           seq_eq(urgent_seq(tcb), first_unread(tcb));
}

uint32_t tcp_urgent_offset(const struct tcb *tcb)
{
    if (tcb->urg_state == TCP_URG_NONE || seq_lt(urgent_seq(tcb), first_unread(tcb)))
        return UINT32_MAX;
    return seq_dist(first_unread(tcb), urgent_seq(tcb));
}

uint32_t tcp_urgent_read_limit(const struct tcb *tcb, uint32_t n)
{
    uint32_t off = tcp_urgent_offset(tcb);
    return off && off < n ? off : n;
}

void tcp_urgent_consumed(struct tcb *tcb)
{
    if (tcb->urg_state != TCP_URG_NONE && seq_lt(urgent_seq(tcb), first_unread(tcb)))
        tcb->urg_state = TCP_URG_NONE;
}

long tcp_urgent_recv(struct tcb *tcb, void *buf, size_t len, bool peek)
{
    if (tcb->oobinline || tcb->urg_state == TCP_URG_NONE || tcb->urg_state == TCP_URG_READ)
        return KEEL_EINVAL;
    if (tcb->urg_state == TCP_URG_VALID) {
        if (!len)
            return 0;
        *(uint8_t *)buf = tcb->urg_byte;
        if (!peek)
            tcb->urg_state = TCP_URG_READ;
        return 1;
    }
    if (tcb->rcv_fin || tcb->shut_rd || tcb->state == KEEL_TCP_CLOSED)
        return 0;
    return KEEL_EAGAIN; /* RFC 1122: not yet arrived */
}
