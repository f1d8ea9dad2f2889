/* The path MTU a connection sends by (RFC 1191, with the route's metrics)
 * and packetization-layer path MTU discovery (RFC 4821 §7), as Linux's
 * tcp_mtu_probing does it: a search range of MTUs [search_low, search_high],
 * the MSS kept at search_low, and one probe segment of the midpoint size at
 * a time; an acknowledged probe raises search_low, a lost one lowers
 * search_high. */
#include "tcp/tcb.h"

#define TCP_REORDERING 3u               /* Linux tcp_reordering */
#define TCP_PROBE_THRESHOLD 8u          /* Linux tcp_probe_threshold (bytes) */
#define TCP_PROBE_INTERVAL_US 600000000ull /* Linux tcp_probe_interval: 600 s */
#define TCP_MTU_PROBE_FLOOR 48u         /* Linux tcp_mtu_probe_floor */

/* Linux rx_opt.mss_clamp: the peer's MSS option and TCP_MAXSEG. */
static uint32_t mss_clamp(const struct tcb *tcb)
{
    uint32_t clamp = tcb->peer_mss ? tcb->peer_mss : 65535;
    return tcb->user_mss && tcb->user_mss < clamp ? tcb->user_mss : clamp;
}

/* Option bytes on every segment: timestamps, and NOP, NOP, MD5 (Linux
 * tcp_header_len). */
static uint32_t option_bytes(const struct tcb *tcb)
{
    return (tcb->ts_ok ? 12 : 0) + (tcp_md5_key_for(tcb, tcb->raddr) ? 20 : 0);
}

/* Linux tcp_mtu_to_mss: the payload of a full segment in an mtu-sized
 * packet (RFC 9293 §3.7.1 Eff.snd.MSS). */
static uint32_t mtu_to_mss(const struct tcb *tcb, uint32_t mtu)
{
    uint32_t mss = mtu > IPV4_HDR_LEN + TCP_HDR_LEN ? mtu - IPV4_HDR_LEN - TCP_HDR_LEN : 0;
    if (mss > mss_clamp(tcb))
        mss = mss_clamp(tcb);
    if (mss < TCP_MIN_SND_MSS)
        mss = TCP_MIN_SND_MSS;
    return mss - option_bytes(tcb);
}

/* Linux tcp_mss_to_mtu. */
static uint32_t mss_to_mtu(const struct tcb *tcb, uint32_t mss)
{
    return mss + IPV4_HDR_LEN + TCP_HDR_LEN + option_bytes(tcb);
}

/* The route's MTU, unless it is the one read before: an MTU learned from
 * ICMP stays while the route does (Linux keeps its PMTU exceptions until
 * the route itself is replaced). */
static void read_route(struct tcb *tcb, const struct keel_route *r)
{
    uint32_t dev_mtu = tcb->st->dev->mtu;
    uint16_t mtu = (uint16_t)(r && r->mtu && r->mtu < dev_mtu ? r->mtu : dev_mtu);
    bool locked = r && r->mtu && r->mtu_locked;
    tcb->route_gen = tcb->st->routes.gen;
    if (tcb->route_mtu == mtu && tcb->path_mtu_locked == locked)
        return;
    tcb->route_mtu = tcb->path_mtu = mtu;
    tcb->path_mtu_locked = locked;
}

/* Before the first SYN: the route's MTU and initial window (Linux
 * tcp_init_cwnd reads RTAX_INITCWND). */
void tcp_route_init(struct tcb *tcb)
{
    const struct keel_route *r = route_lookup(tcb->st, tcb->raddr);
    read_route(tcb, r);
    tcb->pmtu = tcb->path_mtu;
    tcb->init_cwnd_segs = r && r->initcwnd ? r->initcwnd : TCP_INIT_CWND_SEGS;
}

/* Linux __sk_dst_check on each transmission: a route changed since the
 * connection looked gives its new MTU (and forgets one learned by ICMP);
 * the MSS follows at the next tcp_current_mss. */
void tcp_route_check(struct tcb *tcb)
{
    if (tcb->route_gen != tcb->st->routes.gen)
        read_route(tcb, route_lookup(tcb->st, tcb->raddr));
}

/* Linux dst_metric_advmss: RTAX_ADVMSS, else the path MTU less the
 * headers (ipv4_default_advmss). */
uint16_t tcp_route_advmss(const struct tcb *tcb)
{
    const struct keel_route *r = route_lookup(tcb->st, tcb->raddr);
    if (r && r->advmss)
        return r->advmss;
    return (uint16_t)(tcb->path_mtu - IPV4_HDR_LEN - TCP_HDR_LEN);
}

/* Linux tcp_sync_mss: the MSS for path MTU pmtu, never above the probed
 * floor while PLPMTUD runs; pmtu also caps the search. */
