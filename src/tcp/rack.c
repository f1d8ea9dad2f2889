/* RACK-TLP (RFC 8985) on SACK connections, with Linux's choices
 * (net/ipv4/tcp_recovery.c, tcp_schedule_loss_probe, tcp_send_loss_probe,
 * tcp_process_tlp_ack), and the transmission log it runs on. keel keeps no
 * per-segment queue: new data is logged once per packet as it leaves (in
 * sequence and time order at once), on every connection, and the log is
 * the one record of what was sent: it times RACK, the per-ACK RTT samples
 * (Karn's rule kept per entry) and the congestion control's delay samples,
 * and its packet ends size retransmissions. For RACK, octets below
 * rack.rxt_hi count as retransmitted. Recovery's
 * retransmissions are timed in a record of their own (rack.rxt), where
 * RACK finds lost retransmissions; other retransmitted octets are left to
 * RFC 6675 and the RTO. */
#include "tcp/tcb.h"

#include <stdlib.h>

/* ---- The transmission log ---- */

static uint32_t segments_of(const struct tcb *tcb, uint32_t bytes)
{
    uint32_t mss = tcb->mss ? tcb->mss : 1;
    return (bytes + mss - 1) / mss;
}

static struct rack_sent *log_at(const struct rack *r, uint32_t i)
{
    return &r->log[(r->log_head + i) % r->log_cap];
}

static seq_t log_entry_start(const struct rack *r, uint32_t i)
{
    return i ? log_at(r, i - 1)->end : r->log_start;
}

static bool log_grow(struct rack *r)
{
    uint32_t cap = r->log_cap ? 2 * r->log_cap : 64;
    if (cap > RACK_LOG_MAX)
        return false;
    struct rack_sent *log = malloc(cap * sizeof *log);
    if (!log)
        return false;
    for (uint32_t i = 0; i < r->log_n; i++)
        log[i] = *log_at(r, i);
    free(r->log);
    r->log = log;
    r->log_cap = cap;
    r->log_head = 0;
    return true;
}

/* New data [start, end) left now, as one packet (one TSO packet of
 * several segments at most): an entry per packet keeps the boundaries a
 * SACK is matched against in whole segments as sent (Linux keeps an skb
 * per packet). A full log folds the newest into its last entry, which only
 * makes those octets look younger (RACK then waits longer for them) and
 * takes the entry out of RTT sampling. */
static void log_append(struct tcb *tcb, seq_t start, seq_t end)
{
    struct rack *r = &tcb->rack;
    uint64_t now = tcb->st->now_us;
    if (r->log_n && !seq_eq(log_at(r, r->log_n - 1)->end, start))
        r->log_n = 0; /* not contiguous: start over rather than guess */
    if (!r->log_n)
        r->log_start = start;
    struct rack_sent *last = r->log_n ? log_at(r, r->log_n - 1) : NULL;
    if (r->log_n == r->log_cap && !log_grow(r)) {
        tcb_limit_hit(tcb, KEEL_C_TCPRackLogLimitHit);
        if (!last)
            return; /* no memory at all: RACK waits for data it can time */
        last->end = end;
        last->us = now;
        last->no_sample = true;
        return;
    }
    *log_at(r, r->log_n) = (struct rack_sent){end, false, now};
    r->log_n++;
}

static void log_trim(struct rack *r, seq_t una)
{
    while (r->log_n && seq_le(log_at(r, 0)->end, una)) {
        r->log_start = log_at(r, 0)->end;
        r->log_head = (r->log_head + 1) % r->log_cap;
        r->log_n--;
    }
}

