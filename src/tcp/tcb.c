/* TCB lifecycle, state changes and timer plumbing. */
#include "tcp/tcb.h"

#include <stdlib.h>
#include <string.h>

struct tcb *tcb_new(keel_stack *st)
{
    struct tcb *tcb = calloc(1, sizeof *tcb);
    if (!tcb)
        return NULL;
    tcb->st = st;
    tcb->state = KEEL_TCP_CLOSED;
    tcb->handle = -1;
    tcb->sndbuf = st->cfg.sndbuf;
    tcb->rcvbuf = st->cfg.rcvbuf;
    ring_init(&tcb->sndq, tcb->sndbuf);
    ring_init(&tcb->rcvq, tcb->rcvbuf / 2);
    rangeset_init(&tcb->ofo, (uint8_t)st->cfg.ofo_max_ranges);
    rangeset_init(&tcb->sacked, RANGESET_MAX);
    tcb->cc = st->default_cc;
    tcb->rto_us = TCP_RTO_INITIAL_US;
    tcb->init_cwnd_segs = TCP_INIT_CWND_SEGS;
    rack_init(tcb);
    tcb->keepidle_us = TCP_KEEPIDLE_US;
    tcb->keepintvl_us = TCP_KEEPINTVL_US;
    tcb->keepcnt = TCP_KEEPCNT;
    tcb->pmtudisc = KEEL_IP_PMTUDISC_WANT; /* Linux, with ip_no_pmtu_disc 0 */
    tcb->state_since_us = st->now_us;
    tcb->last_activity_us = st->now_us;
    for (int i = 0; i < TT_COUNT; i++)
        tcb->timers[i].kind = (uint8_t)i;
    return tcb;
}

void tcb_free(struct tcb *tcb)
{
    for (int i = 0; i < TT_COUNT; i++)
        wheel_disarm(&tcb->st->wheel, &tcb->timers[i]);
    ring_free(&tcb->sndq);
    ring_free(&tcb->rcvq);
    tstamp_free(tcb);
    tcp_md5_free(tcb);
    rack_free(tcb);
    free(tcb);
}

bool tcb_synchronized(const struct tcb *tcb)
{
    switch (tcb->state) {
    case KEEL_TCP_CLOSED:
    case KEEL_TCP_LISTEN:
    case KEEL_TCP_SYN_SENT:
    case KEEL_TCP_SYN_RECEIVED:
        return false;
    }
    return true;
}

void tcb_set_state(struct tcb *tcb, uint8_t state)
{
    if (tcb->state == state)
        return;
    trace_event(tcb, KEEL_EV_STATE, state, tcb->state);
    tcb->state = state;
    tcb->state_since_us = tcb->st->now_us;
    if (state == KEEL_TCP_CLOSE_WAIT)
        watchdog_close_wait_start(tcb);
    event_notify(tcb->st, tcb);
}

static void detach_from_listener(struct tcb *tcb)
{
    struct tcb *l = tcb->listener;
    if (!l)
        return;
    if (tcb->state == KEEL_TCP_SYN_RECEIVED) {
        l->syn_queue_len--;
    } else {
        struct tcb **pp = &l->aq_head;
        while (*pp && *pp != tcb)
            pp = &(*pp)->aq_next;
        if (*pp) {
            *pp = tcb->aq_next;
            l->accept_queue_len--;
            if (l->aq_tail == tcb) {
                l->aq_tail = NULL;
                for (struct tcb *t = l->aq_head; t; t = t->aq_next)
                    l->aq_tail = t;
            }
        }
    }
    tcb->listener = NULL;
    tcb->aq_next = NULL;
}

void tcb_close(struct tcb *tcb, int err)
{
    keel_stack *st = tcb->st;
    if (err && !tcb->soerror)
        tcb->soerror = err;
    detach_from_listener(tcb);
    if (tcb->state != KEEL_TCP_CLOSED && tcb->state != KEEL_TCP_LISTEN && tcb->rport)
        demux_remove(&st->demux, tcb);
    for (int i = 0; i < TT_COUNT; i++)
        wheel_disarm(&st->wheel, &tcb->timers[i]);
    tcb->fo_deferred = false; /* no SYN is owed any more */
    tcb_set_state(tcb, KEEL_TCP_CLOSED);
    if (tcb->handle < 0)
        tcb_bury(tcb);
}

/* Callers up the stack may still hold the TCB: it is freed by stack_reap at
 * the end of the entry point (keel_input, keel_poll, keel_close). */
void tcb_bury(struct tcb *tcb)
{
    if (tcb->buried)
        return;
    tcb->buried = true;
    tcb->hash_next = tcb->st->graveyard;
    tcb->st->graveyard = tcb;
}

void tcb_abort(struct tcb *tcb, int err)
{
    if (tcb->state != KEEL_TCP_SYN_SENT)
        tcp_send_rst(tcb, tcb->snd.max); /* the peer may have all up to it */
    tcb_close(tcb, err);
}

