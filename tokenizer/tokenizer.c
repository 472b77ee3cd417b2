/* tokenizer.c - text cleaning (BOM, CRLF, UTF-8 validation, NFC via utf8proc),
 * vocabulary building, encoding and decoding. Never prints; never sees a model. */
#include "tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "../common/mem.h"

/* 1-based line number of byte offset `at` (lines end at '\n'). */
static size_t line_of(const unsigned char *s, size_t at)
{
    size_t line = 1;
    for (size_t i = 0; i < at; i++)
        line += s[i] == '\n';
    return line;
}

/* Offset of the first invalid UTF-8 sequence, or len if all is valid.
 * utf8proc_iterate rejects stray continuation bytes, truncated sequences,
 * overlong forms, surrogates (U+D800-DFFF) and code points above U+10FFFF. */
static size_t first_invalid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path: eight bytes at a time while none has its top bit
         * set, then byte by byte. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080u) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || cp < 0)
            return i;
        i += (size_t)n;
    }
    return len;
}

static int is_ascii(const unsigned char *s, size_t len)
{
    unsigned char any = 0;
    for (size_t i = 0; i < len; i++)
        any |= s[i];
    return any < 0x80;
}

/* Appends NFC of s[0..len) to dst (capacity grown as needed). Works in pieces
 * that end just after a '\n': a newline never combines with its neighbours, so
 * normalizing the pieces separately equals normalizing the whole text, and the
 * temporary buffers stay small for a large file. */
static int nfc_append(unsigned char **dst, size_t *dst_len, size_t *dst_cap,
                      const unsigned char *s, size_t len, int *changed,
                      Error *err)
{
    const size_t piece = 1 << 20;
    size_t at = 0;
    while (at < len) {
        size_t end = at + piece < len ? at + piece : len;
        while (end < len && s[end - 1] != '\n')
            end++;
        const unsigned char *src = s + at;
        size_t n = end - at;
        unsigned char *norm = NULL;
        size_t norm_len = n;
        if (!is_ascii(src, n)) {
            utf8proc_ssize_t r = utf8proc_map(src, (utf8proc_ssize_t)n, &norm,
                                              UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (r < 0)
                return err_set(err, "Unicode normalization failed: %s",
                               utf8proc_errmsg(r));
            norm_len = (size_t)r;
            if (norm_len != n || memcmp(norm, src, n) != 0)
                *changed = 1;
            src = norm;
        }
        if (*dst_len + norm_len + 1 > *dst_cap) {
            size_t cap = (*dst_len + norm_len + 1) * 2;
            unsigned char *grown = realloc(*dst, cap);
            if (!grown) {
                free(norm);
                return err_set(err, "out of memory normalizing text (%zu bytes)", cap);
            }
            *dst = grown;
            *dst_cap = cap;
        }
        memcpy(*dst + *dst_len, src, norm_len);
        *dst_len += norm_len;
        free(norm);
        at = end;
    }
    return 0;
}

/* Allowed range of the second byte after lead byte `lead` (RFC 3629 table),
 * which is what excludes overlongs, surrogates and code points > U+10FFFF. */
static int second_byte_ok(unsigned char lead, unsigned char b)
{
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
    }
}

/* Length of the sequence at s[0..len) (len >= 1): *valid says whether it is
 * one well-formed character; if not, the length is that of the maximal
 * subpart to replace by one U+FFFD: the lead byte and the continuation bytes
 * that could still have completed it (at least 1 byte). */
static size_t utf8_sequence(const unsigned char *s, size_t len, int *valid)
{
    unsigned char lead = s[0];
    size_t need = lead < 0x80 ? 1 : lead < 0xC2 ? 0 : lead < 0xE0 ? 2
                : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
    *valid = 0;
    if (need == 0)
        return 1;
    size_t n = 1;
    if (need > 1) {
        if (len < 2 || !second_byte_ok(lead, s[1]))
            return 1;
        n = 2;
        while (n < need && n < len && s[n] >= 0x80 && s[n] <= 0xBF)
            n++;
    }
    *valid = n == need;
    return n;
}

/* A copy of raw[0..len) with each ill-formed sequence replaced by U+FFFD
 * (3 bytes; the input it replaces is at least 1 byte, so the copy is at most
 * 3 len bytes), counted in notes. */
