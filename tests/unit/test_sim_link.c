/* The simulated link: every impairment on its own, in virtual time. */
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "harness.h"
#include "keel/keel.h"
#include "sim/link.h"

#define BIG 65535u

/* ---- helpers ---- */

static struct sim_link *new_link(const struct sim_link_config *cfg,
                                 uint64_t seed)
{
    struct sim_link *l = sim_link_new(cfg, seed);
    CHECK(l != NULL);
    return l;
}

/* A packet whose first four bytes are its id and the rest a pattern. */
static void fill_packet(uint8_t *pkt, size_t len, uint32_t id)
{
    for (size_t i = 0; i < len; i++)
        pkt[i] = (uint8_t)(id * 31u + i * 7u);
    for (size_t i = 0; i < 4 && i < len; i++)
        pkt[i] = (uint8_t)(id >> (8 * i));
}

static uint32_t packet_id(const uint8_t *pkt)
{
    return (uint32_t)pkt[0] | (uint32_t)pkt[1] << 8 | (uint32_t)pkt[2] << 16 |
           (uint32_t)pkt[3] << 24;
}

static void send_id(struct keel_device *dev, uint32_t id, size_t len,
                    uint64_t now)
{
    uint8_t pkt[BIG];
    fill_packet(pkt, len, id);
    CHECK_EQ(dev->ops->transmit(dev, pkt, len, now), 0);
}

/* Receives one packet; returns its id, or -1 when none is ready. */
static long recv_id(struct keel_device *dev, uint64_t now)
{
    uint8_t buf[BIG];
    long n = dev->ops->receive(dev, buf, sizeof buf, now);
    CHECK(n >= 0);
    return n >= 4 ? (long)packet_id(buf) : -1;
}

/* Receives every packet ready by now into ids; returns how many. */
static size_t drain_ids(struct keel_device *dev, uint64_t now, uint32_t *ids,
                        size_t max)
{
    size_t n = 0;
    long id;
    while ((id = recv_id(dev, now)) >= 0) {
        CHECK(n < max);
        ids[n++] = (uint32_t)id;
    }
    return n;
}

static int popcount8(uint8_t x)
{
    int n = 0;
    for (; x; x &= (uint8_t)(x - 1))
        n++;
    return n;
}

/* ---- delay and ordering ---- */

TEST(arrives_exactly_after_delay)
{
    struct sim_link_config cfg = {.delay_us = 2500};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t pkt[1000], buf[2000];
    fill_packet(pkt, sizeof pkt, 7);
    CHECK_EQ(a->ops->transmit(a, pkt, sizeof pkt, 10000), 0);
    CHECK_EQ(b->ops->receive(b, buf, sizeof buf, 10000), 0);
    CHECK_EQ(b->ops->receive(b, buf, sizeof buf, 12499), 0);
    CHECK_EQ(a->ops->receive(a, buf, sizeof buf, 12500), 0); /* wrong end */
    CHECK_EQ(b->ops->receive(b, buf, sizeof buf, 12500), (long)sizeof pkt);
    CHECK_MEM(buf, pkt, sizeof pkt);
    CHECK_EQ(b->ops->receive(b, buf, sizeof buf, 99999), 0);
    const struct sim_link_stats *st = sim_link_stats(l, 0);
    CHECK_EQ_U(st->sent, 1);
    CHECK_EQ_U(st->delivered, 1);
    CHECK_EQ_U(st->bytes_delivered, sizeof pkt);
    CHECK_EQ_U(sim_link_stats(l, 1)->sent, 0);
    sim_link_free(l);
}

