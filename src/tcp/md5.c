/* TCP MD5 signatures (RFC 2385): keys per peer address (Linux TCP_MD5SIG),
 * the inbound check of Linux tcp_inbound_hash, and the keys a passive
 * connection takes from its listener (tcp_v4_syn_recv_sock). */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcb.h"

struct tcp_md5_keys {
    uint8_t n;
    struct tcp_md5_key k[KEEL_TCP_MD5_MAX_KEYS];
};

const struct tcp_md5_key *tcp_md5_lookup(const struct tcb *tcb, uint32_t addr)
{
    for (uint8_t i = 0; i < tcb->md5->n; i++)
        if (tcb->md5->k[i].addr == addr)
            return &tcb->md5->k[i];
    return NULL;
}

static int md5_delete(struct tcb *tcb, uint32_t addr)
{
    const struct tcp_md5_key *key = tcp_md5_key_for(tcb, addr);
    if (!key)
        return KEEL_ENOENT;
    struct tcp_md5_keys *ks = tcb->md5;
    ks->k[key - ks->k] = ks->k[--ks->n];
    return 0;
}

static int md5_add(struct tcb *tcb, const struct keel_tcp_md5sig *m)
{
    if (!tcb->md5) {
        tcb->md5 = calloc(1, sizeof *tcb->md5);
        if (!tcb->md5)
            return KEEL_ENOMEM;
    }
    struct tcp_md5_keys *ks = tcb->md5;
    struct tcp_md5_key *key = (struct tcp_md5_key *)tcp_md5_lookup(tcb, m->addr);
    if (!key) {
        if (ks->n == KEEL_TCP_MD5_MAX_KEYS)
            return KEEL_ENOMEM;
        key = &ks->k[ks->n++];
    }
    key->addr = m->addr;
    key->len = m->key_len;
    memcpy(key->key, m->key, m->key_len);
    return 0;
}

/* Linux tcp_v4_parse_md5_keys: key length 0 deletes, above 80 is refused. */
int tcp_md5_set(struct tcb *tcb, const void *val, size_t len)
{
    struct keel_tcp_md5sig m;
    if (!val || len < sizeof m)
        return KEEL_EINVAL;
    memcpy(&m, val, sizeof m);
    if (m.key_len > KEEL_TCP_MD5SIG_MAXKEYLEN)
        return KEEL_EINVAL;
    int rc = m.key_len ? md5_add(tcb, &m) : md5_delete(tcb, m.addr);
    if (rc == 0 && tcb->pmtu)
        tcp_sync_mss(tcb, tcb->pmtu); /* the option's 20 bytes come or go */
    return rc;
}

bool tcp_md5_inherit(struct tcb *child, const struct tcb *listener)
{
    const struct tcp_md5_key *key = tcp_md5_key_for(listener, child->raddr);
    if (!key)
        return true;
    child->md5 = calloc(1, sizeof *child->md5);
    if (!child->md5)
        return false;
    child->md5->k[0] = *key;
    child->md5->n = 1;
    return true;
}

void tcp_md5_free(struct tcb *tcb)
{
    free(tcb->md5);
    tcb->md5 = NULL;
}

/* Compares without an early exit, so the time taken tells nothing about
 * how much of a forged digest was right. */
static bool digests_equal(const uint8_t *a, const uint8_t *b)
{
    uint8_t diff = 0;
    for (int i = 0; i < TCP_MD5_DIGEST_LEN; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

/* Linux tcp_inbound_hash and tcp_inbound_md5_hash (RFC 2385 §2.0: a
 * segment without a valid signature is dropped, and no reply is sent). */
bool tcp_md5_inbound_ok(struct tcb *tcb, const struct segment *s, const uint8_t *seg,
                        size_t len)
{
    const struct tcp_md5_key *key = tcp_md5_key_for(tcb, s->saddr);
    bool signed_seg = (s->h.opts.present & TCP_OPT_MD5) != 0;
    if (!key && !signed_seg)
        return true;
    if (!signed_seg) {
        CTR_INC(tcb->st, TCPMD5NotFound);
        return false;
    }
    if (!key) {
        CTR_INC(tcb->st, TCPMD5Unexpected);
        return false;
    }
    uint8_t want[TCP_MD5_DIGEST_LEN];
    tcp_md5_digest(seg, len, s->saddr, s->daddr, key->key, key->len, want);
    if (!digests_equal(want, s->h.opts.md5)) {
        CTR_INC(tcb->st, TCPMD5Failure);
        return false;
    }
    return true;
}