static int replace_invalid_utf8(unsigned char **out, size_t *out_len,
                                TextNotes *notes, const unsigned char *raw,
                                size_t len, size_t first_bad, const char *name,
                                Error *err)
{
    if (len > (SIZE_MAX - 1) / 3)
        return err_set(err, "%s is too large to read (%zu bytes)", name, len);
    unsigned char *text = malloc(3 * len + 1);
    if (!text)
        return err_set(err, "out of memory reading %s (%zu bytes)", name, 3 * len + 1);
    memcpy(text, raw, first_bad);
    size_t n = first_bad, i = first_bad;
    notes->first_replaced = first_bad;
    notes->first_replaced_line = line_of(raw, first_bad);
    while (i < len) {
        int valid;
        size_t step = raw[i] < 0x80 ? (valid = 1, 1)
                                    : utf8_sequence(raw + i, len - i, &valid);
        if (valid) {
            memcpy(text + n, raw + i, step);
            n += step;
        } else {
            text[n++] = 0xEF; /* U+FFFD */
            text[n++] = 0xBF;
            text[n++] = 0xBD;
            notes->replaced++;
        }
        i += step;
    }
    text[n] = '\0';
    *out = text;
    *out_len = n;
    return 0;
}

int tok_prepare_text(unsigned char **out, size_t *out_len, TextNotes *notes,
                     const unsigned char *raw, size_t len, TokKind kind,
                     int normalize, TokInvalid invalid, const char *name,
                     Error *err)
{
    *out = NULL;
    *out_len = 0;
    memset(notes, 0, sizeof *notes);
    unsigned char *clean = NULL; /* raw with U+FFFD substitutions, if any */
    if (kind == TOK_CHAR) {
        size_t bad = first_invalid_utf8(raw, len);
        if (bad < len && invalid != TOK_INVALID_REPLACE)
            return err_set(err,
                           "%s: invalid UTF-8 at line %zu, byte offset %zu "
                           "(byte 0x%02X)",
                           name, line_of(raw, bad), bad, raw[bad]);
        if (bad < len) {
            if (replace_invalid_utf8(&clean, &len, notes, raw, len, bad, name,
                                     err) != 0)
                return -1;
            raw = clean;
        }
    }
    int rc = -1;
    size_t start = 0;
    if (len >= 3 && raw[0] == 0xEF && raw[1] == 0xBB && raw[2] == 0xBF) {
        notes->had_bom = 1;
        start = 3;
    }
    /* CRLF -> LF into a new buffer (never longer than the input). */
    unsigned char *text = malloc(len - start + 1);
    if (!text) {
        err_set(err, "out of memory reading %s (%zu bytes)", name, len);
        goto done;
    }
    size_t n = 0;
    for (size_t i = start; i < len;) {
        /* Copy up to the next '\r' in one piece (memchr and memcpy are
         * vectorized), then drop it if a '\n' follows. */
        const unsigned char *cr = memchr(raw + i, '\r', len - i);
        size_t run = cr ? (size_t)(cr - raw) - i : len - i;
        memcpy(text + n, raw + i, run);
        n += run;
        i += run;
        if (i < len) {
            if (i + 1 < len && raw[i + 1] == '\n')
                notes->crlf++;
            else
                text[n++] = '\r';
            i++;
        }
    }
    text[n] = '\0';
    if (kind == TOK_CHAR && normalize && !is_ascii(text, n)) {
        unsigned char *norm = NULL;
        size_t norm_len = 0, norm_cap = 0;
        if (nfc_append(&norm, &norm_len, &norm_cap, text, n, &notes->normalized,
                       err) != 0) {
            free(norm);
            free(text);
            goto done;
        }
        free(text);
        norm[norm_len] = '\0';
        text = norm;
        n = norm_len;
    }
    *out = text;
    *out_len = n;
    rc = 0;
done:
    free(clean);
    return rc;
}

/* Fills id_of from vocab; vocab must already be checked. */
static int build_lookup(Tokenizer *tok, Error *err)
{
    int32_t max_cp = 0;
    for (int32_t i = 0; i < tok->vocab_size; i++)
        if (tok->vocab[i] > max_cp)
            max_cp = tok->vocab[i];
    tok->max_cp = max_cp;
    tok->id_of = mem_calloc((size_t)max_cp + 1, sizeof *tok->id_of,
                            "vocabulary lookup", err);
    if (!tok->id_of)
        return -1;
    for (int32_t c = 0; c <= max_cp; c++)
        tok->id_of[c] = -1;
    for (int32_t i = 0; i < tok->vocab_size; i++)
        if (tok->vocab[i] != TOK_BOUNDARY_CP)
            tok->id_of[tok->vocab[i]] = i;
    return 0;
}

