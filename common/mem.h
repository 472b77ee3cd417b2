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

#endif
