/* libkeel-packetdrill without packetdrill: the table driven as packetdrill
 * drives it (packets in and out as raw IPv4, virtual time, a second thread
 * for blocking calls), checking the Linux answers a script would check. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <time.h> /* before linux/errqueue.h */
#include <unistd.h>

#include <linux/errqueue.h>

#include "harness.h"
#include "kpd.h"
#include "linux_tcp_info.h"
#include "pd_abi.h"
#include "wire/wire.h"

#define LOCAL 0xc6120001u  /* 198.18.0.1 */
#define REMOTE 0xc0000201u /* 192.0.2.1 */
#define LPORT 8080
#define RPORT 45000
#define PEER_ISN 1000u

struct rig {
    struct kpd_table t;
    uint32_t keel_isn;
};

static void rig_init(struct rig *r, const char *flags)
{
    packetdrill_interface_init(flags ? flags : "local_ip=198.18.0.1", &r->t);
    r->keel_isn = 0;
}

static void rig_free(struct rig *r)
{
    r->t.release(r->t.ctx);
}

static void inject_urgent(struct rig *r, uint8_t flags, uint32_t seq, uint32_t ack,
                          const char *data, const struct tcp_opts *opts, uint16_t urp);

/* The peer sends a segment (seq and ack relative to the ISNs). */
static void inject(struct rig *r, uint8_t flags, uint32_t seq, uint32_t ack, const char *data,
                   const struct tcp_opts *opts)
{
    inject_urgent(r, flags, seq, ack, data, opts, 0);
}

/* The same, with an urgent pointer. */
static void inject_urgent(struct rig *r, uint8_t flags, uint32_t seq, uint32_t ack,
                          const char *data, const struct tcp_opts *opts, uint16_t urp)
{
    uint8_t pkt[2048];
    struct tcp_hdr h;
    memset(&h, 0, sizeof h);
    h.sport = RPORT;
    h.dport = LPORT;
    h.seq = PEER_ISN + seq;
    h.ack = r->keel_isn + ack;
    h.flags = flags;
    h.wnd = 65535;
    h.urp = urp;
    if (opts)
        h.opts = *opts;
    size_t dlen = data ? strlen(data) : 0;
    size_t hlen = tcp_hdr_len(&h);
    memcpy(pkt + IPV4_HDR_LEN + hlen, data ? data : "", dlen);
    tcp_emit(pkt + IPV4_HDR_LEN, hlen + dlen, &h, REMOTE, LOCAL);
    struct ipv4_hdr ip = {.ttl = 64, .proto = IPV4_PROTO_TCP, .src = REMOTE, .dst = LOCAL};
    ipv4_emit(pkt, &ip, hlen + dlen);
    CHECK_EQ(r->t.to_stack(r->t.ctx, pkt, IPV4_HDR_LEN + hlen + dlen), 0);
}

struct out {
    struct tcp_hdr h;
    size_t len;
    long long at_us;
};

/* The next packet keel sends (fails if the wait fails). */
static struct out sniff(struct rig *r)
{
    uint8_t pkt[70000];
    size_t len = sizeof pkt;
    struct out o;
    memset(&o, 0, sizeof o);
    CHECK_EQ(r->t.from_stack(r->t.ctx, pkt, &len, &o.at_us), 0);
    CHECK(len > 0);
    struct ipv4_hdr ip;
    const uint8_t *seg, *data;
    size_t slen;
    CHECK_EQ(ipv4_parse(pkt, len, &ip, &seg, &slen), WIRE_OK);
    CHECK_EQ(tcp_parse(seg, slen, ip.src, ip.dst, true, &o.h, &data, &o.len), WIRE_OK);
    return o;
}

static const struct tcp_opts SYN_OPTS = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM |
                                                    TCP_OPT_WSCALE,
                                         .mss = 1000, .wscale = 7};