/* The entry holding octet seq, or -1. */
static int64_t log_find(const struct rack *r, seq_t seq)
{
    if (!r->log_n || seq_lt(seq, r->log_start) || seq_ge(seq, log_at(r, r->log_n - 1)->end))
        return -1;
    uint32_t lo = 0, hi = r->log_n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (seq_lt(seq, log_at(r, mid)->end))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Karn: entries holding octets of [seq, end), sent again, time nothing. */
static void log_mark_resent(struct rack *r, seq_t seq, seq_t end)
{
    int64_t i = seq_lt(seq, r->log_start) ? 0 : log_find(r, seq);
    for (uint32_t k = i < 0 ? r->log_n : (uint32_t)i;
         k < r->log_n && seq_lt(log_entry_start(r, k), end); k++)
        log_at(r, k)->no_sample = true;
}

static void note_time(struct sent_times *t, uint64_t at_us)
{
    if (!t->any || at_us < t->first_us)
        t->first_us = at_us;
    if (!t->any || at_us > t->last_us)
        t->last_us = at_us;
    t->any = true;
}

/* Whether [l, r) holds bytes the scoreboard does not (Linux skips an skb
 * marked TCPCB_SACKED_ACKED when it times an ACK). */
static bool not_all_sacked(const struct tcb *tcb, seq_t l, seq_t r)
{
    return seq_lt(l, r) && rangeset_overlap(&tcb->sacked, l, r) < seq_dist(l, r);
}

struct sent_times rack_sent_acked(const struct tcb *tcb, seq_t old_una)
{
    const struct rack *r = &tcb->rack;
    struct sent_times t = {0};
    seq_t ack = tcb->snd.una;
    int64_t first = log_find(r, old_una);
    if (first < 0)
        return t; /* unlogged bytes: no sample */
    uint32_t k = (uint32_t)first;
    for (; k < r->log_n && seq_lt(log_entry_start(r, k), ack); k++) {
        const struct rack_sent *e = log_at(r, k);
        if (e->no_sample)
            return (struct sent_times){0};
        if (not_all_sacked(tcb, seq_max(log_entry_start(r, k), old_una), seq_min(e->end, ack)))
            note_time(&t, e->us);
    }
    if (k == r->log_n && seq_gt(ack, log_at(r, k - 1)->end))
        return (struct sent_times){0};
    return t;
}

void rack_sent_sacked(const struct tcb *tcb, seq_t left, seq_t right, struct sent_times *t)
{
    const struct rack *r = &tcb->rack;
    int64_t first = seq_lt(left, r->log_start) ? 0 : log_find(r, left);
    for (uint32_t k = first < 0 ? r->log_n : (uint32_t)first;
         k < r->log_n && seq_lt(log_entry_start(r, k), right); k++) {
        const struct rack_sent *e = log_at(r, k);
        if (!e->no_sample &&
            not_all_sacked(tcb, seq_max(log_entry_start(r, k), left), seq_min(e->end, right)))
            note_time(t, e->us);
    }
}

bool rack_sent_original(const struct tcb *tcb, seq_t from, seq_t to)
{
    const struct rack *r = &tcb->rack;
    int64_t first = seq_lt(from, r->log_start) ? 0 : log_find(r, from);
    for (uint32_t k = first < 0 ? r->log_n : (uint32_t)first;
         k < r->log_n && seq_lt(log_entry_start(r, k), to); k++)
        if (!log_at(r, k)->no_sample &&
            not_all_sacked(tcb, seq_max(log_entry_start(r, k), from), seq_min(log_at(r, k)->end, to)))
            return true;
    return false;
}

uint32_t rack_packets_out(const struct tcb *tcb, uint32_t enough)
{
    const struct rack *r = &tcb->rack;
    seq_t from = tcb->snd.una;
    uint32_t n = 0;
    int64_t i = log_find(r, from);
    for (uint32_t k = i < 0 ? r->log_n : (uint32_t)i; k < r->log_n && n < enough; k++) {
        seq_t end = seq_min(log_at(r, k)->end, tcb->snd.max);
        n += segments_of(tcb, seq_dist(from, end));
        from = end;
    }
    if (n < enough && seq_lt(from, tcb->snd.max))
        n += segments_of(tcb, seq_dist(from, tcb->snd.max));
    return n;
}

uint32_t rack_sent_room(const struct tcb *tcb, seq_t seq)
{
    const struct rack *r = &tcb->rack;
    int64_t i = log_find(r, seq);
    if (i < 0)
        return 0;
    seq_t end = seq_min(log_at(r, (uint32_t)i)->end, tcb_snd_end(tcb));
    return seq_gt(end, seq) ? seq_dist(seq, end) : 0;
}

/* ---- Transmissions ---- */

void rack_init(struct tcb *tcb)
{
    tcb->rack.reo_wnd_mult = 1;
    tcb->rack.reordering = RACK_REORDERING_INIT;
}

void rack_free(struct tcb *tcb)
{
    free(tcb->rack.log);
    tcb->rack.log = NULL;
}

void rack_start(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    r->lost_to = r->rxt_hi = r->end_seq = r->prior_fack = tcb->snd.una;
    r->log_n = 0;
}

static void sync_marks(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    undo_sync(tcb);
    r->lost_to = seq_max(r->lost_to, tcb->snd.una);
    r->rxt_hi = seq_max(r->rxt_hi, tcb->snd.una);
    r->end_seq = seq_max(r->end_seq, tcb->snd.una);
}

/* ---- Recovery's retransmissions ---- */

static struct rack_rxt *rxt_at(struct rack *r, uint32_t i)
{
    return &r->rxt[(r->rxt_head + i) % RACK_RXT_MAX];
}

static void rxt_trim(struct rack *r, seq_t una)
{
    while (r->rxt_n && seq_le(rxt_at(r, 0)->end, una)) {
        r->rxt_head = (r->rxt_head + 1) % RACK_RXT_MAX;
        r->rxt_n--;
    }
}

static const struct rack_rxt *rxt_get(const struct rack *r, uint32_t i)
{
    return &r->rxt[(r->rxt_head + i) % RACK_RXT_MAX];
}

static void arm(struct tcb *tcb, enum rack_timer kind, uint64_t after_us)
{
    tcb_arm(tcb, TT_RETRANSMIT, after_us);
    tcb->rack.timer = (uint8_t)kind;
}

/* The index of the recovery retransmission holding octet seq, or -1. */
static int64_t rxt_index(const struct rack *r, seq_t seq)
{
    for (uint32_t i = 0; i < r->rxt_n; i++)
        if (seq_le(rxt_get(r, i)->start, seq) && seq_lt(seq, rxt_get(r, i)->end))
            return i;
    return -1;
}

/* Times a retransmission in recovery: one sent again (the head, or a lost
 * retransmission) refreshes its record; others come upward (RFC 6675
 * NextSeg) and are appended. */
static void rxt_note(struct tcb *tcb, seq_t seq, seq_t end)
{
    struct rack *r = &tcb->rack;
    uint64_t now = tcb->st->now_us;
    int64_t again = rxt_index(r, seq);
    if (again >= 0) {
        rxt_at(r, (uint32_t)again)->us = now;
        rxt_at(r, (uint32_t)again)->lost = false;
        return;
    }
    if (r->rxt_n && !seq_ge(seq, rxt_at(r, r->rxt_n - 1)->end))
        r->rxt_n = 0; /* not upward: start over */
    if (r->rxt_n == RACK_RXT_MAX)
        return;
    *rxt_at(r, r->rxt_n) = (struct rack_rxt){seq, end, now, false};
    r->rxt_n++;
}

void rack_on_xmit(struct tcb *tcb, seq_t seq, uint32_t seg_len, bool retrans)
{
    struct rack *r = &tcb->rack;
    seq_t end = seq_add(seq, seg_len);
    if (retrans) {
        r->rxt_us = tcb->st->now_us;
        r->rxt_segs_total += segments_of(tcb, seg_len);
        log_mark_resent(r, seq, end);
        /* Linux tcp_xmit_retransmit_queue: resending the head restarts
         * the RTO, unless the reordering timer is what is pending. */
        if (seq_eq(seq, tcb->snd.una) && !r->tlp_sending && r->timer != RACK_TIMER_REO)
            arm(tcb, RACK_TIMER_RTO, tcp_rto_after_retransmit(tcb));
        if (!r->tlp_sending)
            r->rxt_hi = seq_max(r->rxt_hi, seq_min(end, tcb->snd.max));
        if (tcb->in_recovery && !r->tlp_sending)
            rxt_note(tcb, seq, end);
        if (!r->tlp_sending)
            undo_note_retransmit(tcb, segments_of(tcb, seg_len));
    }
    if (seq_gt(end, tcb->snd.max))
        log_append(tcb, seq_max(seq, tcb->snd.max), end);
}

static bool retransmitted(const struct rack *r, seq_t from, seq_t to)
{
    if (seq_lt(from, r->rxt_hi))
        return true;
    return r->tlp_on && r->tlp_retrans && seq_lt(from, r->tlp_high_seq) &&
           seq_gt(to, r->tlp_start);
}

/* The first octet of [from, to) the scoreboard does not hold, or to. */
static seq_t first_unsacked(const struct tcb *tcb, seq_t from, seq_t to)
{
    const struct rangeset *sb = &tcb->sacked;
    for (uint8_t i = 0; i < sb->n && seq_lt(from, to); i++)
        if (seq_le(sb->r[i].left, from) && seq_gt(sb->r[i].right, from))
            from = sb->r[i].right;
    return seq_min(from, to);
}

/* ---- RFC 8985 §6.2 step 2: the most recently sent delivered segment ---- */

static void rack_advance(struct tcb *tcb, uint64_t xmit_us, seq_t end)
{
    struct rack *r = &tcb->rack;
    bool newer = !r->xmit_us || xmit_us > r->xmit_us ||
                 (xmit_us == r->xmit_us && seq_gt(end, r->end_seq));
    if (!newer)
        return;
    r->xmit_us = xmit_us;
    r->end_seq = end;
    r->rtt_us = (uint32_t)(tcb->st->now_us - xmit_us);
}

/* RFC 8985 §6.2 step 2 for a delivered retransmission ending at `end`
 * (the whole of it): its transmission time counts, unless the round trip
 * is shorter than min_rtt, when the original may be what arrived (Linux
 * tcp_rack_advance). */
static void rxt_delivered(struct tcb *tcb, seq_t end)
{
    int64_t i = rxt_index(&tcb->rack, seq_sub_n(end, 1));
    const struct rack_rxt *x = i < 0 ? NULL : rxt_get(&tcb->rack, (uint32_t)i);
    if (!x || !seq_eq(x->end, end) || tcb->st->now_us - x->us < tcb->min_rtt_us)
        return;
    rack_advance(tcb, x->us, end);
}

/* Is [ps, pe) SACKed once [left, right) joins the scoreboard? */
static bool covered_with(const struct tcb *tcb, seq_t ps, seq_t pe, seq_t left, seq_t right)
{
    seq_t below_end = seq_min(pe, seq_max(ps, left));
    seq_t above_start = seq_max(ps, seq_min(pe, right));
    return rangeset_covers(&tcb->sacked, ps, below_end) &&
           rangeset_covers(&tcb->sacked, above_start, pe);
}

/* The highest whole segment of entry i that [left, right) SACKs (with the
 * scoreboard). Like Linux's tcp_match_skb_to_sack, SACKs count in whole
 * segments as sent: a SACK of part of one delivers nothing. */
static bool sacked_piece(const struct tcb *tcb, uint32_t i, seq_t left, seq_t right, seq_t *pe)
{
    const struct rack *r = &tcb->rack;
    seq_t s = log_entry_start(r, i), e = log_at(r, i)->end;
    uint32_t mss = tcb->mss ? tcb->mss : 1;
    seq_t start = seq_add(s, seq_dist(s, seq_sub_n(right, 1)) / mss * mss);
    for (int k = 0; k < 2; k++) {
        seq_t end = seq_min(seq_add(start, mss), e);
        if (seq_le(end, right) && covered_with(tcb, start, end, left, right)) {
            *pe = end;
            return !retransmitted(r, start, end);
        }
        if (seq_dist(s, start) < mss)
            return false;
        start = seq_sub_n(start, mss);
    }
    return false;
}

/* Linux tcp_check_sack_reordering: an octet never retransmitted arrived
 * after octets sent later (up to fack): the reordering degree grows;
 * counted in `by` (SACKs or timestamps showed it). */
static void note_reordering_seen(struct tcb *tcb, seq_t low, seq_t fack, enum keel_counter_id by)
{
    struct rack *r = &tcb->rack;
    if (!seq_lt(low, fack))
        return;
    uint32_t metric = seq_dist(low, fack), mss = tcb->mss ? tcb->mss : 1;
    if (metric > r->reordering * mss) {
        uint32_t degree = (metric + mss - 1) / mss;
        r->reordering = degree < RACK_REORDERING_MAX ? degree : RACK_REORDERING_MAX;
    }
    r->reord_seen++;
    tcb->st->ctr.v[by]++;
}

static void note_reordering(struct tcb *tcb, seq_t low, seq_t fack)
{
    note_reordering_seen(tcb, low, fack, KEEL_C_TCPSACKReorder);
}

static seq_t highest_sacked(const struct tcb *tcb)
{
    const struct rangeset *sb = &tcb->sacked;
    return sb->n ? sb->r[sb->n - 1].right : tcb->snd.una;
}

/* Timestamps showed the hole at SND.UNA filled by data sent before the
 * SACKed data (Linux tcp_try_undo_partial, TCPTSReorder). */
void rack_timestamp_reordering(struct tcb *tcb)
{
    note_reordering_seen(tcb, tcb->snd.una, highest_sacked(tcb), KEEL_C_TCPTSReorder);
}

void rack_before_sacks(struct tcb *tcb)
{
    tcb->rack.prior_fack = highest_sacked(tcb);
}

/* Recovery retransmissions the SACK of [left, right) completes were
 * delivered (Linux tcp_sacktag_one advances RACK for each). */
static void rxt_sacked(struct tcb *tcb, seq_t left, seq_t right)
{
    const struct rack *r = &tcb->rack;
    for (uint32_t i = 0; i < r->rxt_n; i++) {
        const struct rack_rxt *x = rxt_get(r, i);
        seq_t from = seq_max(x->start, tcb->snd.una);
        if (seq_lt(from, x->end) && seq_lt(x->start, right) && seq_gt(x->end, left) &&
            !rangeset_covers(&tcb->sacked, from, x->end) &&
            covered_with(tcb, from, x->end, left, right))
            rxt_delivered(tcb, x->end);
    }
}

void rack_on_sacked(struct tcb *tcb, seq_t left, seq_t right)
{
    struct rack *r = &tcb->rack;
    seq_t fresh = first_unsacked(tcb, left, right);
    if (seq_lt(fresh, right) && !retransmitted(r, fresh, right) && seq_lt(fresh, r->prior_fack) &&
        (!r->reord_pending || seq_lt(fresh, r->reord_low))) {
        r->reord_low = fresh;
        r->reord_pending = true;
    }
    int64_t i = log_find(r, seq_sub_n(right, 1));
    seq_t pe;
    if (i >= 0 && sacked_piece(tcb, (uint32_t)i, left, right, &pe))
        rack_advance(tcb, log_at(r, (uint32_t)i)->us, pe);
    rxt_sacked(tcb, left, right);
}

static void flush_sack_reordering(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    if (r->reord_pending)
        note_reordering(tcb, r->reord_low, highest_sacked(tcb));
    r->reord_pending = false;
}

/* One past the last octet of [from, to) the scoreboard does not hold, or from. */
static seq_t last_unsacked_end(const struct tcb *tcb, seq_t from, seq_t to)
{
    const struct rangeset *sb = &tcb->sacked;
    for (int i = sb->n - 1; i >= 0 && seq_gt(to, from); i--)
        if (seq_lt(sb->r[i].left, to) && seq_ge(sb->r[i].right, to))
            to = sb->r[i].left;
    return seq_max(to, from);
}

void rack_on_cum_ack(struct tcb *tcb, seq_t ack)
{
    struct rack *r = &tcb->rack;
    sync_marks(tcb);
    flush_sack_reordering(tcb);
    seq_t una = tcb->snd.una;
    seq_t low = first_unsacked(tcb, seq_max(una, r->rxt_hi), ack);
    if (seq_lt(low, ack) && !retransmitted(r, low, seq_add(low, 1)))
        note_reordering(tcb, low, r->prior_fack);
    seq_t end = last_unsacked_end(tcb, una, ack);
    if (seq_eq(end, una))
        return;
    seq_t last = seq_sub_n(end, 1);
    int64_t i = log_find(r, last);
    if (retransmitted(r, last, end))
        rxt_delivered(tcb, end);
    else if (i >= 0)
        rack_advance(tcb, log_at(r, (uint32_t)i)->us, end);
}

/* ---- RFC 8985 §6.2 steps 4-5: the reordering window and loss marking ---- */

static uint32_t sacked_segments(const struct tcb *tcb)
{
    return tcb->mss ? rangeset_bytes(&tcb->sacked) / tcb->mss : 0;
}

/* RFC 8985 §6.2.4 as Linux tcp_rack_reo_wnd: none while no reordering was
 * seen and recovery is under way or DupThresh segments are SACKed; else
 * min_rtt / 4 times the multiplier, at most SRTT. */
static uint32_t reo_wnd(const struct tcb *tcb)
{
    const struct rack *r = &tcb->rack;
    if (!r->reord_seen && (tcb->in_recovery || sacked_segments(tcb) >= r->reordering))
        return 0;
    uint32_t min_rtt = tcb->min_rtt_us ? tcb->min_rtt_us : tcb->srtt_us;
    uint64_t wnd = (uint64_t)min_rtt * r->reo_wnd_mult / 4;
    return wnd < tcb->srtt_us ? (uint32_t)wnd : tcb->srtt_us;
}

/* RFC 8985 §6.2 step 5 (Linux tcp_rack_detect_loss): octets sent before
 * RACK's segment are lost once RACK.rtt + reo_wnd has passed since they
 * left. The log is in time order, so the lost new data form a prefix;
 * returns how long until the next would be due (0: none waits). */
static uint64_t detect_lost_new_data(struct tcb *tcb, uint64_t reo)
{
    struct rack *r = &tcb->rack;
    uint64_t now = tcb->st->now_us;
    seq_t from = seq_max(r->lost_to, r->rxt_hi);
    int64_t first = log_find(r, from);
    for (uint32_t i = first < 0 ? r->log_n : (uint32_t)first; i < r->log_n; i++) {
        const struct rack_sent *e = log_at(r, i);
        if (e->us > r->xmit_us)
            break;
        seq_t limit = e->us == r->xmit_us ? seq_min(e->end, r->end_seq) : e->end;
        if (seq_le(limit, from))
            break;
        uint64_t due = e->us + r->rtt_us + reo;
        if (due > now)
            return due - now;
        r->lost_to = seq_max(r->lost_to, limit);
        if (!seq_eq(limit, e->end))
            break;
    }
    return 0;
}

/* Unacknowledged octets of retransmission x the scoreboard does not hold. */
/* Octets of retransmission x at or above `above` (at least SND.UNA) not
 * yet delivered. */
static uint32_t rxt_undelivered_from(const struct tcb *tcb, const struct rack_rxt *x, seq_t above)
{
    seq_t from = seq_max(x->start, seq_max(above, tcb->snd.una));
    if (!seq_lt(from, x->end))
        return 0;
    return seq_dist(from, x->end) - rangeset_overlap(&tcb->sacked, from, x->end);
}

static uint32_t rxt_undelivered(const struct tcb *tcb, const struct rack_rxt *x)
{
    return rxt_undelivered_from(tcb, x, tcb->snd.una);
}

/* The same step for recovery's retransmissions, as Linux's time-sorted
 * list holds them too: one sent before RACK's segment and not delivered
 * is lost when its time is up. Not in time order: every record is looked
 * at. Sent before means strictly earlier: RFC 8985 RACK_sent_after breaks
 * a tie by sequence number, which says nothing of the order of a
 * retransmission and new data sent at one instant. */
static uint64_t detect_lost_rxt(struct tcb *tcb, uint64_t reo)
{
    struct rack *r = &tcb->rack;
    uint64_t now = tcb->st->now_us, wait = 0;
    for (uint32_t i = 0; i < r->rxt_n; i++) {
        struct rack_rxt *x = rxt_at(r, i);
        if (x->lost || x->us >= r->xmit_us || !rxt_undelivered(tcb, x))
            continue;
        uint64_t due = x->us + r->rtt_us + reo;
        if (due <= now)
            x->lost = true;
        else if (!wait || due - now < wait)
            wait = due - now;
    }
    return wait;
}

/* Both; returns how long until the next loss would be due (0: none waits). */
static uint64_t detect_loss(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    if (!r->xmit_us)
        return 0;
    uint64_t reo = reo_wnd(tcb);
    uint64_t a = detect_lost_new_data(tcb, reo), b = detect_lost_rxt(tcb, reo);
    return !a || (b && b < a) ? b : a;
}

bool rack_next_lost_rxt(const struct tcb *tcb, uint32_t max_len, seq_t *start, uint32_t *len)
{
    const struct rack *r = &tcb->rack;
    for (uint32_t i = 0; i < r->rxt_n; i++) {
        const struct rack_rxt *x = rxt_get(r, i);
        if (!x->lost || !rxt_undelivered(tcb, x))
            continue;
        seq_t s = first_unsacked(tcb, seq_max(x->start, tcb->snd.una), x->end);
        seq_t e = x->end;
        for (uint8_t k = 0; k < tcb->sacked.n; k++)
            if (seq_gt(tcb->sacked.r[k].left, s) && seq_lt(tcb->sacked.r[k].left, e))
                e = tcb->sacked.r[k].left;
        uint32_t n = seq_dist(s, e);
        *start = s;
        *len = n < max_len ? n : max_len;
        return true;
    }
    return false;
}

uint32_t rack_lost_rxt_bytes(const struct tcb *tcb, seq_t from)
{
    const struct rack *r = &tcb->rack;
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->rxt_n; i++) {
        const struct rack_rxt *x = rxt_get(r, i);
        if (x->lost)
            n += rxt_undelivered_from(tcb, x, from);
    }
    return n;
}

