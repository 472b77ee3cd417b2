/* ref_dump.c - the C half of the PyTorch reference comparison
 * (tests/reference/compare.py). For one case it builds a model, writes it as a
 * tinychar checkpoint, runs forward, backward and 5 optimizer steps with the
 * library exactly as train/train.c does, and writes what it computed to a
 * record file for the reference to check. It checks nothing itself.
 *
 * Usage:
 *   ref_dump OUT key=value...      a case made here from a seed:
 *       text=FILE mode=stream|lines   the vocabulary and the batches come from
 *                                     FILE (tok_build, data_build, data_batch)
 *       context= embed= hidden= layers= batch= seed=
 *       jitter=S     add N(0, S^2) to every parameter after model_randomize,
 *                    so biases are non-zero and the logits spread (default 0)
 *       presteps=N   optimizer steps taken before the checkpoint is written,
 *                    so it holds non-zero moments and step N (default 0)
 *       steps=N      steps compared after the checkpoint (default 5)
 *       lr= min_lr= warmup= steps_total= weight_decay= clip= beta1= beta2=
 *       eps= momentum=    optimizer settings for both optimizers; prefix a
 *                         key with "adamw." or "sgd." to set it for one only
 *   ref_dump OUT fixture=FILE      config, vocabulary, parameters and batches
 *                                  from a record file (tests/reference/fixture.txt)
 *
 * For each optimizer O in adamw, sgd it writes OUT.O.ckpt (the state the
 * steps start from) and OUT.O.after.ckpt (params and moments after the steps),
 * and into OUT.dump:
 *   i batch<k>.ctx BxT, i batch<k>.targets B    the batch of step k (0-based,
 *                                               a new batch for every step)
 *   f O.logits BxV, d O.loss 1                  forward pass on batch 0 from
 *                                               the parameters in OUT.O.ckpt
 *   f O.grad.<tensor> ROWSxCOLS                 d loss / d tensor on batch 0,
 *                                               before clipping
 *   d O.lr N, d O.norm N, d O.losses N          each step's learning rate,
 *                                               global gradient norm before
 *                                               clipping, and batch loss
 *
 * Record files are text: '#' starts a comment that runs to the end of the
 * line; otherwise whitespace-separated records `TYPE NAME SHAPE VALUES...`,
 * TYPE i (integer), f (float32, printed with 9 significant digits, which
 * reads back to the same float) or d (float64, 17 digits); SHAPE is the
 * dimensions joined by 'x' ("4x3", "1"); then as many values as the shape
 * holds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../common/fileio.h"
#include "../common/rng.h"
#include "../data/data.h"
#include "../model/ckpt.h"
#include "../model/model.h"
#include "../model/optim.h"
#include "../tokenizer/tokenizer.h"

#define MAX_RECORDS 256
#define MAX_STEPS 64

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "ref_dump: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

/* ---- record files -------------------------------------------------------- */

typedef struct {
    char name[64];
    size_t n;
    double *v;
} Record;

typedef struct {
    Record r[MAX_RECORDS];
    int n;
} Records;

/* Next whitespace-separated token of s at *pos (skipping # comments), or NULL. */
static char *next_token(char *s, size_t *pos)
{
    for (;;) {
        while (s[*pos] == ' ' || s[*pos] == '\t' || s[*pos] == '\n' || s[*pos] == '\r')
            (*pos)++;
        if (s[*pos] == '#') {
            while (s[*pos] && s[*pos] != '\n')
                (*pos)++;
            continue;
        }
        if (!s[*pos])
            return NULL;
        char *tok = s + *pos;
        while (s[*pos] && s[*pos] != ' ' && s[*pos] != '\t' && s[*pos] != '\n' &&
               s[*pos] != '\r')
            (*pos)++;
        if (s[*pos])
            s[(*pos)++] = '\0';
        return tok;
    }
}

