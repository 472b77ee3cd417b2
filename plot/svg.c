/* svg.c - the SVG text buffer: append, escape, hand over. */
#include "svg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for `more` bytes plus the terminating NUL. */
static int reserve(Svg *s, size_t more)
{
    if (s->failed)
        return -1;
    if (s->len + more + 1 <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + more + 1) {
        if (cap > ((size_t)-1) / 2) {
            s->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(s->data, cap);
    if (!p) {
        s->failed = 1;
        return -1;
    }
    s->data = p;
    s->cap = cap;
    return 0;
}

static void append(Svg *s, const char *text, size_t n)
{
    if (reserve(s, n) != 0)
        return;
    memcpy(s->data + s->len, text, n);
    s->len += n;
    s->data[s->len] = '\0';
}

void svg_printf(Svg *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(s, (size_t)n) != 0) {
        s->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

/* How many bytes at p make up the next character (1 to 4), and in *ok
 * whether it may appear in XML: valid UTF-8, not a control character other
 * than tab, newline and CR, not a surrogate, not U+FFFE or U+FFFF. A
 * complete but disallowed sequence counts as one character (one U+FFFD); a
 * stray or truncated byte counts alone. */
static int next_char(const unsigned char *p, int *ok)
{
    unsigned c = p[0];
    *ok = 0;
    if (c < 0x80) {
        *ok = c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
        return 1;
    }
    int n = c >= 0xF8 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0)
        return 1;
    unsigned long cp = c & (0x3F >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 1;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    *ok = !(cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
            cp == 0xFFFE || cp == 0xFFFF);
    return n;
}

void svg_escape(Svg *s, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        int ok, n = next_char(p, &ok);
        switch (ok ? *p : 0) {
        case '&': append(s, "&amp;", 5); break;
        case '<': append(s, "&lt;", 4); break;
        case '>': append(s, "&gt;", 4); break;
        case '"': append(s, "&quot;", 6); break;
        case '\'': append(s, "&#39;", 5); break;
        case 0: append(s, "\xEF\xBF\xBD", 3); break; /* U+FFFD */
        default: append(s, (const char *)p, (size_t)n);
        }
        p += n;
    }
}

int svg_finish(Svg *s, char **out, size_t *len, Error *err)
{
    if (s->failed || !s->data) {
        svg_free(s);
        return err_set(err, "out of memory writing an SVG image");
    }
    *out = s->data;
    *len = s->len;
    memset(s, 0, sizeof *s);
    return 0;
}

void svg_free(Svg *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}
