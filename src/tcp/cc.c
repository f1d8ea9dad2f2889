/* The congestion-control algorithms keel knows, by name (TCP_CONGESTION). */
#include <string.h>

#include "tcp/cc.h"

static const struct cc_ops *const algorithms[] = {&cc_newreno, &cc_cubic};

const struct cc_ops *cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
        if (strcmp(algorithms[i]->name, name) == 0)
            return algorithms[i];
    return NULL;
}