static void records_read(Records *rs, const char *path)
{
    unsigned char *data;
    size_t len, pos = 0;
    Error err;
    if (file_read(path, &data, &len, &err) != 0)
        die("%s", err.msg);
    char *s = (char *)data;
    char *tok;
    rs->n = 0;
    while ((tok = next_token(s, &pos))) {
        if (rs->n == MAX_RECORDS)
            die("%s: too many records", path);
        Record *r = &rs->r[rs->n++];
        if (strcmp(tok, "i") && strcmp(tok, "f") && strcmp(tok, "d"))
            die("bad record type '%s'", tok);
        char *name = next_token(s, &pos), *shape = next_token(s, &pos);
        if (!name || !shape || strlen(name) >= sizeof r->name)
            die("%s: truncated or bad record", path);
        snprintf(r->name, sizeof r->name, "%s", name);
        r->n = 1;
        for (char *p = shape; *p;) {
            char *end;
            errno = 0;
            unsigned long d = strtoul(p, &end, 10);
            if (end == p || errno || d > 1000000 || (*end && *end != 'x'))
                die("bad shape '%s'", shape);
            r->n *= d;
            p = *end ? end + 1 : end;
        }
        r->v = calloc(r->n ? r->n : 1, sizeof *r->v);
        if (!r->v)
            die("%s", "out of memory");
        for (size_t i = 0; i < r->n; i++) {
            char *v = next_token(s, &pos), *end;
            if (!v)
                die("record %s is truncated", r->name);
            r->v[i] = strtod(v, &end);
            if (*end)
                die("bad number '%s'", v);
        }
    }
    free(data);
}

static const Record *records_get(const Records *rs, const char *name, size_t n)
{
    for (int i = 0; i < rs->n; i++)
        if (!strcmp(rs->r[i].name, name)) {
            if (n && rs->r[i].n != n)
                die("record %s has the wrong number of values", name);
            return &rs->r[i];
        }
    die("the fixture has no record %s", name);
    return NULL;
}

static void records_free(Records *rs)
{
    for (int i = 0; i < rs->n; i++)
        free(rs->r[i].v);
    rs->n = 0;
}

static void put_header(FILE *f, char type, const char *name, size_t rows, size_t cols)
{
    if (cols > 1)
        fprintf(f, "%c %s %zux%zu", type, name, rows, cols);
    else
        fprintf(f, "%c %s %zu", type, name, rows);
}

static void put_f32(FILE *f, const char *name, const float *x, size_t rows, size_t cols)
{
    put_header(f, 'f', name, rows, cols);
    for (size_t i = 0; i < rows * cols; i++)
        fprintf(f, " %.9g", (double)x[i]);
    fputc('\n', f);
}

static void put_f64(FILE *f, const char *name, const double *x, size_t n)
{
    put_header(f, 'd', name, n, 1);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %.17g", x[i]);
    fputc('\n', f);
}

static void put_i32(FILE *f, const char *name, const int32_t *x, size_t rows, size_t cols)
{
    put_header(f, 'i', name, rows, cols);
    for (size_t i = 0; i < rows * cols; i++)
        fprintf(f, " %d", (int)x[i]);
    fputc('\n', f);
}

/* ---- the case ------------------------------------------------------------ */

typedef struct {
    ModelConfig cfg;
    int batch, lines, steps, presteps;
    uint64_t seed;
    OptimConfig opt[2];      /* [OPTIM_ADAMW], [OPTIM_SGD] */
    uint64_t steps_total[2];
    int32_t *vocab;          /* (V) */
    float *params;           /* (n_params) the starting parameters */
    int32_t *ctx;            /* (presteps + steps, B, T) */
    int32_t *targets;        /* (presteps + steps, B) */
    uint64_t rng[4];         /* stored in the checkpoint's rng field */
} Case;

static const char *OPT_NAME[2] = {"adamw", "sgd"};

static double parse_num(const char *key, const char *v)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x))
        die("bad value for %s", key);
    return x;
}