static int listener(struct rig *r)
{
    int fd = r->t.socket(r->t.ctx, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LPORT),
                            .sin_addr.s_addr = htonl(LOCAL)};
    CHECK_EQ(r->t.bind(r->t.ctx, fd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(r->t.listen(r->t.ctx, fd, 1), 0);
    return fd;
}

/* Passive open; returns the accepted fd. */
static int established(struct rig *r)
{
    int lfd = listener(r);
    inject(r, TCP_FLAG_SYN, 0, 0, NULL, &SYN_OPTS);
    struct out o = sniff(r);
    CHECK_EQ(o.h.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
    r->keel_isn = o.h.seq;
    inject(r, TCP_FLAG_ACK, 1, 1, NULL, NULL);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = r->t.accept(r->t.ctx, lfd, (struct sockaddr *)&peer, &plen);
    CHECK(fd >= 0);
    CHECK_EQ(plen, sizeof peer);
    CHECK_EQ(ntohs(peer.sin_port), RPORT);
    return fd;
}

/* The table has packetdrill's 33 slots in packetdrill's order. */
TEST(table_layout)
{
    CHECK_EQ(sizeof(struct kpd_table), 33 * sizeof(void *));
    CHECK_EQ(offsetof(struct kpd_table, socket), 2 * sizeof(void *));
    CHECK_EQ(offsetof(struct kpd_table, poll), 23 * sizeof(void *));
    CHECK_EQ(offsetof(struct kpd_table, to_stack), 24 * sizeof(void *));
    CHECK_EQ(offsetof(struct kpd_table, now), 27 * sizeof(void *));
    CHECK_EQ(offsetof(struct kpd_table, splice), 32 * sizeof(void *));
}

/* A handshake, data both ways, TCP_INFO in Linux's layout. */
TEST(handshake_data_and_tcp_info)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    inject(&r, TCP_FLAG_ACK | TCP_FLAG_PSH, 1, 1, "hello", NULL);
    struct out ack = sniff(&r);
    CHECK_EQ(ack.h.ack, PEER_ISN + 6);
    char buf[16] = {0};
    CHECK_EQ(r.t.read(r.t.ctx, fd, buf, sizeof buf), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(r.t.write(r.t.ctx, fd, "world", 5), 5);
    struct out data = sniff(&r);
    CHECK_EQ(data.len, 5);
    struct linux_tcp_info li;
    socklen_t len = sizeof li;
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, IPPROTO_TCP, TCP_INFO, &li, &len), 0);
    CHECK_EQ(len, 248);
    CHECK_EQ(li.state, 1);
    CHECK_EQ(li.snd_mss, 1000);
    CHECK_EQ(li.snd_cwnd, 10);
    CHECK_EQ(li.unacked, 1);
    CHECK_EQ(li.options, LTI_OPT_SACK | LTI_OPT_WSCALE);
    CHECK_EQ(li.wscales & 0xf, 7);
    CHECK_EQ(li.advmss, 1460);
    CHECK_EQ(li.data_segs_in, 1);
    CHECK_EQ(li.data_segs_out, 1);
    CHECK_EQ(li.busy_time, 0);
    /* Ages in milliseconds, from keel's times (tcp_info's last_*). */
    CHECK_EQ(r.t.sleep_us(r.t.ctx, 25000), 0);
    len = sizeof li;
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, IPPROTO_TCP, TCP_INFO, &li, &len), 0);
    CHECK_EQ(li.last_data_recv_ms, 25);
    CHECK_EQ(li.last_data_sent_ms, 25);
    CHECK_EQ(li.last_ack_recv_ms, 25);
    CHECK_EQ(li.busy_time, 25000);
    rig_free(&r);
}

/* Packets carry virtual time: a SYN nobody answers is sent again exactly
 * one initial RTO (1 s) later, and the wait for it takes no real time. */
TEST(virtual_time_retransmission)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = r.t.socket(r.t.ctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(RPORT),
                            .sin_addr.s_addr = htonl(REMOTE)};
    CHECK_EQ(r.t.connect(r.t.ctx, fd, (struct sockaddr *)&a, sizeof a), -1);
    CHECK_EQ(errno, EINPROGRESS);
    struct out syn = sniff(&r);
    struct out again = sniff(&r);
    CHECK_EQ(again.h.seq, syn.h.seq);
    CHECK_EQ(again.at_us - syn.at_us, 1000000);
    struct timeval tv;
    r.t.now(r.t.ctx, &tv, NULL);
    CHECK_EQ((long long)tv.tv_sec * 1000000 + tv.tv_usec, again.at_us + 1);
    rig_free(&r);
}

struct reader {
    struct rig *r;
    int fd;
    long got;
    char buf[16];
};

static void *read_thread(void *arg)
{
    struct reader *rd = arg;
    rd->got = rd->r->t.read(rd->r->t.ctx, rd->fd, rd->buf, sizeof rd->buf);
    return NULL;
}

/* A blocking read in another thread (packetdrill's system-call thread)
 * returns with the data the main thread injects, before to_stack returns. */
TEST(blocking_read_woken_by_packet)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    struct reader rd = {.r = &r, .fd = fd};
    pthread_t th;
    pthread_create(&th, NULL, read_thread, &rd);
    r.t.sleep_us(r.t.ctx, 10000); /* gives the reader time to block (real time too) */
    usleep(20000);
    inject(&r, TCP_FLAG_ACK | TCP_FLAG_PSH, 1, 1, "abc", NULL);
    pthread_join(th, NULL);
    CHECK_EQ(rd.got, 3);
    CHECK(memcmp(rd.buf, "abc", 3) == 0);
    rig_free(&r);
}