void tcp_sync_mss(struct tcb *tcb, uint32_t pmtu)
{
    if (tcb->mtup.search_high > pmtu)
        tcb->mtup.search_high = (uint16_t)pmtu;
    uint32_t mss = mtu_to_mss(tcb, pmtu);
    tcb->pmtu = (uint16_t)pmtu;
    if (tcb->mtup.enabled) {
        uint32_t low = mtu_to_mss(tcb, tcb->mtup.search_low);
        mss = low < mss ? low : mss;
    }
    tcb->mss = mss;
}

/* Linux tcp_current_mss: the path MTU changed since the MSS was computed. */
void tcp_current_mss(struct tcb *tcb)
{
    if (tcb->path_mtu != tcb->pmtu)
        tcp_sync_mss(tcb, tcb->path_mtu);
}

/* Linux tcp_mtup_init: the search runs from base_mss up to what the peer
 * (and the device) take. */
void tcp_mtup_init(struct tcb *tcb)
{
    const struct keel_config *cfg = &tcb->st->cfg;
    uint32_t high = mss_clamp(tcb) + IPV4_HDR_LEN + TCP_HDR_LEN;
    tcb->mtup.enabled = cfg->mtu_probing == KEEL_MTU_PROBING_ALWAYS;
    tcb->mtup.search_high = (uint16_t)(high < tcb->st->dev->mtu ? high : tcb->st->dev->mtu);
    tcb->mtup.search_low = (uint16_t)mss_to_mtu(tcb, cfg->base_mss);
    tcb->mtup.probe_size = 0;
    if (tcb->mtup.enabled)
        tcb->mtup.probe_ts_us = tcb->st->now_us;
}

/* Linux tcp_mtu_check_reprobe: once the search has converged, it starts
 * over from the current MSS every tcp_probe_interval (RFC 4821 §7.7: the
 * path MTU may have grown). */
static void check_reprobe(struct tcb *tcb)
{
    uint64_t now = tcb->st->now_us;
    if (now - tcb->mtup.probe_ts_us < TCP_PROBE_INTERVAL_US)
        return;
    uint32_t high = mss_clamp(tcb) + IPV4_HDR_LEN + TCP_HDR_LEN;
    tcb->mtup.search_high = (uint16_t)(high < tcb->st->dev->mtu ? high : tcb->st->dev->mtu);
    tcb->mtup.search_low = (uint16_t)mss_to_mtu(tcb, tcb->mss);
    tcb->mtup.probe_ts_us = now;
}

/* Linux tcp_mtu_probe's first test: no probe in flight, the connection in
 * its open state (no loss, reduction or SACK under way, nothing being sent
 * again), cwnd of at least 11 segments, and no SACK blocks on our segments
 * (they would change the header size). */
static bool may_probe(const struct tcb *tcb)
{
    return tcb->mtup.enabled && !tcb->mtup.probe_size && !tcb->in_recovery && !tcb->in_cwr &&
           !tcb->dupacks && !tcb->sacked.n && !seq_lt(tcb->snd.nxt, tcb->snd.max) &&
           tcb->cwnd >= 11 * tcb->mss && !tcb->sack_recent_n && !tcb->dsack_pending;
}

static enum tcp_mtu_probe_result send_probe(struct tcb *tcb, uint32_t len)
{
    seq_t start = tcb->snd.nxt;
    uint8_t flags = TCP_FLAG_ACK;
    if (tcp_holds_push_point(tcb, start, len))
        flags |= TCP_FLAG_PSH;
    tcb->mtup.probe_start = start;
    tcb->mtup.probe_end = seq_add(start, len);
    tcb->mtup.probe_size = (uint16_t)mss_to_mtu(tcb, len);
    if (!tcp_xmit(tcb, start, len, flags)) {
        tcb->mtup.probe_size = 0;
        return MTU_PROBE_SKIP;
    }
    tcb->snd.nxt = tcb->mtup.probe_end;
    if (seq_gt(tcb->snd.nxt, tcb->snd.max))
        tcb->snd.max = tcb->snd.nxt;
    return MTU_PROBE_SENT;
}

/* Linux tcp_mtu_probe, before new data goes: SKIP (send as usual), WAIT
 * (send nothing now: the window or cwnd is to drain for a probe) or SENT.
 * The probe takes the midpoint of the range from new data, and goes only
 * with enough data behind it that its loss shows by duplicate ACKs
 * (size_needed: the probe and reordering + 1 segments). cwnd counts bytes:
 * the probe's extra size is in flight as it is, with none of Linux's
 * packet-count adjustment. */
