/* svg.h - a growing text buffer to write SVG (XML) into, with escaping of
 * text and attribute values. It builds bytes in memory only: it never opens
 * files (the programs write the result with file_write_atomic) and knows
 * nothing of charts; plot.c draws with it. */
#ifndef TINYCHAR_SVG_H
#define TINYCHAR_SVG_H

#include <stddef.h>

#include "../common/error.h"

typedef struct {
    char *data;    /* NUL-terminated, len bytes */
    size_t len, cap;
    int failed;    /* an allocation failed; every later write is ignored */
} Svg;

/* Appends formatted text as is (the caller writes only markup and numbers). */
void svg_printf(Svg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends UTF-8 text escaped for XML character data and attribute values:
 * & < > " ' become entities. What XML 1.0 does not allow at all (control
 * characters other than tab, newline and CR, U+FFFE, U+FFFF) and bytes that
 * are not valid UTF-8 (a file name can hold any) become U+FFFD. */
void svg_escape(Svg *s, const char *text);

/* Hands the finished document to the caller (*out, *len; free() it) and
 * empties s. Fails with a message if an allocation failed on the way. */
int svg_finish(Svg *s, char **out, size_t *len, Error *err);

void svg_free(Svg *s);

#endif