/* A call the script runs on the main thread must not hang packetdrill: a
 * read with nothing to read fails with EAGAIN instead of blocking forever. */
TEST(main_thread_never_blocks)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    char buf[4];
    CHECK_EQ(r.t.read(r.t.ctx, fd, buf, sizeof buf), -1);
    CHECK_EQ(errno, EAGAIN);
    rig_free(&r);
}

TEST(fcntl_ioctl_and_errors)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    CHECK_EQ(r.t.fcntl(r.t.ctx, fd, F_GETFL), O_RDWR);
    CHECK_EQ(r.t.fcntl(r.t.ctx, fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    CHECK_EQ(r.t.fcntl(r.t.ctx, fd, F_GETFL), O_RDWR | O_NONBLOCK);
    inject(&r, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN, 1, 1, "abcd", NULL);
    sniff(&r);
    int inq = -1;
    CHECK_EQ(r.t.ioctl(r.t.ctx, fd, 0x541B /* SIOCINQ */, &inq), 0);
    CHECK_EQ(inq, 4); /* the FIN is not counted */
    CHECK_EQ(r.t.close(r.t.ctx, 999), -1);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(r.t.socket(r.t.ctx, AF_INET6, SOCK_STREAM, 0), -1);
    CHECK_EQ(errno, EAFNOSUPPORT);
    int v = 0;
    socklen_t len = sizeof v;
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, SOL_SOCKET, 4242, &v, &len), -1);
    CHECK_EQ(errno, ENOPROTOOPT);
    rig_free(&r);
}

/* Edge-triggered epoll reports each arrival once (epoll_in_edge.pkt). */
TEST(epoll_edge_triggered)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    int ep = r.t.epoll_create(r.t.ctx, 1);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = fd};
    CHECK_EQ(r.t.epoll_ctl(r.t.ctx, ep, EPOLL_CTL_ADD, fd, &ev), 0);
    struct epoll_event got[2];
    CHECK_EQ(r.t.epoll_wait(r.t.ctx, ep, got, 2, 0), 1);
    CHECK_EQ(got[0].events, EPOLLOUT);
    CHECK_EQ(r.t.epoll_wait(r.t.ctx, ep, got, 2, 0), 0);
    inject(&r, TCP_FLAG_ACK | TCP_FLAG_PSH, 1, 1, "abcd", NULL);
    CHECK_EQ(r.t.epoll_wait(r.t.ctx, ep, got, 2, 0), 1);
    CHECK_EQ(got[0].events, EPOLLIN | EPOLLOUT);
    CHECK_EQ(got[0].data.fd, fd);
    CHECK_EQ(r.t.epoll_wait(r.t.ctx, ep, got, 2, 0), 0);
    rig_free(&r);
}

/* Settings recorded by the sysctl shims shape the stack: no timestamps,
 * the window scale of a 15 MB tcp_rmem. */
TEST(sysctls_applied)
{
    char path[] = "/tmp/keel-pd-selftest-XXXXXX";
    int tfd = mkstemp(path);
    CHECK(tfd >= 0);
    const char *text = "net.ipv4.tcp_rmem=4096 540000 15728640\nnet/ipv4/tcp_timestamps=0\n";
    CHECK_EQ(write(tfd, text, strlen(text)), (long)strlen(text));
    close(tfd);
    char flags[128];
    snprintf(flags, sizeof flags, "local_ip=198.18.0.1,sysctls=%s", path);
    struct rig r;
    rig_init(&r, flags);
    listener(&r);
    struct tcp_opts opts = SYN_OPTS;
    opts.present |= TCP_OPT_TS;
    opts.tsval = 5;
    inject(&r, TCP_FLAG_SYN, 0, 0, NULL, &opts);
    struct out o = sniff(&r);
    CHECK(!(o.h.opts.present & TCP_OPT_TS));
    CHECK_EQ(o.h.opts.wscale, 8);
    rig_free(&r);
    unlink(path);
}

/* SO_TIMESTAMPING reports come back as Linux's recvmsg(MSG_ERRQUEUE) gives
 * them: SCM_TIMESTAMPING with the software time in ts[0], then IP_RECVERR
 * (ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, the type in ee_info, the OPT_ID key
 * in ee_data); the looped-back data is reported cut off (MSG_TRUNC). */
