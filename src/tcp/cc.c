/* The congestion-control algorithms keel knows, by name (TCP_CONGESTION). */
#include <string.h>

#include "tcp/cc.h"
#include "tcp/tcb.h"

static const struct cc_ops *const algorithms[] = {&cc_newreno, &cc_cubic};

uint32_t cc_slow_start(struct tcb *tcb, uint32_t acked)
{
    uint64_t cwnd = (uint64_t)tcb->cwnd + acked;
    if (cwnd > tcb->ssthresh)
        cwnd = tcb->ssthresh;
    acked -= (uint32_t)(cwnd - tcb->cwnd);
    tcb->cwnd = (uint32_t)cwnd;
    return acked;
}

/* RFC 5681 §4.1 restarts from min(IW, cwnd) after an idle period of more
 * than one RTO; Linux (tcp_cwnd_restart, after RFC 2861) halves cwnd once
 * per RTO idle, in segments, down to that restart window, and keeps
 * ssthresh at least 3/4 of the old cwnd (tcp_current_ssthresh) outside a
 * reduction. The restart window is the initial one (the route's
 * initcwnd, as Linux tcp_init_cwnd). */
void cc_restart_after_idle(struct tcb *tcb, uint64_t idle_us)
{
    uint32_t cwnd = tcb->cwnd / tcb->mss;
    uint32_t restart = tcb->init_cwnd_segs;
    uint32_t three_quarters = (cwnd / 2 + cwnd / 4) * tcb->mss;
    if (!tcb->in_recovery && tcb->ssthresh < three_quarters)
        tcb->ssthresh = three_quarters;
    if (cwnd <= restart)
        return; /* at or below the restart window already */
    for (; idle_us > tcb->rto_us && cwnd > restart; idle_us -= tcb->rto_us)
        cwnd /= 2;
    if (cwnd < restart)
        cwnd = restart;
    tcb->cwnd = cwnd * tcb->mss;
    tcb->cwnd_acked = 0;
}

uint64_t cc_pacing_rate(const struct tcb *tcb)
{
    const struct keel_config *cfg = &tcb->st->cfg;
    if (!tcb->srtt_us)
        return 0;
    uint32_t window = tcb->cwnd > tcp_flight(tcb) ? tcb->cwnd : tcp_flight(tcb);
    bool early_slow_start = tcb->cwnd < tcb->ssthresh / 2;
    uint64_t ratio = early_slow_start ? cfg->pacing_ss_ratio : cfg->pacing_ca_ratio;
    return (uint64_t)window * ratio * 10000 / tcb->srtt_us;
}

const struct cc_ops *cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
        if (strcmp(algorithms[i]->name, name) == 0)
            return algorithms[i];
    return NULL;
}

void cc_note_new_data(struct tcb *tcb, seq_t seq, uint32_t len)
{
    struct cc_tx_log *log = &tcb->tx_log;
    if (!len)
        return;
    if (log->n == CC_TX_MARKS) { /* full: the oldest bytes go unsampled */
        log->head = (uint8_t)((log->head + 1) % CC_TX_MARKS);
        log->n--;
    }
    uint8_t i = (uint8_t)((log->head + log->n) % CC_TX_MARKS);
    log->mark[i] = (struct cc_tx_mark){seq, seq_add(seq, len), tcb->st->now_us, false};
    log->n++;
}

static struct cc_tx_mark *mark_at(struct cc_tx_log *log, uint8_t k)
{
    return &log->mark[(log->head + k) % CC_TX_MARKS];
}

void cc_note_retransmit(struct tcb *tcb, seq_t seq, uint32_t len)
{
    seq_t end = seq_add(seq, len);
    for (uint8_t k = 0; k < tcb->tx_log.n; k++) {
        struct cc_tx_mark *m = mark_at(&tcb->tx_log, k);
        if (seq_lt(m->start, end) && seq_lt(seq, m->end))
            m->rexmit = true;
    }
}

static void note_time(struct cc_tx_times *t, uint64_t at_us)
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

/* Linux tcp_clean_rtx_queue: the transmissions holding bytes in
 * [old_una, SND.UNA) not SACKed before, a partly acknowledged one
 * included; none when any of those bytes was retransmitted, or is not in
 * the log (FLAG_RETRANS_DATA_ACKED: Karn's rule, RFC 6298 §3). A FIN
 * carries no data to log. Fully acknowledged marks leave the log. */
struct cc_tx_times cc_tx_acked(struct tcb *tcb, seq_t old_una)
{
    struct cc_tx_log *log = &tcb->tx_log;
    struct cc_tx_times t = {0};
    seq_t ack = tcb->fin_acked ? seq_min(tcb->snd.una, tcb_snd_end(tcb)) : tcb->snd.una;
    seq_t logged_to = old_una; /* the acknowledged bytes below are logged */
    bool karn = false;
    while (log->n && seq_lt(log->mark[log->head].start, ack)) {
        const struct cc_tx_mark *m = &log->mark[log->head];
        karn |= m->rexmit || seq_gt(m->start, logged_to);
        logged_to = seq_max(logged_to, m->end);
        if (not_all_sacked(tcb, seq_max(m->start, old_una), seq_min(m->end, ack)))
            note_time(&t, m->at_us);
        if (seq_gt(m->end, ack))
            break;
        log->head = (uint8_t)((log->head + 1) % CC_TX_MARKS);
        log->n--;
    }
    if (karn || seq_lt(logged_to, ack))
        t.any = false;
    return t;
}

/* Linux tcp_sacktag_one: only transmissions never retransmitted count. */
void cc_tx_sacked(const struct tcb *tcb, seq_t left, seq_t right, struct cc_tx_times *t)
{
    const struct cc_tx_log *log = &tcb->tx_log;
    for (uint8_t k = 0; k < log->n; k++) {
        const struct cc_tx_mark *m = &log->mark[(log->head + k) % CC_TX_MARKS];
        if (!seq_lt(m->start, right))
            break;
        if (!m->rexmit && not_all_sacked(tcb, seq_max(m->start, left), seq_min(m->end, right)))
            note_time(t, m->at_us);
    }
}

void cc_delay_sample(struct tcb *tcb, uint32_t rtt_us)
{
    if (tcb->cc->on_delay_sample)
        tcb->cc->on_delay_sample(tcb, rtt_us, tcb->st->now_us);
}