TEST(next_arrival_reports_earliest)
{
    struct sim_link_config cfg = {.delay_us = 1000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    CHECK_EQ_U(b->ops->next_arrival_us(b), UINT64_MAX);
    CHECK_EQ_U(a->ops->next_arrival_us(a), UINT64_MAX);
    send_id(a, 1, 100, 500);
    send_id(a, 2, 100, 700);
    send_id(b, 3, 100, 600);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 1500);
    CHECK_EQ_U(a->ops->next_arrival_us(a), 1600);
    CHECK_EQ(recv_id(b, 1500), 1);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 1700);
    CHECK_EQ(recv_id(b, 1700), 2);
    CHECK_EQ_U(b->ops->next_arrival_us(b), UINT64_MAX);
    CHECK_EQ(recv_id(a, 2000), 3);
    CHECK_EQ_U(a->ops->next_arrival_us(a), UINT64_MAX);
    sim_link_free(l);
}

TEST(fifo_without_impairments)
{
    struct sim_link_config cfg = {.delay_us = 300};
    struct sim_link *l = new_link(&cfg, 9);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    enum { N = 2000 };
    static uint32_t ids[N];
    for (uint32_t i = 0; i < N; i++)
        send_id(a, i, 40 + i % 1400, i / 3); /* several sends share a time */
    size_t n = drain_ids(b, UINT64_MAX - 1, ids, N);
    CHECK_EQ(n, N);
    for (uint32_t i = 0; i < N; i++)
        CHECK_EQ(ids[i], i);
    sim_link_free(l);
}

TEST(directions_are_independent)
{
    struct sim_link_config cfg = {.delay_us = 100, .loss_ppm = 0};
    struct sim_link *l = new_link(&cfg, 3);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    for (uint32_t i = 0; i < 10; i++) {
        send_id(a, i, 60, i);
        send_id(b, 100 + i, 60, i);
    }
    for (uint32_t i = 0; i < 10; i++) {
        CHECK_EQ(recv_id(b, 1000), i);
        CHECK_EQ(recv_id(a, 1000), 100 + i);
    }
    CHECK_EQ_U(sim_link_stats(l, 0)->delivered, 10);
    CHECK_EQ_U(sim_link_stats(l, 1)->delivered, 10);
    CHECK(sim_link_device(l, 2) == NULL);
    CHECK(sim_link_stats(l, -1) == NULL);
    sim_link_free(l);
}

TEST(invalid_transmit_rejected)
{
    struct sim_link *l = new_link(NULL, 1);
    struct keel_device *a = sim_link_device(l, 0);
    uint8_t pkt[4] = {0};
    CHECK_EQ(a->ops->transmit(a, pkt, 0, 0), KEEL_EINVAL);
    CHECK_EQ(a->ops->transmit(a, NULL, 10, 0), KEEL_EINVAL);
    CHECK_EQ_U(sim_link_stats(l, 0)->sent, 0);
    sim_link_free(l);
}

