/* test_model.c - Check suite for model/: each layer's forward pass against a
 * plain double-precision loop, each layer's and the whole model's backward
 * pass against central finite differences, the stability of the loss, the
 * step-0 loss, thread-count determinism, the parameter layout, and the
 * optimizers and learning-rate schedule against values worked out by formula.
 *
 * Finite differences. The code under test computes in float; the objective
 * f is a fixed linear functional of a layer's float outputs (or the model's
 * mean loss), accumulated in double. A parameter is stepped to the floats
 * up = fl(p + EPS) and down = fl(p - EPS), and the derivative estimate is
 * (f(up) - f(down)) / (up - down), dividing by the step actually taken. Its
 * error has two parts:
 *   truncation  (EPS^2 / 6) |f'''|  = 1.7e-5 |f'''| for EPS = 1e-2 (zero for
 *               the embedding and linear layers, which are linear in each
 *               parameter);
 *   rounding    ~ (float rounding of f ~ 1e-7 |f|) / (2 EPS) = ~5e-6 |f|,
 *               a few times more when f sums many products (|f| ~ 10).
 * So the error stays below about 1e-4. A smaller EPS would trade truncation
 * for more rounding; 1e-2 balances them for float. The tolerance
 * |numeric - analytic| <= 2e-4 + 2e-3 |numeric| leaves a margin of more than
 * 5 (the worst error seen is 6e-5, 0.15 of its tolerance, in the linear
 * layer with in = 19), while any wrong formula (a missing tanh' factor, a
 * transposed product, a lost 1/B) gives errors of order the gradient itself.
 * Each check also requires the largest |analytic| gradient to exceed 1e-2,
 * so an all-zero gradient fails even where the numeric one is small. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../common/rng.h"
#include "../model/layers.h"
#include "../model/matmul.h"
#include "../model/model.h"
#include "../model/optim.h"
#include "../model/table.h"

#define EPS 1e-2
#define GRAD_ATOL 2e-4
#define GRAD_RTOL 2e-3
#define GRAD_MIN 1e-2

/* ---- helpers ------------------------------------------------------------- */

static void fill_normal(float *x, size_t n, double scale, Rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(rng_normal(rng) * scale);
}

static float *falloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Central difference of f with respect to the float *p (see the top). */
static double numeric_grad(float *p, double (*f)(void *), void *ctx)
{
    float orig = *p;
    float up = (float)((double)orig + EPS), down = (float)((double)orig - EPS);
    *p = up;
    double fu = f(ctx);
    *p = down;
    double fd = f(ctx);
    *p = orig;
    return (fu - fd) / ((double)up - (double)down);
}

/* Compares the analytic gradient ana[0..n) of parameters p[0..n) with finite
 * differences of f; returns the largest |ana| so callers can require it to be
 * well above 0. */
static double check_grad(const char *what, float *p, const float *ana, size_t n,
                         double (*f)(void *), void *ctx)
{
    double max_ana = 0.0;
    for (size_t i = 0; i < n; i++) {
        double num = numeric_grad(&p[i], f, ctx);
        double err = fabs(num - (double)ana[i]);
        ck_assert_msg(err <= GRAD_ATOL + GRAD_RTOL * fabs(num),
                      "%s[%zu]: analytic %.8g, numeric %.8g", what, i,
                      (double)ana[i], num);
        if (fabs(ana[i]) > max_ana)
            max_ana = fabs(ana[i]);
    }
    return max_ana;
}

static void assert_nonzero_grad(const char *what, double max_ana)
{
    ck_assert_msg(max_ana > GRAD_MIN, "%s: gradient is (nearly) all zero (max %g)",
                  what, max_ana);
}

/* Bound on the float rounding of a sum of k products whose absolute values
 * add up to abs_sum: k ulps of the running sum at most (gamma_k), plus a
 * little slack for values near zero. */
static double sum_tol(int k, double abs_sum)
{
    return (double)(k + 2) * FLT_EPSILON * abs_sum + 1e-6;
}

/* sum_i c[i] y[i] in double. */
static double project(const float *c, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)c[i] * (double)y[i];
    return s;
}

/* ---- embedding ----------------------------------------------------------- */

enum { EN = 3, ET = 2, EE = 4, EV = 5 };

typedef struct {
    float emb[EV * EE];
    int32_t ctx[EN * ET];
    float c[EN * ET * EE];   /* the objective's weights = upstream gradient */
    float x[EN * ET * EE];
} EmbCase;

static double emb_objective(void *p)
{
    EmbCase *k = p;
    embedding_forward(k->x, k->emb, k->ctx, EN, ET, EE);
    return project(k->c, k->x, EN * ET * EE);
}

START_TEST(test_embedding)
{
    Rng rng;
    rng_seed(&rng, 11);
    /* Id 1 is looked up three times, id 2 never. */
    EmbCase k = {.ctx = {1, 3, 1, 1, 4, 0}};
    fill_normal(k.emb, EV * EE, 1.0, &rng);
    fill_normal(k.c, EN * ET * EE, 1.0, &rng);

    /* Forward: row r, slot j holds a copy of emb[ctx[r][j]]. */
    embedding_forward(k.x, k.emb, k.ctx, EN, ET, EE);
    for (int r = 0; r < EN; r++)
        for (int j = 0; j < ET; j++)
            for (int e = 0; e < EE; e++)
                ck_assert(k.x[(r * ET + j) * EE + e] == k.emb[k.ctx[r * ET + j] * EE + e]);

    /* Backward adds into demb: start from 0.5 and subtract it again. */
    float demb[EV * EE];
    for (int i = 0; i < EV * EE; i++)
        demb[i] = 0.5f;
    embedding_backward(demb, k.c, k.ctx, EN, ET, EE);
    for (int i = 0; i < EV * EE; i++)
        demb[i] -= 0.5f;
    /* The row never looked up gets nothing. */
    for (int e = 0; e < EE; e++)
        ck_assert(demb[2 * EE + e] == 0.0f);
    double mx = check_grad("demb", k.emb, demb, EV * EE, emb_objective, &k);
    assert_nonzero_grad("demb", mx);
}
END_TEST

/* ---- matrix product ------------------------------------------------------ */

/* The three layouts a linear layer uses, as (a_row, a_col, b_row, b_col)
 * for A (M, K) and B (K, N): y = x W^T (B transposed), dx = dy W (both
 * row-major), dW = dy^T x (A transposed). */
static void mm_layout(int layout, int m, int n, int k, size_t s[4])
{
    (void)n;
    if (layout == 0) { s[0] = (size_t)k; s[1] = 1; s[2] = 1; s[3] = (size_t)k; }
    else if (layout == 1) { s[0] = (size_t)k; s[1] = 1; s[2] = (size_t)n; s[3] = 1; }
    else { s[0] = 1; s[1] = (size_t)m; s[2] = (size_t)n; s[3] = 1; }
}

/* matmul_acc against matmul_acc_ref on awkward sizes (1, 3, 17, 63, 65,
 * 1000: edges of the register tile, sums longer than a packed block, more
 * columns than a packed block), all three layouts, into a C that already
 * holds values (the product adds). Within the float rounding of a sum of
 * k products, since the two sum in different orders. */
START_TEST(test_matmul_reference)
{
    const int sizes[][3] = {{1, 1, 1},      {3, 17, 63},    {17, 63, 65},
                            {63, 65, 1000}, {65, 1000, 3},  {1000, 3, 17},
                            {1, 1000, 65},  {1000, 1, 63},  {65, 3, 1000},
                            {17, 1000, 1},  {63, 1100, 17}, {3, 65, 1000}};
    Rng rng;
    rng_seed(&rng, 4242);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        float *a = falloc((size_t)m * k), *b = falloc((size_t)k * n);
        float *aa = falloc((size_t)m * k), *ab = falloc((size_t)k * n);
        float *c = falloc((size_t)m * n), *r = falloc((size_t)m * n);
        float *bound = falloc((size_t)m * n);
        fill_normal(a, (size_t)m * k, 1.0, &rng);
        fill_normal(b, (size_t)k * n, 1.0, &rng);
        for (size_t i = 0; i < (size_t)m * k; i++)
            aa[i] = fabsf(a[i]);
        for (size_t i = 0; i < (size_t)k * n; i++)
            ab[i] = fabsf(b[i]);
        for (int layout = 0; layout < 3; layout++) {
            size_t st[4];
            mm_layout(layout, m, n, k, st);
            fill_normal(c, (size_t)m * n, 1.0, &rng);
            memcpy(r, c, (size_t)m * n * sizeof *c);
            memset(bound, 0, (size_t)m * n * sizeof *bound);
            matmul_acc(c, (size_t)n, a, st[0], st[1], b, st[2], st[3], m, n, k);
            matmul_acc_ref(r, (size_t)n, a, st[0], st[1], b, st[2], st[3], m, n, k);
            matmul_acc_ref(bound, (size_t)n, aa, st[0], st[1], ab, st[2], st[3],
                           m, n, k);
            for (size_t i = 0; i < (size_t)m * n; i++)
                ck_assert_msg(fabs((double)c[i] - r[i]) <=
                                  sum_tol(2 * k + 2, (double)bound[i] + fabs(r[i])),
                              "matmul %dx%dx%d layout %d: c[%zu] = %.9g, reference "
                              "%.9g", m, n, k, layout, i, (double)c[i], (double)r[i]);
        }
        free(a);
        free(b);
        free(aa);
        free(ab);
        free(c);
        free(r);
        free(bound);
    }
}
END_TEST

/* matmul_serial (C = A B) on the same awkward sizes and layouts, into a C
 * of NaNs it must never read: the same values as matmul_acc_serial into a
 * C of zeros (== rather than the same bits, since 0 + -0 is +0), so every
 * element is stored once, including those of edge tiles, and the blocks of
 * the sum after the first (k 1000) add to it; with k 0, C becomes zeros. */
