/* error.h - the error type every library function fills instead of printing.
 * A function that can fail returns 0 on success and -1 on failure, after
 * writing one sentence into Error that names the thing that went wrong
 * (file, line, byte offset, flag, size). Only the programs print it. */
#ifndef TINYCHAR_ERROR_H
#define TINYCHAR_ERROR_H

typedef struct {
    char msg[512];
} Error;

/* Formats the message into err (if err is not NULL) and returns -1, so a
 * failing function can end with `return err_set(err, "...", ...);`. */
int err_set(Error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
