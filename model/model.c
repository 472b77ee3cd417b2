/* model.c - the model's parameter layout, initialisation, and its forward and
 * backward passes composed from the layers in layers.c. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/parallel.h"
#include "layers.h"
#include "table.h"

int model_config_check(const ModelConfig *c, Error *err)
{
    if (c->context < 1 || c->context > MODEL_MAX_CONTEXT)
        return err_set(err, "context %d out of range (1 to %d)", c->context,
                       MODEL_MAX_CONTEXT);
    if (c->embed < 1 || c->embed > MODEL_MAX_EMBED)
        return err_set(err, "embed %d out of range (1 to %d)", c->embed,
                       MODEL_MAX_EMBED);
    if (c->hidden < 1 || c->hidden > MODEL_MAX_HIDDEN)
        return err_set(err, "hidden %d out of range (1 to %d)", c->hidden,
                       MODEL_MAX_HIDDEN);
    if (c->layers < 1 || c->layers > MODEL_MAX_LAYERS)
        return err_set(err, "layers %d out of range (1 to %d)", c->layers,
                       MODEL_MAX_LAYERS);
    if (c->vocab < 1 || c->vocab > MODEL_MAX_VOCAB)
        return err_set(err, "vocabulary size %d out of range (1 to %d)",
                       c->vocab, MODEL_MAX_VOCAB);
    /* Every tensor is below 2^31 floats and the total below 2^40, so no size
     * computed from a config that passes can overflow. */
    size_t total = 0;
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(c, t);
    for (int i = 0; i < nt; i++) {
        size_t n = t[i].rows * t[i].cols;
        if (n >= (size_t)1 << 31)
            return err_set(err, "tensor %s (%zu x %zu floats, %zu bytes) is too "
                           "large (at most 2^31 floats)", t[i].name, t[i].rows,
                           t[i].cols, n * sizeof(float));
        total += n;
    }
    if (total >= (size_t)1 << 40)
        return err_set(err, "model has too many parameters (%zu)", total);
    return 0;
}

int model_tensors(const ModelConfig *c, TensorInfo out[MODEL_MAX_TENSORS])
{
    int n = 0;
    size_t off = 0;
    size_t in = (size_t)c->context * (size_t)c->embed;
#define ADD(nm, r, k, d)                                                   \
    do {                                                                   \
        out[n] = (TensorInfo){.offset = off, .rows = (r), .cols = (k), .decay = (d)}; \
        snprintf(out[n].name, sizeof out[n].name, "%s", nm);               \
        off += (size_t)(r) * (size_t)(k);                                  \
        n++;                                                               \
    } while (0)
    ADD("embedding", (size_t)c->vocab, (size_t)c->embed, 1);
    for (int l = 0; l < c->layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "hidden%d.weight", l);
        ADD(name, (size_t)c->hidden, l == 0 ? in : (size_t)c->hidden, 1);
        snprintf(name, sizeof name, "hidden%d.bias", l);
        ADD(name, (size_t)c->hidden, 1, 0);
    }
    ADD("output.weight", (size_t)c->vocab, (size_t)c->hidden, 1);
    ADD("output.bias", (size_t)c->vocab, 1, 0);
#undef ADD
    return n;
}

size_t model_param_count(const ModelConfig *c)
{
    TensorInfo t[MODEL_MAX_TENSORS];
    int n = model_tensors(c, t);
    return t[n - 1].offset + t[n - 1].rows * t[n - 1].cols;
}

static void set_views(ParamViews *v, float *base, const ModelConfig *c)
{
    TensorInfo t[MODEL_MAX_TENSORS];
    model_tensors(c, t);
    memset(v, 0, sizeof *v);
    v->emb = base + t[0].offset;
    for (int l = 0; l < c->layers; l++) {
        v->w[l] = base + t[1 + 2 * l].offset;
        v->b[l] = base + t[2 + 2 * l].offset;
    }
    v->wout = base + t[1 + 2 * c->layers].offset;
    v->bout = base + t[2 + 2 * c->layers].offset;
}

