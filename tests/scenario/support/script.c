#include "script.h"

#include <stdio.h>
#include <string.h>

#include "harness.h"

const struct tcp_opts OPTS_MSS_ONLY = {.present = TCP_OPT_MSS, .mss = 1460};
const struct tcp_opts OPTS_LINUX = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS |
                                               TCP_OPT_WSCALE,
                                    .mss = 1460, .wscale = 7, .tsval = 1000};

static struct script *of_dev(struct keel_device *dev)
{
    return (struct script *)((char *)dev - offsetof(struct script, dev));
}

static void capture_raw(struct script *s, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    if (s->nraw == RAW_CAPTURE_MAX)
        harness_fail(__FILE__, __LINE__, "more than %d non-TCP packets captured", RAW_CAPTURE_MAX);
    struct captured_raw *r = &s->raw[s->nraw++];
    r->len = (uint32_t)(len < sizeof r->pkt ? len : sizeof r->pkt);
    memcpy(r->pkt, pkt, r->len);
    r->at_us = now_us;
}

static int capture_transmit(struct keel_device *dev, const uint8_t *pkt, size_t len,
                            uint64_t now_us)
{
    struct script *s = of_dev(dev);
    struct ipv4_hdr ip;
    const uint8_t *p, *data;
    size_t plen, dlen;
    if (ipv4_parse(pkt, len, &ip, &p, &plen) != WIRE_OK)
        return 0;
    if (ip.proto != IPV4_PROTO_TCP) {
        capture_raw(s, pkt, len, now_us);
        return 0;
    }
    if (s->nout == CAPTURE_MAX)
        harness_fail(__FILE__, __LINE__, "more than %d segments captured", CAPTURE_MAX);
    struct captured *c = &s->out[s->nout];
    if (tcp_parse(p, plen, ip.src, ip.dst, true, &c->h, &data, &dlen) != WIRE_OK)
        harness_fail(__FILE__, __LINE__, "keel sent a malformed TCP segment");
    c->ecn = ip.tos & IP_ECN_MASK;
    c->len = (uint32_t)dlen;
    memcpy(c->payload, data, dlen < sizeof c->payload ? dlen : sizeof c->payload);
    c->md5_valid = false;
    if (s->md5_key && (c->h.opts.present & TCP_OPT_MD5)) {
        uint8_t want[TCP_MD5_DIGEST_LEN];
        tcp_md5_digest(p, plen, ip.src, ip.dst, (const uint8_t *)s->md5_key,
                       strlen(s->md5_key), want);
        c->md5_valid = memcmp(want, c->h.opts.md5, sizeof want) == 0;
    }
    c->at_us = now_us;
    s->nout++;
    return 0;
}

static long capture_receive(struct keel_device *dev, uint8_t *buf, size_t cap, uint64_t now_us)
{
    (void)dev, (void)buf, (void)cap, (void)now_us;
    return 0;
}

static const struct keel_device_ops capture_ops = {
    .transmit = capture_transmit,
    .receive = capture_receive,
};

static int capture_transmit_tso(struct keel_device *dev, const uint8_t *pkt, size_t len,
                                uint16_t mss, uint64_t now_us)
{
    (void)mss;
    return capture_transmit(dev, pkt, len, now_us);
}

static const struct keel_device_ops capture_tso_ops = {
    .transmit = capture_transmit,
    .receive = capture_receive,
    .transmit_tso = capture_transmit_tso,
};

void script_use_tso_device(struct script *s)
{
    s->dev.ops = &capture_tso_ops;
    s->dev.tso_max = 65536;
}

void script_write(struct script *s, int sock, uint32_t n)
{
    static uint8_t buf[65536];
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(keel_send(s->st, sock, buf, n, 0), (long)n);
}

void script_init(struct script *s, const struct keel_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->dev.ops = &capture_ops;
    s->dev.mtu = 1500;
    s->now_us = 1000000;
    s->peer_port = PEER_PORT;
    s->keel_port = KEEL_PORT;
    s->peer_tsval = 5000;
    struct keel_config c = cfg ? *cfg : (struct keel_config){0};
    c.addr = KEEL_ADDR;
    if (!c.seed)
        c.seed = 42;
    int err;
    s->st = keel_stack_new(&c, &s->dev, s->now_us, &err);
    if (!s->st)
        harness_fail(__FILE__, __LINE__, "keel_stack_new: %s", keel_strerror(err));
}