void tcb_arm(struct tcb *tcb, enum tcb_timer t, uint64_t after_us)
{
    wheel_arm(&tcb->st->wheel, &tcb->timers[t], tcb->st->now_us + after_us);
    if (t == TT_RETRANSMIT)
        tcb->rack.timer = RACK_TIMER_RTO; /* RACK re-marks its own kinds */
}

void tcb_disarm(struct tcb *tcb, enum tcb_timer t)
{
    wheel_disarm(&tcb->st->wheel, &tcb->timers[t]);
}

bool tcb_armed(const struct tcb *tcb, enum tcb_timer t)
{
    return timer_armed(&tcb->timers[t]);
}

seq_t tcb_snd_end(const struct tcb *tcb)
{
    return seq_add(tcb->snd_buf_seq, tcb->sndq.len);
}

uint32_t tcb_ts_now(const struct tcb *tcb)
{
    /* RFC 7323 §5.4: a 1 ms clock, offset per connection (Linux tsoffset). */
    return (uint32_t)(tcb->st->now_us / 1000) + tcb->ts_offset;
}

/* RFC 7323 §2.3: the shift that lets the receive buffer's full space be
 * offered, from the buffer's limit as Linux computes it: tcp_rmem[2] when
 * the buffer may grow, else the window clamp of a locked SO_RCVBUF, its full
 * space: half the doubled value stored (tcp_connect_init, then
 * tcp_select_initial_window: ilog2(space) - 15). */
uint8_t tcb_choose_wscale(const struct tcb *tcb)
{
    uint32_t space = tcb->rcvbuf_locked ? tcb->rcvbuf / 2 : tcb->st->cfg.rcvbuf_max;
    uint8_t shift = 0;
    while (space > 65535 && shift < 14) {
        space >>= 1;
        shift++;
    }
    return shift;
}

static uint32_t clamp_peer_mss(struct tcb *tcb, uint32_t mss)
{
    if (mss < TCP_MIN_SND_MSS) {
        CTR_INC(tcb->st, TCPMinMssClamped);
        return TCP_MIN_SND_MSS;
    }
    return mss;
}

/* RFC 9293 §3.7.1: Eff.snd.MSS = min(SendMSS + 20, MMS_S) - TCPhdrsize -
 * IPoptionsize, with MMS_S from the path MTU (src/tcp/mtup.c). */
static void set_mss(struct tcb *tcb)
{
    tcp_sync_mss(tcb, tcb->path_mtu);
    tcb->rcv_mss = tcb->adv_mss < tcb->mss ? tcb->adv_mss : tcb->mss;
}

/* The MD5 option takes 20 of the 40 option bytes: Linux sends no
 * timestamps on an active SYN (tcp_syn_options), and a passive opener keeps
 * them only without SACK (tcp_synack_options). */
static bool md5_leaves_room_for_ts(const struct tcb *tcb)
{
    if (!tcp_md5_key_for(tcb, tcb->raddr))
        return true;
    return tcb->state != KEEL_TCP_SYN_SENT && !tcb->sack_ok;
}

void tcb_apply_syn_options(struct tcb *tcb, const struct tcp_hdr *h)
{
    const struct tcp_opts *o = &h->opts;
    const struct keel_config *cfg = &tcb->st->cfg;
    tcb->peer_mss = (uint16_t)clamp_peer_mss(
        tcb, (o->present & TCP_OPT_MSS) ? o->mss : TCP_DEFAULT_MSS);
    tcb->ws_ok = (o->present & TCP_OPT_WSCALE) && !cfg->no_window_scaling;
    if (tcb->ws_ok) {
        tcb->snd.wscale = o->wscale;
    } else {
        tcb->snd.wscale = 0;
        tcb->rcv.wscale = 0;
    }
    tcb->sack_ok = (o->present & TCP_OPT_SACK_PERM) && !cfg->no_sack;
    tcb->ts_ok = (o->present & TCP_OPT_TS) && !cfg->no_timestamps && md5_leaves_room_for_ts(tcb);
    if (tcb->ts_ok) {
        tcb->ts_recent = o->tsval;
        tcb->ts_recent_us = tcb->st->now_us;
    }
    set_mss(tcb);
}

void tcb_limit_hit(struct tcb *tcb, enum keel_counter_id counter)
{
    tcb->st->ctr.v[counter]++;
    trace_event(tcb, KEEL_EV_LIMIT, counter, 0);
}

void tcb_enter_time_wait(struct tcb *tcb)
{
    tcb_set_state(tcb, KEEL_TCP_TIME_WAIT);
    tcb_disarm(tcb, TT_RETRANSMIT);
    tcb_disarm(tcb, TT_PERSIST);
    tcb_disarm(tcb, TT_KEEPALIVE);
    tcb_disarm(tcb, TT_DELACK);
    tcb_disarm(tcb, TT_PACING);
    tcb_arm(tcb, TT_TIME_WAIT, tcb->st->cfg.time_wait_us);
}
