/* SACK-based loss recovery (RFC 6675) paced by Proportional Rate Reduction
 * (RFC 6937), as Linux recovers when SACK is negotiated. The scoreboard is
 * tcb->sacked (SACKed ranges above SND.UNA) and HighRxt (tcb->high_rxt);
 * a connection without SACK keeps NewReno's recovery (src/tcp/ack.c). */
#include "tcp/tcb.h"

#define DUP_THRESH 3u /* RFC 6675 §2 DupThresh */

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

/* RFC 6675 §4 SetPipe: octets in flight that are neither SACKed nor lost,
 * plus octets retransmitted (HighRxt stands for the per-octet flag). */
uint32_t sack_pipe(const struct tcb *tcb)
{
    const struct rangeset *sb = &tcb->sacked;
    uint32_t above = rangeset_bytes(sb), pipe = 0;
    seq_t x = tcb->snd.una;
    for (uint8_t i = 0; i < sb->n; i++) {
        seq_t left = sb->r[i].left;
        if (seq_lt(x, left)) {
            if (!hole_lost(tcb, i, above))
                pipe += seq_dist(x, left);
            pipe += retransmitted_part(tcb, x, left);
        }
        above -= range_len(&sb->r[i]);
        x = sb->r[i].right;
    }
    if (seq_lt(x, tcb->snd.max))
        pipe += seq_dist(x, tcb->snd.max);
    return pipe;
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
        if (seq_lt(x, sb->r[i].left) && (!only_lost || hole_lost(tcb, i, above))) {
            uint32_t gap = seq_dist(x, sb->r[i].left), mss = tcp_mss_now(tcb);
            *start = x;
            *len = gap < mss ? gap : mss;
            return true;
        }
        above -= range_len(&sb->r[i]);
        if (seq_lt(x, sb->r[i].right))
            x = sb->r[i].right;
    }
    return false;
}

/* Sends the next retransmission RFC 6675 §4 NextSeg chooses, if any fits
 * in `usable`; new data (rule 2) comes before rule 3 when there is some. */
bool sack_retransmit_next(struct tcb *tcb, uint32_t usable, bool new_data_waiting)
{
    seq_t start;
    uint32_t len;
    if (!next_hole(tcb, true, &start, &len) &&
        (new_data_waiting || !next_hole(tcb, false, &start, &len)))
        return false;
    if (len > usable)
        return false;
    len = sendq_record_room(tcb, start, len);
    uint8_t psh = tcp_holds_push_point(tcb, start, len) ? TCP_FLAG_PSH : 0;
    tcp_xmit(tcb, start, len, TCP_FLAG_ACK | psh);
    tcb->high_rxt = seq_add(start, len);
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
    return tcb->dupacks >= DUP_THRESH ||
           (tcb->sacked.n && hole_lost(tcb, 0, rangeset_bytes(&tcb->sacked)));
}

static void enter(struct tcb *tcb)
{
    tcb->ssthresh = tcb->cc->ssthresh_on_loss(tcb);
    tcb->recover = tcb->snd.max;
    tcb->in_recovery = true;
    tcb->high_rxt = tcb->snd.una;
    tcb->prr_delivered = tcb->prr_out = 0;
    tcb->recover_fs = seq_dist(tcb->snd.una, tcb->snd.max);
    CTR_INC(tcb->st, TCPFastRetrans);
    trace_event(tcb, KEEL_EV_FAST_RETRANSMIT, tcb->snd.una.v, tcb->ssthresh);
}

/* RFC 6937 §3: cwnd = pipe + sndcnt, where sndcnt spreads the reduction
 * over the ACKs of the recovery (proportional while pipe > ssthresh, then
 * slow start up to ssthresh with the SSRB bound). As Linux does, the first
 * ACK always lets one segment go: the fast retransmission. */
static void prr_update(struct tcb *tcb, uint32_t delivered)
{
    tcb->prr_delivered += delivered;
    uint32_t pipe = sack_pipe(tcb), fs = tcb->recover_fs ? tcb->recover_fs : 1;
    int64_t sndcnt;
    if (pipe > tcb->ssthresh) {
        uint64_t share = ((uint64_t)tcb->prr_delivered * tcb->ssthresh + fs - 1) / fs;
        sndcnt = (int64_t)share - tcb->prr_out;
    } else {
        int64_t fresh = (int64_t)tcb->prr_delivered - tcb->prr_out;
        int64_t limit = (fresh > delivered ? fresh : delivered) + tcb->mss;
        int64_t room = (int64_t)tcb->ssthresh - pipe;
        sndcnt = room < limit ? room : limit;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    if (!tcb->prr_out && sndcnt < tcb->mss)
        sndcnt = tcb->mss;
    tcb->cwnd = pipe + (uint32_t)sndcnt;
}

/* Called for every acceptable ACK on a SACK connection, after the
 * scoreboard and SND.UNA were updated; delivered is RFC 6937's
 * DeliveredData (SND.UNA's advance plus newly SACKed bytes). */
void sack_recovery_on_ack(struct tcb *tcb, uint32_t delivered)
{
    if (tcb->in_recovery && seq_ge(tcb->snd.una, tcb->recover)) {
        tcb->cwnd = tcb->ssthresh; /* RFC 6937 §3: the end of recovery */
        tcb->in_recovery = false;
        return;
    }
    if (!tcb->in_recovery) {
        if (!should_enter(tcb))
            return;
        enter(tcb);
    }
    prr_update(tcb, delivered);
}