START_TEST(test_matmul_store)
{
    const int sizes[][3] = {{1, 1, 1},     {3, 17, 63},   {17, 63, 65},
                            {63, 65, 1000}, {65, 1000, 3}, {1000, 3, 17},
                            {12, 8, 24},   {27, 24, 256}, {65, 1100, 32},
                            {5, 7, 0}};
    Rng rng;
    rng_seed(&rng, 4343);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        float *a = falloc((size_t)m * k), *b = falloc((size_t)k * n);
        float *c = falloc((size_t)m * n), *r = falloc((size_t)m * n);
        fill_normal(a, (size_t)m * k, 1.0, &rng);
        fill_normal(b, (size_t)k * n, 1.0, &rng);
        for (int layout = 0; layout < 3; layout++) {
            size_t st[4];
            mm_layout(layout, m, n, k, st);
            for (size_t i = 0; i < (size_t)m * n; i++)
                c[i] = NAN;
            memset(r, 0, (size_t)m * n * sizeof *r);
            matmul_serial(c, (size_t)n, a, st[0], st[1], b, st[2], st[3], m, n, k);
            matmul_acc_serial(r, (size_t)n, a, st[0], st[1], b, st[2], st[3], m, n, k);
            for (size_t i = 0; i < (size_t)m * n; i++)
                ck_assert_msg(c[i] == r[i], "matmul_serial %dx%dx%d layout %d: "
                              "c[%zu] = %.9g, from zeros %.9g", m, n, k, layout, i,
                              (double)c[i], (double)r[i]);
        }
        free(a);
        free(b);
        free(c);
        free(r);
    }
}
END_TEST

#ifdef _OPENMP
/* Products big enough to run in parallel, split by rows (m large) and by
 * columns (m of one or two register tiles), with several blocks of the sum
 * and of the columns: bit-identical results for 1, 2, 3 and 8 threads, and
 * from matmul_acc_serial. */
START_TEST(test_matmul_thread_determinism)
{
    const int sizes[][3] = {{65, 1000, 300}, {9, 1100, 300}, {1000, 63, 65},
                            {3, 2100, 1000}};
    Rng rng;
    rng_seed(&rng, 99);
    int saved = omp_get_max_threads();
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        float *a = falloc((size_t)m * k), *b = falloc((size_t)k * n);
        float *c0 = falloc((size_t)m * n), *c1 = falloc((size_t)m * n);
        fill_normal(a, (size_t)m * k, 1.0, &rng);
        fill_normal(b, (size_t)k * n, 1.0, &rng);
        for (int layout = 0; layout < 3; layout++) {
            size_t st[4];
            mm_layout(layout, m, n, k, st);
            const int counts[] = {1, 2, 3, 8};
            for (size_t t = 0; t < sizeof counts / sizeof *counts; t++) {
                float *c = t == 0 ? c0 : c1;
                for (size_t i = 0; i < (size_t)m * n; i++)
                    c[i] = (float)(i % 7) * 0.25f;
                omp_set_num_threads(counts[t]);
                matmul_acc(c, (size_t)n, a, st[0], st[1], b, st[2], st[3], m, n, k);
                if (t > 0)
                    ck_assert_msg(memcmp(c0, c1, (size_t)m * n * sizeof *c0) == 0,
                                  "matmul %dx%dx%d layout %d: %d threads differ from 1",
                                  m, n, k, layout, counts[t]);
            }
            /* matmul_acc_serial (the calling thread only, a narrower
             * packing block) must give the same bits too. */
            for (size_t i = 0; i < (size_t)m * n; i++)
                c1[i] = (float)(i % 7) * 0.25f;
            matmul_acc_serial(c1, (size_t)n, a, st[0], st[1], b, st[2], st[3], m, n, k);
            ck_assert_msg(memcmp(c0, c1, (size_t)m * n * sizeof *c0) == 0,
                          "matmul %dx%dx%d layout %d: matmul_acc_serial differs",
                          m, n, k, layout);
            /* So must matmul_acc_cols, which shares C by columns whatever
             * its shape, adding into the C it is given. */
            for (size_t t = 0; t < sizeof counts / sizeof *counts; t++) {
                for (size_t i = 0; i < (size_t)m * n; i++)
                    c1[i] = (float)(i % 7) * 0.25f;
                omp_set_num_threads(counts[t]);
                matmul_acc_cols(c1, (size_t)n, a, st[0], st[1], b, st[2], st[3],
                                m, n, k);
                ck_assert_msg(memcmp(c0, c1, (size_t)m * n * sizeof *c0) == 0,
                              "matmul %dx%dx%d layout %d: matmul_acc_cols at %d "
                              "threads differs", m, n, k, layout, counts[t]);
            }
        }
        free(a);
        free(b);
        free(c0);
        free(c1);
    }
    omp_set_num_threads(saved);
}
END_TEST
#endif

/* ---- linear -------------------------------------------------------------- */

typedef struct {
    int n, in, out;
    int bias;
    float *x, *w, *b, *c, *y;
} LinCase;

static double lin_objective(void *p)
{
    LinCase *k = p;
    linear_forward(k->y, k->x, k->w, k->bias ? k->b : NULL, k->n, k->in, k->out);
    return project(k->c, k->y, (size_t)k->n * k->out);
}

static void lin_setup(LinCase *k, int n, int in, int out, int bias, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed);
    *k = (LinCase){n, in, out, bias, falloc((size_t)n * in), falloc((size_t)out * in),
                   falloc((size_t)out), falloc((size_t)n * out),
                   falloc((size_t)n * out)};
    fill_normal(k->x, (size_t)n * in, 1.0, &rng);
    fill_normal(k->w, (size_t)out * in, 1.0, &rng);
    fill_normal(k->b, (size_t)out, 1.0, &rng);
    fill_normal(k->c, (size_t)n * out, 1.0, &rng);
}

static void lin_free(LinCase *k)
{
    free(k->x);
    free(k->w);
    free(k->b);
    free(k->c);
    free(k->y);
}

/* Forward against the naive triple loop in double, and backward (into
 * buffers pre-filled with 0.5, since backward adds) against the naive loops
 *   dx = dy W,  dw = dy^T x,  db = column sums of dy. */
static void lin_reference_check(LinCase *k)
{
    int n = k->n, in = k->in, out = k->out;
    const float *b = k->bias ? k->b : NULL;
    linear_forward(k->y, k->x, k->w, b, n, in, out);
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0, a = b ? fabs(b[o]) : 0.0;
            for (int i = 0; i < in; i++) {
                double t = (double)k->x[r * in + i] * k->w[o * in + i];
                s += t;
                a += fabs(t);
            }
            ck_assert_msg(fabs(k->y[r * out + o] - s) <= sum_tol(in + 1, a),
                          "linear %dx%dx%d y[%d][%d] = %.9g, reference %.9g", n,
                          in, out, r, o, (double)k->y[r * out + o], s);
        }
    float *dx = falloc((size_t)n * in), *dw = falloc((size_t)out * in);
    float *db = falloc((size_t)out);
    for (int i = 0; i < n * in; i++)
        dx[i] = 0.5f;
    for (int i = 0; i < out * in; i++)
        dw[i] = 0.5f;
    for (int i = 0; i < out; i++)
        db[i] = 0.5f;
    linear_backward(dx, dw, b ? db : NULL, k->c, k->x, k->w, n, in, out);
    for (int r = 0; r < n; r++)
        for (int i = 0; i < in; i++) {
            double s = 0.5, a = 0.5;
            for (int o = 0; o < out; o++) {
                double t = (double)k->c[r * out + o] * k->w[o * in + i];
                s += t;
                a += fabs(t);
            }
            ck_assert_msg(fabs(dx[r * in + i] - s) <= sum_tol(out + 1, a),
                          "linear %dx%dx%d dx[%d][%d] = %.9g, reference %.9g", n,
                          in, out, r, i, (double)dx[r * in + i], s);
        }
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++) {
            double s = 0.5, a = 0.5;
            for (int r = 0; r < n; r++) {
                double t = (double)k->c[r * out + o] * k->x[r * in + i];
                s += t;
                a += fabs(t);
            }
            ck_assert_msg(fabs(dw[o * in + i] - s) <= sum_tol(n + 1, a),
                          "linear %dx%dx%d dw[%d][%d] = %.9g, reference %.9g", n,
                          in, out, o, i, (double)dw[o * in + i], s);
        }
    for (int o = 0; o < out; o++) {
        double s = 0.5, a = 0.5;
        for (int r = 0; r < n; r++) {
            s += k->c[r * out + o];
            a += fabs(k->c[r * out + o]);
        }
        if (b)
            ck_assert(fabs(db[o] - s) <= sum_tol(n + 1, a));
        else
            ck_assert(db[o] == 0.5f); /* NULL db: untouched */
    }
    free(dx);
    free(dw);
    free(db);
}

/* Finite-difference check of dx, dw and db. */
static void lin_grad_check(LinCase *k)
{
    int n = k->n, in = k->in, out = k->out;
    float *dx = falloc((size_t)n * in), *dw = falloc((size_t)out * in);
    float *db = falloc((size_t)out);
    linear_backward(dx, dw, k->bias ? db : NULL, k->c, k->x, k->w, n, in, out);
    char what[64];
    snprintf(what, sizeof what, "linear %dx%dx%d bias %d dx", n, in, out, k->bias);
    assert_nonzero_grad(what, check_grad(what, k->x, dx, (size_t)n * in,
                                         lin_objective, k));
    what[strlen(what) - 1] = 'w';
    assert_nonzero_grad(what, check_grad(what, k->w, dw, (size_t)out * in,
                                         lin_objective, k));
    if (k->bias) {
        what[strlen(what) - 1] = 'b';
        assert_nonzero_grad(what, check_grad(what, k->b, db, (size_t)out,
                                             lin_objective, k));
    }
    /* Any gradient output may be NULL and the others are unchanged. */
    float *dw2 = falloc((size_t)out * in), *dx2 = falloc((size_t)n * in);
    linear_backward(NULL, dw2, NULL, k->c, k->x, k->w, n, in, out);
    linear_backward(dx2, NULL, NULL, k->c, k->x, k->w, n, in, out);
    ck_assert_mem_eq(dw2, dw, (size_t)out * in * sizeof *dw);
    ck_assert_mem_eq(dx2, dx, (size_t)n * in * sizeof *dx);
    free(dx);
    free(dw);
    free(db);
    free(dw2);
    free(dx2);
}

START_TEST(test_linear_gradients)
{
    /* Distinct sizes (n, in, out); in = 19 crosses an 8-wide unrolled loop
     * with a tail, n = 7 reaches the batched path. */
    const int sizes[][3] = {{3, 4, 5}, {3, 19, 5}, {7, 19, 5}, {5, 3, 4}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int bias = 0; bias <= 1; bias++) {
            LinCase k;
            lin_setup(&k, sizes[s][0], sizes[s][1], sizes[s][2], bias,
                      100 + s * 2 + (size_t)bias);
            lin_grad_check(&k);
            lin_free(&k);
        }
}
END_TEST