TEST(receive_drops_packet_longer_than_buffer)
{
    struct sim_link *l = new_link(NULL, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t buf[100];
    send_id(a, 1, 200, 0);
    CHECK_EQ(b->ops->receive(b, buf, sizeof buf, 0), 0);
    send_id(a, 2, 200, 0);
    send_id(a, 3, 80, 0);
    /* 2 is dropped, 3 read */
    CHECK_EQ(b->ops->receive(b, buf, sizeof buf, 0), 80);
    CHECK_EQ(packet_id(buf), 3);
    CHECK_EQ_U(sim_link_stats(l, 0)->dropped_rx_too_big, 2);
    CHECK_EQ_U(sim_link_stats(l, 0)->delivered, 1);
    sim_link_free(l);
}

/* ---- MTU and loss ---- */

TEST(mtu_drops_larger_packets)
{
    struct sim_link *l = new_link(NULL, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    CHECK_EQ(a->mtu, 1500);
    CHECK_EQ(b->mtu, 1500);
    send_id(a, 1, 1501, 0);
    send_id(a, 2, 1500, 0);
    CHECK_EQ(recv_id(b, 0), 2);
    CHECK_EQ(recv_id(b, 0), -1);
    CHECK_EQ_U(sim_link_stats(l, 0)->dropped_mtu, 1);
    CHECK_EQ_U(sim_link_stats(l, 0)->sent, 2);

    struct sim_link_config jumbo = {.mtu = 9000};
    sim_link_set_config(l, &jumbo);
    CHECK_EQ(a->mtu, 9000);
    send_id(a, 3, 9000, 0);
    send_id(a, 4, 9001, 0);
    CHECK_EQ(recv_id(b, 0), 3);
    CHECK_EQ(recv_id(b, 0), -1);

    struct sim_link_config huge = {.mtu = 100000};
    sim_link_set_config(l, &huge);
    CHECK_EQ(a->mtu, 65535);
    send_id(a, 5, 65535, 0);
    CHECK_EQ(recv_id(b, 0), 5);
    CHECK_EQ_U(sim_link_stats(l, 0)->dropped_mtu, 2);
    sim_link_free(l);
}

static uint64_t count_delivered(uint32_t loss_ppm, uint32_t n, uint64_t seed)
{
    struct sim_link_config cfg = {.delay_us = 10, .loss_ppm = loss_ppm};
    struct sim_link *l = new_link(&cfg, seed);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint64_t got = 0;
    for (uint32_t i = 0; i < n; i++) {
        send_id(a, i, 64, i);
        while (recv_id(b, i) >= 0)
            got++;
    }
    while (recv_id(b, UINT64_MAX - 1) >= 0)
        got++;
    const struct sim_link_stats *st = sim_link_stats(l, 0);
    CHECK_EQ_U(st->delivered, got);
    CHECK_EQ_U(st->lost_random + got, n);
    sim_link_free(l);
    return got;
}

TEST(loss_all_drops_everything)
{
    CHECK_EQ_U(count_delivered(1000000, 1000, 5), 0);
}

TEST(loss_none_drops_nothing)
{
    CHECK_EQ_U(count_delivered(0, 1000, 5), 1000);
}

TEST(loss_ten_percent_is_near_ten_percent)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness_context("seed %llu", (unsigned long long)seed);
        uint64_t lost = 10000 - count_delivered(100000, 10000, seed);
        /* mean 1000, sd 30: a 6 sigma window */
        CHECK(lost >= 820 && lost <= 1180);
    }
}

TEST(burst_loss_produces_runs)
{
    struct sim_link_config cfg = {.burst_enter_ppm = 5000,
                                  .burst_exit_ppm = 250000};
    struct sim_link *l = new_link(&cfg, 77);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    enum { N = 200000 };
    uint64_t runs = 0, lost = 0;
    uint32_t expect = 0;
    for (uint32_t i = 0; i < N; i++) {
        send_id(a, i, 40, i);
        long id = recv_id(b, i);
        if (id < 0)
            continue;
        if ((uint32_t)id != expect) {
            runs++;
            lost += (uint32_t)id - expect;
        }
        expect = (uint32_t)id + 1;
    }
    const struct sim_link_stats *st = sim_link_stats(l, 0);
    CHECK_EQ_U(st->lost_burst, lost + (N - expect));
    CHECK_EQ_U(st->lost_random, 0);
    /* about N * 0.005 / (1 + 0.005 * 4) = 980 runs, of mean length 4 */
    CHECK(runs > 700 && runs < 1300);
    double mean = (double)lost / (double)runs;
    CHECK(mean > 3.5 && mean < 4.5);
    sim_link_free(l);
}

/* ---- bandwidth ---- */

TEST(bandwidth_spaces_packets)
{
    struct sim_link_config cfg = {.delay_us = 5000, .rate_bps = 10000000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    for (uint32_t i = 0; i < 10; i++)
        send_id(a, i, 1250, 0);
    for (uint32_t i = 0; i < 10; i++) {
        uint64_t at = 5000 + 1000 * (i + 1);
        CHECK_EQ_U(b->ops->next_arrival_us(b), at);
        CHECK_EQ(recv_id(b, at - 1), -1);
        CHECK_EQ(recv_id(b, at), i);
    }
    /* an idle link serializes from the send time again */
    send_id(a, 10, 1250, 100000);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 106000);
    sim_link_free(l);
}

