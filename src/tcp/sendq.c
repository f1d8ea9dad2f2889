/* The send queue as Linux's write queue: how writes fill it (chunks the size
 * of one TSO packet, SO_SNDBUF and TCP_NOTSENT_LOWAT, Linux
 * tcp_sendmsg_locked), when a waiting writer may go on (tcp_poll,
 * sk_stream_write_space), and record ends no segment may span (MSG_EOR,
 * tcp_skb_can_collapse). keel keeps the bytes in one ring; a chunk is only
 * where the newest one began, and record ends are a small ring of marks. */
#include "tcp/tcb.h"

/* Linux tcp_xmit_size_goal for a GSO packet of at most `max` bytes: whole
 * segments, at most half the largest window the peer has offered
 * (tcp_bound_to_half_wnd), at least one segment. */
static uint32_t size_goal(const struct tcb *tcb, uint32_t mss, uint32_t max)
{
    if (max > 65535 - 60 - TCP_MAX_HDR_LEN)
        max = 65535 - 60 - TCP_MAX_HDR_LEN;
    uint32_t half_wnd = tcb->snd.max_wnd > TCP_DEFAULT_MSS ? tcb->snd.max_wnd / 2
                                                           : tcb->snd.max_wnd;
    if (half_wnd && max > half_wnd)
        max = half_wnd;
    max -= max % mss;
    return max > mss ? max : mss;
}

/* The size a chunk grows to: one TSO packet; one segment without offload. */
static uint32_t chunk_goal(const struct tcb *tcb)
{
    uint32_t mss = tcp_mss_now(tcb);
    uint32_t tso = tcb->st->dev->tso_max;
    return tso && mss && !tcp_md5_signs(tcb) ? size_goal(tcb, mss, tso) : mss;
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

/* What the queue costs against SO_SNDBUF, as Linux's sk_wmem_queued sums
 * skb->truesize: the bytes, and per skb its own overhead
 * (TCP_CHUNK_OVERHEAD). The queue counts as skbs of Linux's current size
 * goal, which is a GSO packet's whatever the device: Linux TCP always
 * builds GSO packets (sk_setup_caps), so keel charges as Linux even where
 * it cuts its own chunks at one segment for a device without offload. */
uint32_t sendq_charged(const struct tcb *tcb)
{
    uint32_t mss = tcp_mss_now(tcb), len = tcb->sndq.len;
    uint32_t goal = mss ? size_goal(tcb, mss, UINT32_MAX) : 0;
    uint64_t chunks = goal ? ((uint64_t)len + goal - 1) / goal : 0;
    uint64_t charged = len + chunks * TCP_CHUNK_OVERHEAD;
    return charged < UINT32_MAX ? (uint32_t)charged : UINT32_MAX;
}

/* Linux sk_stream_memory_free, checked before each new skb: less than
 * SO_SNDBUF charged, and fewer unsent bytes than TCP_NOTSENT_LOWAT
 * (tcp_stream_memory_free). */
static bool may_start_chunk(const struct tcb *tcb)
{
    return sendq_charged(tcb) < tcb->sndbuf && sendq_notsent(tcb) < notsent_lowat(tcb);
}

/* Linux forced_push: the queue has run more than half the peer's largest
 * window past the last push point (tp->pushed_seq). */
static bool forced_push(const struct tcb *tcb)
{
    return seq_gt(tcb_snd_end(tcb), seq_add(tcb->pushed_seq, tcb->snd.max_wnd / 2));
}

/* A chunk just filled during a long write. Past half the peer's window
 * since the last push point it ends with one (Linux tcp_mark_push, PSH on
 * the chunk's last segment however it is later cut) and everything goes
 * past Nagle (__tcp_push_pending_frames, TCP_NAGLE_PUSH). Otherwise, if it
 * is the oldest unsent chunk it leaves at once (tcp_push_one), so that the
 * rest of the write can grow the part of it that stays behind. */
static void push_full_chunk(struct tcb *tcb, uint32_t goal)
{
    if (forced_push(tcb)) {
        tcp_note_write_end(tcb);
        tcp_output_nagle(tcb, TCP_NAGLE_PUSH);
    } else if (seq_le(tcb->chunk_start, tcb->snd.max) && !tail_room(tcb, goal)) {
        tcp_output_nagle(tcb, TCP_NAGLE_SOCKET);
    }
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
 * of it is queued; tcp_push marks a push point unless MSG_MORE (and no
 * push is forced), and a write cut short by a full buffer pushes what it
 * queued past Nagle and corking (wait_for_space: TCP_NAGLE_PUSH). */
void sendq_write_end(struct tcb *tcb, bool complete, int flags)
{
    if (complete && (flags & KEEL_MSG_EOR))
        mark_record_end(tcb);
    if (!complete || !(flags & KEEL_MSG_MORE) || forced_push(tcb))
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
    uint64_t notsent2 = 2 * (uint64_t)sendq_notsent(tcb);
    return sendq_has_wspace(tcb) && notsent2 < notsent_lowat(tcb);
}

/* Linux sk_stream_wspace >= sk_stream_min_wspace: the free part of
 * SO_SNDBUF is at least half the charged part. */
bool sendq_has_wspace(const struct tcb *tcb)
{
    uint32_t charged = sendq_charged(tcb);
    uint32_t free_space = tcb->sndbuf > charged ? tcb->sndbuf - charged : 0;
    return free_space >= charged / 2;
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