uint32_t rack_lost_part(const struct tcb *tcb, seq_t from, seq_t to)
{
    seq_t end = seq_min(to, tcb->rack.lost_to);
    return seq_gt(end, from) ? seq_dist(from, end) : 0;
}

/* When the oldest outstanding octet last left (Linux's head timestamp). */
static uint64_t head_sent_us(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    rxt_trim(r, tcb->snd.una);
    if (seq_lt(tcb->snd.una, r->rxt_hi)) {
        bool timed = r->rxt_n && seq_le(rxt_at(r, 0)->start, tcb->snd.una);
        return timed ? rxt_at(r, 0)->us : r->rxt_us;
    }
    int64_t i = log_find(r, tcb->snd.una);
    return i < 0 ? r->rxt_us : log_at(r, (uint32_t)i)->us;
}

/* Time left until the RTO, counted from the head's transmission as Linux
 * tcp_rearm_rto does: RACK's timer never pushes the RTO back. */
static uint64_t rto_left(struct tcb *tcb)
{
    uint64_t age = tcb->st->now_us - head_sent_us(tcb), rto = rto_current(tcb);
    return age < rto ? rto - age : 0;
}

/* Linux tcp_rack_mark_lost: mark, and wait (reordering timer) for the rest. */
static bool mark_lost(struct tcb *tcb)
{
    uint64_t wait = detect_loss(tcb);
    if (!wait)
        return false;
    wait += RACK_TIMER_SLACK_US;
    uint64_t rto = rto_left(tcb);
    arm(tcb, rto <= wait ? RACK_TIMER_RTO : RACK_TIMER_REO, rto <= wait ? rto : wait);
    return true;
}