START_TEST(test_linear_reference)
{
    /* Small and larger sizes, including a sum longer than any blocking
     * (in = 300) and widths that are not multiples of a vector. */
    const int sizes[][3] = {{3, 4, 5},   {1, 7, 3},    {2, 9, 11},  {7, 19, 5},
                            {13, 300, 37}, {64, 48, 70}, {4, 1, 1}, {9, 33, 17}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int bias = 0; bias <= 1; bias++) {
            LinCase k;
            lin_setup(&k, sizes[s][0], sizes[s][1], sizes[s][2], bias,
                      200 + s * 2 + (size_t)bias);
            lin_reference_check(&k);
            lin_free(&k);
        }
}
END_TEST

/* ---- tanh ---------------------------------------------------------------- */

enum { TN = 12 };

typedef struct {
    float x[TN], y[TN], c[TN];
} TanhCase;

static double tanh_objective(void *p)
{
    TanhCase *k = p;
    tanh_forward(k->y, k->x, 3, TN / 3);
    return project(k->c, k->y, TN);
}

START_TEST(test_tanh)
{
    Rng rng;
    rng_seed(&rng, 12);
    TanhCase k;
    for (int i = 0; i < TN; i++)
        k.x[i] = (float)(4.0 * rng_uniform(&rng) - 2.0); /* in [-2, 2) */
    fill_normal(k.c, TN, 1.0, &rng);
    tanh_forward(k.y, k.x, 3, TN / 3);
    for (int i = 0; i < TN; i++)
        ck_assert_double_eq_tol(k.y[i], tanh((double)k.x[i]), 1e-6);
    /* In place (y == x) gives the same. */
    float z[TN];
    memcpy(z, k.x, sizeof z);
    tanh_forward(z, z, 3, TN / 3);
    ck_assert_mem_eq(z, k.y, sizeof z);
    /* Large inputs saturate to +-1, not NaN. */
    float big[2] = {50.0f, -50.0f};
    tanh_forward(big, big, 1, 2);
    ck_assert(big[0] == 1.0f && big[1] == -1.0f);
    /* NaN stays NaN, so a diverged layer reaches the loss check. */
    float nan_in[2] = {NAN, -NAN};
    tanh_forward(nan_in, nan_in, 2, 1);
    ck_assert(isnan(nan_in[0]) && isnan(nan_in[1]));
    /* Relative accuracy across the whole range, both branches included. */
    for (int i = -4000; i <= 4000; i++) {
        float x = (float)i / 400.0f, y;
        tanh_forward(&y, &x, 1, 1);
        double want = tanh((double)x);
        ck_assert_msg(fabs(y - want) <= 2e-7 * fabs(want) + 1e-30,
                      "tanh(%g) = %.9g, want %.9g", x, y, want);
    }

    /* Backward writes dx (=): what was there before, NaN here, is gone. */
    float dx[TN];
    for (int i = 0; i < TN; i++)
        dx[i] = NAN;
    tanh_backward(dx, k.c, k.y, 3, TN / 3);
    /* In place (dx == dy) gives the same (checked before check_grad, whose
     * forward passes leave k.y at a perturbed input). */
    float dxy[TN];
    memcpy(dxy, k.c, sizeof dxy);
    tanh_backward(dxy, dxy, k.y, 3, TN / 3);
    ck_assert_mem_eq(dxy, dx, sizeof dxy);
    assert_nonzero_grad("tanh dx", check_grad("tanh dx", k.x, dx, TN,
                                              tanh_objective, &k));
}
END_TEST

/* ---- softmax cross-entropy ------------------------------------------------ */

enum { SN = 3, SV = 5 };

typedef struct {
    float logits[SN * SV], probs[SN * SV], loss[SN];
    int32_t targets[SN];
} SoftCase;

/* The mean loss (scale 1/N), summed in double. */
static double soft_objective(void *p)
{
    SoftCase *k = p;
    softmax_cross_entropy_forward(k->loss, k->probs, k->logits, k->targets, SN, SV);
    double s = 0.0;
    for (int r = 0; r < SN; r++)
        s += k->loss[r];
    return s / SN;
}

START_TEST(test_softmax_cross_entropy)
{
    Rng rng;
    rng_seed(&rng, 13);
    SoftCase k = {.targets = {4, 0, 2}};
    fill_normal(k.logits, SN * SV, 2.0, &rng);
    softmax_cross_entropy_forward(k.loss, k.probs, k.logits, k.targets, SN, SV);
    /* Reference: p_j = exp(l_j) / sum exp(l_k), loss = log sum exp - l_t. */
    for (int r = 0; r < SN; r++) {
        double sum = 0.0;
        for (int j = 0; j < SV; j++)
            sum += exp((double)k.logits[r * SV + j]);
        for (int j = 0; j < SV; j++)
            ck_assert_double_eq_tol(k.probs[r * SV + j],
                                    exp((double)k.logits[r * SV + j]) / sum, 1e-6);
        double loss = log(sum) - k.logits[r * SV + k.targets[r]];
        ck_assert_double_eq_tol(k.loss[r], loss, 1e-6 * (1.0 + fabs(loss)));
    }
    /* probs may be the logits buffer itself. */
    float inplace[SN * SV], loss2[SN];
    memcpy(inplace, k.logits, sizeof inplace);
    softmax_cross_entropy_forward(loss2, inplace, inplace, k.targets, SN, SV);
    ck_assert_mem_eq(inplace, k.probs, sizeof inplace);
    ck_assert_mem_eq(loss2, k.loss, sizeof loss2);

    /* Backward for the mean loss: scale 1/N, writing dlogits (=): what was
     * there before, NaN here, is gone. */
    float dl[SN * SV];
    for (int i = 0; i < SN * SV; i++)
        dl[i] = NAN;
    softmax_cross_entropy_backward(dl, k.probs, k.targets, 1.0f / SN, SN, SV);
    /* In place (dlogits == probs) gives the same (checked before
     * check_grad, whose forward passes leave k.probs perturbed). */
    float dl_inplace[SN * SV];
    memcpy(dl_inplace, k.probs, sizeof dl_inplace);
    softmax_cross_entropy_backward(dl_inplace, dl_inplace, k.targets, 1.0f / SN,
                                   SN, SV);
    ck_assert_mem_eq(dl_inplace, dl, sizeof dl);
    assert_nonzero_grad("dlogits", check_grad("dlogits", k.logits, dl, SN * SV,
                                              soft_objective, &k));
}
END_TEST

START_TEST(test_softmax_extreme_logits)
{
    /* Logits of +-1000 would overflow exp() without the max shift.
     * Row 0 [1000, -1000, 0], target 0: loss = log(1 + e^-2000 + e^-1000) = 0.
     * Row 1 same logits, target 1: loss = 1000 - (-1000) + ~0 = 2000.
     * Row 2 same logits, target 2: loss = 1000.
     * Row 3 [1000, 1000, -1000], target 1: loss = ln 2 (two equal maxima).
     * Row 4 [-1000, -1000, -1000], target 2: loss = ln 3. */
    const float logits[5 * 3] = {1000, -1000, 0,    1000, -1000, 0,   1000, -1000, 0,
                                 1000, 1000, -1000, -1000, -1000, -1000};
    const int32_t targets[5] = {0, 1, 2, 1, 2};
    const double expect[5] = {0.0, 2000.0, 1000.0, log(2.0), log(3.0)};
    float probs[5 * 3], loss[5];
    softmax_cross_entropy_forward(loss, probs, logits, targets, 5, 3);
    for (int r = 0; r < 5; r++) {
        ck_assert(isfinite(loss[r]));
        ck_assert_double_eq_tol(loss[r], expect[r], 1e-6 * (1.0 + expect[r]));
        double s = 0.0;
        for (int j = 0; j < 3; j++) {
            ck_assert(isfinite(probs[r * 3 + j]));
            s += probs[r * 3 + j];
        }
        ck_assert_double_eq_tol(s, 1.0, 1e-6);
    }
    ck_assert_double_eq_tol(probs[0], 1.0, 1e-7);
    ck_assert_double_eq_tol(probs[9], 0.5, 1e-7);
    ck_assert_double_eq_tol(probs[12], 1.0 / 3.0, 1e-7);
    /* Relative accuracy of the probabilities across the range of exp():
     * rows [0, x], p1 = e^x / (1 + e^x), and the loss of target 1,
     * -log p1 = log(1 + e^x) - x. */
    for (int i = 0; i <= 8600; i++) {
        float row[2] = {0.0f, -(float)i / 100.0f}, pr[2], l;
        int32_t t1 = 1;
        softmax_cross_entropy_forward(&l, pr, row, &t1, 1, 2);
        double e = exp((double)row[1]), want = e / (1.0 + e);
        ck_assert_msg(fabs(pr[1] - want) <= 3e-7 * want,
                      "softmax([0, %g])[1] = %.9g, want %.9g", row[1], pr[1], want);
        double lwant = log1p(e) - row[1];
        ck_assert_double_eq_tol(l, lwant, 1e-6 * lwant);
    }
    /* Far below: the probability is 0 (or tiny), the loss still exact. */
    {
        float row[2] = {0.0f, -200.0f}, pr[2], l;
        int32_t t1 = 1;
        softmax_cross_entropy_forward(&l, pr, row, &t1, 1, 2);
        ck_assert(pr[0] == 1.0f && pr[1] >= 0.0f && pr[1] < 1e-37f);
        ck_assert_double_eq_tol(l, 200.0, 1e-6 * 200.0);
    }
    /* A NaN logit gives a NaN loss (the divergence check needs it). */
    {
        float row[3] = {0.5f, NAN, -1.0f}, pr[3], l;
        int32_t t0 = 0;
        softmax_cross_entropy_forward(&l, pr, row, &t0, 1, 3);
        ck_assert(isnan(l));
    }

    /* The gradient is finite too: probs - onehot. */
    float dl[5 * 3];
    softmax_cross_entropy_backward(dl, probs, targets, 1.0f, 5, 3);
    ck_assert_double_eq_tol(dl[3 + 0], 1.0, 1e-7);
    ck_assert_double_eq_tol(dl[3 + 1], -1.0, 1e-7);
    for (int i = 0; i < 15; i++)
        ck_assert(isfinite(dl[i]));
}
END_TEST

/* ---- the whole model ----------------------------------------------------- */

enum { MB = 6 };

typedef struct {
    Model m;
    Activations a;
    int32_t ctx[MB * 3];
    int32_t targets[MB];
} ModelCase;

static double model_objective(void *p)
{
    ModelCase *k = p;
    return model_forward(&k->m, &k->a, k->ctx, k->targets, MB);
}