int model_init(Model *m, const ModelConfig *cfg, Error *err)
{
    memset(m, 0, sizeof *m);
    if (model_config_check(cfg, err) != 0)
        return -1;
    m->cfg = *cfg;
    m->n_params = model_param_count(cfg);
    m->n_tensors = model_tensors(cfg, m->tensors);
    /* One block, grads 1 KiB past params within a page (the optimizer's
     * moments sit at 2 and 3 KiB: optim.c), since the update reads all of
     * them at the same index (mem.h says why that matters). */
    float *arrays[2];
    if (!mem_float_arrays(arrays, 2, m->n_params, 0,
                          "model parameters and gradients", err)) {
        model_free(m);
        return -1;
    }
    m->params = arrays[0];
    m->grads = arrays[1];
    set_views(&m->p, m->params, cfg);
    set_views(&m->g, m->grads, cfg);
    return 0;
}

void model_free(Model *m)
{
    free(m->params); /* the block, grads included */
    memset(m, 0, sizeof *m);
}

static void fill_normal(float *x, size_t n, double scale, Rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(rng_normal(rng) * scale);
}

void model_randomize(Model *m, Rng *rng)
{
    const ModelConfig *c = &m->cfg;
    memset(m->params, 0, m->n_params * sizeof(float));
    fill_normal(m->p.emb, (size_t)c->vocab * c->embed, 1.0, rng);
    size_t in = (size_t)c->context * c->embed;
    for (int l = 0; l < c->layers; l++) {
        size_t fan_in = l == 0 ? in : (size_t)c->hidden;
        fill_normal(m->p.w[l], (size_t)c->hidden * fan_in,
                    (5.0 / 3.0) / sqrt((double)fan_in), rng);
    }
    /* Logit std is about 0.1 * rms(h) < 0.1, which moves the step-0 loss
     * away from ln(V) by well under 0.01. */
    fill_normal(m->p.wout, (size_t)c->vocab * c->hidden,
                0.1 / sqrt((double)c->hidden), rng);
}

/* Below this many floats zeroing called outside a parallel region runs on
 * the calling thread. */
#define ZERO_PARALLEL_MIN (1L << 18)

/* x (N, C) = 0, this thread's columns of every row: the activation
 * gradients dh and dx, which the linear layers then add into by columns
 * (layers.h; the same ones where C splits evenly into 32-float panels). */
static void zero_columns(float *x, int n, int c)
{
    long lo, hi;
    thread_range(c, 16, &lo, &hi);
    if (hi > lo)
        for (int r = 0; r < n; r++)
            memset(x + (size_t)r * c + lo, 0, (size_t)(hi - lo) * sizeof *x);
}

/* x (N, C) = 0, as a pass (common/parallel.h). */
static void zero_floats(float *x, int n, int c)
{
    PARALLEL_CALL(parallel_worth((long)n * c, ZERO_PARALLEL_MIN),
                  zero_columns(x, n, c));
}

/* This thread's range of each gradient tensor = 0 (the optimizer's ranges:
 * optim.c). */
static void zero_grad_ranges(Model *m)
{
    for (int k = 0; k < m->n_tensors; k++) {
        long lo, hi;
        thread_range((long)(m->tensors[k].rows * m->tensors[k].cols), 16, &lo, &hi);
        memset(m->grads + m->tensors[k].offset + lo, 0, (size_t)(hi - lo) * sizeof(float));
    }
}

void model_zero_grad(Model *m)
{
    PARALLEL_CALL(parallel_worth((long)m->n_params, MODEL_PARAMS_PARALLEL_MIN),
                  zero_grad_ranges(m));
}

/* A zeroed work buffer of n floats, cache-line aligned for the vector
 * loops (mem.h). */
static float *acts_floats(size_t n, const char *what, Error *err)
{
    return mem_calloc_aligned(n, sizeof(float), what, err);
}

