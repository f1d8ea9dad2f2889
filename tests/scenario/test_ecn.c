/* ECN (RFC 3168) as Linux runs it: negotiation on the SYN and SYN-ACK,
 * ECT(0) on new data only, ECE echoed until CWR, and one cwnd reduction per
 * window of data (Linux's CWR state, paced by PRR). packetdrill:
 * ecn/ecn-uses-ect0.pkt, cwnd_moderation/cwnd-moderation-ecn-*.pkt. */
#include "harness.h"
#include "script.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define S TCP_FLAG_SYN
#define E TCP_FLAG_ECE
#define W TCP_FLAG_CWR

#define MSS 1000u

static const struct tcp_opts OPTS_MSS_1000 = {.present = TCP_OPT_MSS, .mss = 1000};

/* keel listens; the peer's SYN carries syn_flags and the IP ECN field
 * syn_ecn; keel's SYN-ACK must carry synack_flags. Returns the socket. */
static int passive_open(struct script *s, uint8_t syn_flags, uint8_t syn_ecn,
                        uint8_t synack_flags)
{
    int ls = keel_socket(s->st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {0, KEEL_PORT};
    CHECK_EQ(keel_bind(s->st, ls, &a), 0);
    CHECK_EQ(keel_listen(s->st, ls, 16), 0);
    script_send(s, .flags = (uint8_t)(S | syn_flags), .seq = 0, .opts = OPTS_MSS_1000,
                .ecn = syn_ecn);
    const struct captured *sa = script_expect(s, .flags = (uint8_t)(S | A | synack_flags),
                                              .seq = 0, .ack = 1);
    CHECK_EQ(sa->ecn, IP_ECN_NOT_ECT); /* §6.1.1: a SYN-ACK is never ECT */
    script_send(s, .flags = A, .seq = 1, .ack = 1);
    int c = keel_accept(s->st, ls, NULL);
    CHECK(c >= 0);
    CHECK_EQ(keel_close(s->st, ls), 0);
    script_expect_none(s);
    return c;
}

static int ecn_connection(struct script *s)
{
    int c = passive_open(s, E | W, IP_ECN_NOT_ECT, E);
    CHECK(script_info(s, c).ecn_ok);
    return c;
}

/* Linux's default (tcp_ecn=2) answers a client that asks; new data then
 * leaves ECT(0), pure ACKs not-ECT (§6.1.4). */
TEST(ecn_accepted_by_default_data_ect0_acks_not)
{
    struct script s;
    script_init(&s, NULL);
    int c = ecn_connection(&s);
    script_write(&s, c, MSS);
    CHECK_EQ(script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS)->ecn, IP_ECN_ECT0);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1001, .len = 100);
    script_advance(&s, 40000);
    CHECK_EQ(script_expect(&s, .flags = A, .seq = 1001, .ack = 101)->ecn, IP_ECN_NOT_ECT);
    script_free(&s);
}

TEST(ecn_off_does_not_answer)
{
    struct keel_config cfg = {.ecn = KEEL_ECN_OFF};
    struct script s;
    script_init(&s, &cfg);
    int c = passive_open(&s, E | W, IP_ECN_NOT_ECT, 0);
    CHECK(!script_info(&s, c).ecn_ok);
    script_write(&s, c, MSS);
    CHECK_EQ(script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS)->ecn,
             IP_ECN_NOT_ECT);
    script_free(&s);
}

/* A SYN that is itself ECT breaks §6.1.1: Linux (tcp_ecn_create_request)
 * does not take it for a request, nor a SYN with ECE alone. */
TEST(ecn_not_for_an_ect_syn_nor_ece_alone)
{
    struct script s;
    script_init(&s, NULL);
    int c = passive_open(&s, E | W, IP_ECN_ECT0, 0);
    CHECK(!script_info(&s, c).ecn_ok);
    script_free(&s);
    script_init(&s, NULL);
    c = passive_open(&s, E, IP_ECN_NOT_ECT, 0);
    CHECK(!script_info(&s, c).ecn_ok);
    script_free(&s);
}

/* tcp_ecn=1: connect() asks with ECE and CWR; a SYN-ACK with ECE alone
 * agrees (ecn/ecn-uses-ect0.pkt). */