static void model_case_init(ModelCase *k, int layers, uint64_t seed)
{
    /* T=3, E=4, H=5, V=7: all distinct, so a transposed shape cannot pass. */
    ModelConfig cfg = {.context = 3, .embed = 4, .hidden = 5, .layers = layers,
                       .vocab = 7};
    Error err = {{0}};
    ck_assert_msg(model_init(&k->m, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_msg(acts_init(&k->a, &cfg, MB, 1, &err) == 0, "%s", err.msg);
    Rng rng;
    rng_seed(&rng, seed);
    /* Every tensor non-zero (biases too), small enough that tanh is not
     * saturated: pre-activations have variance about 12 * 0.64 * 0.09. */
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(&cfg, t);
    for (int i = 0; i < nt; i++) {
        double scale = i == 0 ? 0.8 : t[i].cols == 1 ? 0.2 : 0.3;
        if (i == nt - 2)
            scale = 1.0; /* output weights: logits spread over a few units */
        fill_normal(k->m.params + t[i].offset, t[i].rows * t[i].cols, scale, &rng);
    }
    /* Ids repeat within and across rows; every id is used somewhere. */
    const int32_t ctx[MB * 3] = {0, 1, 2, 3, 3, 4, 5, 6, 0, 1, 1, 1, 2, 6, 4, 0, 5, 3};
    const int32_t targets[MB] = {3, 0, 6, 1, 1, 5};
    memcpy(k->ctx, ctx, sizeof ctx);
    memcpy(k->targets, targets, sizeof targets);
}

static void model_case_free(ModelCase *k)
{
    acts_free(&k->a);
    model_free(&k->m);
}

static void model_grad_check(int layers)
{
    ModelCase k;
    model_case_init(&k, layers, 40 + (uint64_t)layers);
    model_zero_grad(&k.m);
    double loss = model_forward(&k.m, &k.a, k.ctx, k.targets, MB);
    ck_assert(isfinite(loss) && loss > 0.0);
    model_backward(&k.m, &k.a, k.ctx, k.targets, MB);
    float *ana = falloc(k.m.n_params);
    memcpy(ana, k.m.grads, k.m.n_params * sizeof *ana);
    TensorInfo t[MODEL_MAX_TENSORS];
    int nt = model_tensors(&k.m.cfg, t);
    for (int i = 0; i < nt; i++) {
        char what[64];
        snprintf(what, sizeof what, "L=%d %.23s", layers, t[i].name);
        double mx = check_grad(what, k.m.params + t[i].offset, ana + t[i].offset,
                               t[i].rows * t[i].cols, model_objective, &k);
        assert_nonzero_grad(what, mx);
    }
    /* A second backward without zeroing adds the same again. */
    model_forward(&k.m, &k.a, k.ctx, k.targets, MB);
    model_backward(&k.m, &k.a, k.ctx, k.targets, MB);
    for (size_t i = 0; i < k.m.n_params; i++)
        ck_assert_double_eq_tol(k.m.grads[i], 2.0 * ana[i], 1e-6 + 1e-5 * fabs(ana[i]));
    free(ana);
    model_case_free(&k);
}

START_TEST(test_model_gradients_l1)
{
    model_grad_check(1);
}
END_TEST

START_TEST(test_model_gradients_l2)
{
    model_grad_check(2);
}
END_TEST

/* The model's forward pass in plain double loops, from the same floats. */
START_TEST(test_model_forward_reference)
{
    for (int layers = 1; layers <= 3; layers++) {
        ModelCase k;
        model_case_init(&k, layers, 60 + (uint64_t)layers);
        const ModelConfig *c = &k.m.cfg;
        int T = c->context, E = c->embed, H = c->hidden, V = c->vocab;
        double mean = model_forward(&k.m, &k.a, k.ctx, k.targets, MB);
        double ref_mean = 0.0;
        for (int r = 0; r < MB; r++) {
            double x[64], h[64], z[64];
            for (int j = 0; j < T; j++)
                for (int e = 0; e < E; e++)
                    x[j * E + e] = k.m.p.emb[k.ctx[r * T + j] * E + e];
            int n_in = T * E;
            for (int l = 0; l < c->layers; l++) {
                for (int o = 0; o < H; o++) {
                    double s = k.m.p.b[l][o];
                    for (int i = 0; i < n_in; i++)
                        s += (double)k.m.p.w[l][o * n_in + i] * x[i];
                    h[o] = tanh(s);
                }
                for (int o = 0; o < H; o++)
                    x[o] = h[o];
                n_in = H;
            }
            double mx = -INFINITY;
            for (int v = 0; v < V; v++) {
                double s = k.m.p.bout[v];
                for (int i = 0; i < H; i++)
                    s += (double)k.m.p.wout[v * H + i] * x[i];
                z[v] = s;
                mx = s > mx ? s : mx;
                ck_assert_msg(fabs(k.a.logits[r * V + v] - s) <= 1e-5 * (1.0 + fabs(s)),
                              "L=%d logit[%d][%d] %.8g vs reference %.8g", layers, r,
                              v, (double)k.a.logits[r * V + v], s);
            }
            double se = 0.0;
            for (int v = 0; v < V; v++)
                se += exp(z[v] - mx);
            double loss = mx + log(se) - z[k.targets[r]];
            ck_assert_double_eq_tol(k.a.losses[r], loss, 1e-5 * (1.0 + loss));
            ref_mean += loss / MB;
        }
        ck_assert_double_eq_tol(mean, ref_mean, 1e-5 * (1.0 + ref_mean));
        /* Without targets only the logits are computed; the result is 0. */
        ck_assert(model_forward(&k.m, &k.a, k.ctx, NULL, MB) == 0.0);
        model_case_free(&k);
    }
}
END_TEST

START_TEST(test_step0_loss)
{
    /* A randomized model guesses nearly uniformly: loss within 0.1 of ln V. */
    const ModelConfig cfgs[] = {
        {.context = 3, .embed = 10, .hidden = 64, .layers = 2, .vocab = 27},
        {.context = 8, .embed = 16, .hidden = 128, .layers = 1, .vocab = 65},
        {.context = 2, .embed = 3, .hidden = 5, .layers = 3, .vocab = 7},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++) {
        const ModelConfig *cfg = &cfgs[i];
        enum { B = 256 };
        Model m = {0};
        Activations a = {0};
        Error err = {{0}};
        ck_assert_int_eq(model_init(&m, cfg, &err), 0);
        ck_assert_int_eq(acts_init(&a, cfg, B, 0, &err), 0);
        Rng rng;
        rng_seed(&rng, 1000 + i);
        model_randomize(&m, &rng);
        int32_t *ctx = malloc((size_t)B * cfg->context * sizeof *ctx);
        int32_t targets[B];
        for (int j = 0; j < B * cfg->context; j++)
            ctx[j] = (int32_t)rng_below(&rng, (uint64_t)cfg->vocab);
        for (int j = 0; j < B; j++)
            targets[j] = (int32_t)rng_below(&rng, (uint64_t)cfg->vocab);
        double loss = model_forward(&m, &a, ctx, targets, B);
        ck_assert_msg(fabs(loss - log((double)cfg->vocab)) < 0.1,
                      "V=%d: step-0 loss %.4f, ln V = %.4f", cfg->vocab, loss,
                      log((double)cfg->vocab));
        /* Biases start at zero; the embedding is N(0, 1). */
        for (int l = 0; l < cfg->layers; l++)
            for (int j = 0; j < cfg->hidden; j++)
                ck_assert(m.p.b[l][j] == 0.0f);
        for (int j = 0; j < cfg->vocab; j++)
            ck_assert(m.p.bout[j] == 0.0f);
        double s2 = 0.0;
        size_t ne = (size_t)cfg->vocab * cfg->embed;
        for (size_t j = 0; j < ne; j++)
            s2 += (double)m.p.emb[j] * m.p.emb[j];
        ck_assert_double_eq_tol(s2 / (double)ne, 1.0, 0.6);
        free(ctx);
        acts_free(&a);
        model_free(&m);
    }
}
END_TEST

START_TEST(test_model_layout)
{
    ModelConfig cfg = {.context = 3, .embed = 4, .hidden = 5, .layers = 2, .vocab = 7};
    /* V*E + (T*E*H + H) + (H*H + H) + V*H + V = 28 + 65 + 30 + 35 + 7. */
    ck_assert_uint_eq(model_param_count(&cfg), 165);
    TensorInfo t[MODEL_MAX_TENSORS];
    ck_assert_int_eq(model_tensors(&cfg, t), 7);
    const struct {
        const char *name;
        size_t offset, rows, cols;
        int decay;
    } expect[7] = {
        {"embedding", 0, 7, 4, 1},       {"hidden0.weight", 28, 5, 12, 1},
        {"hidden0.bias", 88, 5, 1, 0},   {"hidden1.weight", 93, 5, 5, 1},
        {"hidden1.bias", 118, 5, 1, 0},  {"output.weight", 123, 7, 5, 1},
        {"output.bias", 158, 7, 1, 0},
    };
    for (int i = 0; i < 7; i++) {
        ck_assert_str_eq(t[i].name, expect[i].name);
        ck_assert_uint_eq(t[i].offset, expect[i].offset);
        ck_assert_uint_eq(t[i].rows, expect[i].rows);
        ck_assert_uint_eq(t[i].cols, expect[i].cols);
        ck_assert_int_eq(t[i].decay, expect[i].decay);
    }
    /* One hidden layer fewer: two tensors fewer, output.bias moves down. */
    cfg.layers = 1;
    ck_assert_int_eq(model_tensors(&cfg, t), 5);
    ck_assert_str_eq(t[4].name, "output.bias");
    ck_assert_uint_eq(t[4].offset, 28 + 65 + 35);
    ck_assert_int_eq(t[4].decay, 0);
    ck_assert_uint_eq(model_param_count(&cfg), 135);

    /* The views point into the one parameter array, in that order. */
    Model m = {0};
    Error err = {{0}};
    cfg.layers = 2;
    ck_assert_int_eq(model_init(&m, &cfg, &err), 0);
    ck_assert_ptr_eq(m.p.emb, m.params);
    ck_assert_ptr_eq(m.p.w[0], m.params + 28);
    ck_assert_ptr_eq(m.p.b[0], m.params + 88);
    ck_assert_ptr_eq(m.p.w[1], m.params + 93);
    ck_assert_ptr_eq(m.p.b[1], m.params + 118);
    ck_assert_ptr_eq(m.p.wout, m.params + 123);
    ck_assert_ptr_eq(m.p.bout, m.params + 158);
    ck_assert_ptr_eq(m.g.wout, m.grads + 123);
    for (size_t i = 0; i < m.n_params; i++)
        ck_assert(m.params[i] == 0.0f && m.grads[i] == 0.0f);
    model_free(&m);

    /* Out-of-range configs are refused, naming the field. */
    static const struct {
        ModelConfig c;
        const char *field;
    } bad[] = {
        {{.context = 0, .embed = 4, .hidden = 5, .layers = 1, .vocab = 7}, "context"},
        {{.context = 1025, .embed = 4, .hidden = 5, .layers = 1, .vocab = 7}, "context"},
        {{.context = 3, .embed = 0, .hidden = 5, .layers = 1, .vocab = 7}, "embed"},
        {{.context = 3, .embed = 4, .hidden = -1, .layers = 1, .vocab = 7}, "hidden"},
        {{.context = 3, .embed = 4, .hidden = 5, .layers = 0, .vocab = 7}, "layers"},
        {{.context = 3, .embed = 4, .hidden = 5, .layers = 9, .vocab = 7}, "layers"},
        {{.context = 3, .embed = 4, .hidden = 5, .layers = 1, .vocab = 0}, "vocabulary"},
        {{.context = 1, .embed = 1, .hidden = 65536, .layers = 1, .vocab = 0x110001},
         "output.weight"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(model_config_check(&bad[i].c, &err), -1);
        ck_assert_msg(strstr(err.msg, bad[i].field) != NULL,
                      "config %zu: message does not name '%s': %s", i, bad[i].field,
                      err.msg);
        ck_assert_int_eq(model_init(&m, &bad[i].c, &err), -1);
    }
    ck_assert_int_eq(acts_init(&(Activations){0}, &cfg, 0, 1, &err), -1);
}
END_TEST

#ifdef _OPENMP
/* The whole forward and backward pass at 1, 2, 3 and 8 threads, by both
 * routes of the first layer: bit-identical losses, logits and gradients.
 * At 1 thread every pass runs on the calling thread; at more, each of the
 * model's passes runs in one parallel region (B*H >= MODEL_PARALLEL_MIN,
 * model.c) whose layers share out their loops, so this compares the two
 * (it fails without the barrier that ends each layer there). The configs
 * have V from 3 to 70; one has fewer blocks of hidden units (table.h)
 * than threads (H 96: one), two a partial last block (H 320 and 704: 64
 * wide), one fewer 16-float ranges of demb (V 3, E 32: 6) than threads.
 * Each count
 * runs the pass twice on the same activations: the backward pass leaves
 * gradients in the table's memory, and the second forward pass must
 * build it anew and give the same bits. */
START_TEST(test_thread_count_determinism)
{
    const ModelConfig cfgs[] = {
        {.context = 8, .embed = 16, .hidden = 96, .layers = 2, .vocab = 70},
        {.context = 32, .embed = 48, .hidden = 320, .layers = 1, .vocab = 9},
        {.context = 16, .embed = 40, .hidden = 256, .layers = 2, .vocab = 27},
        {.context = 64, .embed = 32, .hidden = 704, .layers = 1, .vocab = 3},
        {.context = 2, .embed = 128, .hidden = 1024, .layers = 1, .vocab = 17},
    };
    enum { B = 128 };
    int saved = omp_get_max_threads();
    for (size_t ci = 0; ci < sizeof cfgs / sizeof *cfgs; ci++) {
        const ModelConfig *cfg = &cfgs[ci];
        int T = cfg->context, V = cfg->vocab;
        Model m = {0};
        Activations a = {0};
        Error err = {{0}};
        ck_assert_int_eq(model_init(&m, cfg, &err), 0);
        ck_assert_int_eq(acts_init(&a, cfg, B, 1, &err), 0);
        Rng rng;
        rng_seed(&rng, 77 + ci);
        model_randomize(&m, &rng);
        int32_t *ctx = malloc((size_t)B * T * sizeof *ctx);
        int32_t targets[B];
        for (int j = 0; j < B * T; j++)
            ctx[j] = (int32_t)rng_below(&rng, (uint64_t)V);
        for (int j = 0; j < B; j++)
            targets[j] = (int32_t)rng_below(&rng, (uint64_t)V);
        float *g1 = falloc(m.n_params), *l1 = falloc((size_t)B * V);
        const int counts[] = {1, 2, 3, 8};
        double loss1 = 0.0;
        /* Both routes of the first layer: directly, then by table (table.h). */
        for (int table = 0; table < 2; table++) {
            ck_assert_int_eq(acts_use_table(&a, cfg, table, &err), 0);
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
                omp_set_num_threads(counts[c]);
                for (int round = 0; round < 2; round++) {
                    model_zero_grad(&m);
                    double loss = model_forward(&m, &a, ctx, targets, B);
                    model_backward(&m, &a, ctx, targets, B);
                    if (c == 0 && round == 0) {
                        loss1 = loss;
                        memcpy(g1, m.grads, m.n_params * sizeof *g1);
                        memcpy(l1, a.logits, (size_t)B * V * sizeof *l1);
                        continue;
                    }
                    ck_assert_msg(loss == loss1, "config %zu table %d, %d threads, "
                                  "round %d: loss differs", ci, table, counts[c], round);
                    ck_assert_msg(memcmp(a.logits, l1, (size_t)B * V * sizeof *l1) == 0,
                                  "config %zu table %d, %d threads, round %d: logits "
                                  "differ", ci, table, counts[c], round);
                    ck_assert_msg(memcmp(m.grads, g1, m.n_params * sizeof *g1) == 0,
                                  "config %zu table %d, %d threads, round %d: "
                                  "gradients differ", ci, table, counts[c], round);
                }
            }
        }
        free(ctx);
        free(g1);
        free(l1);
        acts_free(&a);
        model_free(&m);
    }
    omp_set_num_threads(saved);
}
END_TEST

/* model_zero_grad on a model past MODEL_PARAMS_PARALLEL_MIN, where each
 * thread clears its range of each tensor: every gradient is 0 afterwards,
 * and no parameter changed, at 1, 2, 3 and 8 threads. (That the ranges
 * are the optimizer's is a matter of speed, not checked here.) */
START_TEST(test_zero_grad_threads)
{
    const ModelConfig cfg = {.context = 5, .embed = 7, .hidden = 301,
                             .layers = 2, .vocab = 13};
    int saved = omp_get_max_threads();
    Model m = {0};
    Error err = {{0}};
    ck_assert_int_eq(model_init(&m, &cfg, &err), 0);
    ck_assert(m.n_params >= (size_t)MODEL_PARAMS_PARALLEL_MIN);
    const int counts[] = {1, 2, 3, 8};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        omp_set_num_threads(counts[c]);
        for (size_t i = 0; i < m.n_params; i++) {
            m.grads[i] = NAN;
            m.params[i] = (float)i;
        }
        model_zero_grad(&m);
        for (size_t i = 0; i < m.n_params; i++) {
            ck_assert_msg(m.grads[i] == 0.0f, "%d threads: gradient %zu is %g",
                          counts[c], i, (double)m.grads[i]);
            ck_assert_msg(m.params[i] == (float)i, "%d threads: parameter %zu "
                          "changed", counts[c], i);
        }
    }
    model_free(&m);
    omp_set_num_threads(saved);
}
END_TEST

/* Batches of 1 to 3 rows, whose linear layers take the matrix-vector path
 * (the one of sampling), with H large enough (B*H >= MODEL_PARALLEL_MIN)
 * for the model to run them in its region at more than one thread: the
 * same loss, logits and gradients at 1, 2, 3 and 8 threads, directly and
 * by a frozen table as `tinychar sample` computes them. */
START_TEST(test_small_batch_thread_determinism)
{
    const ModelConfig cfg = {.context = 4, .embed = 16, .hidden = 4100,
                             .layers = 2, .vocab = 30};
    int saved = omp_get_max_threads();
    Model m = {0};
    Error err = {{0}};
    ck_assert_int_eq(model_init(&m, &cfg, &err), 0);
    Rng rng;
    rng_seed(&rng, 2024);
    model_randomize(&m, &rng);
    for (int B = 1; B <= 3; B++) {
        int T = cfg.context, V = cfg.vocab;
        int32_t ctx[3 * 4], targets[3];
        for (int j = 0; j < B * T; j++)
            ctx[j] = (int32_t)rng_below(&rng, (uint64_t)V);
        for (int j = 0; j < B; j++)
            targets[j] = (int32_t)rng_below(&rng, (uint64_t)V);
        Activations a = {0}, g = {0};
        ck_assert_int_eq(acts_init(&a, &cfg, B, 1, &err), 0);
        ck_assert_int_eq(acts_init(&g, &cfg, B, 0, &err), 0);
        ck_assert_int_eq(acts_freeze(&g, &m, &err), 0);
        ck_assert_ptr_nonnull(g.table);
        float *g1 = falloc(m.n_params), *l1 = falloc((size_t)B * V);
        float *f1 = falloc((size_t)B * V);
        double loss1 = 0.0;
        const int counts[] = {1, 2, 3, 8};
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            omp_set_num_threads(counts[c]);
            model_zero_grad(&m);
            double loss = model_forward(&m, &a, ctx, targets, B);
            model_backward(&m, &a, ctx, targets, B);
            model_forward(&m, &g, ctx, NULL, B);
            if (c == 0) {
                loss1 = loss;
                memcpy(g1, m.grads, m.n_params * sizeof *g1);
                memcpy(l1, a.logits, (size_t)B * V * sizeof *l1);
                memcpy(f1, g.logits, (size_t)B * V * sizeof *f1);
                continue;
            }
            ck_assert_msg(loss == loss1, "B %d, %d threads: loss differs", B,
                          counts[c]);
            ck_assert_msg(memcmp(a.logits, l1, (size_t)B * V * sizeof *l1) == 0,
                          "B %d, %d threads: logits differ", B, counts[c]);
            ck_assert_msg(memcmp(m.grads, g1, m.n_params * sizeof *g1) == 0,
                          "B %d, %d threads: gradients differ", B, counts[c]);
            ck_assert_msg(memcmp(g.logits, f1, (size_t)B * V * sizeof *f1) == 0,
                          "B %d, %d threads: logits by frozen table differ", B,
                          counts[c]);
        }
        free(g1);
        free(l1);
        free(f1);
        acts_free(&a);
        acts_free(&g);
    }
    model_free(&m);
    omp_set_num_threads(saved);
}
END_TEST
#endif

