#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CASES 1024

static struct {
    const char *name;
    harness_fn fn;
} cases[MAX_CASES];
static int ncases;
static const char *running;
static char context[256];

void harness_register(const char *name, harness_fn fn)
{
    if (ncases == MAX_CASES) {
        fprintf(stderr, "harness: more than %d cases\n", MAX_CASES);
        exit(2);
    }
    cases[ncases].name = name;
    cases[ncases].fn = fn;
    ncases++;
}

void harness_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s at %s:%d: ", running ? running : "?", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (context[0])
        fprintf(stderr, "  context: %s\n", context);
    exit(1);
}

long harness_memdiff(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return (long)i;
    return -1;
}

int harness_strdiff(const char *a, const char *b)
{
    return strcmp(a, b) != 0;
}

static void run_case(int i)
{
    running = cases[i].name;
    context[0] = 0;
    cases[i].fn();
    printf("ok %s\n", cases[i].name);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ncases; i++)
            puts(cases[i].name);
        return 0;
    }
    for (int i = 0; i < ncases; i++)
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0)
            run_case(i);
    if (argc > 1) {
        for (int i = 0; i < ncases; i++)
            if (strcmp(argv[1], cases[i].name) == 0)
                return 0;
        fprintf(stderr, "no case named %s\n", argv[1]);
        return 2;
    }
    return 0;
}
