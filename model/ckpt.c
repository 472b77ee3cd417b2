/* ckpt.c - checkpoint encoding and validating decoder. Integers and floats are
 * written little-endian byte by byte, so files move between machines. */
#include "ckpt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/crc32.h"
#include "../common/mem.h"

/* --- little-endian writers and readers ------------------------------------ */

static void put_u32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static void put_f64(unsigned char *p, double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    put_u64(p, u);
}

static void put_f32s(unsigned char *p, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put_u32(p + 4 * i, u);
    }
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t x = 0;
    for (int i = 3; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

static double get_f64(const unsigned char *p)
{
    uint64_t u = get_u64(p);
    double x;
    memcpy(&x, &u, 8);
    return x;
}

static void get_f32s(float *x, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i);
        memcpy(&x[i], &u, 4);
    }
}

/* --- the fixed header: offsets as documented in CHECKPOINT.md ------------- */

enum {
    OFF_MAGIC = 0, OFF_VERSION = 8, OFF_CONTEXT = 12, OFF_EMBED = 16,
    OFF_HIDDEN = 20, OFF_LAYERS = 24, OFF_VOCAB = 28, OFF_TOKENIZER = 32,
    OFF_LINES = 36, OFF_NORMALIZE = 40, OFF_OPTIMIZER = 44, OFF_BATCH = 48,
    OFF_EVAL_EVERY = 52, OFF_SEED = 56, OFF_STEP = 64, OFF_STEPS_TOTAL = 72,
    OFF_TIME_BUDGET = 80, OFF_ELAPSED = 88, OFF_LR = 96, OFF_MIN_LR = 104,
    OFF_WARMUP = 112, OFF_WEIGHT_DECAY = 120, OFF_CLIP = 128, OFF_BETA1 = 136,
    OFF_BETA2 = 144, OFF_EPS = 152, OFF_MOMENTUM = 160, OFF_VAL_FRAC = 168,
    OFF_BEST_VAL = 176, OFF_LAST_VAL = 184, OFF_RNG = 192, OFF_N_PARAMS = 224,
    OFF_N_MOMENTS = 232, OFF_VAL_FROM_FILE = 236, OFF_END = 240
};

_Static_assert(OFF_END == CKPT_HEADER_BYTES, "header layout");

/* Total size of a checkpoint with these sizes, or -1 on overflow. */
static int total_size(size_t *out, size_t vocab, size_t n_params,
                      size_t n_moments, Error *err)
{
    size_t floats, vbytes, fbytes, total;
    if (mem_mul(&floats, n_params, 1 + n_moments, "checkpoint", err) ||
        mem_mul(&fbytes, floats, 4, "checkpoint", err) ||
        mem_mul(&vbytes, vocab, 4, "checkpoint", err) ||
        mem_add(&total, CKPT_HEADER_BYTES, vbytes, "checkpoint", err) ||
        mem_add(&total, total, fbytes, "checkpoint", err) ||
        mem_add(&total, total, 4, "checkpoint", err))
        return -1;
    *out = total;
    return 0;
}

