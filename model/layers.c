/* layers.c - plain C forward and backward passes of each layer.
 * Parallel loops split only over outputs that one thread owns entirely (rows
 * of y and dx, rows of dw), and every sum runs in a fixed order, so results
 * are bit-identical for any number of threads. */
#include "layers.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* sum_i a[i] b[i] with 8 independent partial sums. The partials let the
 * compiler use SIMD without reordering anything itself: the order of the
 * additions is fixed by this code, whatever the thread count. */
static float dot(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += a[i + k] * b[i + k];
    float tail = 0.0f;
    for (; i < n; i++)
        tail += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
           ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

/* y[i] += alpha * x[i] */
static void axpy(float *y, float alpha, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

void embedding_forward(float *x, const float *emb, const int32_t *ctx,
                       int n, int t, int e)
{
    /* Each thread owns whole rows of x. */
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n; r++)
        for (int j = 0; j < t; j++)
            memcpy(x + ((size_t)r * t + j) * e,
                   emb + (size_t)ctx[(size_t)r * t + j] * e,
                   (size_t)e * sizeof *x);
}

void embedding_backward(float *demb, const float *dx, const int32_t *ctx,
                        int n, int t, int e)
{
    /* Forward: x[r][j*E + c] = emb[ctx[r][j]][c]. Its gradient goes back to
     * the row that was read; the same id can occur many times, so this runs
     * serially in (r, j) order to keep the sum order fixed. */
    for (int r = 0; r < n; r++)
        for (int j = 0; j < t; j++)
            axpy(demb + (size_t)ctx[(size_t)r * t + j] * e, 1.0f,
                 dx + ((size_t)r * t + j) * e, e);
}

void linear_forward(float *y, const float *x, const float *w, const float *b,
                    int n, int in, int out)
{
    /* Each thread owns whole rows of y. */
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * in;
        float *yr = y + (size_t)r * out;
        for (int o = 0; o < out; o++)
            yr[o] = (b ? b[o] : 0.0f) + dot(xr, w + (size_t)o * in, in);
    }
}

void linear_backward(float *dx, float *dw, float *db, const float *dy,
                     const float *x, const float *w, int n, int in, int out)
{
    if (dx) {
        /* Forward: y[r][o] = sum_i x[r][i] w[o][i] + b[o]
         * so dx[r][i] = sum_o dy[r][o] w[o][i]   (dx = dy W).
         * Each thread owns whole rows of dx. */
#pragma omp parallel for schedule(static)
        for (int r = 0; r < n; r++)
            for (int o = 0; o < out; o++)
                axpy(dx + (size_t)r * in, dy[(size_t)r * out + o],
                     w + (size_t)o * in, in);
    }
    if (dw || db) {
        /* dw[o][i] = sum_r dy[r][o] x[r][i]   (dw = dy^T x)
         * db[o]    = sum_r dy[r][o]
         * Each thread owns whole rows of dw and the matching entries of db. */
#pragma omp parallel for schedule(static)
        for (int o = 0; o < out; o++) {
            float bias_grad = 0.0f;
            for (int r = 0; r < n; r++) {
                float g = dy[(size_t)r * out + o];
                if (dw)
                    axpy(dw + (size_t)o * in, g, x + (size_t)r * in, in);
                bias_grad += g;
            }
            if (db)
                db[o] += bias_grad;
        }
    }
}

void tanh_forward(float *y, const float *x, long count)
{
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++)
        y[i] = tanhf(x[i]);
}

void tanh_backward(float *dx, const float *dy, const float *y, long count)
{
    /* Forward: y = tanh(x).  dy/dx = 1 - tanh(x)^2 = 1 - y^2. */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++)
        dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

void softmax_cross_entropy_forward(float *loss, float *probs,
                                   const float *logits, const int32_t *targets,
                                   int n, int v)
{
    /* Each thread owns whole rows of probs and its entries of loss. */
#pragma omp parallel for schedule(static)
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
        double sum = 0.0;
        for (int j = 0; j < v; j++) {
            float e = expf(lr[j] - max);
            pr[j] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < v; j++)
            pr[j] *= inv;
        /* -log p_t = log(sum) - (logit_t - max), computed without forming a
         * tiny p_t whose log would lose precision or be -inf. */
        if (loss)
            loss[r] = (float)(log(sum) - (double)target_shifted);
    }
}

void softmax_cross_entropy_backward(float *dlogits, const float *probs,
                                    const int32_t *targets, float scale,
                                    int n, int v)
{
    /* For loss = -log softmax(logits)[t]:
     *   d loss / d logits[j] = probs[j] - [j == t].
     * Each thread owns whole rows of dlogits. */
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n; r++) {
        float *dr = dlogits + (size_t)r * v;
        const float *pr = probs + (size_t)r * v;
        for (int j = 0; j < v; j++)
            dr[j] += scale * pr[j];
        dr[targets[r]] -= scale;
    }
}
