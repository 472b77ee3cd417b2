/* layers.c - plain C forward and backward passes of each layer.
 * Parallel loops split only over outputs that one thread owns entirely (rows
 * of y and dx, rows of dw, elements of db), the embedding's scatter-add runs
 * on one thread, and every sum runs in a fixed order, so results are
 * bit-identical for any number of threads. */
#include "layers.h"

#include "blocks.h"
#include "fastmath.h"
#include "matmul.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../common/parallel.h"

/* Below this many values a pass called outside a parallel region runs on
 * the calling thread: starting the threads of a region costs more than it
 * saves. Each pass's loop is an orphaned `omp for` (parallel.h), shared out
 * among the threads of a region (the model's, or the pass's own) or run by
 * the caller alone. */
#define PARALLEL_MIN 32768L
/* The same for the linear layers on blocks, in multiply-adds (as in
 * matmul.c). */
#define PARALLEL_MIN_MACS (1L << 20)

/* y[i] += alpha * x[i] */
static void axpy(float *y, float alpha, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

static void embedding_rows(float *x, const float *emb, const int32_t *ctx,
                           int n, int t, int e)
{
    /* Each thread owns whole rows of x. */
#pragma omp for schedule(static) nowait
    for (int r = 0; r < n; r++)
        for (int j = 0; j < t; j++)
            memcpy(x + ((size_t)r * t + j) * e,
                   emb + (size_t)ctx[(size_t)r * t + j] * e,
                   (size_t)e * sizeof *x);
}

void embedding_forward(float *x, const float *emb, const int32_t *ctx,
                       int n, int t, int e)
{
    PARALLEL_CALL(parallel_worth((long)n * t * e, PARALLEL_MIN),
                  embedding_rows(x, emb, ctx, n, t, e));
}

void embedding_backward(float *demb, const float *dx, const int32_t *ctx,
                        int n, int t, int e)
{
    /* Forward: x[r][j*E + c] = emb[ctx[r][j]][c]. Its gradient goes back to
     * the row that was read; the same id can occur many times, so this runs
     * serially in (r, j) order to keep the sum order fixed: on one thread
     * of a parallel region, the others waiting at its end. */
#pragma omp single
    for (int r = 0; r < n; r++)
        for (int j = 0; j < t; j++)
            axpy(demb + (size_t)ctx[(size_t)r * t + j] * e, 1.0f,
                 dx + ((size_t)r * t + j) * e, e);
}

/* y[0 .. count) = b[0 .. count), or 0 without a bias. */
static void set_bias(float *y, const float *b, long count)
{
    if (b)
        memcpy(y, b, (size_t)count * sizeof *y);
    else
        memset(y, 0, (size_t)count * sizeof *y);
}

/* y[r] = b (or 0) for this thread's rows r. */
static void bias_rows(float *y, const float *b, int n, int out)
{
#pragma omp for schedule(static) nowait
    for (int r = 0; r < n; r++)
        set_bias(y + (size_t)r * out, b, out);
}

/* y[r] = b + W x[r] for the rows r < n, this thread's outputs: a range cut
 * at multiples of 4, where matvec_acc's groups of four outputs start, so
 * each output's sum is the same for any number of threads. */
static void matvec_rows(float *y, const float *x, const float *w,
                        const float *b, int n, int in, int out)
{
    long o0, o1;
    thread_range(out, 4, &o0, &o1);
    for (int r = 0; r < n; r++) {
        float *yr = y + (size_t)r * out + o0;
        set_bias(yr, b ? b + o0 : NULL, o1 - o0);
        matvec_acc(yr, x + (size_t)r * in, w + (size_t)o0 * in, in, (int)(o1 - o0));
    }
}

void linear_forward(float *y, const float *x, const float *w, const float *b,
                    int n, int in, int out)
{
    if (n < 4) {
        /* A row or two (sampling): dot products straight from W beat
         * packing it for a matrix product. Never worth a region of its
         * own; shared out inside the model's. */
        PARALLEL_CALL(0, matvec_rows(y, x, w, b, n, in, out));
        return;
    }
    /* y = b, then y += x W^T, reading W^T[i][o] = w[o * IN + i] in place. */
    PARALLEL_CALL(parallel_worth((long)n * out, PARALLEL_MIN),
                  bias_rows(y, b, n, out));
    matmul_acc(y, (size_t)out, x, (size_t)in, 1, w, 1, (size_t)in, n, out, in);
}

/* db[o] += sum over rows r of dy[r][o], rows in order, for this thread's
 * range of o. */
static void bias_gradient(float *db, const float *dy, int n, int out)
{
    long o0, o1;
    thread_range(out, 16, &o0, &o1);
    for (int r = 0; r < n; r++)
        for (long o = o0; o < o1; o++)
            db[o] += dy[(size_t)r * out + o];
}

void linear_backward(float *dx, float *dw, float *db, const float *dy,
                     const float *x, const float *w, int n, int in, int out)
{
    /* Forward: y[r][o] = sum_i x[r][i] w[o][i] + b[o]. The three gradients
     * are independent; inside the model's region each still ends with its
     * own barrier (about half a microsecond), which keeps this plain. */
    /* dx[r][i] = sum_o dy[r][o] w[o][i]      (dx = dy W)
     * Threads own columns of dx (the input's features: hidden units, or
     * the embeddings' elements), as tanh_backward then reads them, where
     * dx is wide enough to go round (matmul.h). */
    if (dx)
        matmul_acc_cols(dx, (size_t)in, dy, (size_t)out, 1, w, (size_t)in, 1, n,
                        in, out);
    if (dw) /* dw[o][i] = sum_r dy[r][o] x[r][i]      (dw = dy^T x) */
        matmul_acc(dw, (size_t)in, dy, 1, (size_t)out, x, (size_t)in, 1, out,
                   in, n);
    if (db) /* db[o] = sum_r dy[r][o], rows in order */
        PARALLEL_CALL(parallel_worth((long)n * out, PARALLEL_MIN),
                      bias_gradient(db, dy, n, out));
}

/* ---- the same layers for activations stored in blocks (blocks.h) ---- */

/* parts[bk] (N, OUT) = x_b W[:, k0:k0+width]^T, block bk's part of
 * x W^T, for this thread's blocks. */
static void block_products(float *parts, const float *x, const float *w,
                           int n, int in, int out)
{
    long o0, o1;
    hidden_range(in, &o0, &o1);
    for (int bk = (int)(o0 / HIDDEN_BLOCK); (long)bk * HIDDEN_BLOCK < o1; bk++) {
        Block k = block_of(bk, in);
        matmul_serial(parts + (size_t)bk * n * out, (size_t)out, x + k.k0 * n,
                      (size_t)k.width, 1, w + k.k0, 1, (size_t)in, n, out, k.width);
    }
}

/* y[r] = b + parts[0][r] + parts[1][r] + ..., this thread's rows. */
static void sum_parts(float *y, const float *parts, const float *b, int n,
                      int in, int out)
{
#pragma omp for schedule(static) nowait
    for (int r = 0; r < n; r++) {
        float *yr = y + (size_t)r * out;
        set_bias(yr, b, out);
        for (int bk = 0; bk < block_count(in); bk++) {
            const float *pr = parts + ((size_t)bk * n + r) * out;
            for (int o = 0; o < out; o++)
                yr[o] += pr[o];
        }
    }
}

void linear_forward_blocks(float *y, float *parts, const float *x,
                           const float *w, const float *b, int n, int in, int out)
{
    int worth = parallel_worth((long)n * in * out, PARALLEL_MIN_MACS);
    PARALLEL_CALL(worth, block_products(parts, x, w, n, in, out));
    PARALLEL_CALL(worth, sum_parts(y, parts, b, n, in, out));
}

/* The three gradients of linear_tanh_backward_blocks, this thread's share
 * of each: its blocks of dz and of dw's columns, its elements of db. */
static void linear_grads_blocks(float *dz, float *dw, float *db, const float *dy,
                                const float *x, const float *w, int n, int in,
                                int out)
{
    long o0, o1;
    hidden_range(in, &o0, &o1);
    for (int bk = (int)(o0 / HIDDEN_BLOCK); (long)bk * HIDDEN_BLOCK < o1; bk++) {
        Block k = block_of(bk, in);
        float *dzb = dz + k.k0 * n;
        const float *xb = x + k.k0 * n;
        /* dx_b = dy W[:, k0:k0+width], then through tanh (as tanh_backward):
         * dz_b = dx_b * (1 - x_b^2), while the block is in this core's
         * cache. */
        if (dz) {
            matmul_serial(dzb, (size_t)k.width, dy, (size_t)out, 1, w + k.k0,
                          (size_t)in, 1, n, k.width, out);
            for (size_t i = 0; i < (size_t)n * k.width; i++)
                dzb[i] *= 1.0f - xb[i] * xb[i];
        }
        /* dw[o][k0 + i] += sum_r dy[r][o] x_b[r][i]: the block's columns
         * of dw, from this core's own x_b. */
        if (dw)
            matmul_acc_serial(dw + k.k0, (size_t)in, dy, 1, (size_t)out, xb,
                              (size_t)k.width, 1, out, k.width, n);
    }
    if (db)
        bias_gradient(db, dy, n, out);
}

void linear_tanh_backward_blocks(float *dz, float *dw, float *db,
                                 const float *dy, const float *x, const float *w,
                                 int n, int in, int out)
{
    PARALLEL_CALL(parallel_worth((long)n * in * out, PARALLEL_MIN_MACS),
                  linear_grads_blocks(dz, dw, db, dy, x, w, n, in, out));
}

/* y[r][o] = tanh(x[r][o]) for this thread's columns o of every row. */
static void tanh_values(float *y, const float *x, int n, int h)
{
    long o0, o1;
    thread_range(h, 16, &o0, &o1);
    for (int r = 0; r < n; r++) {
        float *yr = y + (size_t)r * h;
        const float *xr = x + (size_t)r * h;
        for (long o = o0; o < o1; o++)
            yr[o] = tanh_fast(xr[o]);
    }
}

void tanh_forward(float *y, const float *x, int n, int h)
{
    PARALLEL_CALL(parallel_worth((long)n * h, PARALLEL_MIN), tanh_values(y, x, n, h));
}

static void tanh_gradients(float *dx, const float *dy, const float *y, int n, int h)
{
    /* Forward: y = tanh(x).  dy/dx = 1 - tanh(x)^2 = 1 - y^2. Written, not
     * added: dx is an activation's gradient, with no other contribution.
     * This thread's columns of every row, as in tanh_values. */
    long o0, o1;
    thread_range(h, 16, &o0, &o1);
    for (int r = 0; r < n; r++) {
        size_t at = (size_t)r * h;
        for (long o = o0; o < o1; o++)
            dx[at + o] = dy[at + o] * (1.0f - y[at + o] * y[at + o]);
    }
}

void tanh_backward(float *dx, const float *dy, const float *y, int n, int h)
{
    PARALLEL_CALL(parallel_worth((long)n * h, PARALLEL_MIN),
                  tanh_gradients(dx, dy, y, n, h));
}

static void softmax_rows(float *loss, float *probs, const float *logits,
                         const int32_t *targets, int n, int v)
{
    /* Each thread owns whole rows of probs and its entries of loss. */
#pragma omp for schedule(static) nowait
    for (int r = 0; r < n; r++) {
        const float *lr = logits + (size_t)r * v;
        float *pr = probs + (size_t)r * v;
        /* Subtracting the row maximum changes nothing mathematically
         * (softmax is shift-invariant) but keeps exp() from overflowing:
         * every exponent is <= 0. The sum is accumulated in double. */
        float max = lr[0];
        for (int j = 1; j < v; j++)
            if (lr[j] > max)
                max = lr[j];
        float target_shifted = lr[targets ? targets[r] : 0] - max;
        for (int j = 0; j < v; j++) {
            /* e^x for x <= 0. Below -87, where e^x < 2e-38 and leaves
             * exp_fast's range, e^-87 stands in: no sum or draw can tell
             * it from e^x. NaN stays NaN, so that a diverged model's loss
             * is NaN. */
            float x = lr[j] - max;
            float e = exp_fast(x > -87.0f ? x : -87.0f);
            pr[j] = x == x ? e : x;
        }
        double sum = 0.0;
        for (int j = 0; j < v; j++)
            sum += pr[j];
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < v; j++)
            pr[j] *= inv;
        /* -log p_t = log(sum) - (logit_t - max), computed without forming a
         * tiny p_t whose log would lose precision or be -inf. */
        if (loss)
            loss[r] = (float)(log(sum) - (double)target_shifted);
    }
}

