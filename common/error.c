/* error.c - formatting of Error messages. Nothing here prints or exits. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int err_set(Error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