int tok_build(Tokenizer *tok, TokKind kind, int has_boundary,
              const unsigned char *text, size_t len, Error *err)
{
    memset(tok, 0, sizeof *tok);
    tok->kind = kind;
    tok->has_boundary = has_boundary;
    /* seen[c] marks each code point (or byte) present in the text. */
    size_t n_seen = kind == TOK_BYTE ? 256 : 0x110000;
    unsigned char *seen = mem_calloc(n_seen, 1, "vocabulary scan", err);
    if (!seen)
        return -1;
    /* The scans below stop after the largest code point seen (or 127), so
     * an ASCII text costs 128 steps, not 0x110000. */
    size_t end = n_seen;
    if (kind == TOK_BYTE) {
        memset(seen, 1, 256);
    } else {
        end = 128;
        size_t i = 0;
        while (i < len) {
            if (text[i] < 0x80) { /* ASCII: the tight loop */
                seen[text[i++]] = 1;
                continue;
            }
            utf8proc_int32_t cp;
            utf8proc_ssize_t step =
                utf8proc_iterate(text + i, (utf8proc_ssize_t)(len - i), &cp);
            if (step <= 0 || cp < 0) {
                free(seen);
                return err_set(err, "invalid UTF-8 at byte offset %zu", i);
            }
            seen[cp] = 1;
            if ((size_t)cp >= end)
                end = (size_t)cp + 1;
            i += (size_t)step;
        }
        if (has_boundary)
            seen['\n'] = 0;
    }
    int32_t count = has_boundary ? 1 : 0;
    for (size_t c = 0; c < end; c++)
        count += seen[c];
    if (count == (has_boundary ? 1 : 0)) {
        free(seen);
        return err_set(err, "the text has no characters to build a vocabulary from");
    }
    tok->vocab = mem_calloc((size_t)count, sizeof *tok->vocab, "vocabulary", err);
    if (!tok->vocab) {
        free(seen);
        return -1;
    }
    int32_t v = 0;
    if (has_boundary)
        tok->vocab[v++] = TOK_BOUNDARY_CP;
    for (size_t c = 0; c < end; c++)
        if (seen[c])
            tok->vocab[v++] = (int32_t)c;
    tok->vocab_size = count;
    free(seen);
    if (build_lookup(tok, err) != 0) {
        tok_free(tok);
        return -1;
    }
    return 0;
}

int tok_from_vocab(Tokenizer *tok, TokKind kind, const int32_t *vocab,
                   int32_t vocab_size, Error *err)
{
    memset(tok, 0, sizeof *tok);
    if (kind != TOK_CHAR && kind != TOK_BYTE)
        return err_set(err, "unknown tokenizer kind %d", (int)kind);
    if (vocab_size < 1)
        return err_set(err, "vocabulary is empty");
    tok->kind = kind;
    tok->has_boundary = vocab[0] == TOK_BOUNDARY_CP;
    int32_t limit = kind == TOK_BYTE ? 255 : 0x10FFFF;
    for (int32_t i = tok->has_boundary; i < vocab_size; i++) {
        int32_t c = vocab[i];
        if (c < 0 || c > limit || (kind == TOK_CHAR && c >= 0xD800 && c <= 0xDFFF))
            return err_set(err, "vocabulary entry %d is not a valid %s (%d)", i,
                           kind == TOK_BYTE ? "byte" : "code point", c);
        if (i > tok->has_boundary && c <= vocab[i - 1])
            return err_set(err, "vocabulary is not sorted and unique at entry %d", i);
    }
    tok->vocab = mem_calloc((size_t)vocab_size, sizeof *tok->vocab, "vocabulary", err);
    if (!tok->vocab)
        return -1;
    memcpy(tok->vocab, vocab, (size_t)vocab_size * sizeof *vocab);
    tok->vocab_size = vocab_size;
    if (build_lookup(tok, err) != 0) {
        tok_free(tok);
        return -1;
    }
    return 0;
}

void tok_free(Tokenizer *tok)
{
    free(tok->vocab);
    free(tok->id_of);
    memset(tok, 0, sizeof *tok);
}

void tok_describe(int32_t cp, TokKind kind, char *buf, size_t size)
{
    if (cp == TOK_BOUNDARY_CP) {
        snprintf(buf, size, "<boundary>");
    } else if (kind == TOK_BYTE) {
        snprintf(buf, size, "byte 0x%02X", (unsigned)cp);
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
        snprintf(buf, size, "U+%04X", (unsigned)cp);
    } else {
        utf8proc_uint8_t u[5] = {0};
        utf8proc_encode_char(cp, u);
        snprintf(buf, size, "'%s' U+%04X", (char *)u, (unsigned)cp);
    }
}