/* Largest |x - y| over n values, relative to max(1, largest |y|). */
static double max_rel_diff(const float *x, const float *y, size_t n)
{
    double scale = 1.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs((double)y[i]));
        diff = fmax(diff, fabs((double)x[i] - (double)y[i]));
    }
    return diff / scale;
}

/* The first layer by table (table.h) against the direct route (embedding
 * lookup, then a linear layer), on awkward sizes: the same loss, logits
 * and gradients up to float rounding; and a frozen table for generation
 * gives the direct route's logits. */
START_TEST(test_table_route)
{
    const ModelConfig cfgs[] = {
        {.context = 1, .embed = 1, .hidden = 1, .layers = 1, .vocab = 2},
        {.context = 3, .embed = 17, .hidden = 63, .layers = 2, .vocab = 5},
        {.context = 5, .embed = 3, .hidden = 65, .layers = 1, .vocab = 17},
        {.context = 17, .embed = 4, .hidden = 100, .layers = 3, .vocab = 63},
        /* three blocks of hidden units (blocks.h), the last narrower */
        {.context = 2, .embed = 5, .hidden = 300, .layers = 1, .vocab = 7},
    };
    const int batches[] = {1, 3, 130};
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++)
        for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++) {
            const ModelConfig *cfg = &cfgs[i];
            int B = batches[bi], T = cfg->context, V = cfg->vocab;
            Model m = {0};
            Activations a = {0};
            Error err = {{0}};
            ck_assert_int_eq(model_init(&m, cfg, &err), 0);
            ck_assert_int_eq(acts_init(&a, cfg, B, 1, &err), 0);
            Rng rng;
            rng_seed(&rng, 500 + 10 * i + bi);
            model_randomize(&m, &rng);
            for (size_t j = 0; j < m.n_params; j++) /* nonzero biases too */
                m.params[j] += 0.1f * (float)rng_normal(&rng);
            int32_t *ctx = malloc((size_t)B * T * sizeof *ctx);
            int32_t *targets = malloc((size_t)B * sizeof *targets);
            for (int j = 0; j < B * T; j++)
                ctx[j] = (int32_t)rng_below(&rng, (uint64_t)V);
            for (int j = 0; j < B; j++)
                targets[j] = (int32_t)rng_below(&rng, (uint64_t)V);
            float *grads[2], *logits[2];
            double loss[2];
            for (int table = 0; table < 2; table++) {
                ck_assert_int_eq(acts_use_table(&a, cfg, table, &err), 0);
                ck_assert((a.table != NULL) == table);
                model_zero_grad(&m);
                loss[table] = model_forward(&m, &a, ctx, targets, B);
                model_backward(&m, &a, ctx, targets, B);
                grads[table] = falloc(m.n_params);
                logits[table] = falloc((size_t)B * V);
                memcpy(grads[table], m.grads, m.n_params * sizeof(float));
                memcpy(logits[table], a.logits, (size_t)B * V * sizeof(float));
            }
            ck_assert_msg(fabs(loss[1] - loss[0]) <= 1e-6 * loss[0],
                          "config %zu B=%d: loss %.9g by table, %.9g directly",
                          i, B, loss[1], loss[0]);
            ck_assert_msg(max_rel_diff(logits[1], logits[0], (size_t)B * V) < 1e-5,
                          "config %zu B=%d: logits differ", i, B);
            TensorInfo t[MODEL_MAX_TENSORS];
            int nt = model_tensors(cfg, t);
            for (int k = 0; k < nt; k++) {
                double d = max_rel_diff(grads[1] + t[k].offset, grads[0] + t[k].offset,
                                        t[k].rows * t[k].cols);
                ck_assert_msg(d < 1e-5, "config %zu B=%d: d %s differs by %.3g",
                              i, B, t[k].name, d);
            }
            /* Generation: a frozen table, one row at a time. */
            Activations g = {0};
            ck_assert_int_eq(acts_init(&g, cfg, 1, 0, &err), 0);
            ck_assert_int_eq(acts_freeze(&g, &m, &err), 0);
            ck_assert(g.table && g.frozen);
            for (int r = 0; r < B && r < 5; r++) {
                model_forward(&m, &g, ctx + (size_t)r * T, NULL, 1);
                ck_assert_msg(max_rel_diff(g.logits, logits[0] + (size_t)r * V,
                                           (size_t)V) < 1e-5,
                              "config %zu: frozen row %d differs", i, r);
            }
            acts_free(&g);
            for (int table = 0; table < 2; table++) {
                free(grads[table]);
                free(logits[table]);
            }
            free(ctx);
            free(targets);
            acts_free(&a);
            model_free(&m);
        }
}
END_TEST

