/* ckpt.h - a checkpoint as bytes: model config, tokenizer vocabulary, training
 * state, parameters and optimizer moments, closed by a CRC-32. The byte layout
 * is documented field by field in CHECKPOINT.md. Encodes and decodes memory
 * only; the programs read and (atomically) write the files. */
#ifndef TINYCHAR_CKPT_H
#define TINYCHAR_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "model.h"
#include "optim.h"

#define CKPT_MAGIC "TINYCHAR"
#define CKPT_VERSION 1u
#define CKPT_HEADER_BYTES 240u

/* Everything a training run needs to continue exactly where it stopped. */
typedef struct {
    uint32_t tokenizer;     /* TokKind: 0 char, 1 byte */
    uint32_t lines;         /* 1: lines mode, 0: stream */
    uint32_t normalize;     /* 1: text was NFC-normalized */
    uint32_t val_from_file; /* 1: validation came from --val-file */
    uint32_t batch;
    uint32_t eval_every;
    uint64_t seed;
    uint64_t step;          /* optimizer steps done */
    uint64_t steps_total;   /* run length in steps, or 0 with a time budget */
    double time_budget;     /* seconds, or 0 with a step count */
    double elapsed;         /* seconds trained (0 unless time-budgeted) */
    double val_frac;
    double best_val;        /* best validation loss so far (+inf: none) */
    double last_val;        /* latest validation loss (+inf: none) */
    uint64_t rng[4];        /* the batch sampler's RNG state */
} TrainState;

typedef struct {
    ModelConfig cfg;
    OptimConfig opt;
    TrainState st;
    int32_t *vocab;    /* (V) id -> code point / byte, -1 = boundary token */
    size_t n_params;
    float *params;     /* (n_params) */
    int n_moments;     /* 0, 1 (SGD) or 2 (AdamW) */
    float *m, *v;      /* (n_params) each, when present */
} Checkpoint;

/* Serializes ck into a new buffer (*buf, *len). Pointers in ck are read only. */
int ckpt_encode(const Checkpoint *ck, unsigned char **buf, size_t *len, Error *err);

/* Parses and validates a checkpoint: magic, version, every size against the
 * actual length (with overflow checks), enum fields, and the CRC-32, before
 * allocating anything. `name` (the file) prefixes messages. ck owns its arrays
 * afterwards: release with ckpt_free. */
int ckpt_decode(Checkpoint *ck, const unsigned char *buf, size_t len,
                const char *name, Error *err);

/* Frees arrays allocated by ckpt_decode (not those of a hand-filled ck). */
void ckpt_free(Checkpoint *ck);

#endif
