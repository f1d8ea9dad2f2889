/* Loss recovery paced by Proportional Rate Reduction (RFC 9937), as Linux
 * recovers: with SACK, RFC 6675's, whose scoreboard is tcb->sacked (SACKed
 * ranges above SND.UNA) and HighRxt (tcb->high_rxt); without SACK, Linux's
 * NewReno one (tcp_add_reno_sack, tcp_newreno_mark_lost), where each
 * duplicate ACK stands for a segment that arrived (tcb->dupacks) and, in a
 * recovery, the head segment is lost until an ACK passes it (RFC 6582). */
#include "tcp/tcb.h"

#define DUP_THRESH 3u /* RFC 6675 §2 DupThresh */

/* Without SACK: the octets duplicate ACKs report arrived. */
uint32_t reno_sacked_bytes(const struct tcb *tcb)
{
    return tcb->sack_ok ? 0 : tcb->dupacks * tcb->mss;
}

/* A recovery without SACK that SND.UNA has not yet reached the end of. */
static bool reno_recovering(const struct tcb *tcb)
{
    return !tcb->sack_ok && tcb->in_recovery && seq_lt(tcb->snd.una, tcb->recover);
}

/* Without SACK, in a recovery SND.UNA has not passed: the head segment,
 * lost (Linux marks it on entry and on every partial ACK). */
static uint32_t reno_lost(const struct tcb *tcb)
{
    if (!reno_recovering(tcb))
        return 0;
    uint32_t flight = seq_dist(tcb->snd.una, tcb->snd.max);
    return flight < tcb->mss ? flight : tcb->mss;
}

static bool reno_head_resent(const struct tcb *tcb)
{
    return seq_gt(tcb->high_rxt, tcb->snd.una);
}

/* Linux tcp_packets_in_flight without SACK: what is outstanding, less
 * what duplicate ACKs report arrived and the lost head not yet resent. */
static uint32_t reno_pipe(const struct tcb *tcb)
{
    uint32_t flight = seq_dist(tcb->snd.una, tcb->snd.max);
    uint32_t out = reno_sacked_bytes(tcb) + (reno_head_resent(tcb) ? 0 : reno_lost(tcb));
    return flight > out ? flight - out : 0;
}

/* Segments an ACK reports delivered without SACK, as Linux counts them
 * (tcp_add_reno_sack, tcp_remove_reno_sacks): a duplicate ACK one (unless
 * the count is at its bound); a cumulative ACK what it covers beyond the
 * segments duplicate ACKs reported (`dupacks` before it), and at least one
 * segment: the hole it filled. */
uint32_t reno_delivered(const struct tcb *tcb, uint32_t acked, uint32_t dupacks)
{
    if (!acked)
        return tcb->dupacks > dupacks ? (tcb->dupacks - dupacks) * tcb->mss : 0;
    uint32_t inferred = dupacks * tcb->mss;
    if (acked > inferred)
        return acked - inferred;
    return acked < tcb->mss ? acked : tcb->mss;
}

/* Linux tcp_limit_reno_sacked: duplicate ACKs stand for at most all the
 * packets in flight but one, the hole. */
static uint32_t reno_bound(const struct tcb *tcb, uint32_t dupacks)
{
    uint32_t packets = rack_packets_out(tcb, dupacks + 1);
    if (dupacks < packets)
        return dupacks;
    return packets ? packets - 1 : 0;
}

/* A recovery without SACK that SND.UNA has reached but not passed holds
 * (recovery_end): Linux leaves tcp_fastretrans_alert before it counts a
 * duplicate ACK (tcp_try_undo_recovery), so they deliver nothing. */
static bool reno_held(const struct tcb *tcb)
{
    return !tcb->sack_ok && tcb->in_recovery && !seq_lt(tcb->snd.una, tcb->recover);
}