TEST(bandwidth_carries_fractions_of_microseconds)
{
    /* 1 byte at 3 bit/s: 8/3 s each, rounded up per packet, exact overall */
    struct sim_link_config cfg = {.rate_bps = 3};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    for (uint32_t i = 0; i < 3; i++)
        send_id(a, i, 1, 0);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 2666667);
    CHECK_EQ(b->ops->receive(b, (uint8_t[4]){0}, 4, 2666667), 1);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 5333334);
    CHECK_EQ(b->ops->receive(b, (uint8_t[4]){0}, 4, 5333334), 1);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 8000000);
    sim_link_free(l);
}

TEST(queue_overflow_tail_drops)
{
    /* 1000 bytes at 1 Mbit/s: 8 ms each; room for three */
    struct sim_link_config cfg = {.rate_bps = 1000000, .queue_bytes = 3000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    for (uint32_t i = 0; i < 10; i++)
        send_id(a, i, 1000, 0);
    CHECK_EQ_U(sim_link_stats(l, 0)->dropped_queue, 7);
    send_id(a, 10, 1000, 7999); /* first still serializing: full */
    CHECK_EQ_U(sim_link_stats(l, 0)->dropped_queue, 8);
    send_id(a, 11, 1000, 8000); /* first departed: room for one */
    send_id(a, 12, 1000, 8000);
    CHECK_EQ_U(sim_link_stats(l, 0)->dropped_queue, 9);
    uint32_t ids[16];
    CHECK_EQ(drain_ids(b, 31999, ids, 16), 3);
    CHECK_EQ(drain_ids(b, 32000, ids + 3, 13), 1);
    CHECK_EQ(ids[0], 0);
    CHECK_EQ(ids[1], 1);
    CHECK_EQ(ids[2], 2);
    CHECK_EQ(ids[3], 11);
    sim_link_free(l);
}

/* ---- jitter, reordering, duplication, corruption ---- */

TEST(jitter_never_reorders)
{
    struct sim_link_config cfg = {.delay_us = 1000, .jitter_us = 5000};
    struct sim_link *l = new_link(&cfg, 42);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    enum { N = 10000 };
    for (uint32_t i = 0; i < N; i++)
        send_id(a, i, 100, (uint64_t)i * 50); /* jitter >> spacing */
    uint64_t next, prev = 0;
    uint32_t expect = 0;
    while ((next = b->ops->next_arrival_us(b)) != UINT64_MAX) {
        CHECK(next >= prev);
        prev = next;
        CHECK_EQ(recv_id(b, next), expect);
        expect++;
    }
    CHECK_EQ(expect, N);
    sim_link_free(l);
}

TEST(jitter_spreads_single_packets)
{
    struct sim_link_config cfg = {.delay_us = 1000, .jitter_us = 1000};
    struct sim_link *l = new_link(&cfg, 8);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint64_t min = UINT64_MAX, max = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint64_t now = (uint64_t)i * 10000; /* far apart: no clamping */
        send_id(a, i, 60, now);
        uint64_t delay = b->ops->next_arrival_us(b) - now;
        CHECK(delay >= 1000 && delay <= 2000);
        min = delay < min ? delay : min;
        max = delay > max ? delay : max;
        CHECK_EQ(recv_id(b, now + delay), i);
    }
    CHECK(min < 1100);
    CHECK(max > 1900);
    sim_link_free(l);
}

TEST(reorder_swaps_adjacent_packets)
{
    struct sim_link_config cfg = {.delay_us = 1000, .reorder_ppm = 1000000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    for (uint32_t i = 1; i <= 6; i++)
        send_id(a, i, 100, i);
    /* 1,2,3,4,5,6 -> 2,1,4,3,6,5; the held one arrives with its releaser */
    const uint32_t want[] = {2, 1, 4, 3, 6, 5};
    const uint64_t at[] = {1002, 1002, 1004, 1004, 1006, 1006};
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_U(b->ops->next_arrival_us(b), at[i]);
        CHECK_EQ(recv_id(b, at[i]), want[i]);
    }
    CHECK_EQ_U(b->ops->next_arrival_us(b), UINT64_MAX);
    CHECK_EQ_U(sim_link_stats(l, 0)->reordered, 3);
    sim_link_free(l);
}

