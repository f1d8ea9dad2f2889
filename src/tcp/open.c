/* Opening connections: LISTEN (RFC 9293 §3.10.7.2), SYN-SENT (§3.10.7.3),
 * and the state both sides set up before their first SYN. */
#include "tcp/tcb.h"

#define TCP_RTO_FALLBACK_US 3000000u /* RFC 6298 §5.7, Linux TCP_TIMEOUT_FALLBACK */

/* The route, our MSS option (Linux dst_metric_advmss) and the receive
 * space we start with: Linux starts the window at half the receive buffer,
 * in whole segments. */
void tcb_prepare_open(struct tcb *tcb)
{
    keel_stack *st = tcb->st;
    tcp_route_init(tcb);
    uint32_t mtu_mss = tcp_route_advmss(tcb);
    tcb->adv_mss = (uint16_t)(tcb->user_mss && tcb->user_mss < mtu_mss ? tcb->user_mss : mtu_mss);
    tcb->rcv_mss = tcb->adv_mss;
    uint32_t space = tcb->rcvbuf / 2;
    if (space >= tcb->adv_mss)
        space -= space % tcb->adv_mss;
    tcb->rcv_space = space;
    ring_set_limit(&tcb->rcvq, space);
    tcb->rcv.wscale = st->cfg.no_window_scaling ? 0 : tcb_choose_wscale(tcb);
    tcb->ts_offset = (uint32_t)rng_next(&st->rng);
    tcb->snd.una = tcb->snd.nxt = tcb->snd.max = tcb->snd.sml = tcb->snd.iss;
    tcb->snd_buf_seq = seq_add(tcb->snd.iss, 1);
    tcb->pushed_seq = tcb->snd_buf_seq; /* as Linux tcp_connect, tcp_create_openreq_child */
    tcb->high_rxt = tcb->snd.una;
    tcb->recover = tcb->snd.iss;
    tcb->rto_us = TCP_RTO_INITIAL_US;
}

/* Both ends: the handshake is complete. */
void tcb_established(struct tcb *tcb)
{
    /* Linux tcp_init_transfer: PLPMTUD starts; an active opener's MSS
     * drops to its floor at once (tcp_rcv_synsent_state_process syncs after
     * tcp_mtup_init), a passive one's on the next change of path MTU. */
    tcp_mtup_init(tcb);
    if (tcb->state == KEEL_TCP_SYN_SENT)
        tcp_sync_mss(tcb, tcb->pmtu);
    tcb->cc->init(tcb);
    rack_start(tcb);
    tcb->quickacks = TCP_MAX_QUICKACKS;
    tcb->rcv_space_seq = tcb->rcv.nxt;
    tcb->rcv_space_us = tcb->st->now_us;
    tcb->last_ack_rcvd_us = tcb->st->now_us;
    /* Linux tcp_finish_connect and tcp_create_openreq_child: the handshake
     * counts as the last data sent and received. */
    tcb->last_data_sent_us = tcb->last_data_rcvd_us = tcb->st->now_us;
    tcb->retransmits = 0;
    tcb->retrans_start_us = 0;
    tcb->backoff = 0;
    /* RFC 6298 §5.7 (Linux tcp_init_metrics): no RTT sample from the
     * handshake (its SYN or SYN-ACK was retransmitted): data starts with a
     * conservative 3 s RTO. A passive open's sample, if any, follows. */
    if (!tcb->rtt_measured)
        tcb->rto_us = TCP_RTO_FALLBACK_US;
    tcb_disarm(tcb, TT_RETRANSMIT);
    if (tcb->keepalive)
        tcb_arm(tcb, TT_KEEPALIVE, tcb->keepidle_us);
    /* RFC 9293 §3.10.4: a CLOSE in SYN-RECEIVED queued the FIN until now. */
    tcb_set_state(tcb, tcb->fin_queued ? KEEL_TCP_FIN_WAIT_1 : KEEL_TCP_ESTABLISHED);
}