void script_free(struct script *s)
{
    keel_stack_free(s->st);
    s->st = NULL;
}

void script_advance(struct script *s, uint64_t us)
{
    s->now_us += us;
    s->peer_tsval += (uint32_t)(us / 1000);
    keel_poll(s->st, s->now_us);
}

void script_run_timer(struct script *s)
{
    uint64_t d = keel_next_deadline(s->st);
    if (d == UINT64_MAX)
        harness_fail(__FILE__, __LINE__, "no timer is armed");
    if (d > s->now_us)
        script_advance(s, d - s->now_us);
    else
        keel_poll(s->st, s->now_us);
}

void script_inject_raw(struct script *s, const uint8_t *pkt, size_t len)
{
    keel_input(s->st, pkt, len, s->now_us);
}

static uint16_t default_window(const struct script *s, const struct seg *g)
{
    if (g->win || g->win_set)
        return g->win;
    return (g->flags & TCP_FLAG_SYN) ? 65535 : (uint16_t)(65535 >> s->peer_wscale);
}

static void fill_payload(uint8_t *dst, const struct seg *g, uint32_t seq)
{
    for (uint32_t i = 0; i < g->len; i++)
        dst[i] = g->data ? g->data[i] : (uint8_t)('a' + (seq + i) % 26);
}

/* A segment whose option bytes are given verbatim: emitted without options,
 * then the data offset is widened over g->raw_opts and the checksum redone. */
static void inject_raw_opts(struct script *s, struct tcp_hdr *h, const struct seg *g)
{
    uint8_t pkt[1600];
    uint8_t *seg = pkt + IPV4_HDR_LEN;
    size_t hlen = TCP_HDR_LEN + g->raw_opts_len;
    if (g->raw_opts_len % 4 || hlen > TCP_MAX_HDR_LEN)
        harness_fail(__FILE__, __LINE__, "raw options must be a multiple of 4, at most 40");
    memset(&h->opts, 0, sizeof h->opts);
    memcpy(seg + TCP_HDR_LEN, g->raw_opts, g->raw_opts_len);
    fill_payload(seg + hlen, g, h->seq);
    tcp_emit(seg, hlen + g->len, h, PEER_ADDR, KEEL_ADDR);
    seg[12] = (uint8_t)((hlen / 4) << 4);
    seg[16] = seg[17] = 0;
    uint16_t tlen = (uint16_t)(hlen + g->len);
    uint16_t c = wire_csum_fold(wire_csum_add(wire_pseudo_sum(PEER_ADDR, KEEL_ADDR, IPV4_PROTO_TCP, tlen), seg, tlen));
    seg[16] = (uint8_t)(c >> 8);
    seg[17] = (uint8_t)c;
    struct ipv4_hdr ip = {.ihl = 5, .tos = g->ecn, .ttl = 64, .proto = IPV4_PROTO_TCP,
                          .src = PEER_ADDR, .dst = KEEL_ADDR};
    size_t n = ipv4_emit(pkt, &ip, tlen) + tlen;
    keel_input(s->st, pkt, n, s->now_us);
}

