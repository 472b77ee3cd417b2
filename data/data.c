/* data.c - encoding a corpus, splitting it, and cutting it into examples.
 * The file's text is read once; only the compact ids are kept. */
#include "data.h"

#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

void data_free(Dataset *ds)
{
    free(ds->tokens.ids16);
    free(ds->tokens.ids32);
    memset(ds, 0, sizeof *ds);
}

/* Allocates compact storage for n ids (16-bit when every id fits). */
static int tokens_alloc(Tokens *t, size_t n, int32_t vocab_size, Error *err)
{
    memset(t, 0, sizeof *t);
    if (vocab_size <= 65536)
        t->ids16 = mem_calloc(n, sizeof *t->ids16, "token ids", err);
    else
        t->ids32 = mem_calloc(n, sizeof *t->ids32, "token ids", err);
    if (!t->ids16 && !t->ids32)
        return -1;
    t->n = n;
    return 0;
}

/* t's ids [at, at + n) = ids (n), in t's width. */
static void tokens_put(Tokens *t, size_t at, const int32_t *ids, size_t n)
{
    if (t->ids16)
        for (size_t i = 0; i < n; i++)
            t->ids16[at + i] = (uint16_t)ids[i];
    else
        memcpy(t->ids32 + at, ids, n * sizeof *ids);
}

/* Copies ids (n) into new compact storage. */
static int tokens_store(Tokens *t, const int32_t *ids, size_t n,
                        int32_t vocab_size, Error *err)
{
    if (tokens_alloc(t, n, vocab_size, err) != 0)
        return -1;
    tokens_put(t, 0, ids, n);
    return 0;
}

/* One non-empty line of the text (without its '\n'). */
typedef struct {
    const unsigned char *start;
    size_t len;
} Line;

/* Splits text at '\n' into its non-empty lines. */
static int split_lines(Line **out, size_t *n_out, const unsigned char *text,
                       size_t len, Error *err)
{
    size_t count = 0;
    for (size_t i = 0, s = 0; i <= len; i++)
        if (i == len || text[i] == '\n') {
            count += i > s;
            s = i + 1;
        }
    Line *lines = mem_calloc(count, sizeof *lines, "line index", err);
    if (!lines)
        return -1;
    size_t k = 0;
    for (size_t i = 0, s = 0; i <= len; i++)
        if (i == len || text[i] == '\n') {
            if (i > s)
                lines[k++] = (Line){text + s, i - s};
            s = i + 1;
        }
    *out = lines;
    *n_out = count;
    return 0;
}

/* Encodes the lines with select[i] set (all lines if select is NULL) as
 *  b line b line ... b  into ds. */
static int build_lines(Dataset *ds, const Tokenizer *tok, const Line *lines,
                       size_t n_lines, const unsigned char *select,
                       int context, const char *name, Error *err)
{
    size_t total = 1, n_items = 0;
    for (size_t i = 0; i < n_lines; i++)
        if (!select || select[i]) {
            total += lines[i].len + 1; /* bytes bound the ids; +1 boundary */
            n_items++;
        }
    int32_t *ids = mem_calloc(total, sizeof *ids, "token ids", err);
    if (!ids)
        return -1;
    size_t n = 0;
    ids[n++] = 0;
    for (size_t i = 0; i < n_lines; i++) {
        if (select && !select[i])
            continue;
        size_t got;
        if (tok_encode(tok, ids + n, &got, lines[i].start, lines[i].len, name,
                       err) != 0) {
            free(ids);
            return -1;
        }
        n += got;
        ids[n++] = 0;
    }
    memset(ds, 0, sizeof *ds);
    int rc = tokens_store(&ds->tokens, ids, n, tok->vocab_size, err);
    free(ids);
    if (rc != 0)
        return -1;
    ds->lines = 1;
    ds->context = context;
    ds->n_items = n_items;
    ds->n_examples = n - 1; /* every position but the leading boundary */
    return 0;
}

/* Encodes the whole text straight into compact storage, a few thousand ids
 * at a time, so a large file never needs 4 bytes per character of scratch. */
