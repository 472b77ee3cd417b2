/* data.h - a corpus of token ids, its train/validation split, and the
 * (context, target) examples a language model learns from.
 * Two modes: stream (the file is one long text) and lines (each non-empty line
 * is one item, framed by the boundary token). Bytes in, int32 ids out; knows
 * nothing of the model. */
#ifndef TINYCHAR_DATA_H
#define TINYCHAR_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "../tokenizer/tokenizer.h"

/* Token ids stored compactly: 16 bits each when every id fits, else 32. */
typedef struct {
    uint16_t *ids16;
    int32_t *ids32;
    size_t n;
} Tokens;

static inline int32_t tokens_get(const Tokens *t, size_t i)
{
    return t->ids16 ? (int32_t)t->ids16[i] : t->ids32[i];
}

/* Lines mode lays the items out as one sequence with the boundary token b
 * between them:  b i t e m 1 b i t e m 2 b ...  b. The context of a position
 * is the T tokens before it, except that everything before the item's own
 * leading b reads as b (makemore's padding), so items never see each other. */
typedef struct {
    Tokens tokens;
    int lines;           /* 1: lines mode (id 0 is the boundary), 0: stream */
    int context;         /* T */
    size_t n_examples;   /* number of (context, target) pairs */
    size_t n_items;      /* lines mode: number of items */
} Dataset;

/* Builds one dataset from prepared text, encoding every character. */
int data_build(Dataset *ds, const Tokenizer *tok, const unsigned char *text,
               size_t len, int lines, int context, const char *name, Error *err);

/* Builds train and validation sets from one text: stream mode holds out the
 * last val_frac of the characters; lines mode a random val_frac of the lines
 * chosen with `seed`. Too little text for the split or the context is an error
 * that gives the numbers. */
int data_build_split(Dataset *train, Dataset *val, const Tokenizer *tok,
                     const unsigned char *text, size_t len, int lines,
                     int context, double val_frac, uint64_t seed,
                     const char *name, Error *err);

void data_free(Dataset *ds);

/* Example k (0 <= k < n_examples): ctx gets its T context ids, the return
 * value is the id to predict. */
int32_t data_example(const Dataset *ds, size_t k, int32_t *ctx);

/* B examples drawn uniformly at random: ctx (B, T), targets (B). */
void data_batch(const Dataset *ds, Rng *rng, int batch, int32_t *ctx,
                int32_t *targets);

#endif
