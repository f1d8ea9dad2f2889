/* Receiving data (RFC 9293 §3.10.7.4 seventh and eighth): in-order data to
 * the receive buffer, out-of-order data held at its offset, SACK blocks
 * (RFC 2018, RFC 2883), the FIN, and when to acknowledge (RFC 5681 §4.2). */
#include "tcp/tcb.h"

#include <string.h>

/* RFC 2018 §4: the first block reports the most recently received segment;
 * the others repeat the most recently reported ones, without duplicates. */
static void sack_note_recent(struct tcb *tcb, seq_t left, seq_t right)
{
    struct tcp_sack_block b = {left.v, right.v};
    /* The block to report is the whole OFO range that now holds the segment. */
    for (uint8_t i = 0; i < tcb->ofo.n; i++) {
        if (seq_le(tcb->ofo.r[i].left, left) && seq_ge(tcb->ofo.r[i].right, right)) {
            b.left = tcb->ofo.r[i].left.v;
            b.right = tcb->ofo.r[i].right.v;
        }
    }
    struct tcp_sack_block out[TCP_MAX_SACK_BLOCKS];
    uint8_t n = 0;
    out[n++] = b;
    for (uint8_t i = 0; i < tcb->sack_recent_n && n < TCP_MAX_SACK_BLOCKS; i++) {
        struct tcp_sack_block o = tcb->sack_recent[i];
        bool overlaps = seq_le(seq_make(b.left), seq_make(o.left)) &&
                        seq_ge(seq_make(b.right), seq_make(o.right));
        if (!overlaps)
            out[n++] = o;
    }
    memcpy(tcb->sack_recent, out, sizeof out[0] * n);
    tcb->sack_recent_n = n;
}

/* Drops blocks that RCV.NXT has passed or that no longer match held data. */
static void sack_prune(struct tcb *tcb)
{
    uint8_t n = 0;
    for (uint8_t i = 0; i < tcb->sack_recent_n; i++) {
        struct tcp_sack_block b = tcb->sack_recent[i];
        if (seq_gt(seq_make(b.left), tcb->rcv.nxt) &&
            rangeset_covers(&tcb->ofo, seq_make(b.left), seq_make(b.right)))
            tcb->sack_recent[n++] = b;
    }
    tcb->sack_recent_n = n;
}

static void note_dsack(struct tcb *tcb, seq_t left, seq_t right)
{
    if (!tcb->sack_ok)
        return;
    tcb->dsack = (struct tcp_sack_block){left.v, right.v};
    tcb->dsack_pending = true;
}

/* Moves RCV.NXT over out-of-order data that has become contiguous. */
static void pull_in_order(struct tcb *tcb)
{
    if (!tcb->ofo.n || !seq_le(tcb->ofo.r[0].left, tcb->rcv.nxt))
        return;
    seq_t right = tcb->ofo.r[0].right;
    uint32_t n = seq_dist(tcb->rcv.nxt, right);
    ring_extend(&tcb->rcvq, n);
    tcb->rcv.nxt = right;
    rangeset_trim_below(&tcb->ofo, right);
}

static bool store_out_of_order(struct tcb *tcb, seq_t seq, const uint8_t *data, uint32_t len)
{
    tcb->rcv_ooopack++; /* Linux tcp_data_queue_ofo: duplicates count too */
    if (rangeset_covers(&tcb->ofo, seq, seq_add(seq, len))) {
        /* RFC 2883 §4: a duplicate of data held above RCV.NXT is reported in
         * a D-SACK block, followed by the SACK block that holds it. */
        note_dsack(tcb, seq, seq_add(seq, len));
        sack_note_recent(tcb, seq, seq_add(seq, len));
        return false;
    }
    if (rangeset_add(&tcb->ofo, seq, seq_add(seq, len)) < 0) {
        tcb_limit_hit(tcb, KEEL_C_TCPOFODrop);
        return false;
    }
    uint32_t off = tcb->rcvq.len + seq_dist(tcb->rcv.nxt, seq);
    if (ring_write_at(&tcb->rcvq, off, data, len) != len) {
        rangeset_trim_above(&tcb->ofo, seq); /* out of memory: forget it */
        CTR_INC(tcb->st, TCPOFODrop);
        return false;
    }
    CTR_INC(tcb->st, TCPOFOQueue);
    sack_note_recent(tcb, seq, seq_add(seq, len));
    return true;
}

static void store_in_order(struct tcb *tcb, const uint8_t *data, uint32_t len)
{
    uint32_t off = tcb->rcvq.len;
    if (ring_write_at(&tcb->rcvq, off, data, len) != len) {
        CTR_INC(tcb->st, TCPRcvQDrop);
        return;
    }
    ring_extend(&tcb->rcvq, len);
    tcb->rcv.nxt = seq_add(tcb->rcv.nxt, len);
    rangeset_trim_below(&tcb->ofo, tcb->rcv.nxt);
    pull_in_order(tcb);
    event_notify(tcb->st, tcb);
}

/* RFC 9293 §3.10.7.4 eighth: the FIN, once RCV.NXT reaches it. */
void tcp_deliver_fin(struct tcb *tcb)
{
    tcb->rcv.nxt = seq_add(tcb->rcv.nxt, 1);
    tcb->rcv_fin = true;
    tcb->ofo_fin = false;
    tcb->ack_now = true;
    switch (tcb->state) {
    case KEEL_TCP_SYN_RECEIVED:
    case KEEL_TCP_ESTABLISHED:
        tcb_set_state(tcb, KEEL_TCP_CLOSE_WAIT);
        break;
    case KEEL_TCP_FIN_WAIT_1: /* our FIN not yet acknowledged */
        tcb_set_state(tcb, KEEL_TCP_CLOSING);
        break;
    case KEEL_TCP_FIN_WAIT_2:
        tcb_enter_time_wait(tcb);
        break;
    }
    event_notify(tcb->st, tcb);
}