/* One batch of test_table_rows: the table route (a, training; e, not
 * training) against the direct one (d) on the same model, and the rows a
 * recorded against the batch: count[t] rows at position t, their
 * characters in increasing order, each batch row's id naming its own
 * character. Zero gradient for the embeddings of `unread`. */
static void check_table_batch(Model *m, Activations *a, Activations *e,
                              Activations *d, const int32_t *ctx,
                              const int32_t *targets, int B, const int *count,
                              const int *unread, int n_unread)
{
    const ModelConfig *cfg = &m->cfg;
    int T = cfg->context, V = cfg->vocab, E = cfg->embed;
    Activations *route[2] = {d, a};
    float *grads[2], *logits[2];
    double loss[2];
    for (int k = 0; k < 2; k++) {
        model_zero_grad(m);
        loss[k] = model_forward(m, route[k], ctx, targets, B);
        model_backward(m, route[k], ctx, targets, B);
        grads[k] = falloc(m->n_params);
        logits[k] = falloc((size_t)B * V);
        memcpy(grads[k], m->grads, m->n_params * sizeof(float));
        memcpy(logits[k], route[k]->logits, (size_t)B * V * sizeof(float));
    }
    const TableRows *ix = &a->table_rows;
    for (int t = 0; t < T; t++) {
        ck_assert_int_eq(ix->count[t], count[t]);
        for (int i = 1; i < ix->count[t]; i++)
            ck_assert_int_lt(ix->chars[t * V + i - 1], ix->chars[t * V + i]);
        for (int r = 0; r < B; r++) {
            int32_t id = ix->ids[r * T + t];
            ck_assert(id >= 0 && id < ix->count[t]);
            ck_assert_int_eq(ix->chars[t * V + id], ctx[r * T + t]);
        }
    }
    ck_assert_msg(fabs(loss[1] - loss[0]) <= 1e-6 * loss[0],
                  "loss %.9g by table rows, %.9g directly", loss[1], loss[0]);
    ck_assert_msg(max_rel_diff(logits[1], logits[0], (size_t)B * V) < 1e-5,
                  "logits differ");
    TensorInfo ti[MODEL_MAX_TENSORS];
    int nt = model_tensors(cfg, ti);
    for (int k = 0; k < nt; k++) {
        double diff = max_rel_diff(grads[1] + ti[k].offset, grads[0] + ti[k].offset,
                                   ti[k].rows * ti[k].cols);
        ck_assert_msg(diff < 1e-5, "d %s differs by %.3g", ti[k].name, diff);
    }
    for (int u = 0; u < n_unread; u++)
        for (int p = 0; p < E; p++)
            ck_assert_msg(grads[1][ti[0].offset + (size_t)unread[u] * E + p] == 0.0f,
                          "d emb[%d] nonzero", unread[u]);
    /* Evaluation (no backward buffers) takes the same route. */
    model_forward(m, e, ctx, targets, B);
    ck_assert_msg(max_rel_diff(e->logits, logits[0], (size_t)B * V) < 1e-5,
                  "logits of the evaluation activations differ");
    for (int k = 0; k < 2; k++) {
        free(grads[k]);
        free(logits[k]);
    }
}

/* Batches that read few table rows: training builds only those
 * (TableRows), and must still give the direct route's loss, logits and
 * gradients up to float rounding, with exactly zero gradient for the
 * embeddings no row looked up; then a second batch, reading other rows,
 * through the same activations (nothing kept from the first); the same
 * bits at 1, 2, 3 and 8 threads; and frozen activations for training are
 * refused. */
START_TEST(test_table_rows)
{
    const ModelConfig cfg = {.context = 4, .embed = 5, .hidden = 211,
                             .layers = 2, .vocab = 11};
    enum { B = 40 };
    const int T = cfg.context, V = cfg.vocab;
    Model m = {0};
    Activations a = {0}, e = {0}, d = {0};
    Error err = {{0}};
    ck_assert_int_eq(model_init(&m, &cfg, &err), 0);
    ck_assert_int_eq(acts_init(&a, &cfg, B, 1, &err), 0);
    ck_assert_int_eq(acts_init(&e, &cfg, B, 0, &err), 0);
    ck_assert_int_eq(acts_init(&d, &cfg, B, 1, &err), 0);
    ck_assert_int_eq(acts_use_table(&a, &cfg, 1, &err), 0);
    ck_assert_int_eq(acts_use_table(&e, &cfg, 1, &err), 0);
    ck_assert_int_eq(acts_use_table(&d, &cfg, 0, &err), 0);
    Rng rng;
    rng_seed(&rng, 4242);
    model_randomize(&m, &rng);
    for (size_t j = 0; j < m.n_params; j++)
        m.params[j] += 0.1f * (float)rng_normal(&rng);
    /* Batch 1, position t: characters 7 - 2k mod 11 for k <= t, each at
     * least once (rows k), then at random: 7, 5, 3 and 1 occur, the other
     * seven never. */
    int32_t ctx[B * 4], targets[B];
    for (int r = 0; r < B; r++) {
        for (int t = 0; t < T; t++) {
            int k = r <= t ? r : (int)rng_below(&rng, (uint64_t)t + 1);
            ctx[r * T + t] = (7 - 2 * k + V) % V;
        }
        targets[r] = (int32_t)rng_below(&rng, (uint64_t)V);
    }
    const int count1[] = {1, 2, 3, 4}, unread1[] = {0, 2, 4, 6, 8, 9, 10};
    check_table_batch(&m, &a, &e, &d, ctx, targets, B, count1, unread1, 7);
    /* d emb[7], read at every position, is not zero. */
    double read = 0.0;
    for (int p = 0; p < cfg.embed; p++)
        read += fabs(m.grads[7 * (size_t)cfg.embed + p]);
    ck_assert_msg(read > 0.0, "d emb[7] is zero");
#ifdef _OPENMP
    /* H 211 is two blocks of hidden units (table.h: 128 and a partial 83),
     * shared out among the threads, some of which have none at 3 and 8
     * (B * H = 8440 puts the model's passes in one parallel region,
     * model.c): the very same bits at 2, 3 and 8 threads as at 1. */
    int saved = omp_get_max_threads();
    const int counts[] = {1, 2, 3, 8};
    float *g1 = falloc(m.n_params);
    double l1 = 0.0;
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        omp_set_num_threads(counts[c]);
        model_zero_grad(&m);
        double l = model_forward(&m, &a, ctx, targets, B);
        model_backward(&m, &a, ctx, targets, B);
        if (c == 0) {
            l1 = l;
            memcpy(g1, m.grads, m.n_params * sizeof *g1);
            continue;
        }
        ck_assert_msg(l == l1, "%d threads: loss differs", counts[c]);
        ck_assert_msg(memcmp(m.grads, g1, m.n_params * sizeof *g1) == 0,
                      "%d threads: gradients differ", counts[c]);
    }
    free(g1);
    omp_set_num_threads(saved);