TEST(errqueue_timestamps_as_cmsgs)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID;
    CHECK_EQ(r.t.setsockopt(r.t.ctx, fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags), 0);
    CHECK_EQ(r.t.write(r.t.ctx, fd, "world", 5), 5);
    struct out data = sniff(&r);
    union {
        char buf[256];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_control = control.buf, .msg_controllen = sizeof control.buf};
    CHECK_EQ(r.t.recvmsg(r.t.ctx, fd, &msg, MSG_ERRQUEUE), 0);
    CHECK_EQ(msg.msg_flags, MSG_ERRQUEUE | MSG_TRUNC);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING);
    struct scm_timestamping ts;
    memcpy(&ts, CMSG_DATA(c), sizeof ts);
    CHECK_EQ(ts.ts[0].tv_sec * 1000000LL + ts.ts[0].tv_nsec / 1000, data.at_us);
    c = CMSG_NXTHDR(&msg, c);
    CHECK(c && c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR);
    CHECK_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)));
    struct sock_extended_err ee;
    memcpy(&ee, CMSG_DATA(c), sizeof ee);
    CHECK_EQ(ee.ee_errno, ENOMSG);
    CHECK_EQ(ee.ee_origin, SO_EE_ORIGIN_TIMESTAMPING);
    CHECK_EQ(ee.ee_info, SCM_TSTAMP_SND);
    CHECK_EQ(ee.ee_data, 4);
    CHECK(CMSG_NXTHDR(&msg, c) == NULL);
    msg.msg_controllen = sizeof control.buf;
    CHECK_EQ(r.t.recvmsg(r.t.ctx, fd, &msg, MSG_ERRQUEUE), -1);
    CHECK_EQ(errno, EAGAIN);
    rig_free(&r);
}

/* TCP_MD5SIG takes Linux's struct tcp_md5sig; a signed segment from a peer
 * without a key is dropped (the handshake's ACK does not complete it). */
