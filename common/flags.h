/* flags.h - strict parsing of numeric command-line values. A value parses only
 * if the whole string is a number and it lies inside [min, max]; anything else
 * is an error naming the flag and the accepted range. Nothing is clamped. */
#ifndef TINYCHAR_FLAGS_H
#define TINYCHAR_FLAGS_H

#include <stdint.h>

#include "error.h"

int flag_long(const char *flag, const char *s, long min, long max, long *out,
              Error *err);
int flag_u64(const char *flag, const char *s, uint64_t *out, Error *err);
/* Rejects NaN and infinities as well as out-of-range values. */
int flag_double(const char *flag, const char *s, double min, double max,
                double *out, Error *err);

#endif
