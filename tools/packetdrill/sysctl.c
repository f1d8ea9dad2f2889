/* The Linux settings a script asks for. packetdrill scripts configure the
 * kernel with `sysctl` commands (common/defaults.sh, set_sysctls.py) before
 * their first event; run-suite.sh puts shims in their place that append
 * each setting ("net.ipv4.tcp_rmem=4096 540000 15728640") to a file instead
 * of touching the host; the ethtool shim records device.tso the same way,
 * the ip shim device.route.
 * The stack is created when the script first needs it, from the settings
 * keel (or its device) has a counterpart for; the rest are ignored. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kpd.h"

static void defaults(struct kpd_sysctls *s)
{
    memset(s, 0, sizeof *s);
    s->timestamps = s->sack = s->window_scaling = s->slow_start_after_idle = s->tso = s->ecn =
        s->fastopen = s->frto = -1;
}

/* "net/ipv4/tcp_sack" and "net.ipv4.tcp_sack" name the same setting. */
static const char *short_name(char *name)
{
    for (char *c = name; *c; c++)
        if (*c == '/')
            *c = '.';
    const char *prefix = "net.ipv4.";
    return strncmp(name, prefix, strlen(prefix)) == 0 ? name + strlen(prefix) : name;
}

static void triple(const char *v, uint32_t *def, uint32_t *max)
{
    unsigned long a = 0, b = 0, c = 0;
    char *end;
    a = strtoul(v, &end, 0);
    b = strtoul(end, &end, 0);
    c = strtoul(end, &end, 0);
    (void)a; /* the minimum: keel has no memory-pressure mode */
    if (b)
        *def = (uint32_t)b;
    if (c)
        *max = (uint32_t)c;
}

static void set_one(struct kpd_sysctls *s, const char *name, const char *v)
{
    uint32_t n = (uint32_t)strtoul(v, NULL, 0);
    if (strcmp(name, "tcp_rmem") == 0)
        triple(v, &s->rmem_default, &s->rmem_max);
    else if (strcmp(name, "tcp_wmem") == 0)
        triple(v, &s->wmem_default, &s->wmem_max);
    else if (strcmp(name, "tcp_notsent_lowat") == 0)
        s->notsent_lowat = n;
    else if (strcmp(name, "device.tso") == 0)
        s->tso = n != 0;
    else if (strcmp(name, "device.qdisc") == 0) /* the last one counts */
        s->fq = strcmp(v, "fq") == 0 || strncmp(v, "fq ", 3) == 0;
    else if (strcmp(name, "tcp_timestamps") == 0)
        s->timestamps = n != 0;
    else if (strcmp(name, "tcp_sack") == 0)
        s->sack = n != 0;
    else if (strcmp(name, "tcp_window_scaling") == 0)
        s->window_scaling = n != 0;
    else if (strcmp(name, "tcp_slow_start_after_idle") == 0)
        s->slow_start_after_idle = n != 0;
    else if (strcmp(name, "tcp_frto") == 0)
        s->frto = n != 0;
    else if (strcmp(name, "tcp_pacing_ss_ratio") == 0)
        s->pacing_ss_ratio = n;
    else if (strcmp(name, "tcp_pacing_ca_ratio") == 0)
        s->pacing_ca_ratio = n;
    else if (strcmp(name, "tcp_min_tso_segs") == 0)
        s->min_tso_segs = n;
    else if (strcmp(name, "tcp_syn_retries") == 0)
        s->syn_retries = n;
    else if (strcmp(name, "tcp_synack_retries") == 0)
        s->synack_retries = n;
    else if (strcmp(name, "tcp_retries2") == 0)
        s->retries2 = n;
    else if (strcmp(name, "tcp_fin_timeout") == 0)
        s->fin_timeout_s = n;
    else if (strcmp(name, "tcp_ecn") == 0)
        s->ecn = (int)n;
    else if (strcmp(name, "tcp_fastopen") == 0)
        s->fastopen = (int)n;
    else if (strcmp(name, "tcp_mtu_probing") == 0)
        s->mtu_probing = n;
    else if (strcmp(name, "tcp_base_mss") == 0)
        s->base_mss = n;
    else if (strcmp(name, "tcp_congestion_control") == 0 && strcmp(v, "cubic") == 0)
        snprintf(s->congestion, sizeof s->congestion, "cubic");
    else if (strcmp(name, "tcp_congestion_control") == 0 && strcmp(v, "reno") == 0)
        snprintf(s->congestion, sizeof s->congestion, "newreno");
}

void kpd_sysctls_read(const char *path, struct kpd_sysctls *s)
{
    defaults(s);
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *v = eq + 1;
        while (*v == ' ' || *v == '"')
            v++;
        v[strcspn(v, "\"")] = 0;
        set_one(s, short_name(line), v);
    }
    fclose(f);
}

