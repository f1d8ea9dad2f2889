/* The delay sample per ACK that CUBIC's HyStart runs on (Linux's ca_rtt):
 * from the transmission log (src/tcp/rack.c), the time since the newest
 * acknowledged byte was sent, none when retransmitted bytes are
 * acknowledged (Karn), and none from data the log does not hold. */
#include <string.h>

#include "harness.h"
#include "tcp/tcb.h"

static uint32_t samples[64];
static int nsamples;

static void record(struct tcb *tcb, uint32_t rtt_us, uint64_t now_us)
{
    (void)tcb, (void)now_us;
    samples[nsamples++] = rtt_us;
}

static const struct cc_ops recorder = {.name = "recorder", .on_delay_sample = record};

static struct keel_stack st;

static void setup(struct tcb *t)
{
    memset(t, 0, sizeof *t);
    memset(&st, 0, sizeof st);
    st.now_us = 1000000;
    t->st = &st;
    t->cc = &recorder;
    t->snd.una = t->snd.nxt = t->snd.max = seq_make(1);
    nsamples = 0;
}

static void send_new(struct tcb *t, uint32_t len)
{
    rack_on_xmit(t, t->snd.nxt, len, false);
    t->snd.nxt = t->snd.max = seq_add(t->snd.nxt, len);
}

static void ack(struct tcb *t, uint32_t to)
{
    seq_t old = t->snd.una;
    t->snd.una = seq_make(to);
    struct sent_times times = rack_sent_acked(t, old);
    if (times.any)
        cc_delay_sample(t, (uint32_t)(st.now_us - times.last_us));
}

/* A partly acknowledged transmission counts: the sample is the age of the
 * newest transmission holding acknowledged bytes. */
TEST(delay_sample_times_the_newest_acknowledged_byte)
{
    struct tcb t;
    setup(&t);
    send_new(&t, 4000);         /* [1, 4001) at 1.000 s */
    st.now_us += 10000;
    send_new(&t, 4000);         /* [4001, 8001) at 1.010 s */
    st.now_us += 100000;
    ack(&t, 2001);
    ack(&t, 6001);
    ack(&t, 8001);
    CHECK_EQ(nsamples, 3);
    CHECK_EQ_U(samples[0], 110000u);
    CHECK_EQ_U(samples[1], 100000u);
    CHECK_EQ_U(samples[2], 100000u);
    rack_free(&t);
}

/* Karn: an ACK of retransmitted bytes gives no sample; new data sent
 * afterwards does again. */
TEST(no_delay_sample_across_a_retransmission)
{
    struct tcb t;
    setup(&t);
    send_new(&t, 4000);
    st.now_us += 300000;
    rack_on_xmit(&t, seq_make(1001), 1000, true); /* [1001, 2001) resent */
    send_new(&t, 1000);         /* [4001, 5001) */
    st.now_us += 50000;
    ack(&t, 4001);
    CHECK_EQ(nsamples, 0);
    ack(&t, 5001);
    CHECK_EQ(nsamples, 1);
    CHECK_EQ_U(samples[0], 50000u);
    rack_free(&t);
}

/* Every transmission in flight is timed, however many (the log of new
 * data grows with them), and an ACK that starts below the log, which holds
 * only data sent since it started, gives no sample. */
TEST(delay_sample_with_many_transmissions_in_flight)
{
    struct tcb t;
    setup(&t);
    for (uint32_t i = 0; i < 200; i++) {
        send_new(&t, 1000);
        st.now_us += 1000;
    }
    ack(&t, 1 + 5 * 1000); /* the 5th transmission, sent at +4 ms */
    CHECK_EQ(nsamples, 1);
    CHECK_EQ_U(samples[0], (200 - 4) * 1000u);
    rack_free(&t);
    setup(&t);
    t.snd.una = t.snd.nxt = t.snd.max = seq_make(1001); /* [1, 1001) went unlogged */
    send_new(&t, 1000);
    t.snd.una = seq_make(1);
    ack(&t, 2001);
    CHECK_EQ(nsamples, 0);
    rack_free(&t);
}