/* A duplicate ACK counted (tcp_add_reno_sack), within the bound. */
void reno_count_dupack(struct tcb *tcb)
{
    if (!reno_held(tcb))
        tcb->dupacks = reno_bound(tcb, tcb->dupacks + 1);
}

/* Duplicate ACKs still standing for segments after a cumulative ACK of
 * `acked` octets: within a recovery, one of the segments it covers filled
 * the hole and each other one had been reported by a duplicate ACK (Linux
 * tcp_remove_reno_sacks, bounded again); elsewhere none
 * (tcp_reset_reno_sack). */
uint32_t reno_dupacks_after(const struct tcb *tcb, uint32_t acked)
{
    if (!reno_recovering(tcb))
        return 0;
    uint32_t reported = (acked + tcb->mss - 1) / tcb->mss - 1;
    return reno_bound(tcb, tcb->dupacks > reported ? tcb->dupacks - reported : 0);
}

/* RFC 6675 §4 IsLost for the hole below SACKed range i: DupThresh SACKed
 * ranges above it, or more than (DupThresh - 1) * SMSS SACKed bytes. */
static bool hole_lost(const struct tcb *tcb, uint8_t i, uint32_t sacked_above)
{
    return (uint32_t)(tcb->sacked.n - i) >= DUP_THRESH || sacked_above > (DUP_THRESH - 1) * tcb->mss;
}

static uint32_t range_len(const struct seq_range *r)
{
    return seq_dist(r->left, r->right);
}

/* Bytes of [from, to) below HighRxt: already retransmitted. */
static uint32_t retransmitted_part(const struct tcb *tcb, seq_t from, seq_t to)
{
    seq_t end = seq_min(to, tcb->high_rxt);
    return seq_gt(end, from) ? seq_dist(from, end) : 0;
}

/* Octets of the hole [from, to) below SACKed range i that are lost: all
 * of it by RFC 6675 §4 IsLost, else those RACK marked (RFC 8985 §6.2). */
static uint32_t hole_lost_bytes(const struct tcb *tcb, uint8_t i, uint32_t sacked_above,
                                seq_t from, seq_t to)
{
    if (hole_lost(tcb, i, sacked_above))
        return seq_dist(from, to);
    return rack_lost_part(tcb, from, to);
}

/* RFC 6675 §4 SetPipe: octets in flight that are neither SACKed nor lost,
 * plus octets retransmitted (HighRxt stands for the per-octet flag). */
uint32_t recovery_pipe(const struct tcb *tcb)
{
    if (!tcb->sack_ok)
        return reno_pipe(tcb);
    const struct rangeset *sb = &tcb->sacked;
    uint32_t above = rangeset_bytes(sb), pipe = 0;
    seq_t x = tcb->snd.una;
    for (uint8_t i = 0; i < sb->n; i++) {
        seq_t left = sb->r[i].left;
        if (seq_lt(x, left)) {
            pipe += seq_dist(x, left) - hole_lost_bytes(tcb, i, above, x, left);
            pipe += retransmitted_part(tcb, x, left);
        }
        above -= range_len(&sb->r[i]);
        x = sb->r[i].right;
    }
    if (seq_lt(x, tcb->snd.max))
        pipe += seq_dist(x, tcb->snd.max) - rack_lost_part(tcb, x, tcb->snd.max);
    return pipe - rack_lost_rxt_bytes(tcb, tcb->snd.una); /* lost again: out of flight */
}

/* Linux tcpi_lost: unacknowledged octets neither SACKed nor known to
 * have arrived that are lost, retransmitted or not. */
uint32_t recovery_lost_bytes(const struct tcb *tcb)
{
    const struct rangeset *sb = &tcb->sacked;
    uint32_t above = rangeset_bytes(sb), lost = 0;
    seq_t x = tcb->snd.una;
    for (uint8_t i = 0; i < sb->n; i++) {
        if (seq_lt(x, sb->r[i].left))
            lost += hole_lost_bytes(tcb, i, above, x, sb->r[i].left);
        above -= range_len(&sb->r[i]);
        x = sb->r[i].right;
    }
    if (seq_lt(x, tcb->snd.max))
        lost += rack_lost_part(tcb, x, tcb->snd.max);
    return lost + reno_lost(tcb);
}

