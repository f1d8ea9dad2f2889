/* The send queue as Linux's write queue: how writes fill it (chunks the size
 * of one TSO packet, SO_SNDBUF and TCP_NOTSENT_LOWAT, Linux
 * tcp_sendmsg_locked), when a waiting writer may go on (tcp_poll,
 * sk_stream_write_space), and record ends no segment may span (MSG_EOR,
 * tcp_skb_can_collapse). keel keeps the bytes in one ring; a chunk is only
 * where the newest one began, and record ends are a small ring of marks. */
#include "tcp/tcb.h"

/* The size a chunk grows to: Linux tcp_xmit_size_goal, one TSO packet of
 * whole segments, at most half the largest window the peer has offered
 * (tcp_bound_to_half_wnd); one segment without offload. */
static uint32_t chunk_goal(const struct tcb *tcb)
{
    uint32_t mss = tcp_mss_now(tcb);
    uint32_t goal = tcb->st->dev->tso_max;
    if (!goal || !mss)
        return mss;
    if (goal > 65535 - 60 - TCP_MAX_HDR_LEN)
        goal = 65535 - 60 - TCP_MAX_HDR_LEN;
    uint32_t half_wnd = tcb->snd.max_wnd > TCP_DEFAULT_MSS ? tcb->snd.max_wnd / 2
                                                           : tcb->snd.max_wnd;
    if (half_wnd && goal > half_wnd)
        goal = half_wnd;
    goal -= goal % mss;
    return goal > mss ? goal : mss;
}

uint32_t sendq_notsent(const struct tcb *tcb)
{
    seq_t end = tcb_snd_end(tcb);
    return seq_lt(tcb->snd.max, end) ? seq_dist(tcb->snd.max, end) : 0;
}

static uint32_t notsent_lowat(const struct tcb *tcb)
{
    uint32_t lowat = tcb->notsent_lowat ? tcb->notsent_lowat : tcb->st->cfg.notsent_lowat;
    return lowat ? lowat : UINT32_MAX;
}

/* Is seq the newest record end (the queue's tail ends a record)? */
static bool ends_record(const struct tcb *tcb, seq_t seq)
{
    return tcb->record_n &&
           seq_eq(tcb->record_end[(tcb->record_head + tcb->record_n - 1) % TCP_RECORD_MARKS],
                  seq);
}

/* Room left in the newest chunk: Linux appends to the tail skb of the write
 * queue while it is unsent (what was sent of it was split off), shorter
 * than the goal, and not the end of a record. */
static uint32_t tail_room(const struct tcb *tcb, uint32_t goal)
{
    seq_t end = tcb_snd_end(tcb);
    if (!sendq_notsent(tcb) || ends_record(tcb, end))
        return 0;
    seq_t start = seq_max(tcb->chunk_start, tcb->snd.max);
    uint32_t held = seq_dist(start, end);
    return held < goal ? goal - held : 0;
}

/* Linux sk_stream_memory_free, checked before each new skb: less than
 * SO_SNDBUF queued, and fewer unsent bytes than TCP_NOTSENT_LOWAT
 * (tcp_stream_memory_free). */
static bool may_start_chunk(const struct tcb *tcb)
{
    return tcb->sndq.len < tcb->sndbuf && sendq_notsent(tcb) < notsent_lowat(tcb);
}

/* A chunk that fills up while it is the oldest unsent one leaves at once
 * (Linux tcp_push_one), so that the rest of a long write can grow the
 * part of it that stays behind. */
static void push_full_chunk(struct tcb *tcb, uint32_t goal)
{
    if (seq_le(tcb->chunk_start, tcb->snd.max) && !tail_room(tcb, goal))
        tcp_output_nagle(tcb, TCP_NAGLE_SOCKET);
}

/* Linux checks SO_SNDBUF before each new chunk, and a chunk started fills:
 * the ring may hold up to one chunk more than SO_SNDBUF. Whoever changes
 * SO_SNDBUF (setsockopt, autotuning, inheritance) sets the ring's limit to
 * it; the slack for the last chunk is added here, where it is used. */
static void allow_last_chunk(struct tcb *tcb)
{
    uint32_t limit = tcb->sndbuf < UINT32_MAX - TCP_CHUNK_MAX ? tcb->sndbuf + TCP_CHUNK_MAX
                                                             : UINT32_MAX;
    if (tcb->sndq.limit != limit)
        ring_set_limit(&tcb->sndq, limit);
}