TEST(reorder_releases_lone_packet_after_hold)
{
    /* default hold: 2 * delay + 1 ms from the send time */
    struct sim_link_config cfg = {.delay_us = 1000, .reorder_ppm = 1000000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    send_id(a, 1, 100, 500);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 3500);
    CHECK_EQ(recv_id(b, 3499), -1);
    CHECK_EQ(recv_id(b, 3500), 1);
    CHECK_EQ_U(b->ops->next_arrival_us(b), UINT64_MAX);

    /* an explicit hold; a packet sent after it expired does not swap */
    cfg.reorder_hold_us = 200;
    sim_link_set_config(l, &cfg);
    send_id(a, 2, 100, 10000); /* held until its own arrival, 11000 */
    CHECK_EQ_U(b->ops->next_arrival_us(b), 11000);
    send_id(a, 3, 100, 10200); /* expired at 10200: 2 goes first; 3 is held */
    CHECK_EQ(recv_id(b, 11000), 2);
    CHECK_EQ(recv_id(b, 11200), 3);
    CHECK_EQ_U(sim_link_stats(l, 0)->reordered, 0);
    sim_link_free(l);
}

TEST(duplication_delivers_two_identical_copies)
{
    struct sim_link_config cfg = {.delay_us = 100, .dup_ppm = 1000000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t pkt[500], buf[2][600];
    fill_packet(pkt, sizeof pkt, 11);
    CHECK_EQ(a->ops->transmit(a, pkt, sizeof pkt, 0), 0);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 100);
    CHECK_EQ(b->ops->receive(b, buf[0], sizeof buf[0], 100), (long)sizeof pkt);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 101);
    CHECK_EQ(b->ops->receive(b, buf[1], sizeof buf[1], 100), 0);
    CHECK_EQ(b->ops->receive(b, buf[1], sizeof buf[1], 101), (long)sizeof pkt);
    CHECK_MEM(buf[0], pkt, sizeof pkt);
    CHECK_MEM(buf[1], pkt, sizeof pkt);
    CHECK_EQ(b->ops->receive(b, buf[1], sizeof buf[1], 1000), 0);
    const struct sim_link_stats *st = sim_link_stats(l, 0);
    CHECK_EQ_U(st->duplicated, 1);
    CHECK_EQ_U(st->delivered, 2);
    CHECK_EQ_U(st->sent, 1);
    sim_link_free(l);
}

TEST(corruption_flips_exactly_one_bit)
{
    struct sim_link_config cfg = {.corrupt_ppm = 1000000};
    struct sim_link *l = new_link(&cfg, 5);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t pkt[300], buf[300];
    int hit_first = 0, hit_last = 0;
    for (uint32_t i = 0; i < 2000; i++) {
        size_t len = 1 + i % 300;
        fill_packet(pkt, len, i);
        CHECK_EQ(a->ops->transmit(a, pkt, len, i), 0);
        CHECK_EQ(b->ops->receive(b, buf, sizeof buf, i), (long)len);
        int flipped = 0;
        for (size_t j = 0; j < len; j++) {
            flipped += popcount8(buf[j] ^ pkt[j]);
            hit_first |= j == 0 && buf[j] != pkt[j];
            hit_last |= len > 1 && j == len - 1 && buf[j] != pkt[j];
        }
        CHECK_EQ(flipped, 1);
    }
    CHECK(hit_first && hit_last);
    CHECK_EQ_U(sim_link_stats(l, 0)->corrupted, 2000);
    sim_link_free(l);
}