int ckpt_encode(const Checkpoint *ck, unsigned char **buf, size_t *len, Error *err)
{
    *buf = NULL;
    *len = 0;
    size_t V = (size_t)ck->cfg.vocab, n = ck->n_params;
    size_t k = (size_t)ck->n_moments;
    size_t total;
    if (total_size(&total, V, n, k, err) != 0)
        return -1;
    unsigned char *b = mem_calloc(total, 1, "checkpoint buffer", err);
    if (!b)
        return -1;
    const TrainState *s = &ck->st;
    const OptimConfig *o = &ck->opt;
    memcpy(b + OFF_MAGIC, CKPT_MAGIC, 8);
    put_u32(b + OFF_VERSION, CKPT_VERSION);
    put_u32(b + OFF_CONTEXT, (uint32_t)ck->cfg.context);
    put_u32(b + OFF_EMBED, (uint32_t)ck->cfg.embed);
    put_u32(b + OFF_HIDDEN, (uint32_t)ck->cfg.hidden);
    put_u32(b + OFF_LAYERS, (uint32_t)ck->cfg.layers);
    put_u32(b + OFF_VOCAB, (uint32_t)ck->cfg.vocab);
    put_u32(b + OFF_TOKENIZER, s->tokenizer);
    put_u32(b + OFF_LINES, s->lines);
    put_u32(b + OFF_NORMALIZE, s->normalize);
    put_u32(b + OFF_OPTIMIZER, (uint32_t)o->kind);
    put_u32(b + OFF_BATCH, s->batch);
    put_u32(b + OFF_EVAL_EVERY, s->eval_every);
    put_u64(b + OFF_SEED, s->seed);
    put_u64(b + OFF_STEP, s->step);
    put_u64(b + OFF_STEPS_TOTAL, s->steps_total);
    put_f64(b + OFF_TIME_BUDGET, s->time_budget);
    put_f64(b + OFF_ELAPSED, s->elapsed);
    put_f64(b + OFF_LR, o->lr);
    put_f64(b + OFF_MIN_LR, o->min_lr);
    put_u64(b + OFF_WARMUP, o->warmup);
    put_f64(b + OFF_WEIGHT_DECAY, o->weight_decay);
    put_f64(b + OFF_CLIP, o->clip);
    put_f64(b + OFF_BETA1, o->beta1);
    put_f64(b + OFF_BETA2, o->beta2);
    put_f64(b + OFF_EPS, o->eps);
    put_f64(b + OFF_MOMENTUM, o->momentum);
    put_f64(b + OFF_VAL_FRAC, s->val_frac);
    put_f64(b + OFF_BEST_VAL, s->best_val);
    put_f64(b + OFF_LAST_VAL, s->last_val);
    for (int i = 0; i < 4; i++)
        put_u64(b + OFF_RNG + 8 * i, s->rng[i]);
    put_u64(b + OFF_N_PARAMS, (uint64_t)n);
    put_u32(b + OFF_N_MOMENTS, (uint32_t)k);
    put_u32(b + OFF_VAL_FROM_FILE, s->val_from_file);
    unsigned char *p = b + CKPT_HEADER_BYTES;
    for (size_t i = 0; i < V; i++, p += 4)
        put_u32(p, (uint32_t)ck->vocab[i]);
    put_f32s(p, ck->params, n);
    p += 4 * n;
    if (k >= 1) {
        put_f32s(p, ck->m, n);
        p += 4 * n;
    }
    if (k >= 2) {
        put_f32s(p, ck->v, n);
        p += 4 * n;
    }
    put_u32(p, crc32_update(0, b, total - 4));
    *buf = b;
    *len = total;
    return 0;
}

void ckpt_free(Checkpoint *ck)
{
    free(ck->vocab);
    free(ck->params);
    free(ck->m);
    free(ck->v);
    memset(ck, 0, sizeof *ck);
}