static int encode_compact(Tokens *t, const Tokenizer *tok,
                          const unsigned char *text, size_t len,
                          const char *name, Error *err)
{
    enum { CHUNK = 4096 };
    /* One id per byte, or per UTF-8 lead byte (not of the form 10xxxxxx). */
    size_t n = len;
    if (tok->kind == TOK_CHAR)
        for (size_t i = 0; i < len; i++)
            n -= (text[i] & 0xC0) == 0x80;
    if (tokens_alloc(t, n, tok->vocab_size, err) != 0)
        return -1;
    int32_t chunk[CHUNK + 4];
    size_t at = 0, out = 0;
    while (at < len) {
        size_t end = len - at < CHUNK ? len : at + CHUNK;
        /* Never cut a character in two. */
        while (tok->kind == TOK_CHAR && end < len && (text[end] & 0xC0) == 0x80)
            end++;
        size_t got;
        if (tok_encode(tok, chunk, &got, text + at, end - at, name, err) != 0) {
            free(t->ids16);
            free(t->ids32);
            memset(t, 0, sizeof *t);
            return -1;
        }
        tokens_put(t, out, chunk, got);
        out += got;
        at = end;
    }
    return 0;
}

/* dst = a new copy of src[from .. from + count). */
static int tokens_slice(Tokens *dst, const Tokens *src, size_t from,
                        size_t count, int32_t vocab_size, Error *err)
{
    if (tokens_alloc(dst, count, vocab_size, err) != 0)
        return -1;
    if (src->ids16)
        memcpy(dst->ids16, src->ids16 + from, count * sizeof *dst->ids16);
    else
        memcpy(dst->ids32, src->ids32 + from, count * sizeof *dst->ids32);
    return 0;
}

/* Encoding goes one line or chunk at a time and stops at the first with a
 * character the vocabulary lacks; the error then lists the missing
 * characters of the whole text instead of that piece's only. Returns -1. */
static int encode_failed(const Tokenizer *tok, const unsigned char *text,
                         size_t len, const char *name, Error *err)
{
    Error all;
    if (tok_check_known(tok, text, len, name, &all) != 0)
        *err = all;
    return -1;
}

static void stream_dataset(Dataset *ds, Tokens tokens, int context)
{
    memset(ds, 0, sizeof *ds);
    ds->tokens = tokens;
    ds->context = context;
    ds->n_examples = tokens.n > (size_t)context ? tokens.n - (size_t)context : 0;
}

int data_build(Dataset *ds, const Tokenizer *tok, const unsigned char *text,
               size_t len, int lines, int context, const char *name, Error *err)
{
    memset(ds, 0, sizeof *ds);
    if (lines) {
        if (!tok->has_boundary)
            return err_set(err, "lines mode needs a tokenizer with a boundary token");
        Line *ls;
        size_t n_lines;
        if (split_lines(&ls, &n_lines, text, len, err) != 0)
            return -1;
        int rc = build_lines(ds, tok, ls, n_lines, NULL, context, name, err);
        free(ls);
        if (rc != 0)
            return encode_failed(tok, text, len, name, err);
        if (ds->n_items == 0) {
            data_free(ds);
            return err_set(err, "%s: no non-empty lines", name);
        }
        return 0;
    }
    Tokens all;
    if (encode_compact(&all, tok, text, len, name, err) != 0)
        return encode_failed(tok, text, len, name, err);
    stream_dataset(ds, all, context);
    if (ds->n_examples == 0) {
        size_t n = all.n;
        data_free(ds);
        return err_set(err, "%s: %zu characters is too short for a context of %d "
                       "(need at least %d)", name, n, context, context + 1);
    }
    return 0;
}