void script_inject(struct script *s, const struct seg *g)
{
    uint8_t pkt[1600];
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.sport = s->peer_port;
    h.dport = s->keel_port;
    h.seq = g->abs_seq ? g->seq : PEER_ISN + g->seq;
    h.ack = (g->flags & TCP_FLAG_ACK) ? (g->abs_ack ? g->ack : s->keel_isn + g->ack) : 0;
    h.flags = g->flags;
    h.wnd = default_window(s, g);
    h.urp = g->urp;
    h.opts = g->opts;
    if (g->raw_opts_len) {
        inject_raw_opts(s, &h, g);
        return;
    }
    if (s->peer_ts && !(h.opts.present & TCP_OPT_TS) && !(g->flags & TCP_FLAG_RST)) {
        h.opts.present |= TCP_OPT_TS;
        h.opts.tsval = s->peer_tsval;
    }
    if (g->md5_key)
        h.opts.present |= TCP_OPT_MD5;
    size_t hlen = tcp_hdr_len(&h);
    uint8_t *seg = pkt + IPV4_HDR_LEN;
    for (uint32_t i = 0; i < g->len; i++)
        seg[hlen + i] = g->data ? g->data[i] : (uint8_t)('a' + (h.seq + i) % 26);
    tcp_emit(seg, hlen + g->len, &h, PEER_ADDR, KEEL_ADDR);
    if (g->md5_key)
        tcp_md5_sign(seg, hlen + g->len, PEER_ADDR, KEEL_ADDR, (const uint8_t *)g->md5_key,
                     strlen(g->md5_key));
    struct ipv4_hdr ip = {.ihl = 5, .tos = g->ecn, .ttl = 64, .proto = IPV4_PROTO_TCP,
                          .src = PEER_ADDR, .dst = KEEL_ADDR};
    size_t n = ipv4_emit(pkt, &ip, hlen + g->len) + hlen + g->len;
    keel_input(s->st, pkt, n, s->now_us);
}

static void render(char *buf, size_t cap, const struct tcp_hdr *h, uint32_t len)
{
    tcp_format(buf, cap, KEEL_ADDR, PEER_ADDR, h, len);
}

static bool options_match(const struct tcp_opts *got, const struct tcp_opts *want)
{
    if (got->present != want->present)
        return false;
    if ((want->present & TCP_OPT_MSS) && got->mss != want->mss)
        return false;
    if ((want->present & TCP_OPT_WSCALE) && got->wscale != want->wscale)
        return false;
    if ((want->present & TCP_OPT_TS) && got->tsecr != want->tsecr)
        return false;
    if ((want->present & TCP_OPT_FASTOPEN) &&
        (got->fo_len != want->fo_len || memcmp(got->fo_cookie, want->fo_cookie, want->fo_len)))
        return false;
    if (want->present & TCP_OPT_SACK) {
        if (got->sack_count != want->sack_count)
            return false;
        for (int i = 0; i < want->sack_count; i++)
            if (got->sack[i].left != want->sack[i].left || got->sack[i].right != want->sack[i].right)
                return false;
    }
    return true;
}

static bool segment_matches(const struct script *s, const struct captured *c, const struct seg *w,
                            struct tcp_hdr *expect)
{
    *expect = c->h;
    expect->flags = w->flags;
    expect->seq = w->abs_seq ? w->seq : s->keel_isn + w->seq;
    expect->ack = (w->flags & TCP_FLAG_ACK) ? (w->abs_ack ? w->ack : PEER_ISN + w->ack) : c->h.ack;
    if (w->win || w->win_set)
        expect->wnd = w->win;
    if (w->opts_set)
        expect->opts = w->opts;
    return c->h.flags == expect->flags && c->h.seq == expect->seq &&
           (!(w->flags & TCP_FLAG_ACK) || c->h.ack == expect->ack) && c->h.wnd == expect->wnd &&
           c->len == w->len && (!w->opts_set || options_match(&c->h.opts, &w->opts));
}

const struct captured *script_expect_at(struct script *s, const struct seg *want,
                                        const char *file, int line)
{
    if (s->next_out == s->nout)
        harness_fail(file, line, "expected a segment from keel, none was sent");
    struct captured *c = &s->out[s->next_out++];
    if ((c->h.flags & TCP_FLAG_SYN) && !s->keel_isn && !want->abs_seq)
        s->keel_isn = c->h.seq;
    struct tcp_hdr expect;
    if (!segment_matches(s, c, want, &expect)) {
        char got_s[256], want_s[256];
        render(got_s, sizeof got_s, &c->h, c->len);
        render(want_s, sizeof want_s, &expect, want->len);
        harness_fail(file, line, "segment differs\n  got:  %s\n  want: %s", got_s, want_s);
    }
    return c;
}