/* ---- RFC 8985 §7: the tail loss probe ---- */

/* Linux's TCP_CA_Open or CWR: no SACKed or lost segment, no recovery. */
static bool sender_open(const struct tcb *tcb)
{
    const struct rack *r = &tcb->rack;
    return !tcb->in_recovery && !r->in_loss && !sacked_segments(tcb) &&
           !seq_gt(r->lost_to, tcb->snd.una);
}

static uint32_t flight_segments(const struct tcb *tcb)
{
    uint32_t flight = seq_dist(tcb->snd.una, tcb->snd.max), mss = tcb->mss ? tcb->mss : 1;
    return (flight + mss - 1) / mss;
}

/* RFC 8985 §7.2 as Linux tcp_schedule_loss_probe: PTO = 2 * SRTT, plus
 * the minimum RTO when a single segment is out (its ACK may be delayed),
 * else plus 2 ms; 1 s without an RTT sample; never after the RTO would. */
static bool schedule_probe(struct tcb *tcb, bool advancing_rto)
{
    if (!tcb->sack_ok || !tcp_may_send_data(tcb) || !seq_lt(tcb->snd.una, tcb->snd.max) ||
        !sender_open(tcb))
        return false;
    if (tcb->rack.timer == RACK_TIMER_REO && tcb_armed(tcb, TT_RETRANSMIT))
        return false;
    uint64_t pto = TCP_RTO_INITIAL_US;
    if (tcb->rtt_measured)
        pto = 2 * (uint64_t)tcb->srtt_us +
              (flight_segments(tcb) == 1 ? TCP_RTO_MIN_US : RACK_TIMER_SLACK_US);
    uint64_t rto = rto_current(tcb);
    if (!advancing_rto)
        rto = rto_left(tcb);
    if (rto && rto < pto)
        pto = rto;
    arm(tcb, RACK_TIMER_TLP, pto);
    return true;
}