TEST(md5sig_struct_and_unexpected_signature)
{
    struct rig r;
    rig_init(&r, NULL);
    int lfd = listener(&r);
    struct tcp_md5sig m;
    memset(&m, 0, sizeof m);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(REMOTE + 1)};
    memcpy(&m.tcpm_addr, &peer, sizeof peer);
    m.tcpm_keylen = 3;
    memcpy(m.tcpm_key, "key", 3);
    CHECK_EQ(r.t.setsockopt(r.t.ctx, lfd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof m), 0);
    m.tcpm_keylen = 81;
    CHECK_EQ(r.t.setsockopt(r.t.ctx, lfd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof m), -1);
    CHECK_EQ(errno, EINVAL);
    inject(&r, TCP_FLAG_SYN, 0, 0, NULL, &SYN_OPTS);
    struct out o = sniff(&r);
    CHECK_EQ(o.h.opts.present & TCP_OPT_MD5, 0); /* the key is another peer's */
    r.keel_isn = o.h.seq;
    struct tcp_opts md5 = {.present = TCP_OPT_MD5};
    inject(&r, TCP_FLAG_ACK, 1, 1, NULL, &md5);
    CHECK_EQ(r.t.fcntl(r.t.ctx, lfd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    CHECK_EQ(r.t.accept(r.t.ctx, lfd, NULL, NULL), -1);
    CHECK_EQ(errno, EAGAIN);
    inject(&r, TCP_FLAG_ACK, 1, 1, NULL, NULL);
    CHECK(r.t.accept(r.t.ctx, lfd, NULL, NULL) >= 0);
    rig_free(&r);
}

/* With proc_net=DIR, each command a script runs (system()) first finds
 * keel's sockets in DIR/tcp in /proc/net/tcp's format: a listener on 8080
 * is state 0A, port 1F90; DIR/tcp6 has only the header. */
TEST(proc_net_tcp_written_before_commands)
{
    char dir[] = "/tmp/keel-pd-selftest.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char flags[128], path[160], line[256];
    snprintf(flags, sizeof flags, "local_ip=198.18.0.1,proc_net=%s", dir);
    struct rig r;
    rig_init(&r, flags);
    listener(&r);
    CHECK_EQ(system("true"), 0);
    snprintf(path, sizeof path, "%s/tcp", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK(strncmp(line, "  sl  local_address rem_address   st", 36) == 0);
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK(strstr(line, "   0: 010012C6:1F90 00000000:0000 0A ") == line);
    CHECK(fgets(line, sizeof line, f) == NULL);
    fclose(f);
    unlink(path);
    snprintf(path, sizeof path, "%s/tcp6", dir);
    f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK(fgets(line, sizeof line, f) == NULL);
    fclose(f);
    unlink(path);
    rmdir(dir);
    rig_free(&r);
}

/* The next packet keel sends, with its payload copied to data. */
static size_t sniff_payload(struct rig *r, uint8_t *data, size_t cap)
{
    uint8_t pkt[70000];
    size_t len = sizeof pkt;
    long long at;
    CHECK_EQ(r->t.from_stack(r->t.ctx, pkt, &len, &at), 0);
    struct ipv4_hdr ip;
    struct tcp_hdr h;
    const uint8_t *seg, *payload;
    size_t slen, plen;
    CHECK_EQ(ipv4_parse(pkt, len, &ip, &seg, &slen), WIRE_OK);
    CHECK_EQ(tcp_parse(seg, slen, ip.src, ip.dst, true, &h, &payload, &plen), WIRE_OK);
    CHECK(plen <= cap);
    memcpy(data, payload, plen);
    return plen;
}

/* A host file of n bytes, byte k being 'a' + k % 26; returns its fd. */
static int pattern_file(char *path, size_t n)
{
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    for (size_t k = 0; k < n; k++) {
        char c = (char)('a' + k % 26);
        CHECK_EQ(write(fd, &c, 1), 1);
    }
    return fd;
}

/* sendfile(2) to a keel socket (interpose.c): with an offset it reads from
 * there and advances the offset, not the file position; without one it
 * reads from the file position and advances that; at the end of the file
 * it sends what is left. */
TEST(sendfile_to_keel_socket)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    char path[] = "/tmp/keel-pd-sendfile-XXXXXX";
    int file = pattern_file(path, 100);
    off_t off = 30;
    CHECK_EQ(sendfile(fd, file, &off, 5), 5);
    CHECK_EQ(off, 35);
    uint8_t data[64];
    CHECK_EQ(sniff_payload(&r, data, sizeof data), 5);
    CHECK(memcmp(data, "efghi", 5) == 0);
    CHECK_EQ(lseek(file, 0, SEEK_CUR), 100);

    CHECK_EQ(lseek(file, 95, SEEK_SET), 95);
    CHECK_EQ(sendfile(fd, file, NULL, 20), 5);
    CHECK_EQ(lseek(file, 0, SEEK_CUR), 100);
    CHECK_EQ(sendfile(fd, file, NULL, 20), 0);
    rig_free(&r);
    close(file);
    unlink(path);
}

/* Linux's errors: a file not open for reading (EBADF), a negative offset
 * (EINVAL); and a descriptor that is not keel's goes to the C library. */
TEST(sendfile_errors)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    char path[] = "/tmp/keel-pd-sendfile-XXXXXX";
    int file = pattern_file(path, 10);
    int wronly = open(path, O_WRONLY);
    off_t off = 0;
    CHECK_EQ(sendfile(fd, wronly, &off, 5), -1);
    CHECK_EQ(errno, EBADF);
    off = -1;
    CHECK_EQ(sendfile(fd, file, &off, 5), -1);
    CHECK_EQ(errno, EINVAL);
    int pipefd[2];
    CHECK_EQ(pipe(pipefd), 0);
    off = 0;
    CHECK_EQ(sendfile(pipefd[1], file, &off, 4), 4); /* the host's own sendfile */
    char got[4];
    CHECK_EQ(read(pipefd[0], got, 4), 4);
    CHECK(memcmp(got, "abcd", 4) == 0);
    close(pipefd[0]);
    close(pipefd[1]);
    close(wronly);
    close(file);
    unlink(path);
    rig_free(&r);
}

/* The zerocopy completion waiting on fd's error queue: its id range, or
 * -1 in *lo when recvmsg(MSG_ERRQUEUE) says EAGAIN. */
static void zerocopy_completion(struct rig *r, int fd, long *lo, long *hi)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in))];
    } control;
    struct iovec iov = {NULL, 0};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    *lo = *hi = -1;
    if (r->t.recvmsg(r->t.ctx, fd, &msg, MSG_ERRQUEUE) < 0) {
        CHECK_EQ(errno, EAGAIN);
        return;
    }
    CHECK_EQ(msg.msg_flags, MSG_ERRQUEUE);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    CHECK(c != NULL);
    CHECK_EQ(c->cmsg_level, IPPROTO_IP);
    CHECK_EQ(c->cmsg_type, IP_RECVERR);
    CHECK_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)));
    struct sock_extended_err ee;
    memcpy(&ee, CMSG_DATA(c), sizeof ee);
    CHECK_EQ(ee.ee_errno, 0);
    CHECK_EQ(ee.ee_origin, SO_EE_ORIGIN_ZEROCOPY);
    CHECK_EQ(ee.ee_code, SO_EE_CODE_ZEROCOPY_COPIED);
    *lo = ee.ee_info;
    *hi = ee.ee_data;
}

static short poll_events(struct rig *r, int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    r->t.poll(r->t.ctx, &pfd, 1, 0);
    return pfd.revents;
}