void script_expect_none_at(struct script *s, const char *file, int line)
{
    if (s->next_out != s->nout) {
        char got_s[256];
        render(got_s, sizeof got_s, &s->out[s->next_out].h, s->out[s->next_out].len);
        harness_fail(file, line, "expected no segment, keel sent: %s", got_s);
    }
}

int script_pending(const struct script *s)
{
    return s->nout - s->next_out;
}

int script_state(struct script *s, int sock)
{
    struct keel_tcp_info i;
    if (keel_tcp_info(s->st, sock, &i) < 0)
        harness_fail(__FILE__, __LINE__, "no socket %d", sock);
    return i.state;
}

struct keel_tcp_info script_info(struct script *s, int sock)
{
    struct keel_tcp_info i;
    if (keel_tcp_info(s->st, sock, &i) < 0)
        harness_fail(__FILE__, __LINE__, "no socket %d", sock);
    return i;
}

static void note_peer_options(struct script *s, const struct tcp_opts *peer,
                              const struct tcp_opts *keel)
{
    bool ws = (peer->present & TCP_OPT_WSCALE) && (keel->present & TCP_OPT_WSCALE);
    s->peer_wscale = ws ? peer->wscale : 0;
    s->peer_ts = (peer->present & TCP_OPT_TS) && (keel->present & TCP_OPT_TS);
    s->peer_tsval = peer->tsval ? peer->tsval : s->peer_tsval;
}

int script_passive_open(struct script *s, const struct tcp_opts *opts)
{
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s->st, ls, &a), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    struct seg syn = {.flags = TCP_FLAG_SYN, .seq = 0, .opts = *opts};
    script_inject(s, &syn);
    const struct captured *sa = script_expect(s, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .seq = 0, .ack = 1);
    note_peer_options(s, opts, &sa->h.opts);
    script_send(s, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(keel_close(s->st, ls), 0);
    script_expect_none(s);
    return c;
}

int script_active_open(struct script *s, const struct tcp_opts *opts)
{
    return script_active_open_rtt(s, opts, 0);
}

int script_active_open_rtt(struct script *s, const struct tcp_opts *opts, uint64_t rtt_us)
{
    int c = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(s->st, c, &a), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(s, .flags = TCP_FLAG_SYN, .seq = 0);
    s->keel_port = syn->h.sport;
    s->peer_port = PEER_PORT;
    note_peer_options(s, opts, &syn->h.opts);
    if (rtt_us)
        script_advance(s, rtt_us);
    struct seg sa = {.flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .seq = 0, .ack = 1, .opts = *opts};
    script_inject(s, &sa);
    script_expect(s, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1);
    CHECK_EQ(script_state(s, c), KEEL_TCP_ESTABLISHED);
    return c;
}

void script_advance_to(struct script *s, uint64_t at_us)
{
    if (at_us < s->now_us)
        harness_fail(__FILE__, __LINE__, "time cannot go back (%llu < %llu)",
                     (unsigned long long)at_us, (unsigned long long)s->now_us);
    for (;;) {
        uint64_t d = keel_next_deadline(s->st);
        if (d > at_us || d <= s->now_us)
            break;
        script_advance(s, d - s->now_us);
    }
    script_advance(s, at_us - s->now_us);
}

const struct captured_raw *script_expect_raw_at(struct script *s, const char *file, int line)
{
    if (s->next_raw == s->nraw)
        harness_fail(file, line, "expected a non-TCP packet from keel, none was sent");
    return &s->raw[s->next_raw++];
}

int script_raw_pending(const struct script *s)
{
    return s->nraw - s->next_raw;
}

uint64_t script_counter(struct script *s, enum keel_counter_id id)
{
    struct keel_counters c;
    keel_counters(s->st, &c);
    return c.v[id];
}

void script_ack_sack(struct script *s, uint32_t ack, uint32_t left, uint32_t right)
{
    struct seg g = {.flags = TCP_FLAG_ACK, .seq = 1, .ack = ack};
    if (right) {
        g.opts.present = TCP_OPT_SACK;
        g.opts.sack_count = 1;
        g.opts.sack[0].left = s->keel_isn + left;
        g.opts.sack[0].right = s->keel_isn + right;
    }
    script_inject(s, &g);
}