void rack_after_new_data(struct tcb *tcb)
{
    schedule_probe(tcb, false);
}

/* The probe's new data (RFC 8985 §7.3): one segment, if the peer's window
 * takes it; the congestion window does not hold a probe back. */
static bool probe_new_data(struct tcb *tcb)
{
    seq_t end = tcb_snd_end(tcb);
    if (!seq_lt(tcb->snd.nxt, end))
        return false;
    uint32_t len = seq_dist(tcb->snd.nxt, end), mss = tcp_mss_now(tcb);
    if (len > mss)
        len = mss;
    uint32_t inflight = seq_dist(tcb->snd.una, tcb->snd.nxt);
    if (inflight + len > tcb->snd.wnd)
        return false;
    uint8_t flags = TCP_FLAG_ACK;
    if (tcp_holds_push_point(tcb, tcb->snd.nxt, len))
        flags |= TCP_FLAG_PSH;
    tcp_xmit(tcb, tcb->snd.nxt, len, flags);
    tcb->snd.nxt = seq_add(tcb->snd.nxt, len);
    tcb->snd.max = seq_max(tcb->snd.max, tcb->snd.nxt);
    tcb->rack.tlp_retrans = false;
    return true;
}

/* Otherwise the last segment as sent (Linux sends the last MSS-sized piece
 * of the last packet), with the FIN if one was sent. */