static bool fin_reached(const struct tcb *tcb)
{
    return tcb->ofo_fin && seq_eq(tcb->ofo_fin_seq, tcb->rcv.nxt);
}

/* Accepts the segment's text, trimmed to the window; returns true when the
 * segment carried anything new. The caller has checked acceptability. */
bool tcp_rcv_data(struct tcb *tcb, const struct segment *s)
{
    seq_t seq = s->seq;
    const uint8_t *data = s->data;
    uint32_t len = s->len;
    seq_t seg_end = seq_add(seq, len);
    bool fin = (s->h.flags & TCP_FLAG_FIN) != 0;
    bool had_ofo = tcb->ofo.n != 0;
    if (seq_lt(seq, tcb->rcv.nxt)) { /* trim what we already have */
        uint32_t dup = seq_dist(seq, tcb->rcv.nxt);
        if (dup > len)
            dup = len;
        if (dup)
            note_dsack(tcb, seq, seq_add(seq, dup));
        data += dup;
        len -= dup;
        seq = seq_add(seq, dup);
    }
    seq_t edge = tcb->rcv.adv;
    if (seq_gt(seq_add(seq, len), edge)) { /* trim beyond the window */
        len = seq_gt(edge, seq) ? seq_dist(seq, edge) : 0;
        fin = false;
    }
    /* The FIN occupies seg_end: below RCV.NXT it is stale, at or past the
     * right edge it is outside the window, except a bare FIN at RCV.NXT,
     * taken even by a zero window as Linux does. */
    if (fin && (seq_lt(seg_end, tcb->rcv.nxt) ||
                (seq_ge(seg_end, edge) && !seq_eq(seg_end, tcb->rcv.nxt))))
        fin = false;
    bool new_data = false;
    if (len) {
        tcb->bytes_received += len;
        if (seq_eq(seq, tcb->rcv.nxt)) {
            store_in_order(tcb, data, len);
            tcb->last_data_rcvd_us = tcb->st->now_us; /* Linux tcp_event_data_recv */
            new_data = true;
        } else {
            new_data = store_out_of_order(tcb, seq, data, len);
            tcb->ack_now = true; /* RFC 5681 §4.2: out of order, ACK at once */
        }
    }
    if (fin && !tcb->rcv_fin) {
        tcb->ofo_fin = true;
        tcb->ofo_fin_seq = seg_end;
    }
    if (fin_reached(tcb))
        tcp_deliver_fin(tcb);
    sack_prune(tcb);
    /* RFC 5681 §4.2: the last hole was just filled. (In-order data always
     * leaves seq below RCV.NXT, so only the out-of-order queue emptying can
     * tell a filled hole; while holes remain, tcp_schedule_ack ACKs at once.) */
    if (had_ofo && tcb->ofo.n == 0)
        tcb->ack_now = true;
    return new_data;
}

/* RFC 9293 §3.8.6.3 and RFC 5681 §4.2: ACK at least every second full-sized
 * segment, within 40 ms otherwise (Linux's minimum delayed-ACK timeout), and
 * at once while in quick-ACK mode (the start of a connection) or when data
 * arrives out of order or fills a hole. */
void tcp_schedule_ack(struct tcb *tcb, bool in_order)
{
    if (!in_order || tcb->ofo.n) {
        tcb->ack_now = true;
        return;
    }
    if (tcb->quickacks) {
        tcb->quickacks--;
        tcb->ack_now = true;
        CTR_INC(tcb->st, TCPQuickAcks);
        return;
    }
    if (tcb->unacked_bytes >= 2 * tcb->rcv_mss) {
        tcb->ack_now = true;
        return;
    }
    if (!tcb_armed(tcb, TT_DELACK))
        tcb_arm(tcb, TT_DELACK, TCP_DELACK_MIN_US);
}

/* Linux's receive-buffer autotuning (dynamic right-sizing): once per RTT,
 * grant the peer twice what the application consumed in that RTT. */
void tcp_rcv_space_adjust(struct tcb *tcb)
{
    uint64_t now = tcb->st->now_us;
    uint32_t rtt = tcb->srtt_us ? tcb->srtt_us : TCP_RTO_INITIAL_US;
    if (now - tcb->rcv_space_us < rtt)
        return;
    uint32_t copied = seq_dist(tcb->rcv_space_seq, tcb->rcv.nxt) - tcb->rcvq.len;
    tcb->rcv_space_seq = seq_sub_n(tcb->rcv.nxt, tcb->rcvq.len);
    tcb->rcv_space_us = now;
    if (tcb->rcvbuf_locked)
        return;
    uint64_t want = 2 * (uint64_t)copied;
    uint32_t max = tcb->st->cfg.rcvbuf_max / 2;
    if (want > max)
        want = max;
    if (want > tcb->rcv_space) {
        tcb->rcv_space = (uint32_t)want;
        ring_set_limit(&tcb->rcvq, tcb->rcv_space);
        if (tcb->rcvbuf < 2 * tcb->rcv_space)
            tcb->rcvbuf = 2 * tcb->rcv_space;
    }
}
