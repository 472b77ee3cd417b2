/* mem.h - checked allocation. Every size that can come from user input goes
 * through mem_mul so an overflowing product is an error, not a small buffer. */
#ifndef TINYCHAR_MEM_H
#define TINYCHAR_MEM_H

#include <stddef.h>

#include "error.h"

/* *out = a * b; returns -1 (and names `what`) when the product overflows. */
int mem_mul(size_t *out, size_t a, size_t b, const char *what, Error *err);
/* *out = a + b; returns -1 when the sum overflows. */
int mem_add(size_t *out, size_t a, size_t b, const char *what, Error *err);
/* calloc(n, size) that checks the product and names `what` and the byte count
 * on failure. Returns NULL on failure (with err set). n == 0 gives a valid
 * 1-byte allocation so callers need not special-case empty arrays. */
void *mem_calloc(size_t n, size_t size, const char *what, Error *err);

/* mem_calloc for the float arrays that vector loops stream through: the
 * block starts on a 64-byte boundary, a cache line. At malloc's 16-byte
 * alignment, a 512-bit access done as two 256-bit halves has one half
 * straddling two lines, which made the AdamW update 2.5 times slower.
 * Free with free(). */
void *mem_calloc_aligned(size_t n, size_t size, const char *what, Error *err);

/* Room for k zeroed arrays of n floats, one page-aligned block: array i
 * starts (skew + i) KiB past a page boundary (skew + k <= 4), so arrays
 * that a loop reads and writes at the same index never share an offset
 * within a 4 KiB page; when they do, the processor takes each load for a
 * possible reload of the store just made to another array (4K aliasing)
 * and waits for it. Fills arrays[0 .. k-1] and returns the block to free
 * with free(), or NULL (err set). */
void *mem_float_arrays(float **arrays, int k, size_t n, int skew,
                       const char *what, Error *err);

#endif
