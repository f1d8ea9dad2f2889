/* A small test harness: TEST(name) defines a case, CHECK* assert inside it.
 * Each executable runs one named case (argv[1]) or all of them; CTest registers
 * every case separately (see tests/CMakeLists.txt). */
#ifndef KEEL_HARNESS_H
#define KEEL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

typedef void (*harness_fn)(void);
void harness_register(const char *name, harness_fn fn);
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Printed with any failure of the running case: a seed, a scenario name. */
void harness_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define TEST(name)                                                            \
    static void test_##name(void);                                            \
    __attribute__((constructor)) static void register_##name(void)            \
    {                                                                         \
        harness_register(#name, test_##name);                                 \
    }                                                                         \
    static void test_##name(void)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond))                                                          \
            harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);             \
    } while (0)

#define CHECK_EQ(a, b)                                                        \
    do {                                                                      \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);       \
        if (check_a_ != check_b_)                                             \
            harness_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a,    \
                         #b, check_a_, check_b_);                             \
    } while (0)

#define CHECK_EQ_U(a, b)                                                      \
    do {                                                                      \
        unsigned long long check_a_ = (unsigned long long)(a);                \
        unsigned long long check_b_ = (unsigned long long)(b);                \
        if (check_a_ != check_b_)                                             \
            harness_fail(__FILE__, __LINE__, "%s == %s: %llu != %llu", #a,    \
                         #b, check_a_, check_b_);                             \
    } while (0)

#define CHECK_MEM(a, b, n)                                                    \
    do {                                                                      \
        if (harness_memdiff((a), (b), (n)) >= 0)                              \
            harness_fail(__FILE__, __LINE__,                                  \
                         "%s and %s differ at byte %ld of %zu", #a, #b,       \
                         harness_memdiff((a), (b), (n)), (size_t)(n));        \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        if (harness_strdiff((a), (b)))                                        \
            harness_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"",    \
                         #a, #b, (a), (b));                                   \
    } while (0)

long harness_memdiff(const void *a, const void *b, size_t n);
int harness_strdiff(const char *a, const char *b);

#endif