/* Sets optimizer field `key` (without prefix) of o; returns 0 if unknown. */
static int set_opt(OptimConfig *o, uint64_t *steps_total, const char *key, double x)
{
    if (!strcmp(key, "lr")) o->lr = x;
    else if (!strcmp(key, "min_lr")) o->min_lr = x;
    else if (!strcmp(key, "warmup")) o->warmup = (uint64_t)x;
    else if (!strcmp(key, "steps_total")) *steps_total = (uint64_t)x;
    else if (!strcmp(key, "weight_decay")) o->weight_decay = x;
    else if (!strcmp(key, "clip")) o->clip = x;
    else if (!strcmp(key, "beta1")) o->beta1 = x;
    else if (!strcmp(key, "beta2")) o->beta2 = x;
    else if (!strcmp(key, "eps")) o->eps = x;
    else if (!strcmp(key, "momentum")) o->momentum = x;
    else return 0;
    return 1;
}

static void case_defaults(Case *c)
{
    memset(c, 0, sizeof *c);
    c->cfg = (ModelConfig){.context = 3, .embed = 4, .hidden = 8, .layers = 1};
    c->batch = 8;
    c->steps = 5;
    c->seed = 1;
    for (int k = 0; k < 2; k++) {
        c->opt[k] = (OptimConfig){.kind = (OptimKind)k, .lr = 1e-2, .min_lr = 1e-3,
                                  .warmup = 2, .weight_decay = 0.1, .clip = 1.0,
                                  .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                                  .momentum = 0.9};
        c->steps_total[k] = 10;
    }
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("%s", "out of memory");
    return p;
}

/* A case from a seed: vocabulary and batches from a text, as `train` makes them. */
static void case_generate(Case *c, const char *text_path, double jitter)
{
    Error err;
    unsigned char *raw, *text;
    size_t raw_len, len;
    TextNotes notes;
    Tokenizer tok = {0};
    Dataset ds = {0};
    if (file_read(text_path, &raw, &raw_len, &err) != 0 ||
        tok_prepare_text(&text, &len, &notes, raw, raw_len, TOK_CHAR, 1,
                         TOK_INVALID_ERROR, text_path, &err) != 0 ||
        tok_build(&tok, TOK_CHAR, c->lines, text, len, &err) != 0 ||
        data_build(&ds, &tok, text, len, c->lines, c->cfg.context, text_path, &err) != 0)
        die("%s", err.msg);
    free(raw);
    free(text);
    c->cfg.vocab = tok.vocab_size;
    c->vocab = xcalloc((size_t)tok.vocab_size, sizeof *c->vocab);
    memcpy(c->vocab, tok.vocab, (size_t)tok.vocab_size * sizeof *c->vocab);

    Model m = {0};
    if (model_init(&m, &c->cfg, &err) != 0)
        die("%s", err.msg);
    Rng rng;
    rng_seed(&rng, c->seed);
    model_randomize(&m, &rng);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] += (float)(jitter * rng_normal(&rng));
    c->params = xcalloc(m.n_params, sizeof(float));
    memcpy(c->params, m.params, m.n_params * sizeof(float));
    model_free(&m);

    int n_batches = c->presteps + c->steps;
    size_t B = (size_t)c->batch, T = (size_t)c->cfg.context;
    c->ctx = xcalloc((size_t)n_batches * B * T, sizeof *c->ctx);
    c->targets = xcalloc((size_t)n_batches * B, sizeof *c->targets);
    for (int k = 0; k < n_batches; k++)
        data_batch(&ds, &rng, c->batch, c->ctx + k * B * T, c->targets + k * B);
    memcpy(c->rng, rng.s, sizeof c->rng);
    data_free(&ds);
    tok_free(&tok);
}

