/* One-line, tcpdump/packetdrill-style rendering of a TCP segment. */
#include "wire/cursor.h"
#include "wire/wire.h"

#include <stdarg.h>
#include <stdio.h>

/* Appends to a bounded buffer, always NUL-terminated when cap > 0, while
 * counting the full length, as snprintf does. */
struct text {
    char *buf;
    size_t cap;
    size_t len;
};

__attribute__((format(printf, 2, 3)))
static void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    if (t->len < t->cap)
        n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    else
        n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static void add_endpoint(struct text *t, uint32_t addr, uint16_t port)
{
    text_add(t, "%u.%u.%u.%u:%u", (unsigned)(addr >> 24),
             (unsigned)(addr >> 16 & 0xff), (unsigned)(addr >> 8 & 0xff),
             (unsigned)(addr & 0xff), (unsigned)port);
}

/* Flag letters in tcpdump's (and packetdrill's) order: F S R P . U E W. */
static void add_flags(struct text *t, uint8_t flags)
{
    static const struct {
        uint8_t bit;
        char letter;
    } letters[] = {
        {TCP_FLAG_FIN, 'F'}, {TCP_FLAG_SYN, 'S'}, {TCP_FLAG_RST, 'R'},
        {TCP_FLAG_PSH, 'P'}, {TCP_FLAG_ACK, '.'}, {TCP_FLAG_URG, 'U'},
        {TCP_FLAG_ECE, 'E'}, {TCP_FLAG_CWR, 'W'},
    };

    if (flags == 0)
        text_add(t, "none");
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++)
        if (flags & letters[i].bit)
            text_add(t, "%c", letters[i].letter);
}

static void add_option(struct text *t, uint8_t kind, const struct tcp_opts *o,
                       uint8_t sack_blocks)
{
    switch (kind) {
    case TCPOPT_NOP: text_add(t, "nop"); break;
    case TCPOPT_MSS: text_add(t, "mss %u", (unsigned)o->mss); break;
    case TCPOPT_WSCALE: text_add(t, "wscale %u", (unsigned)o->wscale); break;
    case TCPOPT_SACK_PERM: text_add(t, "sackOK"); break;
    case TCPOPT_TIMESTAMP:
        text_add(t, "TS val %u ecr %u", (unsigned)o->tsval, (unsigned)o->tsecr);
        break;
    case TCPOPT_MD5SIG:
        text_add(t, "md5 ");
        for (int i = 0; i < TCP_MD5_DIGEST_LEN; i++)
            text_add(t, "%02x", (unsigned)o->md5[i]);
        break;
    case TCPOPT_FASTOPEN: /* packetdrill's spelling: FO, or FO and the cookie */
        text_add(t, "FO%s", o->fo_len ? " " : "");
        for (uint8_t i = 0; i < o->fo_len; i++)
            text_add(t, "%02x", (unsigned)o->fo_cookie[i]);
        break;
    case TCPOPT_SACK:
        text_add(t, "sack");
        for (uint8_t i = 0; i < sack_blocks; i++)
            text_add(t, " %u:%u", (unsigned)o->sack[i].left,
                     (unsigned)o->sack[i].right);
        break;
    }
}

/* Options rendered from the parsed struct in the order tcp_emit writes
 * them (which is Linux's order); nothing is printed when there are none. */
static void add_options(struct text *t, const struct tcp_opts *o)
{
    struct tcp_opt_layout l;

    tcp_opt_layout_build(o, &l);
    if (l.count == 0)
        return;
    text_add(t, " <");
    for (uint8_t i = 0; i < l.count; i++) {
        if (i > 0)
            text_add(t, ",");
        add_option(t, l.kinds[i], o, l.sack_blocks);
    }
    text_add(t, ">");
}

int tcp_format(char *buf, size_t cap, uint32_t src, uint32_t dst,
               const struct tcp_hdr *h, size_t payload_len)
{
    struct text t = {buf, cap, 0};

    if (cap > 0)
        buf[0] = '\0';
    add_endpoint(&t, src, h->sport);
    text_add(&t, " > ");
    add_endpoint(&t, dst, h->dport);
    text_add(&t, " ");
    add_flags(&t, h->flags);
    text_add(&t, " %u:%u(%zu)", (unsigned)h->seq,
             (unsigned)(uint32_t)(h->seq + payload_len), payload_len);
    if (h->flags & TCP_FLAG_ACK)
        text_add(&t, " ack %u", (unsigned)h->ack);
    text_add(&t, " win %u", (unsigned)h->wnd);
    add_options(&t, &h->opts);
    return (int)t.len;
}