/* Reads a u32 size field and checks it lies in [lo, hi]. */
static int size_field(int *out, const unsigned char *b, int off,
                      const char *field, long lo, long hi, const char *name,
                      Error *err)
{
    uint32_t x = get_u32(b + off);
    if ((long)x < lo || (long)x > hi)
        return err_set(err, "%s: checkpoint field '%s' is %u (must be %ld to %ld)",
                       name, field, x, lo, hi);
    *out = (int)x;
    return 0;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

int ckpt_decode(Checkpoint *ck, const unsigned char *b, size_t len,
                const char *name, Error *err)
{
    memset(ck, 0, sizeof *ck);
    if (len < 8 || memcmp(b, CKPT_MAGIC, 8) != 0)
        return err_set(err, "%s: not a tinychar checkpoint (bad magic)", name);
    if (len < CKPT_HEADER_BYTES + 4)
        return err_set(err, "%s: truncated checkpoint (%zu bytes, the header "
                       "alone is %u)", name, len, CKPT_HEADER_BYTES + 4);
    uint32_t version = get_u32(b + OFF_VERSION);
    if (version != CKPT_VERSION)
        return err_set(err, "%s: checkpoint format version %u is not supported "
                       "(this tinychar reads version %u)", name, version,
                       CKPT_VERSION);
    ModelConfig c = {0};
    if (size_field(&c.context, b, OFF_CONTEXT, "context", 1, MODEL_MAX_CONTEXT, name, err) ||
        size_field(&c.embed, b, OFF_EMBED, "embed", 1, MODEL_MAX_EMBED, name, err) ||
        size_field(&c.hidden, b, OFF_HIDDEN, "hidden", 1, MODEL_MAX_HIDDEN, name, err) ||
        size_field(&c.layers, b, OFF_LAYERS, "layers", 1, MODEL_MAX_LAYERS, name, err) ||
        size_field(&c.vocab, b, OFF_VOCAB, "vocab", 1, MODEL_MAX_VOCAB, name, err))
        return -1;
    Error cerr;
    if (model_config_check(&c, &cerr) != 0)
        return err_set(err, "%s: checkpoint config: %s", name, cerr.msg);
    int tokenizer = 0, lines = 0, normalize = 0, optimizer = 0;
    int n_moments = 0, val_from_file = 0;
    int batch = 0, eval_every = 0;
    if (size_field(&tokenizer, b, OFF_TOKENIZER, "tokenizer", 0, 1, name, err) ||
        size_field(&lines, b, OFF_LINES, "mode", 0, 1, name, err) ||
        size_field(&normalize, b, OFF_NORMALIZE, "normalize", 0, 1, name, err) ||
        size_field(&optimizer, b, OFF_OPTIMIZER, "optimizer", 0, 1, name, err) ||
        size_field(&batch, b, OFF_BATCH, "batch", 1, 1 << 20, name, err) ||
        size_field(&eval_every, b, OFF_EVAL_EVERY, "eval_every", 1, 1 << 30, name, err) ||
        size_field(&n_moments, b, OFF_N_MOMENTS, "n_moments", 0, 2, name, err) ||
        size_field(&val_from_file, b, OFF_VAL_FROM_FILE, "val_from_file", 0, 1, name, err))
        return -1;
    size_t n_params = model_param_count(&c);
    uint64_t stored_n = get_u64(b + OFF_N_PARAMS);
    if (stored_n != (uint64_t)n_params)
        return err_set(err, "%s: checkpoint field 'n_params' is %llu but the "
                       "config needs %zu", name, (unsigned long long)stored_n,
                       n_params);
    size_t expect;
    if (total_size(&expect, (size_t)c.vocab, n_params, (size_t)n_moments, err) != 0)
        return -1;
    if (len != expect)
        return err_set(err, "%s: checkpoint is %zu bytes but its header describes "
                       "%zu bytes (%s)", name, len, expect,
                       len < expect ? "truncated" : "trailing data");
    uint32_t stored_crc = get_u32(b + len - 4);
    uint32_t crc = crc32_update(0, b, len - 4);
    if (crc != stored_crc)
        return err_set(err, "%s: checksum mismatch (stored 0x%08X, computed "
                       "0x%08X): the file is damaged", name, stored_crc, crc);

    ck->cfg = c;
    OptimConfig *o = &ck->opt;
    o->kind = (OptimKind)optimizer;
    o->lr = get_f64(b + OFF_LR);
    o->min_lr = get_f64(b + OFF_MIN_LR);
    o->warmup = get_u64(b + OFF_WARMUP);
    o->weight_decay = get_f64(b + OFF_WEIGHT_DECAY);
    o->clip = get_f64(b + OFF_CLIP);
    o->beta1 = get_f64(b + OFF_BETA1);
    o->beta2 = get_f64(b + OFF_BETA2);
    o->eps = get_f64(b + OFF_EPS);
    o->momentum = get_f64(b + OFF_MOMENTUM);
    TrainState *s = &ck->st;
    s->tokenizer = (uint32_t)tokenizer;
    s->lines = (uint32_t)lines;
    s->normalize = (uint32_t)normalize;
    s->val_from_file = (uint32_t)val_from_file;
    s->batch = (uint32_t)batch;
    s->eval_every = (uint32_t)eval_every;
    s->seed = get_u64(b + OFF_SEED);
    s->step = get_u64(b + OFF_STEP);
    s->steps_total = get_u64(b + OFF_STEPS_TOTAL);
    s->time_budget = get_f64(b + OFF_TIME_BUDGET);
    s->elapsed = get_f64(b + OFF_ELAPSED);
    s->val_frac = get_f64(b + OFF_VAL_FRAC);
    s->best_val = get_f64(b + OFF_BEST_VAL);
    s->last_val = get_f64(b + OFF_LAST_VAL);
    for (int i = 0; i < 4; i++)
        s->rng[i] = get_u64(b + OFF_RNG + 8 * i);
    double hyper[] = {o->lr, o->min_lr, o->weight_decay, o->clip, o->beta1,
                      o->beta2, o->eps, o->momentum, s->time_budget,
                      s->elapsed, s->val_frac};
    for (size_t i = 0; i < sizeof hyper / sizeof *hyper; i++)
        if (!isfinite(hyper[i]) || hyper[i] < 0)
            return err_set(err, "%s: checkpoint holds an invalid training "
                           "setting (%g)", name, hyper[i]);

    if (o->beta1 >= 1 || o->beta2 >= 1 || o->momentum >= 1)
        return err_set(err, "%s: checkpoint optimizer betas/momentum must be "
                       "below 1", name);
    if (o->min_lr > o->lr)
        return err_set(err, "%s: checkpoint min_lr %g is above lr %g", name,
                       o->min_lr, o->lr);
    if (s->steps_total == 0 && !(s->time_budget > 0))
        return err_set(err, "%s: checkpoint has neither steps_total nor a "
                       "time_budget", name);
    if (s->steps_total && s->step > s->steps_total)
        return err_set(err, "%s: checkpoint step %llu is beyond steps_total %llu",
                       name, (unsigned long long)s->step,
                       (unsigned long long)s->steps_total);
    if (tokenizer == 1 && c.vocab != 256 + lines)
        return err_set(err, "%s: checkpoint field 'vocab' is %d but a byte "
                       "tokenizer has %d", name, c.vocab, 256 + lines);

    ck->n_params = n_params;
    ck->n_moments = n_moments;
    ck->vocab = mem_calloc((size_t)c.vocab, sizeof(int32_t), "vocabulary", err);
    ck->params = mem_calloc(n_params, sizeof(float), "parameters", err);
    if (!ck->vocab || !ck->params)
        goto fail;
    const unsigned char *p = b + CKPT_HEADER_BYTES;
    for (int i = 0; i < c.vocab; i++, p += 4)
        ck->vocab[i] = (int32_t)get_u32(p);
    get_f32s(ck->params, p, n_params);
    p += 4 * n_params;
    if (!all_finite(ck->params, n_params)) {
        err_set(err, "%s: checkpoint parameters contain NaN or infinity", name);
        goto fail;
    }
    if (n_moments >= 1) {
        ck->m = mem_calloc(n_params, sizeof(float), "optimizer state", err);
        if (!ck->m)
            goto fail;
        get_f32s(ck->m, p, n_params);
        p += 4 * n_params;
        if (!all_finite(ck->m, n_params)) {
            err_set(err, "%s: checkpoint optimizer state contains NaN or infinity", name);
            goto fail;
        }
    }
    if (n_moments >= 2) {
        ck->v = mem_calloc(n_params, sizeof(float), "optimizer state", err);
        if (!ck->v)
            goto fail;
        get_f32s(ck->v, p, n_params);
        if (!all_finite(ck->v, n_params)) {
            err_set(err, "%s: checkpoint optimizer state contains NaN or infinity", name);
            goto fail;
        }
    }
    return 0;
fail:
    ckpt_free(ck);
    return -1;
}