/* Linux tcpi_retrans: retransmitted octets not yet acknowledged or SACKed. */
uint32_t sack_retrans_out(const struct tcb *tcb)
{
    return retrans_out_from(tcb, tcb->snd.una);
}

/* The same above `from` (at or above SND.UNA): for an ACK of `from`
 * before SND.UNA moves there. */
uint32_t retrans_out_from(const struct tcb *tcb, seq_t from)
{
    seq_t hi = seq_max(tcb->rack.rxt_hi, from);
    uint32_t out = seq_dist(from, hi) - rangeset_overlap(&tcb->sacked, from, hi);
    uint32_t lost = rack_lost_rxt_bytes(tcb, from);
    return out > lost ? out - lost : 0;
}

/* RFC 6675 §4 NextSeg rules 1 and 3: the first hole octet at or above
 * HighRxt below the highest SACKed octet, lost (rule 1) or, when only_lost
 * is false, any (rule 3). */
static bool next_hole(const struct tcb *tcb, bool only_lost, seq_t *start, uint32_t *len)
{
    const struct rangeset *sb = &tcb->sacked;
    uint32_t above = rangeset_bytes(sb);
    seq_t x = seq_max(tcb->high_rxt, tcb->snd.una);
    for (uint8_t i = 0; i < sb->n; i++) {
        uint32_t lost = seq_lt(x, sb->r[i].left) ? hole_lost_bytes(tcb, i, above, x, sb->r[i].left) : 0;
        if (seq_lt(x, sb->r[i].left) && (!only_lost || lost)) {
            *start = x;
            *len = only_lost ? lost : seq_dist(x, sb->r[i].left);
            return true;
        }
        above -= range_len(&sb->r[i]);
        if (seq_lt(x, sb->r[i].right))
            x = sb->r[i].right;
    }
    return false;
}

/* The most one retransmission from start carries, as Linux
 * __tcp_retransmit_skb: the packet that first sent start (one skb), but a
 * full segment where that was shorter (tcp_retrans_try_collapse) or is not
 * known, and one TSO packet (tcp_tso_segs), not held to half the cwnd as
 * new data is (tcp_xmit_retransmit_queue offers all of cwnd's room). */
uint32_t tcp_resend_goal(const struct tcb *tcb, seq_t start, uint32_t mss)
{
    uint32_t most = rack_sent_room(tcb, start);
    if (most < mss)
        most = mss;
    uint32_t goal = tcp_tso_goal(tcb, mss);
    return most < goal ? most : goal;
}

/* How much of a hole of `gap` octets at start one retransmission resends,
 * as Linux tcp_xmit_retransmit_queue: at most tcp_resend_goal; of several
 * segments, the whole ones cwnd (PRR) has room for (tcp_fragment); 0 when
 * none fits. */
static uint32_t retransmit_size(const struct tcb *tcb, seq_t start, uint32_t gap,
                                uint32_t usable)
{
    uint32_t mss = tcp_mss_now(tcb);
    uint32_t most = tcp_resend_goal(tcb, start, mss);
    most = gap < most ? gap : most;
    if (most <= usable)
        return most;
    return most > mss && usable >= mss ? usable - usable % mss : 0;
}

/* Without SACK, the lost head, once (RFC 6582 §3.2 steps 2 and 5), with
 * the FIN if it is all that remains. */
static bool reno_retransmit_head(struct tcb *tcb, uint32_t usable)
{
    uint32_t lost = reno_lost(tcb);
    if (!lost || reno_head_resent(tcb) || usable < lost)
        return false;
    uint32_t len = tcp_retransmit_head(tcb);
    if (!len)
        return false;
    tcb->high_rxt = seq_add(tcb->snd.una, len);
    tcb->prr_out += len;
    return true;
}

