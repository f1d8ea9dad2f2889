/* Introspection: every RFC variable of a connection, counters, and an
 * ss-style walk over all sockets. */
#include <string.h>

#include "stack/stack.h"
#include "tcp/tcb.h"

static void fill_sequence_vars(const struct tcb *t, struct keel_tcp_info *i)
{
    i->snd_una = t->snd.una.v;
    i->snd_nxt = t->snd.nxt.v;
    i->snd_wnd = t->snd.wnd;
    i->snd_wl1 = t->snd.wl1.v;
    i->snd_wl2 = t->snd.wl2.v;
    i->snd_iss = t->snd.iss.v;
    i->snd_up = t->snd.up.v;
    i->snd_wscale = t->snd.wscale;
    i->rcv_nxt = t->rcv.nxt.v;
    i->rcv_wnd = tcb_rcv_window(t);
    i->rcv_irs = t->rcv.irs.v;
    i->rcv_up = t->rcv.up.v;
    i->rcv_urgent = t->urg_state;
    i->rcv_urgent_offset = tcp_urgent_offset(t);
    i->rcv_wscale = t->rcv.wscale;
}

static void fill_congestion_vars(const struct tcb *t, struct keel_tcp_info *i)
{
    strncpy(i->cc_name, t->cc->name, sizeof i->cc_name - 1);
    i->cwnd = t->cwnd;
    i->ssthresh = t->ssthresh;
    i->recover = t->recover.v;
    i->in_recovery = t->in_recovery;
    i->in_loss = t->rack.in_loss;
    i->ecn_ok = t->ecn_ok;
    i->in_cwr = t->in_cwr;
    i->srtt_us = t->srtt_us;
    i->rttvar_us = t->rttvar_us;
    i->rto_us = rto_current(t);
    i->min_rtt_us = t->min_rtt_us;
    i->backoff = t->backoff;
    i->probes = t->probes;
}

static void fill_queues(const struct tcb *t, struct keel_tcp_info *i)
{
    i->snd_queued = t->sndq.len;
    i->snd_unacked = seq_dist(t->snd.una, t->snd.max);
    i->rcv_queued = t->rcvq.len;
    i->rcv_ooo_bytes = rangeset_bytes(&t->ofo);
    i->sndbuf = t->sndbuf;
    i->rcvbuf = t->rcvbuf;
    i->snd_mem = t->sndq.cap;
    i->rcv_mem = t->rcvq.cap;
    i->sack_ranges = t->sacked.n;
    i->sacked_bytes = rangeset_bytes(&t->sacked) + reno_sacked_bytes(t);
    if (tcb_synchronized(t)) { /* RACK's marks start with the connection */
        i->lost_bytes = recovery_lost_bytes(t);
        i->retrans_out = sack_retrans_out(t);
    }
    i->reordering = t->rack.reordering;
    i->reord_seen = t->rack.reord_seen;
    for (int k = 0; k < KEEL_TIMER_COUNT; k++) {
        i->timer_armed[k] = timer_armed(&t->timers[k]);
        i->timer_expiry_us[k] = i->timer_armed[k] ? t->timers[k].expires_us : 0;
    }
}

static void fill_totals(const struct tcb *t, struct keel_tcp_info *i)
{
    i->bytes_sent = t->bytes_sent;
    i->bytes_retrans = t->bytes_retrans;
    i->bytes_acked = t->bytes_acked;
    i->bytes_received = t->bytes_received;
    i->segs_out = t->segs_out;
    i->segs_in = t->segs_in;
    i->retrans_segs = t->retrans_segs;
    i->dsack_received = t->dsack_received;
    i->data_segs_out = t->data_segs_out;
    i->data_segs_in = t->data_segs_in;
    i->rcv_ooopack = t->rcv_ooopack;
    i->last_activity_us = t->last_activity_us;
    i->state_since_us = t->state_since_us;
    i->stalls = t->stalls;
    for (int k = 0; k < KEEL_STALL_COUNT; k++)
        i->stall_first_us[k] = t->stall_first_us[k];
}

/* Linux tcp_get_info_chrono_stats: busy time includes the limited times. */
static void fill_times(const struct tcb *t, struct keel_tcp_info *i)
{
    i->last_data_sent_us = t->last_data_sent_us;
    i->last_data_recv_us = t->last_data_rcvd_us;
    i->last_ack_recv_us = t->last_ack_rcvd_us;
    i->rwnd_limited_us = tcp_chrono_total(t, TCP_CHRONO_RWND_LIMITED);
    i->sndbuf_limited_us = tcp_chrono_total(t, TCP_CHRONO_SNDBUF_LIMITED);
    i->busy_us = tcp_chrono_total(t, TCP_CHRONO_BUSY) + i->rwnd_limited_us +
                 i->sndbuf_limited_us;
}

void tcb_fill_info(const struct tcb *t, struct keel_tcp_info *i)
{
    memset(i, 0, sizeof *i);
    i->state = t->state;
    i->local_addr = t->laddr;
    i->remote_addr = t->raddr;
    i->local_port = t->lport;
    i->remote_port = t->rport;
    i->snd_mss = t->mss;
    i->rcv_mss = t->rcv_mss;
    i->adv_mss = t->adv_mss;
    i->ts_ok = t->ts_ok;
    i->sack_ok = t->sack_ok;
    i->wscale_ok = t->ws_ok;
    i->ts_recent = t->ts_recent;
    fill_sequence_vars(t, i);
    fill_congestion_vars(t, i);
    fill_queues(t, i);
    fill_totals(t, i);
    fill_times(t, i);
}

int keel_tcp_info(const keel_stack *st, int sock, struct keel_tcp_info *info)
{
    const struct tcb *t = handle_get(st, sock);
    if (!t)
        return KEEL_EBADF;
    tcb_fill_info(t, info);
    return 0;
}

void keel_counters(const keel_stack *st, struct keel_counters *c)
{
    *c = st->ctr;
}

struct visit {
    keel_socket_visitor fn;
    void *arg;
};

static int visit_one(void *arg, struct tcb *t)
{
    struct visit *v = arg;
    struct keel_tcp_info info;
    tcb_fill_info(t, &info);
    return v->fn(v->arg, t->handle, &info);
}

void keel_visit_sockets(const keel_stack *st, keel_socket_visitor fn, void *arg)
{
    struct visit v = {fn, arg};
    demux_visit(&st->demux, visit_one, &v);
    for (uint32_t h = 0; h < st->cfg.max_sockets; h++) {
        struct tcb *t = st->handles[h];
        /* Sockets with a handle but outside the tables: unconnected or closed. */
        if (t && (t->state == KEEL_TCP_CLOSED) && visit_one(&v, t))
            return;
    }
}