void softmax_cross_entropy_forward(float *loss, float *probs,
                                   const float *logits, const int32_t *targets,
                                   int n, int v)
{
    PARALLEL_CALL(parallel_worth((long)n * v, PARALLEL_MIN / 4),
                  softmax_rows(loss, probs, logits, targets, n, v));
}

static void softmax_gradient_rows(float *dlogits, const float *probs,
                                  const int32_t *targets, float scale, int n,
                                  int v)
{
    /* For loss = -log softmax(logits)[t]:
     *   d loss / d logits[j] = probs[j] - [j == t].
     * Written, not added (the logits feed nothing else). Each thread owns
     * whole rows of dlogits. */
#pragma omp for schedule(static) nowait
    for (int r = 0; r < n; r++) {
        float *dr = dlogits + (size_t)r * v;
        const float *pr = probs + (size_t)r * v;
        for (int j = 0; j < v; j++)
            dr[j] = scale * pr[j];
        dr[targets[r]] -= scale;
    }
}

void softmax_cross_entropy_backward(float *dlogits, const float *probs,
                                    const int32_t *targets, float scale,
                                    int n, int v)
{
    PARALLEL_CALL(parallel_worth((long)n * v, PARALLEL_MIN),
                  softmax_gradient_rows(dlogits, probs, targets, scale, n, v));
}