static bool probe_last_segment(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    seq_t data_end = seq_min(tcb_snd_end(tcb), tcb->snd.max);
    bool fin = tcb->fin_queued && seq_gt(tcb->snd.max, data_end);
    seq_t s = r->log_n ? log_entry_start(r, r->log_n - 1) : tcb->snd.una;
    s = seq_max(s, tcb->snd.una);
    uint32_t mss = tcp_mss_now(tcb); /* less room with SACK blocks to send */
    if (seq_gt(data_end, s))
        s = seq_add(s, (seq_dist(s, data_end) - 1) / mss * mss);
    else
        s = seq_max(data_end, tcb->snd.una);
    uint32_t len = seq_gt(data_end, s) ? seq_dist(s, data_end) : 0;
    if (!len && !fin)
        return false;
    uint8_t flags = TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0);
    if (len && tcp_holds_push_point(tcb, s, len))
        flags |= TCP_FLAG_PSH;
    r->tlp_sending = true;
    tcp_xmit(tcb, s, len, flags);
    r->tlp_sending = false;
    r->tlp_retrans = true;
    r->tlp_start = s;
    return true;
}

/* RFC 8985 §7.3 (Linux tcp_send_loss_probe): one probe per episode; then
 * the RTO runs from now. */
static void send_probe(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    if (!r->tlp_on && (probe_new_data(tcb) || probe_last_segment(tcb))) {
        r->tlp_on = true;
        r->tlp_high_seq = tcb->snd.max;
        CTR_INC(tcb->st, TCPLossProbes);
    }
    arm(tcb, RACK_TIMER_RTO, rto_current(tcb));
}

