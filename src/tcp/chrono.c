/* Where the sender's time goes, as Linux measures it for TCP_INFO
 * (tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited): one
 * chronograph runs at a time, the highest-priority condition that holds
 * (Linux tcp_chrono_start/tcp_chrono_stop, net/ipv4/tcp_output.c). */
#include "tcp/tcb.h"

/* Nothing unacknowledged and nothing unsent, the FIN included (Linux
 * tcp_rtx_and_write_queues_empty). */
static bool queues_empty(const struct tcb *tcb)
{
    return tcb->sndq.len == 0 && !(tcb->fin_queued && !tcb->fin_acked);
}

/* Books the running chronograph's time and switches to `type`. */
static void chrono_set(struct tcb *tcb, enum tcp_chrono type)
{
    uint64_t now = tcb->st->now_us;
    if (tcb->chrono_type != TCP_CHRONO_NONE)
        tcb->chrono_us[tcb->chrono_type] += now - tcb->chrono_start_us;
    tcb->chrono_start_us = now;
    tcb->chrono_type = (uint8_t)type;
}

/* A condition of higher priority than the running one takes over. */
void tcp_chrono_start(struct tcb *tcb, enum tcp_chrono type)
{
    if (type > tcb->chrono_type)
        chrono_set(tcb, type);
}

/* A condition ended: with nothing left to send or acknowledge every
 * chronograph stops; otherwise, if it was the running one, busy resumes. */
void tcp_chrono_stop(struct tcb *tcb, enum tcp_chrono type)
{
    if (queues_empty(tcb))
        chrono_set(tcb, TCP_CHRONO_NONE);
    else if (type == tcb->chrono_type)
        chrono_set(tcb, TCP_CHRONO_BUSY);
}

uint64_t tcp_chrono_total(const struct tcb *tcb, enum tcp_chrono type)
{
    uint64_t t = tcb->chrono_us[type];
    if (type == tcb->chrono_type)
        t += tcb->st->now_us - tcb->chrono_start_us;
    return t;
}

/* Linux tcp_add_write_queue_tail: data queued behind nothing unsent starts
 * the busy chronograph; a write that found the buffer full marks the socket
 * (SOCK_NOSPACE, set where tcp_sendmsg waits for space). */
void tcp_chrono_after_write(struct tcb *tcb, bool queue_was_empty, bool buffer_full)
{
    if (queue_was_empty)
        tcp_chrono_start(tcb, TCP_CHRONO_BUSY);
    if (buffer_full)
        tcb->snd_nospace = true;
}

/* Linux tcp_cwnd_validate: having sent, not held by cwnd, with nothing
 * left unsent while the application waits for buffer space, the sender is
 * limited by its send buffer. */
static void note_sndbuf_limited(struct tcb *tcb, bool sent)
{
    bool open = tcb->state == KEEL_TCP_ESTABLISHED || tcb->state == KEEL_TCP_CLOSE_WAIT;
    bool unsent = seq_lt(tcb->snd.max, tcb_snd_end(tcb));
    if (sent && open && !unsent && tcb->snd_nospace && !tcp_cwnd_limited(tcb))
        tcp_chrono_start(tcb, TCP_CHRONO_SNDBUF_LIMITED);
}

/* Linux tcp_write_xmit: after each attempt to send, the peer's window
 * either is what stopped it or it is not. */
void tcp_chrono_after_output(struct tcb *tcb, bool sent, bool rwnd_limited)
{
    if (rwnd_limited)
        tcp_chrono_start(tcb, TCP_CHRONO_RWND_LIMITED);
    else
        tcp_chrono_stop(tcb, TCP_CHRONO_RWND_LIMITED);
    note_sndbuf_limited(tcb, sent);
}

/* New data acknowledged: everything sent is acknowledged ends busy time
 * (Linux tcp_clean_rtx_queue); freed space ends send-buffer-limited time
 * (Linux tcp_check_space). */
void tcp_chrono_after_ack(struct tcb *tcb)
{
    if (seq_eq(tcb->snd.una, tcb->snd.max))
        tcp_chrono_stop(tcb, TCP_CHRONO_BUSY);
    if (tcb->snd_nospace && sendq_has_wspace(tcb)) {
        tcb->snd_nospace = false;
        tcp_chrono_stop(tcb, TCP_CHRONO_SNDBUF_LIMITED);
    }
}