int acts_init(Activations *a, const ModelConfig *c, int max_batch, int training,
              Error *err)
{
    memset(a, 0, sizeof *a);
    if (max_batch < 1)
        return err_set(err, "batch size %d must be at least 1", max_batch);
    size_t B = (size_t)max_batch, in = (size_t)c->context * c->embed;
    size_t H = (size_t)c->hidden, V = (size_t)c->vocab;
    size_t bin, bh, bv;
    if (mem_mul(&bin, B, in, "activations", err) ||
        mem_mul(&bh, B, H, "activations", err) ||
        mem_mul(&bv, B, V, "activations", err))
        return -1;
    a->max_batch = max_batch;
    a->training = training;
    int ok = (a->x = acts_floats(bin, "activations", err)) != NULL;
    for (int l = 0; ok && l < c->layers; l++)
        ok = (a->h[l] = acts_floats(bh, "activations", err)) != NULL;
    ok = ok && (a->logits = acts_floats(bv, "logits", err));
    ok = ok && (a->probs = acts_floats(bv, "probabilities", err));
    ok = ok && (a->losses = acts_floats(B, "losses", err));
    if (training) {
        ok = ok && (a->dlogits = acts_floats(bv, "gradients", err));
        ok = ok && (a->dh = acts_floats(bh, "gradients", err));
        ok = ok && (a->dz = acts_floats(bh, "gradients", err));
        ok = ok && (a->dx = acts_floats(bin, "gradients", err));
    }
    if (ok && model_table_pays(c, max_batch))
        ok = acts_use_table(a, c, 1, err) == 0;
    if (!ok) {
        acts_free(a);
        return -1;
    }
    return 0;
}

static size_t table_floats(const ModelConfig *c)
{
    return (size_t)c->context * c->vocab * c->hidden;
}

static size_t demb_parts_floats(const ModelConfig *c)
{
    return table_demb_parts_floats(c->vocab, c->embed, c->hidden);
}

int model_table_pays(const ModelConfig *c, int max_batch)
{
    /* Table: R*E*H multiply-adds for each of its build and two backward
     * products, R the rows the batch reads (at most T*min(B, V)); direct:
     * B*T*E*H for each of three products. The table route also adds rows
     * (B*T*H), and its products are smaller and less efficient. The
     * threshold V <= B/2 was set when every step built all T*V rows. */
    return 2L * c->vocab <= max_batch &&
           (double)c->context * c->vocab * c->hidden <= MODEL_TABLE_MAX_FLOATS;
}

/* a->table alone: for generation, which needs no TableRows (acts_freeze). */
static int alloc_table(Activations *a, const ModelConfig *c, Error *err)
{
    a->table = acts_floats(table_floats(c), "first-layer table", err);
    return a->table ? 0 : -1;
}

int acts_use_table(Activations *a, const ModelConfig *c, int use, Error *err)
{
    free(a->table);
    free(a->demb_parts);
    free(a->logit_parts);
    table_rows_free(&a->table_rows);
    a->table = a->demb_parts = a->logit_parts = NULL;
    a->frozen = a->hidden_blocks = 0;
    if (!use)
        return 0;
    alloc_table(a, c, err);
    if (a->table && a->training)
        a->demb_parts = acts_floats(demb_parts_floats(c), "first-layer gradient",
                                    err);
    if (a->table && (a->demb_parts || !a->training) &&
        table_rows_init(&a->table_rows, c->context, c->vocab, c->embed,
                        a->max_batch, err) == 0) {
        /* The table's passes share out blocks of hidden units; so can
         * every pass up to the output layer (blocks.h), when there is no
         * second hidden layer. One row is the same in either layout. */
        if (c->layers > 1 || a->max_batch < 2)
            return 0;
        a->logit_parts = acts_floats((size_t)block_count(c->hidden) * a->max_batch *
                                         c->vocab, "logits", err);
        if (a->logit_parts) {
            a->hidden_blocks = 1;
            return 0;
        }
    }
    acts_use_table(a, c, 0, err); /* frees what was allocated */
    return -1;
}

int acts_freeze(Activations *a, const Model *m, Error *err)
{
    const ModelConfig *c = &m->cfg;
    if (a->training)
        return err_set(err, "activations for training cannot be frozen: their "
                       "backward pass needs the table rows of each batch");
    if ((double)table_floats(c) > MODEL_TABLE_MAX_FLOATS)
        return 0; /* too big to be worth it: stay direct */
    if (!a->table && alloc_table(a, c, err) != 0)
        return -1;
    table_build(a->table, m->p.emb, m->p.w[0], c->context, c->vocab, c->embed,
                c->hidden);
    a->frozen = 1;
    return 0;
}