uint32_t sendq_append(struct tcb *tcb, const uint8_t *buf, uint32_t len)
{
    uint32_t done = 0;
    allow_last_chunk(tcb);
    while (done < len) {
        uint32_t goal = chunk_goal(tcb);
        uint32_t room = tail_room(tcb, goal);
        if (!room) {
            if (!may_start_chunk(tcb))
                break;
            tcb->chunk_start = tcb_snd_end(tcb);
            room = goal;
        }
        uint32_t want = len - done < room ? len - done : room;
        uint32_t put = want ? ring_append(&tcb->sndq, buf + done, want) : 0;
        done += put;
        if (!put || put < want)
            break; /* no room to grow (no memory), or no segment size */
        if (done < len)
            push_full_chunk(tcb, goal);
    }
    return done;
}

/* Marks a record end at the end of the queue. When the marks are all in
 * use, the newest moves forward: two records join (counted), none is lost. */
static void mark_record_end(struct tcb *tcb)
{
    seq_t end = tcb_snd_end(tcb);
    if (tcb->record_n == TCP_RECORD_MARKS) {
        tcb->record_end[(tcb->record_head + tcb->record_n - 1) % TCP_RECORD_MARKS] = end;
        tcb_limit_hit(tcb, KEEL_C_TCPRecordMarksMerged);
        return;
    }
    tcb->record_end[(tcb->record_head + tcb->record_n) % TCP_RECORD_MARKS] = end;
    tcb->record_n++;
}

/* Linux tcp_sendmsg_locked's end: MSG_EOR marks the record only when all
 * of it is queued; tcp_push marks a push point unless MSG_MORE, and a
 * write cut short by a full buffer pushes what it queued past Nagle and
 * corking (wait_for_space: TCP_NAGLE_PUSH). */
void sendq_write_end(struct tcb *tcb, bool complete, int flags)
{
    if (complete && (flags & KEEL_MSG_EOR))
        mark_record_end(tcb);
    if (!complete || !(flags & KEEL_MSG_MORE))
        tcp_note_write_end(tcb);
    if (!complete)
        tcp_output_nagle(tcb, TCP_NAGLE_PUSH);
    else
        tcp_output_nagle(tcb, (flags & KEEL_MSG_MORE) ? TCP_NAGLE_CORK : TCP_NAGLE_SOCKET);
}

/* Linux __sk_stream_is_writeable(sk, 1): the free part of SO_SNDBUF is at
 * least half the queued part (sk_stream_wspace >= sk_stream_min_wspace),
 * and the unsent bytes, doubled, are under TCP_NOTSENT_LOWAT. */
bool sendq_writable(const struct tcb *tcb)
{
    uint32_t queued = tcb->sndq.len;
    uint32_t free_space = tcb->sndbuf > queued ? tcb->sndbuf - queued : 0;
    uint64_t notsent2 = 2 * (uint64_t)sendq_notsent(tcb);
    return free_space >= queued / 2 && notsent2 < notsent_lowat(tcb);
}

/* Linux never builds a segment across an skb marked EOR, neither new
 * (tcp_skb_can_collapse_to) nor retransmitted (tcp_skb_can_collapse). */
uint32_t sendq_record_room(const struct tcb *tcb, seq_t seq, uint32_t len)
{
    for (uint8_t i = 0; i < tcb->record_n; i++) {
        seq_t e = tcb->record_end[(tcb->record_head + i) % TCP_RECORD_MARKS];
        if (seq_gt(e, seq))
            return seq_dist(seq, e) < len ? seq_dist(seq, e) : len;
    }
    return len;
}

bool sendq_is_record_end(const struct tcb *tcb, seq_t seq)
{
    for (uint8_t i = 0; i < tcb->record_n; i++)
        if (seq_eq(tcb->record_end[(tcb->record_head + i) % TCP_RECORD_MARKS], seq))
            return true;
    return false;
}

void sendq_forget_records(struct tcb *tcb)
{
    while (tcb->record_n && seq_le(tcb->record_end[tcb->record_head], tcb->snd.una)) {
        tcb->record_head = (tcb->record_head + 1) % TCP_RECORD_MARKS;
        tcb->record_n--;
    }
}