#endif
    /* Batch 2, through the same activations: two characters at the first
     * position (0 and 10), one at each other (2, 4, 6): 1, 3, 5, 7, 8
     * and 9 never. */
    for (int r = 0; r < B; r++)
        for (int t = 0; t < T; t++)
            ctx[r * T + t] = t == 0 ? (r % 2 ? 10 : 0) : 2 * t;
    const int count2[] = {2, 1, 1, 1}, unread2[] = {1, 3, 5, 7, 8, 9};
    check_table_batch(&m, &a, &e, &d, ctx, targets, B, count2, unread2, 6);
    /* The backward pass needs each batch's rows: no frozen table. */
    ck_assert_int_ne(acts_freeze(&a, &m, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot be frozen"));
    acts_free(&a);
    acts_free(&e);
    acts_free(&d);
    model_free(&m);
}
END_TEST

/* table_forward on tables too big to read at once (table.c sums them a
 * group of positions at a time: 8.4 MB in two groups, 21 MB in three),
 * with and without a bias, into a row-major z and one in blocks: exactly
 * the sum its header defines, b0 and then the positions in increasing
 * order, as a plain loop computes it; and with no positions, b0. */
START_TEST(test_table_forward_groups)
{
    const int shapes[][3] = {{3, 7, 100003}, {7, 5, 150000}}; /* T, V, H */
    enum { N = 16 }; /* more rows than characters: the grouped route */
    Rng rng;
    rng_seed(&rng, 515);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int t = shapes[s][0], v = shapes[s][1], h = shapes[s][2];
        float *table = falloc((size_t)t * v * h), *b0 = falloc((size_t)h);
        float *z = falloc((size_t)N * h), *want = falloc((size_t)N * h);
        int32_t ctx[N * 7]; /* N * T, T at most 7 */
        fill_normal(table, (size_t)t * v * h, 1.0, &rng);
        fill_normal(b0, (size_t)h, 1.0, &rng);
        for (int i = 0; i < N * t; i++)
            ctx[i] = (int32_t)rng_below(&rng, (uint64_t)v);
        for (int k = 0; k < 4; k++) {
            int bias = k & 1, blocked = k >> 1; /* z row-major, or in blocks */
            for (int r = 0; r < N; r++)
                for (int o = 0; o < h; o++) {
                    float sum = bias ? b0[o] : 0.0f;
                    for (int j = 0; j < t; j++)
                        sum += table[table_at(t, v, h, j, ctx[r * t + j], o)];
                    want[blocked ? blocked_at(N, h, r, o) : (size_t)r * h + o] = sum;
                }
            for (size_t i = 0; i < (size_t)N * h; i++)
                z[i] = NAN;
            table_forward(z, blocked, table, bias ? b0 : NULL, ctx, N, t, v, h);
            ck_assert_msg(memcmp(z, want, (size_t)N * h * sizeof *z) == 0,
                          "table_forward T %d V %d H %d bias %d blocked %d: not "
                          "the plain sum", t, v, h, bias, blocked);
        }
        free(table);
        free(b0);
        free(z);
        free(want);
    }
    /* No positions at all: z is b0 (or zeros), in either route. */
    for (int n = 2; n <= 8; n += 6) {
        float b0[4] = {1.5f, -2.0f, 0.25f, 3.0f}, z[8 * 4], table[1] = {0};
        int32_t none[1] = {0};
        for (int i = 0; i < n * 4; i++)
            z[i] = NAN;
        table_forward(z, 0, table, b0, none, n, 0, 3, 4);
        for (int i = 0; i < n * 4; i++)
            ck_assert_msg(z[i] == b0[i % 4], "T 0, %d rows: z[%d] = %g", n, i,
                          (double)z[i]);
    }
}
END_TEST

/* ---- optimizers ---------------------------------------------------------- */

/* Two tensors: a 3-value matrix (decayed) and a 2-value bias (not). */
static const TensorInfo opt_tensors[2] = {
    {.name = "w", .offset = 0, .rows = 1, .cols = 3, .decay = 1},
    {.name = "b", .offset = 3, .rows = 2, .cols = 1, .decay = 0},
};