TEST(ecn_active_open_asks_and_sends_ect0)
{
    struct keel_config cfg = {.ecn = KEEL_ECN_ON};
    struct script s;
    script_init(&s, &cfg);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(s.st, c, &a), KEEL_EINPROGRESS);
    const struct captured *syn = script_expect(&s, .flags = S | E | W, .seq = 0);
    CHECK_EQ(syn->ecn, IP_ECN_NOT_ECT);
    s.keel_port = syn->h.sport;
    s.peer_port = PEER_PORT;
    script_send(&s, .flags = S | E | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK(script_info(&s, c).ecn_ok);
    script_write(&s, c, MSS);
    CHECK_EQ(script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS)->ecn, IP_ECN_ECT0);
    script_free(&s);
}

/* A SYN-ACK with both ECE and CWR is a reflected SYN, not an answer. */
TEST(ecn_synack_with_cwr_is_no_agreement)
{
    struct keel_config cfg = {.ecn = KEEL_ECN_ON};
    struct script s;
    script_init(&s, &cfg);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(s.st, c, &a), KEEL_EINPROGRESS);
    s.keel_port = script_expect(&s, .flags = S | E | W, .seq = 0)->h.sport;
    s.peer_port = PEER_PORT;
    script_send(&s, .flags = S | E | W | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK(!script_info(&s, c).ecn_ok);
    script_free(&s);
}

/* §6.1.1.1 and Linux tcp_ecn_clear_syn: the retransmitted SYN goes without
 * ECE and CWR (a middlebox may drop ECN SYNs), and ECN is off. */
TEST(ecn_retransmitted_syn_does_not_ask)
{
    struct keel_config cfg = {.ecn = KEEL_ECN_ON};
    struct script s;
    script_init(&s, &cfg);
    int c = keel_socket(s.st, KEEL_SOCK_STREAM);
    struct keel_sockaddr a = {PEER_ADDR, PEER_PORT};
    CHECK_EQ(keel_connect(s.st, c, &a), KEEL_EINPROGRESS);
    s.keel_port = script_expect(&s, .flags = S | E | W, .seq = 0)->h.sport;
    s.peer_port = PEER_PORT;
    script_run_timer(&s);
    script_expect(&s, .flags = S, .seq = 0);
    script_send(&s, .flags = S | E | A, .seq = 0, .ack = 1, .opts = OPTS_MSS_1000);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1);
    CHECK(!script_info(&s, c).ecn_ok);
    script_free(&s);
}

/* §6.1.3: data marked CE is ACKed at once with ECE, and every segment
 * after carries ECE until data with CWR arrives, which is ACKed at once. */
TEST(ecn_receiver_echoes_ce_until_cwr)
{
    struct script s;
    script_init(&s, NULL);
    ecn_connection(&s);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 1, .len = 100, .ecn = IP_ECN_CE);
    script_expect(&s, .flags = E | A, .seq = 1, .ack = 101);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPECNEchoSent), 1);
    script_send(&s, .flags = P | A, .seq = 101, .ack = 1, .len = 100, .ecn = IP_ECN_ECT0);
    script_expect(&s, .flags = E | A, .seq = 1, .ack = 201);
    script_send(&s, .flags = W | P | A, .seq = 201, .ack = 1, .len = 100, .ecn = IP_ECN_ECT0);
    script_expect(&s, .flags = A, .seq = 1, .ack = 301);
    script_expect_none(&s);
    script_free(&s);
}

/* §6.1.2 as Linux's CWR state: an ECE halves (CUBIC: 0.7) once, cwnd
 * falls by PRR (3 in flight, 1 delivered on a SafeACK: 3 + 2 segments,
 * what Linux 6.x reports in cwnd-moderation-ecn-enter-cwr-no-moderation-700),
 * the next new data carries CWR, further ECEs in the window change
 * nothing, and once an ACK passes the window cwnd = ssthresh. */