/* tok_encode, and tok_check_known when ids is NULL (then '\n' is skipped if
 * skip_newline). */
static int encode(const Tokenizer *tok, int32_t *ids, size_t *n_ids,
                  const unsigned char *text, size_t len, int skip_newline,
                  const char *name, Error *err)
{
    enum { MAX_LISTED = 10 };
    int32_t missing[MAX_LISTED];
    int n_missing = 0, more_missing = 0;
    size_t n = 0, i = 0;
    while (i < len) {
        /* A run of ASCII characters the vocabulary has: the tight loop. */
        if (ids) {
            while (i < len && text[i] < 0x80 && text[i] <= tok->max_cp &&
                   tok->id_of[text[i]] >= 0)
                ids[n++] = tok->id_of[text[i++]];
            if (i == len)
                break;
        }
        utf8proc_int32_t cp = text[i];
        utf8proc_ssize_t step = 1;
        if (tok->kind == TOK_CHAR && cp >= 0x80) {
            step = utf8proc_iterate(text + i, (utf8proc_ssize_t)(len - i), &cp);
            if (step <= 0 || cp < 0)
                return err_set(err, "%s: invalid UTF-8 at byte offset %zu", name, i);
        }
        int32_t id = tok_id(tok, cp);
        if (id < 0 && !(skip_newline && cp == '\n')) {
            int known = 0;
            for (int k = 0; k < n_missing; k++)
                known |= missing[k] == cp;
            if (!known && n_missing < MAX_LISTED)
                missing[n_missing++] = cp;
            else if (!known)
                more_missing = 1;
        }
        if (ids)
            ids[n] = id;
        n++;
        i += (size_t)step;
    }
    if (n_missing > 0) {
        char list[400] = "";
        size_t used = 0;
        for (int k = 0; k < n_missing && used < sizeof list; k++) {
            char one[32];
            tok_describe(missing[k], tok->kind, one, sizeof one);
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     k ? ", " : "", one);
        }
        return err_set(err, "%s: characters not in the model's vocabulary: %s%s",
                       name, list, more_missing ? ", ..." : "");
    }
    if (n_ids)
        *n_ids = n;
    return 0;
}

int tok_encode(const Tokenizer *tok, int32_t *ids, size_t *n_ids,
               const unsigned char *text, size_t len, const char *name,
               Error *err)
{
    return encode(tok, ids, n_ids, text, len, 0, name, err);
}

int tok_check_known(const Tokenizer *tok, const unsigned char *text, size_t len,
                    const char *name, Error *err)
{
    return encode(tok, NULL, NULL, text, len, tok->has_boundary, name, err);
}

int tok_decode(const Tokenizer *tok, int32_t id, unsigned char out[4])
{
    if (id < 0 || id >= tok->vocab_size || tok->vocab[id] == TOK_BOUNDARY_CP)
        return 0;
    if (tok->kind == TOK_BYTE) {
        out[0] = (unsigned char)tok->vocab[id];
        return 1;
    }
    return (int)utf8proc_encode_char(tok->vocab[id], out);
}

/* The bytes of U+FFFD REPLACEMENT CHARACTER. */
static int put_replacement(unsigned char *out)
{
    out[0] = 0xEF;
    out[1] = 0xBF;
    out[2] = 0xBD;
    return 3;
}

int utf8_stream_push(Utf8Stream *s, unsigned char byte, unsigned char out[8])
{
    int n = 0;
    if (s->n_pending > 0) {
        int ok = s->n_pending == 1 ? second_byte_ok(s->pending[0], byte)
                                   : (byte >= 0x80 && byte <= 0xBF);
        if (ok) {
            s->pending[s->n_pending++] = byte;
            if (s->n_pending < s->need)
                return 0;
            memcpy(out, s->pending, (size_t)s->need);
            n = s->need;
            s->n_pending = 0;
            return n;
        }
        /* The pending sequence can never complete: replace it, then read
         * this byte afresh. */
        n = put_replacement(out);
        s->n_pending = 0;
    }
    if (byte < 0x80) {
        out[n++] = byte;
    } else if (byte >= 0xC2 && byte <= 0xF4) {
        s->pending[0] = byte;
        s->n_pending = 1;
        s->need = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
    } else {
        n += put_replacement(out + n);
    }
    return n;
}

int utf8_stream_flush(Utf8Stream *s, unsigned char out[4])
{
    if (s->n_pending == 0)
        return 0;
    s->n_pending = 0;
    return put_replacement(out);
}
