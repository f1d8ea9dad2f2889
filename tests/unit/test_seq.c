/* Sequence-number arithmetic modulo 2^32. */
#include "base/seq.h"
#include "harness.h"

static seq_t S(uint32_t v) { return seq_make(v); }

TEST(seq_compare_plain)
{
    CHECK(seq_lt(S(1), S(2)));
    CHECK(seq_le(S(2), S(2)));
    CHECK(seq_gt(S(3), S(2)));
    CHECK(seq_ge(S(3), S(3)));
    CHECK(seq_eq(S(7), S(7)));
    CHECK(!seq_lt(S(2), S(2)));
    CHECK(!seq_gt(S(2), S(2)));
}

TEST(seq_compare_across_wrap)
{
    CHECK(seq_lt(S(0xffffffffu), S(0)));
    CHECK(seq_gt(S(0), S(0xffffffffu)));
    CHECK(seq_lt(S(0xfffffff0u), S(0x10)));
    CHECK(seq_le(S(0xffffffffu), S(0)));
    CHECK(seq_ge(S(5), S(0xfffffffbu)));
    CHECK(seq_eq(seq_add(S(0xffffffffu), 1), S(0)));
    CHECK(seq_eq(seq_sub_n(S(0), 1), S(0xffffffffu)));
    CHECK(seq_eq(seq_max(S(0xfffffff0u), S(3)), S(3)));
    CHECK(seq_eq(seq_min(S(0xfffffff0u), S(3)), S(0xfffffff0u)));
}

TEST(seq_half_space_boundary)
{
    /* Just under 2^31 apart: ordered as expected. */
    CHECK(seq_lt(S(0), S(0x7fffffffu)));
    CHECK(seq_gt(S(0x7fffffffu), S(0)));
    /* 0x7fffffff and 0x80000000 are adjacent. */
    CHECK(seq_lt(S(0x7fffffffu), S(0x80000000u)));
    CHECK_EQ(seq_diff(S(0x80000000u), S(0x7fffffffu)), 1);
    /* Exactly 2^31 apart: the difference is INT32_MIN, so a precedes b in
     * neither reading that the helpers promise; both compare "less". */
    CHECK(seq_lt(S(0x80000000u), S(0)));
    CHECK(seq_lt(S(0), S(0x80000000u)));
    CHECK_EQ(seq_diff(S(0x80000000u), S(0)), INT32_MIN);
    /* Past 2^31 the order flips. */
    CHECK(seq_gt(S(0), S(0x80000001u)));
}

TEST(seq_diff_and_dist)
{
    CHECK_EQ(seq_diff(S(10), S(3)), 7);
    CHECK_EQ(seq_diff(S(3), S(10)), -7);
    CHECK_EQ(seq_diff(S(2), S(0xfffffffeu)), 4);
    CHECK_EQ(seq_diff(S(0xfffffffeu), S(2)), -4);
    CHECK_EQ_U(seq_dist(S(0xfffffffeu), S(2)), 4);
    CHECK_EQ_U(seq_dist(S(100), S(100)), 0);
    CHECK_EQ_U(seq_dist(S(1), S(0)), 0xffffffffu);
}

TEST(seq_in_window)
{
    CHECK(seq_in(S(5), S(5), S(10)));
    CHECK(seq_in(S(9), S(5), S(10)));
    CHECK(!seq_in(S(10), S(5), S(10)));
    CHECK(!seq_in(S(4), S(5), S(10)));
    CHECK(!seq_in(S(5), S(5), S(5))); /* empty window */
}

TEST(seq_in_window_across_wrap)
{
    seq_t lo = S(0xfffffff0u), hi = S(0x10);
    CHECK(seq_in(S(0xfffffff0u), lo, hi));
    CHECK(seq_in(S(0xffffffffu), lo, hi));
    CHECK(seq_in(S(0), lo, hi));
    CHECK(seq_in(S(0xf), lo, hi));
    CHECK(!seq_in(S(0x10), lo, hi));
    CHECK(!seq_in(S(0xffffffefu), lo, hi));
    CHECK(!seq_in(S(0x80000000u), lo, hi));
}
