/* Ephemeral ports (RFC 6056) and initial sequence numbers (RFC 6528): ports
 * from the configured range, never a 4-tuple still in use (TIME-WAIT
 * included), EADDRNOTAVAIL when none is left; ISNs that differ per 4-tuple
 * and advance with a 4-microsecond clock. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define S TCP_FLAG_SYN

#define SEC 1000000ull

/* keel's next segment, which must be a SYN (its port and ISN are read raw). */
static const struct captured *take_syn(struct script *s)
{
    CHECK(script_pending(s) > 0);
    const struct captured *c = &s->out[s->next_out++];
    CHECK_EQ(c->h.flags, S);
    return c;
}

static const struct captured *syn_to(struct script *s, uint16_t rport, int *sock, int *err)
{
    *sock = keel_socket(s->st, KEEL_SOCK_STREAM);
    CHECK(*sock >= 0);
    *err = keel_connect(s->st, *sock, &(struct keel_sockaddr){PEER_ADDR, rport});
    return *err == KEEL_EINPROGRESS ? take_syn(s) : NULL;
}

/* Ten ports configured, ten connections to one destination: ten distinct
 * ports, all in range; the eleventh connect finds none (EADDRNOTAVAIL,
 * counted), while another destination port can still use them. */
TEST(ephemeral_ports_in_range_until_exhausted)
{
    struct script s;
    script_init(&s, &(struct keel_config){.ephemeral_lo = 50000, .ephemeral_hi = 50009});
    bool used[10] = {false};
    int sock, err;
    for (int k = 0; k < 10; k++) {
        const struct captured *syn = syn_to(&s, PEER_PORT, &sock, &err);
        CHECK_EQ(err, KEEL_EINPROGRESS);
        uint16_t p = syn->h.sport;
        CHECK(p >= 50000 && p <= 50009);
        CHECK(!used[p - 50000]);
        used[p - 50000] = true;
        struct keel_sockaddr name;
        CHECK_EQ(keel_getsockname(s.st, sock, &name), 0);
        CHECK_EQ(name.port, p);
        CHECK_EQ_U(name.addr, KEEL_ADDR);
    }
    CHECK(syn_to(&s, PEER_PORT, &sock, &err) == NULL);
    CHECK_EQ(err, KEEL_EADDRNOTAVAIL);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPEphemeralExhausted), 1);
    script_expect_none(&s);
    /* The same ports serve another 4-tuple. */
    const struct captured *syn = syn_to(&s, PEER_PORT + 1, &sock, &err);
    CHECK_EQ(err, KEEL_EINPROGRESS);
    CHECK(syn->h.sport >= 50000 && syn->h.sport <= 50009);
    script_free(&s);
}

/* A port a listener holds is never chosen. */
TEST(ephemeral_port_skips_listeners)
{
    struct script s;
    script_init(&s, &(struct keel_config){.ephemeral_lo = 50000, .ephemeral_hi = 50001});
    int ls = keel_socket(s.st, KEEL_SOCK_STREAM);
    CHECK_EQ(keel_bind(s.st, ls, &(struct keel_sockaddr){0, 50000}), 0);
    CHECK_EQ(keel_listen(s.st, ls, 4), 0);
    int sock, err;
    for (int k = 0; k < 3; k++) {
        const struct captured *syn = syn_to(&s, (uint16_t)(PEER_PORT + k), &sock, &err);
        CHECK_EQ(err, KEEL_EINPROGRESS);
        CHECK_EQ(syn->h.sport, 50001);
    }
    CHECK(syn_to(&s, PEER_PORT, &sock, &err) == NULL);
    CHECK_EQ(err, KEEL_EADDRNOTAVAIL);
    script_free(&s);
}

/* A 4-tuple in TIME-WAIT is still in use: with a single port configured,
 * connecting to the same destination fails until 2 MSL has passed, while
 * another destination can use the port at once. */
TEST(ephemeral_port_not_reused_in_time_wait)
{
    struct script s;
    script_init(&s, &(struct keel_config){.ephemeral_lo = 50000, .ephemeral_hi = 50000});
    int c = script_active_open(&s, &OPTS_MSS_ONLY);
    CHECK_EQ(s.keel_port, 50000);
    CHECK_EQ(keel_close(s.st, c), 0);
    script_expect(&s, .flags = F | A, .seq = 1, .ack = 1);
    script_send(&s, .flags = F | A, .seq = 1, .ack = 2);
    script_expect(&s, .flags = A, .seq = 2, .ack = 2);
    uint64_t t = s.now_us;
    int sock, err;
    CHECK(syn_to(&s, PEER_PORT, &sock, &err) == NULL);
    CHECK_EQ(err, KEEL_EADDRNOTAVAIL);
    const struct captured *syn = syn_to(&s, PEER_PORT + 1, &sock, &err);
    CHECK_EQ(err, KEEL_EINPROGRESS);
    CHECK_EQ(syn->h.sport, 50000);
    script_advance_to(&s, t + 60 * SEC - 1);
    CHECK(syn_to(&s, PEER_PORT, &sock, &err) == NULL);
    CHECK_EQ(err, KEEL_EADDRNOTAVAIL);
    script_advance_to(&s, t + 60 * SEC);
    syn = syn_to(&s, PEER_PORT, &sock, &err);
    CHECK_EQ(err, KEEL_EINPROGRESS);
    CHECK_EQ(syn->h.sport, 50000);
    script_free(&s);
}