TEST(ecn_sender_reduces_once_per_window)
{
    struct script s;
    script_init(&s, NULL);
    int c = ecn_connection(&s);
    script_write(&s, c, 4 * MSS);
    for (uint32_t k = 0; k < 4; k++)
        script_expect(&s, .flags = (uint8_t)(k == 3 ? P | A : A), .seq = 1 + k * MSS, .ack = 1,
                      .len = MSS);
    script_send(&s, .flags = E | A, .seq = 1, .ack = 1001);
    struct keel_tcp_info i = script_info(&s, c);
    CHECK(i.in_cwr);
    CHECK_EQ_U(i.ssthresh, 7 * MSS);
    CHECK_EQ_U(i.cwnd, 5 * MSS);
    script_write(&s, c, 3 * MSS);
    const struct captured *d = script_expect(&s, .flags = W | A, .seq = 4001, .ack = 1, .len = MSS);
    CHECK_EQ(d->ecn, IP_ECN_ECT0);
    script_expect(&s, .flags = A, .seq = 5001, .ack = 1, .len = MSS);
    script_expect_none(&s);
    script_send(&s, .flags = E | A, .seq = 1, .ack = 2001);
    CHECK_EQ_U(script_info(&s, c).ssthresh, 7 * MSS);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPECNCwrEntered), 1);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPECNEchoRecv), 2);
    script_expect(&s, .flags = P | A, .seq = 6001, .ack = 1, .len = MSS);
    /* Past 4001, the end of the window the echo came in: CWR is over. */
    script_send(&s, .flags = A, .seq = 1, .ack = 5001);
    i = script_info(&s, c);
    CHECK(!i.in_cwr);
    CHECK_EQ_U(i.cwnd, 7 * MSS);
    /* A new echo in a new window reduces again. */
    script_send(&s, .flags = E | A, .seq = 1, .ack = 6001);
    CHECK(script_info(&s, c).in_cwr);
    CHECK_EQ(script_counter(&s, KEEL_C_TCPECNCwrEntered), 2);
    script_free(&s);
}

/* §6.1.5: a retransmission is never ECT; a timeout reduces cwnd too, and
 * tells the receiver with CWR on the next new data (Linux tcp_enter_loss). */
TEST(ecn_retransmission_not_ect_timeout_sends_cwr)
{
    struct script s;
    script_init(&s, NULL);
    int c = ecn_connection(&s);
    script_write(&s, c, MSS);
    CHECK_EQ(script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS)->ecn, IP_ECN_ECT0);
    script_run_timer(&s);
    CHECK_EQ(script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS)->ecn,
             IP_ECN_NOT_ECT);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001);
    script_write(&s, c, MSS);
    CHECK_EQ(script_expect(&s, .flags = W | P | A, .seq = 1001, .ack = 1, .len = MSS)->ecn,
             IP_ECN_ECT0);
    script_free(&s);
}

/* Without ECN negotiated, ECE and CE mean nothing: no reduction, no echo. */
TEST(ecn_marks_ignored_without_negotiation)
{
    struct script s;
    script_init(&s, NULL);
    int c = passive_open(&s, 0, IP_ECN_NOT_ECT, 0);
    script_write(&s, c, 2 * MSS);
    script_expect(&s, .flags = A, .seq = 1, .ack = 1, .len = MSS);
    script_expect(&s, .flags = P | A, .seq = 1001, .ack = 1, .len = MSS);
    script_send(&s, .flags = E | A, .seq = 1, .ack = 1001);
    CHECK(!script_info(&s, c).in_cwr);
    CHECK_EQ_U(script_info(&s, c).ssthresh, UINT32_MAX);
    script_send(&s, .flags = P | A, .seq = 1, .ack = 2001, .len = 100, .ecn = IP_ECN_CE);
    script_expect(&s, .flags = A, .seq = 2001, .ack = 101);
    CHECK_EQ(script_counter(&s, KEEL_C_InCEPkts), 1);
    script_free(&s);
}

/* An echo on the ACK of everything in flight: CWR holds with nothing in
 * flight until an ACK passes new data. Until keel sends again, PRR lets at
 * least one segment go (an ACK that delivers nothing, here a window
 * update, included), so the next write is not stuck behind a zero cwnd. */
TEST(ecn_cwr_with_nothing_in_flight_still_sends)
{
    struct script s;
    script_init(&s, NULL);
    int c = ecn_connection(&s);
    script_write(&s, c, MSS);
    script_expect(&s, .flags = P | A, .seq = 1, .ack = 1, .len = MSS);
    script_send(&s, .flags = E | A, .seq = 1, .ack = 1001);
    CHECK(script_info(&s, c).in_cwr);
    script_send(&s, .flags = A, .seq = 1, .ack = 1001, .win = 30000);
    CHECK(script_info(&s, c).cwnd >= MSS);
    script_write(&s, c, MSS);
    script_expect(&s, .flags = W | P | A, .seq = 1001, .ack = 1, .len = MSS);
    script_send(&s, .flags = A, .seq = 1, .ack = 2001);
    CHECK(!script_info(&s, c).in_cwr);
    CHECK_EQ_U(script_info(&s, c).cwnd, 7 * MSS);
    script_free(&s);
}