/* SO_ZEROCOPY and MSG_ZEROCOPY (zerocopy.c): keel copies, so each send
 * completes at once as Linux reports a copied one: consecutive sends share
 * one notification, an empty or plain send takes no id, the error queue
 * makes the socket POLLERR, and an accepted socket inherits the option. */
TEST(zerocopy_completions)
{
    struct rig r;
    rig_init(&r, NULL);
    int lfd = listener(&r);
    int one = 1, two = 2, v = -1;
    socklen_t len = sizeof v;
    CHECK_EQ(r.t.setsockopt(r.t.ctx, lfd, SOL_SOCKET, SO_ZEROCOPY, &two, sizeof two), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(r.t.setsockopt(r.t.ctx, lfd, SOL_SOCKET, SO_ZEROCOPY, &one, 1), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(r.t.setsockopt(r.t.ctx, lfd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one), 0);
    inject(&r, TCP_FLAG_SYN, 0, 0, NULL, &SYN_OPTS);
    r.keel_isn = sniff(&r).h.seq;
    inject(&r, TCP_FLAG_ACK, 1, 1, NULL, NULL);
    int fd = r.t.accept(r.t.ctx, lfd, NULL, NULL);
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, SOL_SOCKET, SO_ZEROCOPY, &v, &len), 0);
    CHECK_EQ(v, 1);

    long lo, hi;
    CHECK_EQ(r.t.send(r.t.ctx, fd, "", 0, MSG_ZEROCOPY), 0);
    CHECK_EQ(r.t.send(r.t.ctx, fd, "abc", 3, 0), 3);
    zerocopy_completion(&r, fd, &lo, &hi);
    CHECK_EQ(lo, -1);
    CHECK_EQ(poll_events(&r, fd) & POLLERR, 0);
    CHECK_EQ(r.t.send(r.t.ctx, fd, "defg", 4, MSG_ZEROCOPY), 4);
    CHECK_EQ(r.t.send(r.t.ctx, fd, "hi", 2, MSG_ZEROCOPY), 2);
    CHECK(poll_events(&r, fd) & POLLERR);
    zerocopy_completion(&r, fd, &lo, &hi);
    CHECK_EQ(lo, 0);
    CHECK_EQ(hi, 1);
    CHECK_EQ(poll_events(&r, fd) & POLLERR, 0);
    CHECK_EQ(r.t.send(r.t.ctx, fd, "j", 1, MSG_ZEROCOPY), 1);
    zerocopy_completion(&r, fd, &lo, &hi);
    CHECK_EQ(lo, 2);
    CHECK_EQ(hi, 2);
    rig_free(&r);
}

static void append_line(const char *path, const char *line)
{
    FILE *f = fopen(path, "a");
    CHECK(f != NULL);
    fprintf(f, "%s\n", line);
    fclose(f);
}

/* `tc qdisc add dev tun0 root pfifo limit 0`, as the tc shim records it
 * while the script runs: the device refuses every packet, so keel's data
 * stays unsent (its probes refused too) until the qdisc goes; the next
 * probe then carries the data. */
TEST(qdisc_limit_0_refuses_packets)
{
    char path[] = "/tmp/keel-pd-qdisc-XXXXXX";
    int tfd = mkstemp(path);
    CHECK(tfd >= 0);
    close(tfd);
    char flags[128];
    snprintf(flags, sizeof flags, "local_ip=198.18.0.1,sysctls=%s", path);
    struct rig r;
    rig_init(&r, flags);
    int fd = established(&r);
    append_line(path, "device.qdisc=none");
    append_line(path, "device.qdisc=pfifo 0");
    CHECK_EQ(r.t.write(r.t.ctx, fd, "abc", 3), 3);
    struct linux_tcp_info li;
    socklen_t len = sizeof li;
    CHECK_EQ(r.t.sleep_us(r.t.ctx, 1500000), 0); /* probes at 0.2 s (the RTO), 0.7, 1.2 */
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, IPPROTO_TCP, TCP_INFO, &li, &len), 0);
    CHECK_EQ(li.unacked, 0);
    CHECK_EQ(li.probes, 3);
    append_line(path, "device.qdisc=pfifo");
    struct out data = sniff(&r);
    CHECK_EQ(data.len, 3);
    CHECK_EQ(data.h.seq, r.keel_isn + 1);
    rig_free(&r);
    unlink(path);
}

/* `tc qdisc replace dev tun0 root fq` before the stack exists (the
 * scripts' setup): keel paces, as Linux TCP does over fq; the last qdisc
 * recorded counts. */