TEST(duplicates_are_corrupted_independently)
{
    struct sim_link_config cfg = {.dup_ppm = 1000000, .corrupt_ppm = 1000000};
    struct sim_link *l = new_link(&cfg, 5);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t pkt[200], buf[2][200];
    int copies_differ = 0;
    for (uint32_t i = 0; i < 100; i++) {
        fill_packet(pkt, sizeof pkt, i);
        CHECK_EQ(a->ops->transmit(a, pkt, sizeof pkt, 2 * i), 0);
        CHECK_EQ(b->ops->receive(b, buf[0], sizeof pkt, 2 * i + 1), 200);
        CHECK_EQ(b->ops->receive(b, buf[1], sizeof pkt, 2 * i + 1), 200);
        for (int c = 0; c < 2; c++) {
            int flipped = 0;
            for (size_t j = 0; j < sizeof pkt; j++)
                flipped += popcount8(buf[c][j] ^ pkt[j]);
            CHECK_EQ(flipped, 1);
        }
        copies_differ += harness_memdiff(buf[0], buf[1], sizeof pkt) >= 0;
    }
    CHECK(copies_differ > 90);
    CHECK_EQ_U(sim_link_stats(l, 0)->corrupted, 200);
    sim_link_free(l);
}

TEST(duplicate_follows_held_packet)
{
    struct sim_link_config cfg = {.delay_us = 10, .reorder_ppm = 1000000,
                                  .dup_ppm = 1000000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    send_id(a, 1, 100, 0); /* held, with its duplicate */
    send_id(a, 2, 100, 0); /* releases 1 right behind itself */
    uint32_t ids[4];
    CHECK_EQ(drain_ids(b, 10, ids, 4), 2);
    CHECK_EQ(drain_ids(b, 11, ids + 2, 2), 2);
    const uint32_t want[] = {2, 1, 2, 1};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(ids[i], want[i]);
    sim_link_free(l);
}

/* ---- determinism, reconfiguration, memory ---- */

/* A run with every impairment on; returns a hash of what arrived, when. */
static uint64_t run_trace(uint64_t seed)
{
    struct sim_link_config cfg = {
        .delay_us = 2000, .jitter_us = 700, .loss_ppm = 20000,
        .burst_enter_ppm = 3000, .burst_exit_ppm = 300000, .reorder_ppm = 50000,
        .dup_ppm = 30000, .corrupt_ppm = 20000, .rate_bps = 30000000,
        .queue_bytes = 30000};
    struct sim_link *l = new_link(&cfg, seed);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t buf[1500];
    uint64_t hash = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        uint64_t now = (uint64_t)i * 150;
        send_id(a, i, 64 + (i * 37) % 1400, now);
        long n;
        while ((n = b->ops->receive(b, buf, sizeof buf, now)) > 0) {
            hash = rng_mix64(hash ^ now ^ (uint64_t)n);
            for (long j = 0; j < n; j++)
                hash = rng_mix64(hash + buf[j]);
        }
    }
    const struct sim_link_stats *st = sim_link_stats(l, 0);
    CHECK(st->lost_random > 0 && st->lost_burst > 0 && st->dropped_queue > 0);
    CHECK(st->reordered > 0 && st->duplicated > 0 && st->corrupted > 0);
    sim_link_free(l);
    return hash;
}

TEST(same_seed_replays_exactly)
{
    CHECK_EQ_U(run_trace(1234), run_trace(1234));
}

TEST(different_seed_differs)
{
    CHECK(run_trace(1234) != run_trace(1235));
}