/* A case written by the reference (tests/reference/fixture.txt). */
static void case_from_fixture(Case *c, const char *path)
{
    Records rs;
    records_read(&rs, path);
    c->cfg.context = (int)records_get(&rs, "context", 1)->v[0];
    c->cfg.embed = (int)records_get(&rs, "embed", 1)->v[0];
    c->cfg.hidden = (int)records_get(&rs, "hidden", 1)->v[0];
    c->cfg.layers = (int)records_get(&rs, "layers", 1)->v[0];
    c->cfg.vocab = (int)records_get(&rs, "vocab_size", 1)->v[0];
    c->batch = (int)records_get(&rs, "batch", 1)->v[0];
    c->lines = (int)records_get(&rs, "lines", 1)->v[0];
    c->steps = (int)records_get(&rs, "steps", 1)->v[0];
    c->seed = (uint64_t)records_get(&rs, "seed", 1)->v[0];
    c->presteps = 0;
    Error err;
    if (model_config_check(&c->cfg, &err) != 0)
        die("%s", err.msg);
    if (c->batch < 1 || c->batch > 4096 || c->steps < 1 || c->steps > MAX_STEPS)
        die("%s: batch or steps out of range", path);
    const char *keys[] = {"lr", "min_lr", "warmup", "steps_total", "weight_decay",
                          "clip", "beta1", "beta2", "eps", "momentum"};
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < sizeof keys / sizeof *keys; j++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", OPT_NAME[k], keys[j]);
            set_opt(&c->opt[k], &c->steps_total[k], keys[j],
                    records_get(&rs, name, 1)->v[0]);
        }
    const Record *voc = records_get(&rs, "vocab", (size_t)c->cfg.vocab);
    c->vocab = xcalloc((size_t)c->cfg.vocab, sizeof *c->vocab);
    for (int i = 0; i < c->cfg.vocab; i++)
        c->vocab[i] = (int32_t)voc->v[i];
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(&c->cfg, t);
    c->params = xcalloc(model_param_count(&c->cfg), sizeof(float));
    for (int i = 0; i < nt; i++) {
        char name[64];
        snprintf(name, sizeof name, "param.%.23s", t[i].name);
        const Record *r = records_get(&rs, name, t[i].rows * t[i].cols);
        for (size_t j = 0; j < r->n; j++)
            c->params[t[i].offset + j] = (float)r->v[j];
    }
    size_t B = (size_t)c->batch, T = (size_t)c->cfg.context;
    c->ctx = xcalloc((size_t)c->steps * B * T, sizeof *c->ctx);
    c->targets = xcalloc((size_t)c->steps * B, sizeof *c->targets);
    for (int k = 0; k < c->steps; k++) {
        char name[64];
        snprintf(name, sizeof name, "batch%d.ctx", k);
        const Record *r = records_get(&rs, name, B * T);
        for (size_t j = 0; j < r->n; j++)
            c->ctx[k * B * T + j] = (int32_t)r->v[j];
        snprintf(name, sizeof name, "batch%d.targets", k);
        r = records_get(&rs, name, B);
        for (size_t j = 0; j < r->n; j++)
            c->targets[k * B + j] = (int32_t)r->v[j];
    }
    for (size_t j = 0; j < (size_t)c->steps * B * T; j++)
        if (c->ctx[j] < 0 || c->ctx[j] >= c->cfg.vocab)
            die("%s: a context id is out of range", path);
    for (size_t j = 0; j < (size_t)c->steps * B; j++)
        if (c->targets[j] < 0 || c->targets[j] >= c->cfg.vocab)
            die("%s: a target id is out of range", path);
    records_free(&rs);
}

static void write_ckpt(const char *path, const Case *c, const Model *m,
                       const Optimizer *o, int k, uint64_t step)
{
    Checkpoint ck = {
        .cfg = m->cfg,
        .opt = o->cfg,
        .st = {.tokenizer = TOK_CHAR, .lines = (uint32_t)c->lines, .normalize = 1,
               .batch = (uint32_t)c->batch, .eval_every = 1, .seed = c->seed,
               .step = step, .steps_total = c->steps_total[k], .val_frac = 0.1,
               .best_val = INFINITY, .last_val = INFINITY},
        .vocab = c->vocab,
        .n_params = m->n_params,
        .params = m->params,
        .n_moments = o->n_moments,
        .m = o->m,
        .v = o->v,
    };
    memcpy(ck.st.rng, c->rng, sizeof ck.st.rng);
    unsigned char *buf;
    size_t len;
    Error err;
    if (ckpt_encode(&ck, &buf, &len, &err) != 0)
        die("%s", err.msg);
    /* A plain write: these are scratch files, so no fsync (which can take
     * most of a second on a busy disk). */
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        die("cannot write '%s'", path);
    free(buf);
}