double model_memory_bytes(const ModelConfig *c, int max_batch, int training,
                          int n_moments)
{
    double B = max_batch, in = (double)c->context * c->embed;
    double H = c->hidden, V = c->vocab;
    /* parameters and gradients, optimizer moments, and the under 8 KiB
     * per array that mem_float_arrays pads them with */
    double floats = (double)model_param_count(c) * (2 + n_moments) +
                    (2 + n_moments) * 8192.0 / sizeof(float);
    /* x, h per layer, logits, probs, losses (as in acts_init) */
    floats += B * (in + H * c->layers + 2 * V + 1);
    if (training) /* dlogits, dh, dz, dx */
        floats += B * (V + 2 * H + in);
    if (model_table_pays(c, max_batch)) { /* the table (and, after it, its gradient) */
        floats += (double)c->context * V * H;
        /* the rows a batch reads (TableRows, table.h): emb (T, V, E);
         * and ints, as many as floats: count (T), chars (T, V), ids
         * (B, T), by_row (T, B), first (T, V + 1), slot (V) */
        floats += (double)c->context * (V * c->embed + V + 1 + 2 * B + V + 1) + V;
        if (training) /* and the parts of d emb */
            floats += (double)table_demb_parts_floats(c->vocab, c->embed,
                                                      c->hidden);
        if (c->layers == 1 && max_batch > 1) /* each block's part of the logits */
            floats += (double)block_count(c->hidden) * B * V;
    }
    return floats * sizeof(float);
}

void acts_free(Activations *a)
{
    free(a->x);
    for (int l = 0; l < MODEL_MAX_LAYERS; l++)
        free(a->h[l]);
    free(a->logits);
    free(a->probs);
    free(a->losses);
    free(a->dlogits);
    free(a->dh);
    free(a->dz);
    free(a->dx);
    free(a->table);
    free(a->demb_parts);
    free(a->logit_parts);
    table_rows_free(&a->table_rows);
    memset(a, 0, sizeof *a);
}

/* A batch of at least this many rows times hidden units is computed in one
 * parallel region per pass of the model (forward, backward): its layers
 * share out their loops among the region's threads, with a barrier between
 * one and the next (common/parallel.h), instead of each starting threads
 * of its own or running on one thread while the other waits. On two
 * threads the bench's M config (64 x 256) then took 0.94 and 0.98 of the
 * time (medians of 30 and of 40 paired runs). Smaller batches stay on the
 * calling thread: S (32 x 200) in the region took 65 us a step against
 * 52 on one thread (medians of 5000 steps, three runs each, AMD Zen 4),
 * since the optimizer's update, on one thread at S's 12K parameters
 * (model.h), then fetches the gradients the other core wrote (25 us
 * instead of 10). */
#define MODEL_PARALLEL_MIN 8192L

static int model_parallel(const Model *m, int batch)
{
    return parallel_worth((long)batch * m->cfg.hidden, MODEL_PARALLEL_MIN);
}

/* Steps 1 to 4 of model_forward. */
static void forward_layers(const Model *m, Activations *a, const int32_t *ctx,
                           const int32_t *targets, int batch)
{
    const ModelConfig *c = &m->cfg;
    int T = c->context, E = c->embed, H = c->hidden, V = c->vocab;
    int blocked = a->hidden_blocks;
    /* 1. The first hidden layer: the embedding lookup
     *    x = concat(emb[ctx[0]], ..., emb[ctx[T-1]]), then
     *    h_0 = tanh(x W_0^T + b_0). */
    if (a->frozen) {
        /* The same numbers, computed per character (table.h), from the
         * table of every character that acts_freeze built. */
        table_forward_tanh(a->h[0], blocked, a->table, m->p.b[0], ctx, batch, T,
                           V, H);
    } else if (a->table) {
        /* The same, from the table rows this batch reads. */
        table_build_rows(a->table, &a->table_rows, ctx, m->p.emb, m->p.w[0],
                         batch, T, V, E, H);
        table_forward_tanh(a->h[0], blocked, a->table, m->p.b[0],
                           a->table_rows.ids, batch, T, V, H);
    } else {
        embedding_forward(a->x, m->p.emb, ctx, batch, T, E);
        linear_forward(a->h[0], a->x, m->p.w[0], m->p.b[0], batch, T * E, H);
        tanh_forward(a->h[0], a->h[0], batch, H);
    }
    /* 2. Further hidden layers: h_l = tanh(h_{l-1} W_l^T + b_l). */
    for (int l = 1; l < c->layers; l++) {
        linear_forward(a->h[l], a->h[l - 1], m->p.w[l], m->p.b[l], batch, H, H);
        tanh_forward(a->h[l], a->h[l], batch, H);
    }
    /* 3. Output layer: one score (logit) per vocabulary character. */
    if (blocked)
        linear_forward_blocks(a->logits, a->logit_parts, a->h[0], m->p.wout,
                              m->p.bout, batch, H, V);
    else
        linear_forward(a->logits, a->h[c->layers - 1], m->p.wout, m->p.bout,
                       batch, H, V);
    /* 4. Loss: softmax cross-entropy of each row. */
    if (targets)
        softmax_cross_entropy_forward(a->losses, a->probs, a->logits, targets,
                                      batch, V);
}