enum tcp_mtu_probe_result tcp_mtu_probe(struct tcb *tcb)
{
    if (!may_probe(tcb))
        return MTU_PROBE_SKIP;
    int high = tcb->mtup.search_high, low = tcb->mtup.search_low;
    uint32_t probe = mtu_to_mss(tcb, (uint32_t)(high + low) / 2);
    uint32_t needed = probe + (TCP_REORDERING + 1) * tcb->mss;
    if (probe > mtu_to_mss(tcb, (uint32_t)high) || high - low < (int)TCP_PROBE_THRESHOLD) {
        check_reprobe(tcb);
        return MTU_PROBE_SKIP;
    }
    seq_t end = tcb_snd_end(tcb);
    if (!seq_lt(tcb->snd.nxt, end) || seq_dist(tcb->snd.nxt, end) < needed ||
        tcb->snd.wnd < needed)
        return MTU_PROBE_SKIP;
    if (seq_gt(seq_add(tcb->snd.nxt, needed), seq_add(tcb->snd.una, tcb->snd.wnd)))
        return MTU_PROBE_WAIT;
    uint32_t flight = tcp_flight(tcb);
    if (flight + 2 * tcb->mss > tcb->cwnd)
        return flight ? MTU_PROBE_WAIT : MTU_PROBE_SKIP;
    if (sendq_record_room(tcb, tcb->snd.nxt, probe) < probe)
        return MTU_PROBE_SKIP; /* a record end (MSG_EOR) lies inside */
    return send_probe(tcb, probe);
}

/* The probe leaves as one packet, never cut by segmentation offload. */
bool tcp_mtu_probe_whole(const struct tcb *tcb, seq_t seq, uint32_t len)
{
    return tcb->mtup.probe_size && seq_eq(seq, tcb->mtup.probe_start) &&
           seq_eq(seq_add(seq, len), tcb->mtup.probe_end);
}

/* Linux tcp_mtup_probe_success: all of the probe acknowledged. */
void tcp_mtup_on_ack(struct tcb *tcb)
{
    if (!tcb->mtup.probe_size || seq_lt(tcb->snd.una, tcb->mtup.probe_end))
        return;
    tcb->mtup.search_low = tcb->mtup.probe_size;
    tcb->mtup.probe_size = 0;
    tcp_sync_mss(tcb, tcb->pmtu);
    CTR_INC(tcb->st, TCPMTUPSuccess);
}

/* Linux tcp_mtup_probe_failed. */
static void probe_failed(struct tcb *tcb)
{
    tcb->mtup.search_high = (uint16_t)(tcb->mtup.probe_size - 1);
    tcb->mtup.probe_size = 0;
    CTR_INC(tcb->st, TCPMTUPFail);
}

/* Linux tcp_fastretrans_alert: loss detected at the probe's first byte, in
 * the open state, is the probe's failure, not congestion: the range shrinks,
 * the probe's bytes go again in segments of the MSS (tcp_simple_retransmit)
 * and no recovery starts before SND.UNA passes what was sent (RFC 6582's
 * recover). Returns true if so. */
bool tcp_mtup_probe_lost(struct tcb *tcb)
{
    if (!tcb->mtup.probe_size || tcb->in_cwr || !seq_eq(tcb->snd.una, tcb->mtup.probe_start))
        return false;
    seq_t end = tcb->mtup.probe_end;
    probe_failed(tcb);
    for (seq_t seq = tcb->snd.una; seq_lt(seq, end);) {
        uint32_t left = seq_dist(seq, end);
        uint32_t n = left < tcb->mss ? left : tcb->mss;
        uint8_t flags = TCP_FLAG_ACK;
        if (tcp_holds_push_point(tcb, seq, n))
            flags |= TCP_FLAG_PSH;
        if (!tcp_xmit(tcb, seq, n, flags))
            break;
        seq = seq_add(seq, n);
    }
    tcb->recover = tcb->snd.max;
    return true;
}

/* Linux tcp_mtu_probing (tcp_write_timeout): repeated timeouts suggest an
 * ICMP black hole (RFC 4821 §1): with tcp_mtu_probing 1 the search starts;
 * when it runs already, its floor halves (to at most base_mss, at least
 * tcp_mtu_probe_floor), and the MSS drops to it at once. */
static void black_hole(struct tcb *tcb)
{
    const struct keel_config *cfg = &tcb->st->cfg;
    if (cfg->mtu_probing == KEEL_MTU_PROBING_OFF)
        return;
    if (!tcb->mtup.enabled) {
        tcb->mtup.enabled = true;
        tcb->mtup.probe_ts_us = tcb->st->now_us;
    } else {
        uint32_t mss = mtu_to_mss(tcb, tcb->mtup.search_low) / 2;
        if (mss > cfg->base_mss)
            mss = cfg->base_mss;
        if (mss < TCP_MTU_PROBE_FLOOR)
            mss = TCP_MTU_PROBE_FLOOR;
        tcb->mtup.search_low = (uint16_t)mss_to_mtu(tcb, mss);
    }
    tcp_sync_mss(tcb, tcb->pmtu);
}

/* A retransmission timeout: a probe at SND.UNA is taken as lost (RFC 4821
 * §7.5: a probe that is not acknowledged fails), and after tcp_retries1
 * timeouts (black_hole_suspected) the black-hole rule above runs, before
 * the head goes again. */
void tcp_mtup_on_rto(struct tcb *tcb, bool black_hole_suspected)
{
    if (tcb->mtup.probe_size && seq_eq(tcb->snd.una, tcb->mtup.probe_start))
        probe_failed(tcb);
    if (black_hole_suspected)
        black_hole(tcb);
}
