/* gradcheck.c - finite differences against backprop, for a whole model.
 *
 * Why h = 1e-2. The loss is computed in float and averaged in double. The
 * central difference has two errors: truncation, (h^2 / 6) |f'''|, about
 * 2e-5 |f'''| here, and rounding, about (float rounding of the loss, ~1e-7
 * |loss| for a small model) / (2h) = ~1e-5. A smaller h would trade
 * truncation for rounding; 1e-2 balances them. Both stay near 1e-4 at worst
 * (tests/test_model.c measures the same for its own check), so absolute
 * errors below GRADCHECK_FLOOR * GRADCHECK_TOL = 1e-4 pass, while a wrong
 * formula (a missing tanh' factor, a transposed product, a lost 1/B) gives
 * errors the size of the gradient itself: relative error near 1. The step
 * actually taken, fl(p + h) - fl(p - h), is what the difference divides by. */
#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

static void fill_normal(float *x, size_t n, double scale, Rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(rng_normal(rng) * scale);
}

int gradcheck_case_init(GradcheckCase *c, const ModelConfig *cfg, uint64_t seed,
                        Error *err)
{
    memset(c, 0, sizeof *c);
    if (cfg->vocab < 2)
        return err_set(err, "gradcheck needs a vocabulary of at least 2 (with "
                       "one, every loss is 0)");
    if (model_init(&c->model, cfg, err) != 0 ||
        acts_init(&c->acts, cfg, GRADCHECK_BATCH, 1, err) != 0)
        goto fail;
    const int B = GRADCHECK_BATCH, T = cfg->context;
    c->ctx = mem_calloc((size_t)B * T, sizeof *c->ctx, "gradcheck batch", err);
    c->targets = mem_calloc((size_t)B, sizeof *c->targets, "gradcheck batch", err);
    c->analytic = mem_calloc(c->model.n_params, sizeof *c->analytic, "gradcheck", err);
    if (!c->ctx || !c->targets || !c->analytic)
        goto fail;
    rng_seed(&c->rng, seed);
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(cfg, t);
    for (int i = 0; i < nt; i++) {
        double scale;
        if (i == 0)
            scale = 0.8;                                   /* embedding */
        else if (t[i].cols == 1)
            scale = 0.2;                                   /* a bias */
        else if (i == nt - 2)
            scale = 2.0 / sqrt((double)cfg->hidden);       /* output weights */
        else
            scale = 1.0 / sqrt((double)t[i].cols);         /* hidden weights */
        fill_normal(c->model.params + t[i].offset, t[i].rows * t[i].cols, scale,
                    &c->rng);
    }
    for (int i = 0; i < B * T; i++)
        c->ctx[i] = (int32_t)rng_below(&c->rng, (uint64_t)cfg->vocab);
    for (int i = 0; i < B; i++)
        c->targets[i] = (int32_t)rng_below(&c->rng, (uint64_t)cfg->vocab);
    model_zero_grad(&c->model);
    c->loss = model_forward(&c->model, &c->acts, c->ctx, c->targets, B);
    model_backward(&c->model, &c->acts, c->ctx, c->targets, B);
    memcpy(c->analytic, c->model.grads, c->model.n_params * sizeof *c->analytic);
    return 0;
fail:
    gradcheck_case_free(c);
    return -1;
}

void gradcheck_case_free(GradcheckCase *c)
{
    model_free(&c->model);
    acts_free(&c->acts);
    free(c->ctx);
    free(c->targets);
    free(c->analytic);
    memset(c, 0, sizeof *c);
}

/* d loss / d p by central differences, p nudged in place and put back. */
static double numeric_grad(GradcheckCase *c, float *p)
{
    float orig = *p;
    float up = (float)((double)orig + GRADCHECK_EPS);
    float down = (float)((double)orig - GRADCHECK_EPS);
    *p = up;
    double fu = model_forward(&c->model, &c->acts, c->ctx, c->targets, GRADCHECK_BATCH);
    *p = down;
    double fd = model_forward(&c->model, &c->acts, c->ctx, c->targets, GRADCHECK_BATCH);
    *p = orig;
    return (fu - fd) / ((double)up - (double)down);
}

int gradcheck_case_run(GradcheckCase *c, GradcheckRow rows[MODEL_MAX_TENSORS])
{
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(&c->model.cfg, t);
    for (int i = 0; i < nt; i++) {
        GradcheckRow *r = &rows[i];
        memset(r, 0, sizeof *r);
        memcpy(r->name, t[i].name, sizeof r->name);
        r->rows = t[i].rows;
        r->cols = t[i].cols;
        size_t n = t[i].rows * t[i].cols;
        int all = n <= GRADCHECK_MAX_ENTRIES;
        r->checked = all ? n : GRADCHECK_MAX_ENTRIES;
        for (size_t j = 0; j < r->checked; j++) {
            size_t k = all ? j : (size_t)rng_below(&c->rng, n);
            size_t at = t[i].offset + k;
            double num = numeric_grad(c, &c->model.params[at]);
            double ana = c->analytic[at];
            double abs_err = fabs(ana - num);
            double rel = abs_err / fmax(fmax(fabs(ana), fabs(num)), GRADCHECK_FLOOR);
            /* fmax drops a NaN; a NaN error must count as a failure. */
            if (isnan(rel))
                rel = INFINITY;
            r->max_rel_err = fmax(r->max_rel_err, rel);
            r->max_abs_err = isnan(abs_err) ? INFINITY : fmax(r->max_abs_err, abs_err);
            r->max_grad = fmax(r->max_grad, fabs(ana));
        }
        r->pass = r->max_rel_err <= GRADCHECK_TOL && r->max_grad > GRADCHECK_MIN_GRAD;
    }
    return nt;
}