static void inherit_from_listener(struct tcb *tcb, const struct tcb *l)
{
    tcb->nodelay = l->nodelay;
    tcb->keepalive = l->keepalive;
    tcb->keepidle_us = l->keepidle_us;
    tcb->keepintvl_us = l->keepintvl_us;
    tcb->keepcnt = l->keepcnt;
    tcb->user_timeout_ms = l->user_timeout_ms;
    tcb->user_mss = l->user_mss;
    tcb->linger_on = l->linger_on;
    tcb->linger_s = l->linger_s;
    tcb->sndbuf = l->sndbuf;
    tcb->sndbuf_locked = l->sndbuf_locked;
    tcb->rcvbuf = l->rcvbuf;
    tcb->rcvbuf_locked = l->rcvbuf_locked;
    tcb->cc = l->cc;
    tcb->ip_tos = l->ip_tos;
    tcb->pmtudisc = l->pmtudisc;
    tcb->notsent_lowat = l->notsent_lowat;
    tcb->cork = l->cork;
    tcb->oobinline = l->oobinline;
    ring_set_limit(&tcb->sndq, tcb->sndbuf);
}

static bool listen_queues_full(struct tcb *l)
{
    keel_stack *st = l->st;
    if (tcb_accept_queue_full(l)) {
        tcb_limit_hit(l, KEEL_C_ListenOverflows);
        CTR_INC(st, ListenDrops);
        return true;
    }
    if (l->syn_queue_len >= st->cfg.max_syn_backlog) {
        tcb_limit_hit(l, KEEL_C_TCPReqQFullDrop);
        CTR_INC(st, ListenDrops);
        return true;
    }
    return false;
}

/* §3.10.7.2: a SYN creates a SYN-RECEIVED connection and is answered with a
 * SYN-ACK; it joins the listener's SYN queue until the handshake completes. */
static void passive_open(struct tcb *l, const struct segment *s, const seq_t *iss)
{
    keel_stack *st = l->st;
    if (listen_queues_full(l))
        return;
    struct tcb *tcb = tcb_new(st);
    if (!tcb) {
        CTR_INC(st, ListenDrops);
        return;
    }
    tcb->laddr = s->daddr;
    tcb->lport = s->h.dport;
    tcb->raddr = s->saddr;
    tcb->rport = s->h.sport;
    inherit_from_listener(tcb, l);
    /* Linux sk_clone_lock copies the listener's keys and SO_TIMESTAMPING
     * flags (never OPT_ID: a listener cannot set it). */
    if (!tcp_md5_inherit(tcb, l) || tstamp_set_flags(tcb, tstamp_flags(l)) < 0) {
        tcb_free(tcb);
        CTR_INC(st, ListenDrops);
        return;
    }
    tcb->snd.iss = iss ? *iss : isn_generate(st, tcb->laddr, tcb->lport, tcb->raddr, tcb->rport);
    tcb_prepare_open(tcb);
    tcb->rcv.irs = s->seq;
    tcb->rcv.nxt = seq_add(s->seq, 1);
    tcb->rcv.adv = tcb->rcv.nxt;
    tcb_apply_syn_options(tcb, &s->h);
    ecn_syn_received(tcb, s);
    tcb->snd.wnd = s->h.wnd; /* RFC 7323 §2.2: never scaled on a SYN */
    if (demux_insert(&st->demux, tcb) < 0) {
        tcb_free(tcb);
        CTR_INC(st, ListenDrops);
        return;
    }
    tcb->listener = l;
    l->syn_queue_len++;
    tcb->state = KEEL_TCP_SYN_RECEIVED;
    CTR_INC(st, TcpPassiveOpens);
    tcp_send_syn(tcb);
    tcb_arm(tcb, TT_RETRANSMIT, rto_current(tcb));
}

void tcp_input_listen(struct tcb *l, const struct segment *s)
{
    if (s->h.flags & TCP_FLAG_RST)
        return;
    if (s->h.flags & TCP_FLAG_ACK) {
        tcp_send_rst_for(l->st, l, s);
        return;
    }
    if (s->h.flags & TCP_FLAG_SYN)
        passive_open(l, s, NULL);
}