TEST(stats_add_up)
{
    struct sim_link_config cfg = {
        .delay_us = 3000, .jitter_us = 2000, .loss_ppm = 50000,
        .burst_enter_ppm = 10000, .burst_exit_ppm = 200000,
        .reorder_ppm = 100000, .dup_ppm = 100000, .rate_bps = 20000000,
        .queue_bytes = 20000, .mtu = 1400};
    struct sim_link *l = new_link(&cfg, 99);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    uint8_t buf[1000];
    uint64_t pending = 0;
    for (uint32_t i = 0; i < 20000; i++) {
        send_id(a, i, 40 + (i * 53) % 1500, (uint64_t)i * 100);
        while (b->ops->receive(b, buf, sizeof buf, (uint64_t)i * 100) > 0)
            ;
    }
    const struct sim_link_stats *st = sim_link_stats(l, 0);
    while (b->ops->next_arrival_us(b) != UINT64_MAX) {
        pending++;
        b->ops->receive(b, buf, sizeof buf, b->ops->next_arrival_us(b));
    }
    CHECK(pending > 0);
    CHECK(st->dropped_mtu > 0 && st->dropped_rx_too_big > 0);
    CHECK_EQ_U(st->sent + st->duplicated,
               st->delivered + st->lost_random + st->lost_burst +
                   st->dropped_queue + st->dropped_mtu +
                   st->dropped_rx_too_big);
    sim_link_free(l);
}

TEST(set_config_changes_later_packets)
{
    struct sim_link_config cfg = {.delay_us = 1000};
    struct sim_link *l = new_link(&cfg, 1);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    send_id(a, 1, 100, 0);
    cfg.delay_us = 5000;
    sim_link_set_config(l, &cfg);
    send_id(a, 2, 100, 0); /* in flight: 1 keeps its delay */
    CHECK_EQ_U(b->ops->next_arrival_us(b), 1000);
    CHECK_EQ(recv_id(b, 1000), 1);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 5000);
    CHECK_EQ(recv_id(b, 5000), 2);

    cfg.loss_ppm = 1000000;
    sim_link_set_config(l, &cfg);
    send_id(a, 3, 100, 6000);
    CHECK_EQ_U(b->ops->next_arrival_us(b), UINT64_MAX);
    cfg.loss_ppm = 0;
    cfg.rate_bps = 8000000; /* 1000 bytes: 1 ms */
    sim_link_set_config(l, &cfg);
    send_id(a, 4, 1000, 7000);
    CHECK_EQ_U(b->ops->next_arrival_us(b), 13000);
    CHECK_EQ_U(sim_link_stats(l, 0)->lost_random, 1);
    sim_link_free(l);
}

TEST(many_packets_in_flight)
{
    struct sim_link_config cfg = {.delay_us = 1000000, .jitter_us = 500000};
    struct sim_link *l = new_link(&cfg, 2024);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    enum { N = 150000 };
    for (uint32_t i = 0; i < N; i++)
        send_id(a, i, 20, i);
    uint32_t expect = 0;
    uint64_t next, prev = 0;
    while ((next = b->ops->next_arrival_us(b)) != UINT64_MAX) {
        CHECK(next >= prev);
        prev = next;
        CHECK_EQ(recv_id(b, next), expect);
        expect++;
    }
    CHECK_EQ(expect, N);
    sim_link_free(l);
}

TEST(free_with_packets_in_flight_leaks_nothing)
{
    struct sim_link_config cfg = {.delay_us = 50000, .reorder_ppm = 300000,
                                  .dup_ppm = 300000, .rate_bps = 1000000000};
    struct sim_link *l = new_link(&cfg, 6);
    struct keel_device *a = sim_link_device(l, 0), *b = sim_link_device(l, 1);
    for (uint32_t i = 0; i < 100000; i++) {
        send_id(a, i, 100, i / 10);
        send_id(b, i, 100, i / 10);
    }
    CHECK(recv_id(b, 50001) >= 0);
    /* any earlier hold has expired: this one is held, with a duplicate */
    cfg.reorder_ppm = 1000000;
    cfg.dup_ppm = 1000000;
    sim_link_set_config(l, &cfg);
    send_id(a, 1, 100, 500000);
    CHECK(b->ops->next_arrival_us(b) < 500000); /* many still in flight */
    sim_link_free(l); /* ASan reports any leak */
}