START_TEST(test_adamw_step)
{
    OptimConfig cfg = {.kind = OPTIM_ADAMW, .lr = 0.1, .weight_decay = 0.1,
                       .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    Optimizer o = {0};
    Error err = {{0}};
    ck_assert_int_eq(optim_init(&o, &cfg, 5, &err), 0);
    ck_assert_int_eq(o.n_moments, 2);
    ck_assert_ptr_nonnull(o.v);
    float p[5] = {1.0f, -2.0f, 0.5f, 3.0f, -1.0f};
    const float g[2][5] = {{0.1f, 0.0f, -0.4f, -0.5f, 2.0f},
                           {0.3f, 0.2f, 0.1f, 0.25f, -1.0f}};
    /* Reference in double, written from the AdamW definition (decoupled
     * decay first, then the bias-corrected Adam step). */
    double rp[5], rm[5] = {0}, rv[5] = {0};
    for (int i = 0; i < 5; i++)
        rp[i] = p[i];
    for (int t = 1; t <= 2; t++) {
        optim_step(&o, p, g[t - 1], opt_tensors, 2, cfg.lr, (uint64_t)t);
        for (int i = 0; i < 5; i++) {
            double gi = g[t - 1][i];
            if (i < 3)
                rp[i] -= cfg.lr * cfg.weight_decay * rp[i];
            rm[i] = 0.9 * rm[i] + 0.1 * gi;
            rv[i] = 0.999 * rv[i] + 0.001 * gi * gi;
            double mhat = rm[i] / (1.0 - pow(0.9, t));
            double vhat = rv[i] / (1.0 - pow(0.999, t));
            rp[i] -= cfg.lr * mhat / (sqrt(vhat) + cfg.eps);
            ck_assert_msg(fabs(p[i] - rp[i]) < 2e-6, "step %d p[%d] = %.9g, expected %.9g",
                          t, i, (double)p[i], rp[i]);
            /* The moments are kept in float with float betas: (1 - 0.999f)
             * is 0.99998713e-3, so v carries a relative error of 1.3e-5. */
            ck_assert_double_eq_tol(o.m[i], rm[i], 1e-7);
            ck_assert_double_eq_tol(o.v[i], rv[i], 2e-5 * rv[i] + 1e-12);
        }
        if (t == 1) {
            /* By hand: at t = 1 the corrected moments are g and g^2, so the
             * step is lr * g / (|g| + eps) ~ lr * sign(g).
             *   p0 = 1.0 * (1 - 0.01) - 0.1 * 0.1/(0.1 + 1e-8) = 0.89000001
             *   p1 = -2.0 * 0.99 (zero gradient: decay only)    = -1.98
             *   p3 = 3.0 + 0.1 (bias: no decay)                 = 3.1 */
            ck_assert_double_eq_tol(p[0], 0.89000001, 1e-6);
            ck_assert_double_eq_tol(p[1], -1.98, 1e-6);
            ck_assert_double_eq_tol(p[3], 3.1, 1e-6);
            ck_assert_double_eq_tol(o.m[0], 0.01, 1e-8);
            ck_assert_double_eq_tol(o.v[0], 1e-5, 1e-9);
        }
    }
    /* Step 2, p0 (g = 0.3): m = 0.009 + 0.03 = 0.039, v = 9.99e-6 + 9e-5 =
     * 9.999e-5, mhat = 0.039 / 0.19, vhat = 9.999e-5 / 0.001999, p0 =
     * 0.89000001 * 0.99 - 0.1 * mhat / (sqrt(vhat) + 1e-8) = 0.7893219
     * (evaluated once in Python). */
    ck_assert_double_eq_tol(p[0], 0.7893219, 2e-6);
    ck_assert_double_eq_tol(p[3], 3.1266337, 2e-6);
    optim_free(&o);
}
END_TEST

START_TEST(test_sgd_momentum_step)
{
    OptimConfig cfg = {.kind = OPTIM_SGD, .lr = 0.1, .weight_decay = 0.01,
                       .momentum = 0.9};
    Optimizer o = {0};
    Error err = {{0}};
    ck_assert_int_eq(optim_init(&o, &cfg, 5, &err), 0);
    ck_assert_int_eq(o.n_moments, 1);
    ck_assert_ptr_null(o.v);
    float p[5] = {1.0f, 0.0f, 0.0f, 2.0f, 0.0f};
    const float g1[5] = {0.5f, 0, 0, 0.5f, 0}, g2[5] = {-0.25f, 0, 0, -0.25f, 0};
    optim_step(&o, p, g1, opt_tensors, 2, cfg.lr, 1);
    /* By hand, decayed p0 = 1: g = 0.5 + 0.01 * 1 = 0.51, m = 0.51,
     * p = 1 - 0.051 = 0.949.  Bias p3 = 2: m = 0.5, p = 1.95. */
    ck_assert_double_eq_tol(p[0], 0.949, 1e-6);
    ck_assert_double_eq_tol(o.m[0], 0.51, 1e-6);
    ck_assert_double_eq_tol(p[3], 1.95, 1e-6);
    optim_step(&o, p, g2, opt_tensors, 2, cfg.lr, 2);
    /* Step 2: g = -0.25 + 0.01 * 0.949 = -0.24051, m = 0.9 * 0.51 - 0.24051
     * = 0.21849, p = 0.949 - 0.021849 = 0.927151.  Bias: m = 0.45 - 0.25 =
     * 0.2, p = 1.95 - 0.02 = 1.93. Without momentum p0 would be 0.973051. */
    ck_assert_double_eq_tol(o.m[0], 0.21849, 1e-6);
    ck_assert_double_eq_tol(p[0], 0.927151, 1e-6);
    ck_assert_double_eq_tol(o.m[3], 0.2, 1e-6);
    ck_assert_double_eq_tol(p[3], 1.93, 1e-6);
    /* Zero gradient and zero parameter: nothing moves. */
    ck_assert(p[1] == 0.0f && p[4] == 0.0f);
    optim_free(&o);
}
END_TEST

START_TEST(test_lr_schedule)
{
    OptimConfig c = {.lr = 0.01, .min_lr = 0.001, .warmup = 10};
    /* Warmup: lr * (step + 1) / warmup. */
    ck_assert_double_eq_tol(optim_lr(&c, 0, 0.0), 0.001, 1e-15);
    ck_assert_double_eq_tol(optim_lr(&c, 4, 0.0), 0.005, 1e-15);
    ck_assert_double_eq_tol(optim_lr(&c, 9, 0.0), 0.01, 1e-15);
    /* Cosine: min + (lr - min) (1 + cos(pi p)) / 2. At p = 1/4:
     * 0.001 + 0.009 (1 + sqrt(2)/2) / 2 = 0.0086819805. */
    ck_assert_double_eq_tol(optim_lr(&c, 10, 0.0), 0.01, 1e-15);
    ck_assert_double_eq_tol(optim_lr(&c, 50, 0.25), 0.0086819805, 1e-10);
    ck_assert_double_eq_tol(optim_lr(&c, 50, 0.5), 0.0055, 1e-15);
    ck_assert_double_eq_tol(optim_lr(&c, 99, 1.0), 0.001, 1e-15);
    /* Progress outside [0, 1] is clamped. */
    ck_assert_double_eq_tol(optim_lr(&c, 99, 1.5), 0.001, 1e-15);
    ck_assert_double_eq_tol(optim_lr(&c, 10, -0.5), 0.01, 1e-15);
    /* No warmup: step 0 is already the peak. */
    c.warmup = 0;
    ck_assert_double_eq_tol(optim_lr(&c, 0, 0.0), 0.01, 1e-15);
}
END_TEST

START_TEST(test_grad_norm_and_clip)
{
    float g[3] = {3.0f, 4.0f, 12.0f};
    ck_assert_double_eq_tol(optim_grad_norm(g, 3), 13.0, 1e-12);
    ck_assert_double_eq(optim_grad_norm(g, 0), 0.0);
    /* Longer vectors (37: one block of 32 and a tail; 101: three blocks and
     * a tail) against a plain double loop. */
    float long_g[101];
    double ref = 0.0, ref37 = 0.0;
    for (int i = 0; i < 101; i++) {
        long_g[i] = (float)((i % 7) - 3) * 0.37f + (float)i * 1e-3f;
        ref += (double)long_g[i] * long_g[i];
        if (i == 36)
            ref37 = ref;
    }
    ck_assert_double_eq_tol(optim_grad_norm(long_g, 37), sqrt(ref37),
                            1e-12 * sqrt(ref37));
    ck_assert_double_eq_tol(optim_grad_norm(long_g, 101), sqrt(ref), 1e-12 * sqrt(ref));
    /* Long enough for the parallel sum and for more than the 1024 blocks
     * of 2^12 floats the norm sums in at most (optim.c), so that its
     * blocks grow, with a partial last block: against a plain double loop,
     * and bit-identical for any thread count. */
    size_t nbig = ((size_t)1 << 22) + 4099;
    float *big = malloc(nbig * sizeof *big);
    ck_assert_ptr_nonnull(big);
    double refbig = 0.0;
    for (size_t i = 0; i < nbig; i++) {
        big[i] = (float)((int)(i % 13) - 6) * 0.11f + (float)(i % 1000) * 1e-4f;
        refbig += (double)big[i] * big[i];
    }
    double nb1 = optim_grad_norm(big, nbig);
    ck_assert_double_eq_tol(nb1, sqrt(refbig), 1e-12 * sqrt(refbig));
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    const int counts[] = {2, 3, 8};
    for (size_t t = 0; t < sizeof counts / sizeof *counts; t++) {
        omp_set_num_threads(counts[t]);
        ck_assert_msg(optim_grad_norm(big, nbig) == nb1, "norm differs at %d threads",
                      counts[t]);
    }
    omp_set_num_threads(saved);
#endif
    free(big);

    float h[3] = {3.0f, -4.0f, 0.0f};
    double norm = optim_grad_norm(h, 3); /* 5 */
    optim_clip(h, 3, norm, 1.0);
    /* Scaled by clip / (norm + 1e-6) = 1 / 5.000001. */
    ck_assert_double_eq_tol(h[0], 3.0 / 5.000001, 1e-7);
    ck_assert_double_eq_tol(h[1], -4.0 / 5.000001, 1e-7);
    ck_assert(h[2] == 0.0f);
    ck_assert(h[0] < 0.6f);

    /* Below the limit, at the limit, or clip = 0: unchanged. */
    float k[2] = {0.3f, 0.4f};
    optim_clip(k, 2, optim_grad_norm(k, 2), 1.0);
    ck_assert(k[0] == 0.3f && k[1] == 0.4f);
    float e[2] = {3.0f, 4.0f};
    optim_clip(e, 2, 5.0, 5.0);
    ck_assert(e[0] == 3.0f && e[1] == 4.0f);
    optim_clip(e, 2, 5.0, 0.0);
    ck_assert(e[0] == 3.0f && e[1] == 4.0f);

    /* The scale alone: clip / (norm + 1e-6) above the limit, else 1. */
    ck_assert(optim_clip_scale(5.0, 1.0) == (float)(1.0 / 5.000001));
    ck_assert(optim_clip_scale(0.5, 1.0) == 1.0f);
    ck_assert(optim_clip_scale(5.0, 5.0) == 1.0f);
    ck_assert(optim_clip_scale(5.0, 0.0) == 1.0f);
    ck_assert(optim_clip_scale(NAN, 1.0) == 1.0f);
}
END_TEST

/* optim_step_scaled(scale) must give the very bits of optim_clip (scaling
 * the gradients in place) followed by optim_step, for both optimizers, over
 * enough values (77, three tensors) that the vector loops and their tails
 * run, and with scale 1 the bits of optim_step. */
START_TEST(test_step_scaled_is_clip_then_step)
{
    static const TensorInfo tens[3] = {
        {.name = "w", .offset = 0, .rows = 5, .cols = 11, .decay = 1},
        {.name = "b", .offset = 55, .rows = 5, .cols = 1, .decay = 0},
        {.name = "u", .offset = 60, .rows = 17, .cols = 1, .decay = 1},
    };
    enum { N = 77 };
    for (int kind = 0; kind < 2; kind++) {
        OptimConfig cfg = {.kind = kind == 0 ? OPTIM_ADAMW : OPTIM_SGD,
                           .lr = 0.05, .weight_decay = 0.1, .beta1 = 0.9,
                           .beta2 = 0.999, .eps = 1e-8, .momentum = 0.9};
        Optimizer o1 = {0}, o2 = {0};
        Error err = {{0}};
        ck_assert_int_eq(optim_init(&o1, &cfg, N, &err), 0);
        ck_assert_int_eq(optim_init(&o2, &cfg, N, &err), 0);
        float p1[N], p2[N], g[N], gc[N];
        for (int i = 0; i < N; i++)
            p1[i] = p2[i] = (float)((i * 37) % 19 - 9) * 0.11f;
        for (int t = 1; t <= 4; t++) {
            for (int i = 0; i < N; i++)
                g[i] = gc[i] = (float)((i * 13 + t * 7) % 23 - 11) * 0.3f;
            double norm = optim_grad_norm(g, N);
            /* Steps 1 and 2 clip (norm about 16 > 1), steps 3 and 4 not. */
            double clip = t <= 2 ? 1.0 : 100.0;
            float scale = optim_clip_scale(norm, clip);
            ck_assert(t <= 2 ? scale < 0.1f : scale == 1.0f);
            optim_clip(gc, N, norm, clip);
            optim_step(&o1, p1, gc, tens, 3, cfg.lr, (uint64_t)t);
            optim_step_scaled(&o2, p2, g, scale, tens, 3, cfg.lr, (uint64_t)t);
            ck_assert(memcmp(p1, p2, sizeof p1) == 0);
            ck_assert(memcmp(o1.m, o2.m, N * sizeof(float)) == 0);
            if (kind == 0)
                ck_assert(memcmp(o1.v, o2.v, N * sizeof(float)) == 0);
        }
        optim_free(&o1);
        optim_free(&o2);
    }
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("layers");
    tcase_add_test(tc, test_embedding);
    tcase_add_test(tc, test_matmul_reference);
    tcase_add_test(tc, test_matmul_store);
#ifdef _OPENMP
    tcase_add_test(tc, test_matmul_thread_determinism);
#endif
    tcase_add_test(tc, test_linear_gradients);
    tcase_add_test(tc, test_linear_reference);
    tcase_add_test(tc, test_tanh);
    tcase_add_test(tc, test_softmax_cross_entropy);
    tcase_add_test(tc, test_softmax_extreme_logits);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_model_gradients_l1);
    tcase_add_test(tc, test_model_gradients_l2);
    tcase_add_test(tc, test_model_forward_reference);
    tcase_add_test(tc, test_step0_loss);
    tcase_add_test(tc, test_model_layout);
    tcase_add_test(tc, test_table_route);
    tcase_add_test(tc, test_table_rows);
    tcase_add_test(tc, test_table_forward_groups);
#ifdef _OPENMP
    tcase_add_test(tc, test_thread_count_determinism);
    tcase_add_test(tc, test_small_batch_thread_determinism);
    tcase_add_test(tc, test_zero_grad_threads);
#endif
    suite_add_tcase(s, tc);
    tc = tcase_create("optim");
    tcase_add_test(tc, test_adamw_step);
    tcase_add_test(tc, test_sgd_momentum_step);
    tcase_add_test(tc, test_lr_schedule);
    tcase_add_test(tc, test_grad_norm_and_clip);
    tcase_add_test(tc, test_step_scaled_is_clip_then_step);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
#ifdef _OPENMP
    /* The finite-difference checks run thousands of tiny forward passes; on
     * a busy machine, OpenMP's spinning threads make each parallel region
     * cost a scheduler slice. One thread keeps the suite fast. Results do
     * not depend on the count: test_thread_count_determinism runs 1, 2, 3
     * and 8 threads and requires bit-identical outputs. OMP_NUM_THREADS, if
     * set, still wins. */
    if (!getenv("OMP_NUM_THREADS"))
        omp_set_num_threads(1);
#endif
    SRunner *sr = srunner_create(model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