/* One training step on batch (ctx, targets), as train.c's loop does it. */
static double train_step(Model *m, Activations *a, Optimizer *o,
                         const TensorInfo *t, int nt, const Case *c, int k,
                         uint64_t step, const int32_t *ctx, const int32_t *targets,
                         double *lr_out, double *norm_out)
{
    /* The schedule's progress over the decay phase, as train.c computes it. */
    double progress = optim_progress(&o->cfg, step, c->steps_total[k], 0.0, 0.0);
    double lr = optim_lr(&o->cfg, step, progress);
    double loss = model_forward(m, a, ctx, targets, c->batch);
    model_zero_grad(m);
    model_backward(m, a, ctx, targets, c->batch);
    double norm = optim_grad_norm(m->grads, m->n_params);
    optim_step_scaled(o, m->params, m->grads, optim_clip_scale(norm, o->cfg.clip),
                      t, nt, lr, step + 1);
    *lr_out = lr;
    *norm_out = norm;
    return loss;
}

static void run_optimizer(FILE *dump, const char *out, const Case *c, int k)
{
    Error err;
    Model m = {0};
    Optimizer o = {0};
    Activations a = {0};
    if (model_init(&m, &c->cfg, &err) != 0 || optim_init(&o, &c->opt[k], m.n_params, &err) != 0 ||
        acts_init(&a, &c->cfg, c->batch, 1, &err) != 0)
        die("%s", err.msg);
    memcpy(m.params, c->params, m.n_params * sizeof(float));
    /* Which route the first layer took (model_table_pays): 1 by table. */
    char name[96];
    int32_t table = a.table != NULL;
    snprintf(name, sizeof name, "%s.table", OPT_NAME[k]);
    put_i32(dump, name, &table, 1, 1);
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(&c->cfg, t);
    size_t B = (size_t)c->batch, T = (size_t)c->cfg.context;
    double lrs[MAX_STEPS], norms[MAX_STEPS], losses[MAX_STEPS];
    uint64_t step = 0;
    for (int s = 0; s < c->presteps; s++, step++)
        train_step(&m, &a, &o, t, nt, c, k, step, c->ctx + s * B * T,
                   c->targets + s * B, &lrs[0], &norms[0]);

    char path[4200];
    snprintf(path, sizeof path, "%s.%s.ckpt", out, OPT_NAME[k]);
    write_ckpt(path, c, &m, &o, k, step);

    /* Logits, loss and raw gradients on the first compared batch. */
    const int32_t *ctx0 = c->ctx + (size_t)c->presteps * B * T;
    const int32_t *tg0 = c->targets + (size_t)c->presteps * B;
    double loss = model_forward(&m, &a, ctx0, tg0, c->batch);
    model_zero_grad(&m);
    model_backward(&m, &a, ctx0, tg0, c->batch);
    snprintf(name, sizeof name, "%s.logits", OPT_NAME[k]);
    put_f32(dump, name, a.logits, B, (size_t)c->cfg.vocab);
    snprintf(name, sizeof name, "%s.loss", OPT_NAME[k]);
    put_f64(dump, name, &loss, 1);
    for (int i = 0; i < nt; i++) {
        snprintf(name, sizeof name, "%s.grad.%.23s", OPT_NAME[k], t[i].name);
        put_f32(dump, name, m.grads + t[i].offset, t[i].rows, t[i].cols);
    }

    for (int s = 0; s < c->steps; s++, step++) {
        size_t b = (size_t)(c->presteps + s);
        losses[s] = train_step(&m, &a, &o, t, nt, c, k, step, c->ctx + b * B * T,
                               c->targets + b * B, &lrs[s], &norms[s]);
    }
    snprintf(name, sizeof name, "%s.lr", OPT_NAME[k]);
    put_f64(dump, name, lrs, (size_t)c->steps);
    snprintf(name, sizeof name, "%s.norm", OPT_NAME[k]);
    put_f64(dump, name, norms, (size_t)c->steps);
    snprintf(name, sizeof name, "%s.losses", OPT_NAME[k]);
    put_f64(dump, name, losses, (size_t)c->steps);
    snprintf(path, sizeof path, "%s.%s.after.ckpt", out, OPT_NAME[k]);
    write_ckpt(path, c, &m, &o, k, step);
    acts_free(&a);
    optim_free(&o);
    model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("%s", "usage: ref_dump OUT key=value... | ref_dump OUT fixture=FILE "
                  "(see the comment at the top of tests/ref_dump.c)");
    const char *out = argv[1], *text = NULL, *fixture = NULL;
    double jitter = 0.0;
    Case c;
    case_defaults(&c);
    for (int i = 2; i < argc; i++) {
        char key[64];
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof key)
            die("expected key=value, got '%s'", argv[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
        const char *v = eq + 1;
        if (!strcmp(key, "text")) text = v;
        else if (!strcmp(key, "fixture")) fixture = v;
        else if (!strcmp(key, "mode")) {
            if (strcmp(v, "stream") && strcmp(v, "lines"))
                die("mode must be stream or lines, got '%s'", v);
            c.lines = !strcmp(v, "lines");
        }
        else if (!strcmp(key, "context")) c.cfg.context = (int)parse_num(key, v);
        else if (!strcmp(key, "embed")) c.cfg.embed = (int)parse_num(key, v);
        else if (!strcmp(key, "hidden")) c.cfg.hidden = (int)parse_num(key, v);
        else if (!strcmp(key, "layers")) c.cfg.layers = (int)parse_num(key, v);
        else if (!strcmp(key, "batch")) c.batch = (int)parse_num(key, v);
        else if (!strcmp(key, "seed")) c.seed = (uint64_t)parse_num(key, v);
        else if (!strcmp(key, "jitter")) jitter = parse_num(key, v);
        else if (!strcmp(key, "presteps")) c.presteps = (int)parse_num(key, v);
        else if (!strcmp(key, "steps")) c.steps = (int)parse_num(key, v);
        else {
            const char *field = key;
            int only = -1;
            if (!strncmp(key, "adamw.", 6)) { only = OPTIM_ADAMW; field = key + 6; }
            else if (!strncmp(key, "sgd.", 4)) { only = OPTIM_SGD; field = key + 4; }
            double x = parse_num(key, v);
            for (int k = 0; k < 2; k++)
                if ((only < 0 || only == k) &&
                    !set_opt(&c.opt[k], &c.steps_total[k], field, x))
                    die("unknown key '%s'", key);
        }
    }
    if (fixture) {
        case_from_fixture(&c, fixture);
    } else {
        if (!text)
            die("%s", "give text=FILE or fixture=FILE");
        if (c.batch < 1 || c.batch > 4096 || c.steps < 1 || c.presteps < 0 ||
            c.presteps + c.steps > MAX_STEPS || c.cfg.layers < 1 ||
            c.cfg.layers > MODEL_MAX_LAYERS)
            die("%s", "batch, steps, presteps or layers out of range");
        case_generate(&c, text, jitter);
    }

    char path[4200];
    snprintf(path, sizeof path, "%s.dump", out);
    FILE *dump = fopen(path, "w");
    if (!dump)
        die("cannot open '%s' for writing", path);
    fprintf(dump, "# tinychar ref_dump: %s; see tests/ref_dump.c for the format\n",
            fixture ? fixture : text);
    size_t B = (size_t)c.batch, T = (size_t)c.cfg.context;
    for (int s = 0; s < c.steps; s++) {
        char name[64];
        size_t b = (size_t)(c.presteps + s);
        snprintf(name, sizeof name, "batch%d.ctx", s);
        put_i32(dump, name, c.ctx + b * B * T, B, T);
        snprintf(name, sizeof name, "batch%d.targets", s);
        put_i32(dump, name, c.targets + b * B, B, 1);
    }
    for (int k = 0; k < 2; k++)
        run_optimizer(dump, out, &c, k);
    if (fclose(dump) != 0)
        die("cannot write '%s'", path);
    free(c.vocab);
    free(c.params);
    free(c.ctx);
    free(c.targets);
    return 0;
}