/* A socket bound to a port connects from it; a second socket bound to the
 * same port (SO_REUSEADDR) cannot connect to the same destination: the
 * 4-tuple is taken. */
TEST(bound_port_connect_4tuple_in_use)
{
    struct script s;
    script_init(&s, NULL);
    int a = keel_socket(s.st, KEEL_SOCK_STREAM), b = keel_socket(s.st, KEEL_SOCK_STREAM);
    int one = 1;
    CHECK_EQ(keel_setsockopt(s.st, a, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, &one, sizeof one), 0);
    CHECK_EQ(keel_setsockopt(s.st, b, KEEL_SOL_SOCKET, KEEL_SO_REUSEADDR, &one, sizeof one), 0);
    CHECK_EQ(keel_bind(s.st, a, &(struct keel_sockaddr){0, 7000}), 0);
    CHECK_EQ(keel_bind(s.st, b, &(struct keel_sockaddr){0, 7000}), 0);
    CHECK_EQ(keel_connect(s.st, a, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}), KEEL_EINPROGRESS);
    CHECK_EQ(take_syn(&s)->h.sport, 7000);
    CHECK_EQ(keel_connect(s.st, b, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
             KEEL_EADDRNOTAVAIL);
    CHECK_EQ(keel_connect(s.st, b, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT + 1}),
             KEEL_EINPROGRESS);
    CHECK_EQ(take_syn(&s)->h.sport, 7000);
    script_free(&s);
}

/* RFC 6528: ISN = M + F(4-tuple, secret). At one instant, connections to
 * different ports get unrelated ISNs. */
TEST(isn_differs_per_4tuple)
{
    struct script s;
    script_init(&s, NULL);
    uint32_t isn[4];
    int sock, err;
    for (int k = 0; k < 4; k++) {
        const struct captured *syn = syn_to(&s, (uint16_t)(PEER_PORT + k), &sock, &err);
        CHECK_EQ(err, KEEL_EINPROGRESS);
        isn[k] = syn->h.seq;
        for (int j = 0; j < k; j++) {
            CHECK(isn[j] != isn[k]);
            /* Not merely a counter: far apart in the sequence space. */
            uint32_t d = isn[k] - isn[j];
            CHECK(d > 1000000 && d < 0u - 1000000);
        }
    }
    script_free(&s);
}

/* The same 4-tuple, one second apart: the ISN advances by the clock, one
 * tick per 4 us (250000 per second), and nothing else. */
TEST(isn_advances_with_time)
{
    struct script s;
    script_init(&s, NULL);
    uint32_t isn[3];
    for (int k = 0; k < 3; k++) {
        int c = keel_socket(s.st, KEEL_SOCK_STREAM);
        CHECK_EQ(keel_bind(s.st, c, &(struct keel_sockaddr){0, 5555}), 0);
        CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
                 KEEL_EINPROGRESS);
        isn[k] = take_syn(&s)->h.seq;
        CHECK_EQ(keel_close(s.st, c), 0); /* SYN-SENT: gone at once */
        script_expect_none(&s);
        script_advance(&s, 1 * SEC);
    }
    CHECK_EQ_U(isn[1] - isn[0], 250000);
    CHECK_EQ_U(isn[2] - isn[1], 250000);
    script_free(&s);
}

/* The secret keys the function: another secret, another ISN for the same
 * 4-tuple at the same time; the same secret, the same ISN. */
TEST(isn_keyed_by_secret)
{
    uint32_t isn[3];
    for (int k = 0; k < 3; k++) {
        struct script s;
        struct keel_config cfg = {.secret = {(uint8_t)(k == 2 ? 9 : 1), 2, 3}};
        script_init(&s, &cfg);
        int c = keel_socket(s.st, KEEL_SOCK_STREAM);
        CHECK_EQ(keel_bind(s.st, c, &(struct keel_sockaddr){0, 5555}), 0);
        CHECK_EQ(keel_connect(s.st, c, &(struct keel_sockaddr){PEER_ADDR, PEER_PORT}),
                 KEEL_EINPROGRESS);
        isn[k] = take_syn(&s)->h.seq;
        script_free(&s);
    }
    CHECK_EQ_U(isn[0], isn[1]);
    CHECK(isn[0] != isn[2]);
}