/* A SYN that reopens a connection from TIME-WAIT (RFC 1122 §4.2.2.13): the
 * caller picks an ISS above every sequence number the old incarnation used. */
void tcp_reopen_from_time_wait(struct tcb *l, const struct segment *s, seq_t iss)
{
    passive_open(l, s, &iss);
}

/* Story 2 and 4 of SCENARIOS.md: our SYN met a stale connection and we have
 * just reset it. Retry once the RST has had time to arrive, rather than after
 * a full initial RTO: one round trip, as measured by this very exchange. */
static void retry_syn_soon(struct tcb *tcb)
{
    uint64_t rtt = tcb->st->now_us - tcb->rtt_start_us;
    if (!tcb->rtt_timing || rtt == 0)
        return;
    if (rtt < rto_current(tcb))
        tcb_arm(tcb, TT_RETRANSMIT, rtt);
}

static void syn_sent_established(struct tcb *tcb, const struct segment *s)
{
    tcb->snd.una = s->ack;
    tcb->snd.wnd = s->h.wnd; /* RFC 7323 §2.2: never scaled on a SYN */
    tcb->snd.max_wnd = tcb->snd.wnd;
    tcb->snd.wl1 = s->seq;
    tcb->snd.wl2 = s->ack;
    if (tcb->rtt_timing) {
        rtt_sample(tcb, (uint32_t)(tcb->st->now_us - tcb->rtt_start_us));
        tcb->rtt_timing = false;
    }
    tcb_established(tcb);
    tcb->ack_now = true;
    event_notify(tcb->st, tcb);
}

/* §3.10.7.3: "If there are other controls or text in the segment, continue
 * processing at the sixth step": the text of a SYN-ACK starts after the SYN. */
static void syn_sent_text(struct tcb *tcb, const struct segment *s)
{
    if (s->len || (s->h.flags & TCP_FLAG_FIN)) {
        struct segment rest = segment_after_syn(s);
        tcp_text_and_fin(tcb, &rest);
    }
    tcp_output(tcb);
}

/* §3.10.7.3 SYN-SENT. */
void tcp_input_syn_sent(struct tcb *tcb, const struct segment *s)
{
    uint8_t f = s->h.flags;
    bool ack_ok = (f & TCP_FLAG_ACK) && seq_gt(s->ack, tcb->snd.iss) &&
                  seq_le(s->ack, tcb->snd.max);
    if ((f & TCP_FLAG_ACK) && !ack_ok) {
        if (!(f & TCP_FLAG_RST)) {
            tcp_send_rst_for(tcb->st, tcb, s);
            retry_syn_soon(tcb);
        }
        return;
    }
    if (f & TCP_FLAG_RST) {
        if (ack_ok) {
            CTR_INC(tcb->st, TcpAttemptFails);
            tcb_close(tcb, KEEL_ECONNREFUSED);
        }
        return;
    }
    if (!(f & TCP_FLAG_SYN))
        return;
    tcb->fo_deferred = false; /* the peer's SYN came first: ours goes as a SYN-ACK */
    tcb->rcv.irs = s->seq;
    tcb->rcv.nxt = seq_add(s->seq, 1);
    tcb->rcv.adv = seq_add(tcb->rcv.nxt, tcb->rcv.wnd); /* what our SYN offered */
    tcb->rcv.last_ack_sent = tcb->rcv.nxt;
    tcb_apply_syn_options(tcb, &s->h);
    if (ack_ok) {
        tcp_fastopen_synack(tcb, &s->h.opts);
        ecn_synack_received(tcb, s);
        syn_sent_established(tcb, s);
        syn_sent_text(tcb, s);
        return;
    }
    /* Simultaneous open: SYN-RECEIVED, answer with SYN-ACK (§3.10.7.3);
     * without ECN, which RFC 3168 negotiates for a client and a server. */
    tcb->ecn_ok = false;
    tcb->snd.wnd = s->h.wnd;
    tcb->state = KEEL_TCP_SYN_RECEIVED;
    tcp_send_syn(tcb);
    tcb_arm(tcb, TT_RETRANSMIT, rto_current(tcb));
}