/* RFC 8985 §7.4 (Linux tcp_process_tlp_ack): an ACK beyond the probe
 * without a D-SACK for it means the probe repaired a loss: reduce cwnd
 * once, as a fast recovery would have (Linux: CWR, cwnd = ssthresh). A
 * D-SACK of the probe, or a plain duplicate, means nothing was lost. */
static void tlp_on_ack(struct tcb *tcb, const struct segment *s, bool una_advanced)
{
    struct rack *r = &tcb->rack;
    if (!r->tlp_on || seq_lt(s->ack, r->tlp_high_seq))
        return;
    if (!r->tlp_retrans || r->dsack_tlp) {
        r->tlp_on = false;
    } else if (seq_gt(s->ack, r->tlp_high_seq)) {
        tcb->ssthresh = tcb->cc->ssthresh_on_loss(tcb);
        tcb->cwnd = tcb->ssthresh;
        CTR_INC(tcb->st, TCPLossProbeRecovery);
        r->tlp_on = false;
    } else if (!una_advanced && !s->seg_len && !tcb->sacked_now) {
        r->tlp_on = false;
    }
}

/* ---- ACKs and timers ---- */

void rack_on_dsack(struct tcb *tcb, seq_t left, seq_t right)
{
    struct rack *r = &tcb->rack;
    r->dsack_now = true;
    /* A range no wider than the peer's window (Linux tcp_dsack_seen): its
     * segments were delivered twice, spuriously retransmitted
     * (state->sack_delivered), unless more were D-SACKed than were ever
     * retransmitted (the peer got a duplicate the network made). Only a
     * D-SACK of data that may have been retransmitted (below the highest
     * retransmission) counts for undo, as Linux tcp_sacktag_one counts
     * only retransmitted segments. */
    if (seq_lt(left, right) && seq_dist(left, right) <= tcb->snd.max_wnd) {
        uint32_t segs = segments_of(tcb, seq_dist(left, right));
        if (retransmitted(r, left, right))
            undo_note_dsack(tcb, left, segs);
        r->dsack_dups += segs;
        if (r->dsack_dups <= r->rxt_segs_total)
            r->dsack_segs += segs;
    }
    if (r->tlp_on && r->tlp_retrans && seq_lt(left, r->tlp_high_seq) && seq_gt(right, r->tlp_start))
        r->dsack_tlp = true;
}

