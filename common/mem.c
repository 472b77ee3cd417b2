/* mem.c - overflow-checked sizes and allocation. */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>

int mem_mul(size_t *out, size_t a, size_t b, const char *what, Error *err)
{
    if (a != 0 && b > SIZE_MAX / a)
        return err_set(err, "%s: size %zu x %zu overflows", what, a, b);
    *out = a * b;
    return 0;
}

int mem_add(size_t *out, size_t a, size_t b, const char *what, Error *err)
{
    if (b > SIZE_MAX - a)
        return err_set(err, "%s: size %zu + %zu overflows", what, a, b);
    *out = a + b;
    return 0;
}

void *mem_calloc(size_t n, size_t size, const char *what, Error *err)
{
    size_t bytes = 0;
    if (mem_mul(&bytes, n, size, what, err) != 0)
        return NULL;
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p)
        err_set(err, "out of memory: %s needs %zu bytes", what, bytes);
    return p;
}