int data_build_split(Dataset *train, Dataset *val, const Tokenizer *tok,
                     const unsigned char *text, size_t len, int lines,
                     int context, double val_frac, uint64_t seed,
                     const char *name, Error *err)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (lines) {
        if (!tok->has_boundary)
            return err_set(err, "lines mode needs a tokenizer with a boundary token");
        Line *ls;
        size_t n_lines;
        if (split_lines(&ls, &n_lines, text, len, err) != 0)
            return -1;
        size_t n_val = (size_t)(val_frac * (double)n_lines + 0.5);
        if (n_val < 1 || n_val >= n_lines) {
            free(ls);
            return err_set(err, "%s: %zu non-empty lines cannot be split with "
                           "--val-frac %g (it would leave %zu for validation and "
                           "%zu for training; each needs at least 1)",
                           name, n_lines, val_frac, n_val,
                           n_lines >= n_val ? n_lines - n_val : 0);
        }
        /* A seeded Fisher-Yates shuffle of the line indices; the first n_val
         * go to validation. Each set keeps the file's order. */
        size_t *order = mem_calloc(n_lines, sizeof *order, "line order", err);
        unsigned char *is_val = mem_calloc(n_lines, 1, "line split", err);
        if (!order || !is_val) {
            free(order);
            free(is_val);
            free(ls);
            return -1;
        }
        for (size_t i = 0; i < n_lines; i++)
            order[i] = i;
        Rng rng;
        rng_seed(&rng, seed);
        for (size_t i = n_lines - 1; i > 0; i--) {
            size_t j = (size_t)rng_below(&rng, i + 1);
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (size_t i = 0; i < n_val; i++)
            is_val[order[i]] = 1;
        int rc = build_lines(val, tok, ls, n_lines, is_val, context, name, err);
        for (size_t i = 0; i < n_lines && rc == 0; i++)
            is_val[i] = !is_val[i];
        if (rc == 0)
            rc = build_lines(train, tok, ls, n_lines, is_val, context, name, err);
        free(order);
        free(is_val);
        free(ls);
        if (rc != 0) {
            data_free(train);
            data_free(val);
            return encode_failed(tok, text, len, name, err);
        }
        return rc;
    }
    Tokens all;
    if (encode_compact(&all, tok, text, len, name, err) != 0)
        return encode_failed(tok, text, len, name, err);
    size_t n = all.n;
    size_t n_val = (size_t)(val_frac * (double)n);
    size_t n_train = n - n_val;
    size_t need = (size_t)context + 1;
    if (n_val < need || n_train < need) {
        free(all.ids16);
        free(all.ids32);
        return err_set(err, "%s: %zu characters is too little for --val-frac %g "
                       "with a context of %d: training would get %zu and "
                       "validation %zu characters, and each needs at least %zu",
                       name, n, val_frac, context, n_train, n_val, need);
    }
    /* Validation gets a copy of the tail; training keeps the head in place. */
    Tokens tail;
    if (tokens_slice(&tail, &all, n_train, n_val, tok->vocab_size, err) != 0) {
        free(all.ids16);
        free(all.ids32);
        return -1;
    }
    all.n = n_train;
    stream_dataset(train, all, context);
    stream_dataset(val, tail, context);
    return 0;
}

int32_t data_example(const Dataset *ds, size_t k, int32_t *ctx)
{
    const Tokens *t = &ds->tokens;
    int T = ds->context;
    if (!ds->lines) {
        /* Stream: the target is position T + k, its context the T before. */
        size_t p = (size_t)T + k;
        for (int j = 0; j < T; j++)
            ctx[j] = tokens_get(t, p - (size_t)T + (size_t)j);
        return tokens_get(t, p);
    }
    /* Lines: the target is position 1 + k. Walk back from just before it,
     * copying ids until the item's leading boundary; the rest is boundary. */
    size_t p = 1 + k;
    int j = T - 1;
    size_t q = p;
    while (j >= 0 && q > 0) {
        int32_t id = tokens_get(t, q - 1);
        if (id == 0)
            break;
        ctx[j--] = id;
        q--;
    }
    for (; j >= 0; j--)
        ctx[j] = 0;
    return tokens_get(t, p);
}

/* Examples drawn ahead of their reading in data_batch. */
#define BATCH_AHEAD 16

void data_batch(const Dataset *ds, Rng *rng, int batch, int32_t *ctx,
                int32_t *targets)
{
    /* Each example is a read at a random place in the ids: a cache miss
     * where they outgrow the cache (names: 456 KB). Drawn BATCH_AHEAD at
     * a time, in the same order, with each one's ids fetched before any is
     * read, the misses overlap instead of following one another. */
    const Tokens *t = &ds->tokens;
    size_t id_bytes = t->ids16 ? sizeof *t->ids16 : sizeof *t->ids32;
    const char *ids = t->ids16 ? (const char *)t->ids16 : (const char *)t->ids32;
    for (int b0 = 0; b0 < batch; b0 += BATCH_AHEAD) {
        int nb = batch - b0 < BATCH_AHEAD ? batch - b0 : BATCH_AHEAD;
        size_t k[BATCH_AHEAD];
        for (int i = 0; i < nb; i++) {
            k[i] = (size_t)rng_below(rng, ds->n_examples);
            /* The target's line of ids (and with it the context's ids
             * before it, where they share the line). */
            size_t target = (ds->lines ? 1 : (size_t)ds->context) + k[i];
            __builtin_prefetch(ids + target * id_bytes);
        }
        for (int i = 0; i < nb; i++) {
            int b = b0 + i;
            targets[b] = data_example(ds, k[i], ctx + (size_t)b * (size_t)ds->context);
        }
    }
}