/* Sends the next retransmission, if any fits in `usable`: first a lost
 * retransmission (RFC 8985 §6.2; Linux tcp_xmit_retransmit_queue walks
 * from the head, so one below HighRxt goes first), then what RFC 6675 §4
 * NextSeg chooses; new data (rule 2) comes before rule 3 when there is some. */
bool recovery_retransmit_next(struct tcb *tcb, uint32_t usable, bool new_data_waiting)
{
    if (!tcb->sack_ok)
        return reno_retransmit_head(tcb, usable);
    seq_t start;
    uint32_t len;
    if (!rack_next_lost_rxt(tcb, tcp_mss_now(tcb), &start, &len) &&
        !next_hole(tcb, true, &start, &len) &&
        (new_data_waiting || !next_hole(tcb, false, &start, &len)))
        return false;
    len = retransmit_size(tcb, start, len, usable);
    if (!len)
        return false;
    len = sendq_record_room(tcb, start, len);
    /* PSH where a write ended, and on every packet of several segments
     * (Linux __tcp_transmit_skb, as for new data). */
    bool psh = tcp_holds_push_point(tcb, start, len) || len > tcp_mss_now(tcb);
    tcp_xmit(tcb, start, len, TCP_FLAG_ACK | (psh ? TCP_FLAG_PSH : 0));
    tcb->high_rxt = seq_max(tcb->high_rxt, seq_add(start, len));
    tcb->prr_out += len;
    return true;
}

/* RFC 6675 §5: enter recovery on DupThresh duplicate ACKs or when the
 * first unacknowledged octet IsLost; not again before SND.UNA passes the
 * last recovery point (RFC 6582 §3.2 step 1 likewise). */
static bool should_enter(const struct tcb *tcb)
{
    if (seq_lt(tcb->snd.una, tcb->recover)) /* recover holds SND.MAX: one past */
        return false;
    return tcb->dupacks >= DUP_THRESH || seq_gt(tcb->rack.lost_to, tcb->snd.una) ||
           (tcb->sacked.n && hole_lost(tcb, 0, rangeset_bytes(&tcb->sacked)));
}

/* A reduction begins (Linux tcp_init_cwnd_reduction): PRR counts from
 * zero, and RecoverFS is cwnd as it was (Linux's prior_cwnd), not
 * RFC 9937's pipe: limited transmit makes the flight larger. */
void prr_start(struct tcb *tcb)
{
    tcb->prr_delivered = tcb->prr_out = 0;
    tcb->recover_fs = tcb->cwnd;
}

/* As Linux tcp_enter_recovery: a reduction an ECN echo started (CWR)
 * stands, with its ssthresh and PRR counts; loss does not reduce again. */
static void enter(struct tcb *tcb, bool ece)
{
    undo_start(tcb, ece);
    if (!tcb->in_cwr) {
        prr_start(tcb);
        tcb->ssthresh = tcb->cc->ssthresh_on_loss(tcb);
        ecn_queue_cwr(tcb);
    }
    tcb->in_cwr = false;
    tcb->recover = tcb->snd.max;
    tcb->in_recovery = true;
    tcb->high_rxt = tcb->snd.una;
    CTR_INC(tcb->st, TCPFastRetrans);
    trace_event(tcb, KEEL_EV_FAST_RETRANSMIT, tcb->snd.una.v, tcb->ssthresh);
}

/* The end of the lost part of the scoreboard: the right edge of the
 * highest hole RFC 6675 IsLost counts lost (lost holes are a prefix of the
 * holes), or SND.UNA when none is. */