/* RFC 8985 §6.2.4: a D-SACK (at most once per round trip) widens the
 * reordering window by min_rtt / 4 for the next 16 recoveries. */
static void dsack_widen(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    if (r->dsack_round_on && seq_ge(tcb->snd.una, r->dsack_round))
        r->dsack_round_on = false;
    if (!r->dsack_now || r->dsack_round_on)
        return;
    r->dsack_round_on = true;
    r->dsack_round = tcb->snd.max;
    if (r->reo_wnd_mult < UINT8_MAX)
        r->reo_wnd_mult++;
    r->reo_wnd_persist = RACK_REO_PERSIST;
}

void rack_recovery_ended(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    if (r->reo_wnd_persist && --r->reo_wnd_persist == 0)
        r->reo_wnd_mult = 1;
}

void rack_on_ack(struct tcb *tcb, const struct segment *s, bool una_advanced)
{
    struct rack *r = &tcb->rack;
    sync_marks(tcb);
    flush_sack_reordering(tcb);
    log_trim(r, tcb->snd.una);
    if (r->in_loss && seq_ge(tcb->snd.una, tcb->recover))
        r->in_loss = false;
    dsack_widen(tcb);
    /* An undo by D-SACK keeps the reordering window wide one recovery more. */
    if (r->dsack_now && undo_dsack(tcb) && r->reo_wnd_persist < RACK_REO_PERSIST)
        r->reo_wnd_persist++;
    tlp_on_ack(tcb, s, una_advanced);
    r->dsack_now = r->dsack_tlp = false;
    r->dsack_segs = 0;
    if (!tcb->sack_ok || !seq_lt(tcb->snd.una, tcb->snd.max))
        return;
    if (!mark_lost(tcb) && una_advanced)
        schedule_probe(tcb, true);
}

/* The reordering timer (Linux tcp_rack_reo_timeout): mark what is due,
 * start recovery if something is lost, and let it retransmit. */
static void reo_timeout(struct tcb *tcb)
{
    arm(tcb, RACK_TIMER_RTO, rto_left(tcb));
    mark_lost(tcb);
    /* Linux tcp_rack_reo_timeout: tcp_cwnd_reduction(sk, 1, 0), one
     * segment delivered and no SafeACK. */
    if (!tcb->in_recovery && seq_gt(tcb->rack.lost_to, tcb->snd.una))
        recovery_on_ack(tcb, (struct prr_ack){.delivered = tcb->mss});
    tcp_output(tcb);
}

bool rack_timer_fired(struct tcb *tcb)
{
    switch ((enum rack_timer)tcb->rack.timer) {
    case RACK_TIMER_REO:
        reo_timeout(tcb);
        return true;
    case RACK_TIMER_TLP:
        send_probe(tcb);
        return true;
    case RACK_TIMER_RTO:
        break;
    }
    return false;
}

void rack_on_rto(struct tcb *tcb)
{
    struct rack *r = &tcb->rack;
    r->lost_to = tcb->snd.max;
    r->tlp_on = false;
    r->in_loss = true;
    r->reord_pending = false;
    r->rxt_n = 0;
}
