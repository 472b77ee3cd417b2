/* mem.c - overflow-checked sizes and allocation. */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* aligned_alloc(align, bytes rounded up to align), zeroed; NULL with err set. */
static void *calloc_aligned(size_t bytes, size_t align, const char *what,
                            Error *err)
{
    size_t rounded = 0;
    if (mem_add(&rounded, bytes ? bytes : 1, align - 1, what, err) != 0)
        return NULL;
    rounded -= rounded % align;
    void *p = aligned_alloc(align, rounded);
    if (!p) {
        err_set(err, "out of memory: %s needs %zu bytes", what, bytes);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void *mem_calloc_aligned(size_t n, size_t size, const char *what, Error *err)
{
    size_t bytes = 0;
    if (mem_mul(&bytes, n, size, what, err) != 0)
        return NULL;
    return calloc_aligned(bytes, 64, what, err);
}

void *mem_float_arrays(float **arrays, int k, size_t n, int skew,
                       const char *what, Error *err)
{
    enum { PAGE = 4096, STEP = 1024 };
    /* Array i at byte skew*STEP + i*stride, stride = its bytes rounded up
     * to a page, plus STEP. */
    size_t bytes = 0, stride = 0, total = 0;
    if (mem_mul(&bytes, n, sizeof(float), what, err) != 0 ||
        mem_add(&stride, bytes, PAGE - 1 + STEP, what, err) != 0)
        return NULL;
    stride -= (stride - STEP) % PAGE;
    if (mem_mul(&total, stride, (size_t)k, what, err) != 0 ||
        mem_add(&total, total, (size_t)skew * STEP, what, err) != 0)
        return NULL;
    char *block = calloc_aligned(total, PAGE, what, err);
    if (!block)
        return NULL;
    for (int i = 0; i < k; i++)
        arrays[i] = (float *)(block + (size_t)skew * STEP + (size_t)i * stride);
    return block;
}