TEST(qdisc_fq_turns_pacing_on)
{
    char path[] = "/tmp/keel-pd-fq-XXXXXX";
    int tfd = mkstemp(path);
    CHECK(tfd >= 0);
    close(tfd);
    struct kpd_sysctls sc;
    struct keel_config cfg = {0};
    append_line(path, "device.qdisc=fq");
    kpd_sysctls_read(path, &sc);
    kpd_sysctls_apply(&sc, &cfg);
    CHECK(cfg.pacing);
    append_line(path, "device.qdisc=pfifo");
    kpd_sysctls_read(path, &sc);
    kpd_sysctls_apply(&sc, &cfg);
    CHECK(!cfg.pacing);
    unlink(path);
}

/* `ip route change 192.0.2.1 via 192.168.0.2 dev tun0 advmss 600 mtu lock
 * 640 initcwnd 11` and `ethtool -K tun0 tso off`, as the shims record them
 * (mtu_probe/basic-v4): the route is applied when the stack is created
 * (the SYN-ACK offers 600, cwnd starts at 11 segments) and a later one when
 * the script's command returns (system()), reaching the connection with
 * its next transmission; offload packets reach packetdrill cut into MSS
 * segments, PSH on the last. */
TEST(ip_route_and_tso_off)
{
    char path[] = "/tmp/keel-pd-route-XXXXXX";
    int tfd = mkstemp(path);
    CHECK(tfd >= 0);
    close(tfd);
    append_line(path, "device.route=change 192.0.2.1 via 192.168.0.2 dev tun0 advmss 600 "
                      "mtu lock 640 initcwnd 11");
    append_line(path, "device.tso=0");
    char flags[128];
    snprintf(flags, sizeof flags, "local_ip=198.18.0.1,sysctls=%s", path);
    struct rig r;
    rig_init(&r, flags);
    int lfd = listener(&r);
    inject(&r, TCP_FLAG_SYN, 0, 0, NULL, &SYN_OPTS);
    struct out sa = sniff(&r);
    CHECK_EQ(sa.h.opts.mss, 600);
    r.keel_isn = sa.h.seq;
    inject(&r, TCP_FLAG_ACK, 1, 1, NULL, NULL);
    int fd = r.t.accept(r.t.ctx, lfd, NULL, NULL);
    CHECK(fd >= 0);
    struct linux_tcp_info li;
    socklen_t len = sizeof li;
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, IPPROTO_TCP, TCP_INFO, &li, &len), 0);
    CHECK_EQ(li.snd_mss, 600);
    CHECK_EQ(li.snd_cwnd, 11);
    append_line(path, "device.route=change 192.0.2.1 via 192.168.0.2 dev tun0 advmss 1460 "
                      "mtu lock 1500");
    CHECK_EQ(system("true"), 0);
    static char buf[1800];
    CHECK_EQ(r.t.write(r.t.ctx, fd, buf, sizeof buf), (long)sizeof buf);
    for (int k = 0; k < 3; k++) {
        struct out o = sniff(&r);
        CHECK_EQ(o.len, 600);
        CHECK_EQ(o.h.seq, r.keel_isn + 1 + 600 * (uint32_t)k);
        CHECK_EQ(!!(o.h.flags & TCP_FLAG_PSH), k == 2);
    }
    inject(&r, TCP_FLAG_ACK, 1, 1801, NULL, NULL);
    CHECK_EQ(r.t.getsockopt(r.t.ctx, fd, IPPROTO_TCP, TCP_INFO, &li, &len), 0);
    CHECK_EQ(li.snd_mss, 1000);
    rig_free(&r);
    unlink(path);
}

/* pipe() gives host pipe ends that close, read and write reach; splice()
 * moves a keel socket's bytes into a pipe and a pipe's into the socket,
 * refusing an offset on the socket (ESPIPE) and two non-pipes (EINVAL). */
TEST(pipe_and_splice)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    int pfd[2];
    CHECK_EQ(r.t.pipe(r.t.ctx, pfd), 0);
    inject(&r, TCP_FLAG_ACK | TCP_FLAG_PSH, 1, 1, "spliced!", NULL);
    sniff(&r); /* the ACK */
    loff_t none = 0, some = 5;
    CHECK_EQ(r.t.splice(r.t.ctx, fd, &none, pfd[1], &none, 3, 0), 3);
    CHECK_EQ(r.t.splice(r.t.ctx, fd, &some, pfd[1], &none, 3, 0), -1);
    CHECK_EQ(errno, ESPIPE);
    CHECK_EQ(r.t.splice(r.t.ctx, fd, &none, fd, &none, 3, 0), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(r.t.splice(r.t.ctx, fd, &none, pfd[1], &none, 100, 0), 5);
    char got[16] = {0};
    CHECK_EQ(r.t.read(r.t.ctx, pfd[0], got, sizeof got), 8);
    CHECK(memcmp(got, "spliced!", 8) == 0);
    CHECK_EQ(r.t.write(r.t.ctx, pfd[1], "back", 4), 4);
    CHECK_EQ(r.t.splice(r.t.ctx, pfd[0], &none, fd, &none, 100, 0), 4);
    struct out data = sniff(&r);
    CHECK_EQ(data.len, 4);
    CHECK_EQ(r.t.close(r.t.ctx, pfd[0]), 0);
    CHECK_EQ(r.t.close(r.t.ctx, pfd[1]), 0);
    CHECK_EQ(r.t.splice(r.t.ctx, pfd[0], &none, fd, &none, 1, 0), -1);
    CHECK_EQ(errno, EBADF);
    rig_free(&r);
}