void kpd_sysctls_apply(const struct kpd_sysctls *s, struct keel_config *cfg)
{
    cfg->rcvbuf = s->rmem_default;
    cfg->rcvbuf_max = s->rmem_max;
    cfg->sndbuf = s->wmem_default;
    cfg->sndbuf_max = s->wmem_max;
    cfg->notsent_lowat = s->notsent_lowat;
    cfg->no_timestamps = s->timestamps == 0;
    cfg->no_sack = s->sack == 0;
    cfg->no_window_scaling = s->window_scaling == 0;
    cfg->no_slow_start_after_idle = s->slow_start_after_idle == 0;
    cfg->no_frto = s->frto == 0;
    cfg->pacing = s->fq; /* Linux TCP paces when the qdisc is fq */
    cfg->pacing_ss_ratio = s->pacing_ss_ratio;
    cfg->pacing_ca_ratio = s->pacing_ca_ratio;
    cfg->min_tso_segs = s->min_tso_segs;
    cfg->syn_retries = s->syn_retries;
    cfg->synack_retries = s->synack_retries;
    cfg->retries2 = s->retries2;
    cfg->fin_timeout_us = s->fin_timeout_s * 1000000u;
    cfg->congestion_control = s->congestion[0] ? s->congestion : NULL;
    /* net.ipv4.tcp_ecn: 0 off, 1 ask and answer, 2 (the default) answer. */
    cfg->ecn = s->ecn == 0 ? KEEL_ECN_OFF : s->ecn == 1 ? KEEL_ECN_ON : KEEL_ECN_ACCEPT;
    /* net.ipv4.tcp_fastopen bit 0x1 (TFO_CLIENT_ENABLE, set by default). */
    cfg->no_fastopen_client = s->fastopen >= 0 && !(s->fastopen & 0x1);
    cfg->mtu_probing = (uint8_t)s->mtu_probing;
    cfg->base_mss = s->base_mss;
}

/* ---- routes (ip route) ----
 * device.route=OP DST [KEY VALUE]...: OP add, change or replace sets DST's
 * route (a host, A.B.C.D/LEN or default) with the metrics keel knows
 * (advmss N, mtu [lock] N, initcwnd N; others are left out), replacing all
 * of them, as ip does; del removes it. */

static bool route_dst(const char *tok, struct keel_route *r)
{
    unsigned a, b, c, d, len = 32;
    if (strcmp(tok, "default") == 0) {
        r->dst = 0;
        r->prefix_len = 0;
        return true;
    }
    int n = sscanf(tok, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &len);
    if (n < 4 || a > 255 || b > 255 || c > 255 || d > 255 || len > 32)
        return false;
    r->dst = a << 24 | b << 16 | c << 8 | d;
    r->prefix_len = (uint8_t)len;
    return true;
}

static void route_metric(struct keel_route *r, const char *key, char **save)
{
    char *v = strtok_r(NULL, " ", save);
    if (v && strcmp(key, "mtu") == 0 && strcmp(v, "lock") == 0) {
        r->mtu_locked = true;
        v = strtok_r(NULL, " ", save);
    }
    uint32_t n = v ? (uint32_t)strtoul(v, NULL, 0) : 0;
    if (strcmp(key, "advmss") == 0)
        r->advmss = (uint16_t)n;
    else if (strcmp(key, "mtu") == 0)
        r->mtu = (uint16_t)n;
    else if (strcmp(key, "initcwnd") == 0)
        r->initcwnd = n;
}

static void route_apply(keel_stack *st, char *v)
{
    struct keel_route r;
    memset(&r, 0, sizeof r);
    char *save = NULL;
    char *op = strtok_r(v, " ", &save);
    char *tok = strtok_r(NULL, " ", &save);
    if (tok && strcmp(tok, "to") == 0)
        tok = strtok_r(NULL, " ", &save);
    if (!op || !tok || !route_dst(tok, &r))
        return;
    if (strncmp(op, "del", 3) == 0) {
        keel_route_del(st, r.dst, r.prefix_len);
        return;
    }
    while ((tok = strtok_r(NULL, " ", &save)))
        route_metric(&r, tok, &save);
    keel_route_set(st, &r);
}

void kpd_routes_apply(struct kpd *p)
{
    FILE *f = p->st && p->sysctl_path[0] ? fopen(p->sysctl_path, "r") : NULL;
    if (!f)
        return;
    const char *key = "device.route=";
    char line[512];
    fseek(f, p->routes_read, SEEK_SET);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, key, strlen(key)) == 0)
            route_apply(p->st, line + strlen(key));
    }
    p->routes_read = ftell(f);
    fclose(f);
}

/* ---- the device's queue discipline (tc) ----
 * `tc qdisc add dev tun0 root pfifo limit 0` comes while the script runs,
 * after the stack exists: the tc shim appends device.qdisc=KIND [LIMIT] to
 * the settings file, and the device reads the last such line again whenever
 * the file has changed size. keel-packetdrill's device holds no packets
 * (each goes to packetdrill at once), so its queue is always empty: a pfifo
 * refuses a packet only with a limit of 0, a bfifo one larger than its
 * limit, as Linux's qdiscs drop what does not fit (NET_XMIT_DROP). */

static void qdisc_parse(struct kpd_qdisc *q, const char *v)
{
    char kind[32] = "";
    long limit = -1;
    sscanf(v, "%31s %ld", kind, &limit);
    q->limit_packets = strcmp(kind, "pfifo") == 0 ? limit : -1;
    q->limit_bytes = strcmp(kind, "bfifo") == 0 ? limit : -1;
}

static void qdisc_read(const char *path, struct kpd_qdisc *q)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    const char *key = "device.qdisc=";
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, key, strlen(key)) == 0)
            qdisc_parse(q, line + strlen(key));
    }
    fclose(f);
}

bool kpd_qdisc_refuses(struct kpd *p, size_t len)
{
    struct stat sb;
    struct kpd_qdisc *q = &p->qdisc;
    if (p->sysctl_path[0] && stat(p->sysctl_path, &sb) == 0 &&
        (long long)sb.st_size != q->settings_size) {
        q->settings_size = (long long)sb.st_size;
        q->limit_packets = q->limit_bytes = -1;
        qdisc_read(p->sysctl_path, q);
    }
    return q->limit_packets == 0 || (q->limit_bytes >= 0 && len > (size_t)q->limit_bytes);
}