seq_t sack_lost_edge(const struct tcb *tcb)
{
    const struct rangeset *sb = &tcb->sacked;
    uint32_t above = rangeset_bytes(sb);
    seq_t x = tcb->snd.una, edge = tcb->snd.una;
    for (uint8_t i = 0; i < sb->n; i++) {
        if (seq_lt(x, sb->r[i].left) && hole_lost(tcb, i, above))
            edge = sb->r[i].left;
        above -= range_len(&sb->r[i]);
        x = sb->r[i].right;
    }
    return seq_max(edge, seq_min(tcb->rack.lost_to, tcb->snd.max));
}

/* RFC 9937 §6 (PRR, obsoleting RFC 6937): cwnd = pipe + sndcnt, where
 * sndcnt spreads the reduction over the ACKs of the recovery (proportional
 * while pipe > ssthresh, rounded up to whole segments; then up to ssthresh, by what was delivered, plus
 * one segment only on a SafeACK, one that advances SND.UNA and shows no
 * further loss, as Linux tcp_cwnd_reduction does). As Linux does, the first
 * ACK always lets one segment go: the fast retransmission. An ACK that
 * delivers nothing leaves cwnd as it is. */
void prr_update(struct tcb *tcb, const struct prr_ack *a)
{
    if (!a->delivered)
        return; /* Linux tcp_cwnd_reduction: nothing delivered, nothing to send */
    tcb->prr_delivered += a->delivered;
    uint32_t pipe = recovery_pipe(tcb), fs = tcb->recover_fs ? tcb->recover_fs : 1;
    int64_t sndcnt;
    if (pipe > tcb->ssthresh) {
        uint64_t unit = (uint64_t)fs * tcb->mss; /* whole segments, as Linux counts */
        uint64_t share = ((uint64_t)tcb->prr_delivered * tcb->ssthresh + unit - 1) / unit;
        sndcnt = (int64_t)(share * tcb->mss) - tcb->prr_out;
    } else {
        int64_t fresh = (int64_t)tcb->prr_delivered - tcb->prr_out;
        int64_t limit = (fresh > a->delivered ? fresh : a->delivered) + (a->safe ? tcb->mss : 0);
        int64_t room = (int64_t)tcb->ssthresh - pipe;
        sndcnt = room < limit ? room : limit;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    if (!tcb->prr_out && sndcnt < tcb->mss)
        sndcnt = tcb->mss;
    tcb->cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 9937 §6: an ACK that reaches the recovery point ends a recovery
 * (one not undone, src/tcp/undo.c) with cwnd = ssthresh; as Linux
 * tcp_end_cwnd_reduction in tcp_fastretrans_alert, before the ACK grows
 * cwnd as any other (tcp_cong_control) and before a new recovery may start
 * on it. Without SACK, as Linux tcp_try_undo_recovery, only an ACK beyond
 * the recovery point: duplicate ACKs of it may come from retransmissions
 * that arrived twice (RFC 6582 §3.2 step 1, "false fast retransmits"). */
void recovery_end(struct tcb *tcb, seq_t ack)
{
    if (!tcb->in_recovery || seq_lt(ack, tcb->recover))
        return;
    if (!tcb->sack_ok && seq_eq(ack, tcb->recover))
        return;
    if (!tcb->undo.undone) /* Linux tcp_end_cwnd_reduction: undo_marker */
        tcb->cwnd = tcb->ssthresh;
    tcb->in_recovery = false;
    rack_recovery_ended(tcb);
}

/* Called for every acceptable ACK, after the scoreboard, the duplicate
 * ACK count and SND.UNA were updated. An ACK below SND.UNA brings SACK
 * information only: as Linux (tcp_ack's old_ack path), it may start a
 * recovery and lower pipe, but does not move cwnd. (`a` by value: a call
 * written for the former (tcb, delivered) signature does not compile.) */
void recovery_on_ack(struct tcb *tcb, struct prr_ack a)
{
    if (!tcb->in_recovery) {
        if (a.reordered || !should_enter(tcb) || tcp_mtup_probe_lost(tcb))
            return;
        enter(tcb, a.ece);
    }
    if (!a.below_una)
        prr_update(tcb, &a);
}