double model_forward(const Model *m, Activations *a, const int32_t *ctx,
                     const int32_t *targets, int batch)
{
    PARALLEL_CALL(model_parallel(m, batch),
                  forward_layers(m, a, ctx, targets, batch));
    if (!targets)
        return 0.0;
    /* The loss averaged over the batch, in double. */
    double sum = 0.0;
    for (int r = 0; r < batch; r++)
        sum += a->losses[r];
    return sum / batch;
}

/* model_backward's passes, in the reverse order of forward_layers. */
static void backward_layers(Model *m, Activations *a, const int32_t *ctx,
                            const int32_t *targets, int batch)
{
    const ModelConfig *c = &m->cfg;
    int T = c->context, E = c->embed, H = c->hidden, V = c->vocab, L = c->layers;
    /* Backpropagation: the forward steps in reverse, each turning the
     * gradient of its output into gradients of its input and parameters.
     * The loss and tanh write their gradients (dlogits, dz); the linear
     * layers add into theirs (dh, dx), which are zeroed first. */
    softmax_cross_entropy_backward(a->dlogits, a->probs, targets,
                                   1.0f / (float)batch, batch, V);
    /* Output layer: into d wout, d bout and d h_{L-1}; with the hidden
     * units in blocks (one layer), on through tanh into dz in the same
     * pass. */
    int blocked = a->hidden_blocks;
    if (blocked) {
        linear_tanh_backward_blocks(a->dz, m->g.wout, m->g.bout, a->dlogits,
                                    a->h[0], m->p.wout, batch, H, V);
    } else {
        zero_floats(a->dh, batch, H);
        linear_backward(a->dh, m->g.wout, m->g.bout, a->dlogits, a->h[L - 1],
                        m->p.wout, batch, H, V);
    }
    for (int l = L - 1; l >= 0; l--) {
        /* Through tanh: dz = dh * (1 - h^2). */
        if (!blocked)
            tanh_backward(a->dz, a->dh, a->h[l], batch, H);
        /* Through the linear layer: into d W_l, d b_l and the gradient of
         * this layer's input (d h_{l-1}, or d x for the first layer). */
        if (l > 0) {
            zero_floats(a->dh, batch, H);
            linear_backward(a->dh, m->g.w[l], m->g.b[l], a->dz, a->h[l - 1],
                            m->p.w[l], batch, H, H);
        } else if (a->table) {
            /* By table: d W_0, d b_0 and d emb through the table's
             * gradient (table.h), computed in the table's own memory: the
             * forward pass is done with it, and one (T, V, H) array
             * instead of two keeps a larger model's working set in cache. */
            table_backward(m->g.w[0], m->g.b[0], m->g.emb, a->table,
                           a->demb_parts, a->dz, blocked, &a->table_rows,
                           m->p.w[0], batch, T, V, E, H);
        } else {
            zero_floats(a->dx, batch, T * E);
            linear_backward(a->dx, m->g.w[0], m->g.b[0], a->dz, a->x, m->p.w[0],
                            batch, T * E, H);
            /* Embedding: scatter d x back into the rows that were looked up. */
            embedding_backward(m->g.emb, a->dx, ctx, batch, T, E);
        }
    }
}

void model_backward(Model *m, Activations *a, const int32_t *ctx,
                    const int32_t *targets, int batch)
{
    PARALLEL_CALL(model_parallel(m, batch),
                  backward_layers(m, a, ctx, targets, batch));
}