/* The urgent byte through the table (splice/tcp_splice_loop_test): splice
 * stops at the mark and moves nothing there; SIOCATMARK tells; recv with
 * MSG_OOB takes the byte, which a normal read then passes over. */
TEST(urgent_mark_splice_and_oob)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = established(&r);
    int pfd[2];
    CHECK_EQ(r.t.pipe(r.t.ctx, pfd), 0);
    inject_urgent(&r, TCP_FLAG_ACK | TCP_FLAG_URG, 1, 1, "abcdefghij", NULL, 10);
    loff_t none = 0;
    int mark = -1;
    CHECK_EQ(r.t.ioctl(r.t.ctx, fd, SIOCATMARK, &mark), 0);
    CHECK_EQ(mark, 0);
    CHECK_EQ(r.t.splice(r.t.ctx, fd, &none, pfd[1], &none, 99, 0), 9);
    CHECK_EQ(r.t.ioctl(r.t.ctx, fd, SIOCATMARK, &mark), 0);
    CHECK_EQ(mark, 1);
    CHECK_EQ(r.t.splice(r.t.ctx, fd, &none, pfd[1], &none, 1, 0), 0);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI};
    CHECK_EQ(r.t.poll(r.t.ctx, &p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLPRI);
    char c = 0;
    CHECK_EQ(r.t.recv(r.t.ctx, fd, &c, 1, MSG_OOB), 1);
    CHECK_EQ(c, 'j');
    CHECK_EQ(r.t.recv(r.t.ctx, fd, &c, 1, MSG_OOB), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(r.t.recv(r.t.ctx, fd, &c, 1, MSG_DONTWAIT), -1);
    CHECK_EQ(errno, EAGAIN);
    rig_free(&r);
}

/* sendto(MSG_FASTOPEN) on a fresh socket connects with Fast Open (Linux
 * tcp_sendmsg_fastopen): no cookie is cached, so the SYN asks for one and
 * the non-blocking call fails with EINPROGRESS; a bad buffer fails first
 * with EFAULT and sends nothing. */
TEST(sendto_msg_fastopen_requests_a_cookie)
{
    struct rig r;
    rig_init(&r, NULL);
    int fd = r.t.socket(r.t.ctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(RPORT),
                            .sin_addr.s_addr = htonl(REMOTE)};
    CHECK_EQ(r.t.sendto(r.t.ctx, fd, NULL, 1, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof a), -1);
    CHECK_EQ(errno, EFAULT);
    CHECK_EQ(r.t.sendto(r.t.ctx, fd, "hi", 2, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof a), -1);
    CHECK_EQ(errno, EINPROGRESS);
    struct out syn = sniff(&r);
    CHECK_EQ(syn.h.flags, TCP_FLAG_SYN);
    CHECK(syn.h.opts.present & TCP_OPT_FASTOPEN);
    CHECK_EQ(syn.h.opts.fo_len, 0);
    rig_free(&r);
}

/* net.ipv4.tcp_fastopen without the client bit (0x1): TCP_FASTOPEN_CONNECT
 * fails with EOPNOTSUPP, as Linux's does. */
TEST(sysctl_fastopen_client_bit)
{
    char path[] = "/tmp/keel-pd-selftest-XXXXXX";
    int tfd = mkstemp(path);
    CHECK(tfd >= 0);
    const char *text = "net.ipv4.tcp_fastopen=0x2\n";
    CHECK_EQ(write(tfd, text, strlen(text)), (long)strlen(text));
    close(tfd);
    char flags[128];
    snprintf(flags, sizeof flags, "local_ip=198.18.0.1,sysctls=%s", path);
    struct rig r;
    rig_init(&r, flags);
    int fd = r.t.socket(r.t.ctx, AF_INET, SOCK_STREAM, 0), one = 1;
    CHECK_EQ(r.t.setsockopt(r.t.ctx, fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one), -1);
    CHECK_EQ(errno, EOPNOTSUPP);
    rig_free(&r);
    unlink(path);
}
