#include "sim/rawpeer.h"

#include <stdlib.h>
#include <string.h>

struct rawpeer_reply {
    uint64_t due_us;
    uint32_t len;
    uint8_t pkt[IPV4_HDR_LEN + TCP_MAX_HDR_LEN];
};

static const struct keel_device_ops peer_ops;

int rawpeer_init(struct rawpeer *p, const struct rawpeer_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->dev.ops = &peer_ops;
    p->dev.mtu = 1500;
    p->isn = 777000;
    p->queue_cap = 1024;
    p->queue = calloc(p->queue_cap, sizeof *p->queue);
    return p->queue ? 0 : KEEL_ENOMEM;
}

void rawpeer_free(struct rawpeer *p)
{
    free(p->queue);
    p->queue = NULL;
}

/* Queues a segment from the peer to keel, due after the one-way delay. */
static void reply(struct rawpeer *p, struct tcp_hdr *h)
{
    if (p->queued == p->queue_cap)
        return; /* a flood of replies: drop, as a full link would */
    struct rawpeer_reply *r = &p->queue[p->queued++];
    h->sport = p->cfg.peer_port;
    h->dport = p->cfg.keel_port;
    size_t hlen = tcp_hdr_len(h);
    tcp_emit(r->pkt + IPV4_HDR_LEN, hlen, h, p->cfg.peer_addr, p->cfg.keel_addr);
    struct ipv4_hdr ip = {.ihl = 5, .ttl = 64, .proto = IPV4_PROTO_TCP,
                          .src = p->cfg.peer_addr, .dst = p->cfg.keel_addr};
    r->len = (uint32_t)(ipv4_emit(r->pkt, &ip, hlen) + hlen);
    r->due_us = p->now_us + p->cfg.delay_us;
}

static void add_timestamps(const struct rawpeer *p, struct tcp_hdr *h, const struct tcp_hdr *in)
{
    if (!p->cfg.timestamps)
        return;
    h->opts.present |= TCP_OPT_TS;
    h->opts.tsval = (uint32_t)(p->now_us / 1000);
    h->opts.tsecr = in ? in->opts.tsval : 0;
}

static void send_ack(struct rawpeer *p, const struct tcp_hdr *in)
{
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.seq = p->isn + 1;
    h.ack = p->rcv_nxt;
    h.flags = TCP_FLAG_ACK;
    h.wnd = p->cfg.window;
    add_timestamps(p, &h, in);
    reply(p, &h);
}

/* SACK every other segment above the hole at RCV.NXT, as many blocks as fit:
 * each ACK names different, non-adjacent pieces, fragmenting the scoreboard. */
static void send_fragmenting_sack(struct rawpeer *p, const struct tcp_hdr *in, uint32_t seg)
{
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.seq = p->isn + 1;
    h.ack = p->rcv_nxt;
    h.flags = TCP_FLAG_ACK;
    h.wnd = p->cfg.window;
    add_timestamps(p, &h, in);
    uint8_t n = p->cfg.timestamps ? 3 : 4;
    for (uint8_t i = 0; i < n; i++) {
        uint32_t left = p->rcv_nxt + seg * (2 * (p->sack_toggle + i) + 1);
        if ((int32_t)(left + seg - p->highest_seen) > 0)
            break;
        h.opts.sack[h.opts.sack_count++] = (struct tcp_sack_block){left, left + seg};
    }
    p->sack_toggle = (p->sack_toggle + n) % 128;
    if (h.opts.sack_count)
        h.opts.present |= TCP_OPT_SACK;
    reply(p, &h);
}

static void on_syn_ack(struct rawpeer *p, const struct tcp_hdr *in)
{
    p->keel_isn = in->seq;
    p->rcv_nxt = in->seq + 1;
    p->highest_seen = p->rcv_nxt;
    p->established = true;
    send_ack(p, in);
}

static bool past_limit(const struct rawpeer *p)
{
    return p->mode != RAWPEER_ACK && p->rcv_nxt - (p->keel_isn + 1) >= p->ack_limit;
}

static void on_data(struct rawpeer *p, const struct tcp_hdr *in, uint32_t len)
{
    uint32_t end = in->seq + len + !!(in->flags & TCP_FLAG_FIN);
    p->segments_seen++;
    if ((int32_t)(end - p->highest_seen) <= 0 && len) {
        p->retransmissions_seen++;
        p->last_retransmit_us = p->now_us;
    } else {
        p->highest_seen = end;
    }
    if (past_limit(p) && p->mode == RAWPEER_ACK_THEN_DEAF)
        return;
    if (past_limit(p) && p->mode == RAWPEER_ACK_THEN_HOLES) {
        send_fragmenting_sack(p, in, len ? len : 1);
        return;
    }
    if (in->seq == p->rcv_nxt && (int32_t)(end - p->rcv_nxt) > 0) {
        p->bytes_received += len;
        p->rcv_nxt = end;
        if (in->flags & TCP_FLAG_FIN)
            p->fin_seen = true;
    }
    send_ack(p, in);
}

static int peer_receive_from_keel(struct keel_device *dev, const uint8_t *pkt, size_t len,
                                  uint64_t now_us)
{
    struct rawpeer *p = (struct rawpeer *)dev;
    struct ipv4_hdr ip;
    const uint8_t *seg;
    size_t seg_len, data_len;
    struct tcp_hdr h;
    p->now_us = now_us;
    if (ipv4_parse(pkt, len, &ip, &seg, &seg_len) != WIRE_OK ||
        tcp_parse(seg, seg_len, ip.src, ip.dst, true, &h, NULL, &data_len) != WIRE_OK)
        return 0;
    if ((h.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == (TCP_FLAG_SYN | TCP_FLAG_ACK))
        on_syn_ack(p, &h);
    else if (p->established && !(h.flags & TCP_FLAG_RST))
        on_data(p, &h, (uint32_t)data_len);
    return 0;
}

static long no_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    (void)dev, (void)buf, (void)cap, (void)now_us;
    return 0;
}

static const struct keel_device_ops peer_ops = {
    .transmit = peer_receive_from_keel,
    .receive = no_receive,
};

void rawpeer_connect(struct rawpeer *p, keel_stack *st, uint64_t now_us)
{
    p->st = st;
    p->now_us = now_us;
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.seq = p->isn;
    h.flags = TCP_FLAG_SYN;
    h.wnd = p->cfg.syn_window;
    h.opts.present = TCP_OPT_MSS | TCP_OPT_WSCALE | (p->cfg.sack_ok ? TCP_OPT_SACK_PERM : 0);
    h.opts.mss = p->cfg.mss;
    h.opts.wscale = p->cfg.wscale;
    add_timestamps(p, &h, NULL);
    reply(p, &h);
}

/* Delivers due replies in order, and keel's timers, until until_us. */
void rawpeer_run(struct rawpeer *p, uint64_t until_us)
{
    for (;;) {
        uint64_t next = keel_next_deadline(p->st);
        if (p->queued && p->queue[0].due_us < next)
            next = p->queue[0].due_us;
        if (next > until_us)
            break;
        if (next > p->now_us)
            p->now_us = next;
        while (p->queued && p->queue[0].due_us <= p->now_us) {
            struct rawpeer_reply r = p->queue[0];
            memmove(p->queue, p->queue + 1, --p->queued * sizeof *p->queue);
            keel_input(p->st, r.pkt, r.len, p->now_us);
        }
        keel_poll(p->st, p->now_us);
    }
    p->now_us = until_us;
    keel_poll(p->st, p->now_us);
}
