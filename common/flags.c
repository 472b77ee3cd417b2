/* flags.c - strtol/strtod with end-pointer, errno and range checks. */
#include "flags.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

int flag_long(const char *flag, const char *s, long min, long max, long *out,
              Error *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || isspace((unsigned char)*s))
        return err_set(err, "%s: '%s' is not a whole number", flag, s);
    if (errno == ERANGE || v < min || v > max)
        return err_set(err, "%s: %s is out of range (%ld to %ld)", flag, s, min,
                       max);
    *out = v;
    return 0;
}

int flag_u64(const char *flag, const char *s, uint64_t *out, Error *err)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+' || isspace((unsigned char)*s) || *s == '\0')
        return err_set(err, "%s: '%s' is not a whole number from 0 to %llu",
                       flag, s, (unsigned long long)UINT64_MAX);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return err_set(err, "%s: '%s' is not a whole number", flag, s);
    if (errno == ERANGE)
        return err_set(err, "%s: %s is out of range (0 to %llu)", flag, s,
                       (unsigned long long)UINT64_MAX);
    *out = v;
    return 0;
}

int flag_double(const char *flag, const char *s, double min, double max,
                double *out, Error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || isspace((unsigned char)*s))
        return err_set(err, "%s: '%s' is not a number", flag, s);
    if (!isfinite(v) || errno == ERANGE || v < min || v > max)
        return err_set(err, "%s: %s is out of range (%g to %g)", flag, s, min,
                       max);
    *out = v;
    return 0;
}
