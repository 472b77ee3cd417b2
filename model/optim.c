/* optim.c - AdamW, SGD with momentum, warmup + cosine schedule, clipping.
 * Each parameter is updated independently, so the loops split across threads
 * without changing any result. */
#include "optim.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/parallel.h"

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

int optim_init(Optimizer *o, const OptimConfig *cfg, size_t n_params, Error *err)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = n_params;
    o->n_moments = cfg->kind == OPTIM_ADAMW ? 2 : 1;
    /* m and v 2 and 3 KiB past a page boundary, the model's parameters and
     * gradients being at 0 and 1 (model.c): the update reads all four at
     * the same index, and mem.h says why they must not share an offset. */
    float *arrays[2] = {NULL, NULL};
    o->block = mem_float_arrays(arrays, o->n_moments, n_params, 2,
                                "optimizer state", err);
    if (!o->block)
        return -1;
    o->m = arrays[0];
    o->v = arrays[1];
    return 0;
}

void optim_free(Optimizer *o)
{
    free(o->block);
    memset(o, 0, sizeof *o);
}

double optim_lr(const OptimConfig *c, uint64_t step, double progress)
{
    if (step < c->warmup)
        return c->lr * (double)(step + 1) / (double)c->warmup;
    if (progress < 0.0)
        progress = 0.0;
    if (progress > 1.0)
        progress = 1.0;
    return c->min_lr + (c->lr - c->min_lr) * 0.5 * (1.0 + cos(M_PI * progress));
}

double optim_progress(const OptimConfig *cfg, uint64_t step,
                      uint64_t steps_total, double elapsed, double time_budget)
{
    if (!steps_total)
        return time_budget > 0 ? elapsed / time_budget : 1.0;
    uint64_t w = cfg->warmup;
    if (step <= w || steps_total <= w)
        return 0.0;
    return (double)(step - w) / (double)(steps_total - w);
}

/* Partial sums of a block's sum of squares: 32 doubles are eight
 * independent chains of 4-wide vector adds, so the loop runs at the speed of
 * the loads rather than waiting out each add's latency (one chain of 8 took
 * 3 times as long). */
#define NORM_LANES 32
/* The norm is summed in blocks of NORM_BLOCK floats or more (at most
 * NORM_MAX_BLOCKS of them): each block on one thread, the block sums added
 * in block order, so the norm is the same for any number of threads.
 * Blocks of 4K floats (16 KB) give a model of MODEL_PARAMS_PARALLEL_MIN
 * parameters (model.h) 8 of them, enough to share out; 1K-float blocks
 * took longer on the names model (4.0 us a step against 3.5). */
#define NORM_BLOCK (1L << 12)
#define NORM_MAX_BLOCKS 1024
/* Below this many gradients the norm runs on the calling thread. From it,
 * as for clearing and the update, every thread sums a contiguous run of
 * blocks: close to the ranges it clears and updates, whose gradients its
 * core then has in cache. With the norm on one thread, that thread read
 * every gradient the other core wrote, and the other thread's clearing
 * then waited for those cache lines to be taken back: the bench's M config
 * at 2 threads (medians of 3000 steps, three pairs of runs) took 4.9 us a
 * step for the norm and 7.8 for clearing, and takes 3.5 and 5.9. */
#define NORM_PARALLEL_MIN MODEL_PARAMS_PARALLEL_MIN

/* Four doubles; f4_to_d4(p): the four floats at p (any alignment) as
 * doubles, exactly. GCC tuned for Zen 1 splits its own conversion of a
 * vector into halves that pass through the stack; the AVX instruction
 * converts four at once. */
typedef double d4 __attribute__((vector_size(4 * sizeof(double))));
#ifdef __AVX__
#define f4_to_d4(p) ((d4)_mm256_cvtps_pd(_mm_loadu_ps(p)))
#else
typedef float f4 __attribute__((vector_size(4 * sizeof(float)), aligned(4)));
#define f4_to_d4(p) __builtin_convertvector(*(const f4 *)(p), d4)
#endif

/* Sum of g[i]^2 over i < n, in double. */
static double sum_squares(const float *g, size_t n)
{
    /* acc[k] sums g[i]^2 over i = k mod 32 in increasing i, in double; the
     * tail goes to acc[0]; then the halves are added pairwise, a fixed tree.
     * Eight named vectors of four lanes (lanes 0-3, 4-7, ...), so that GCC
     * keeps each in a register: with arrays of doubles it kept them on the
     * stack, and at -march=znver1 did not unroll their loops (the names
     * model's norm on one thread of a Zen 1: 20 -> 17.8 us). */
    static_assert(NORM_LANES == 32, "eight vectors of four lanes");
    d4 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    size_t i = 0;
    for (; i + NORM_LANES <= n; i += NORM_LANES) {
        const float *x = g + i;
#define LANES(acc, at)                                                 \
        do {                                                           \
            d4 d = f4_to_d4(x + (at));                                 \
            acc += d * d;                                              \
        } while (0)
        LANES(a0, 0); LANES(a1, 4); LANES(a2, 8); LANES(a3, 12);
        LANES(a4, 16); LANES(a5, 20); LANES(a6, 24); LANES(a7, 28);
#undef LANES
    }
    double acc[NORM_LANES];
    const d4 *vs[8] = {&a0, &a1, &a2, &a3, &a4, &a5, &a6, &a7};
    for (int v = 0; v < 8; v++)
        for (int k = 0; k < 4; k++)
            acc[4 * v + k] = (*vs[v])[k];
    for (; i < n; i++)
        acc[0] += (double)g[i] * g[i];
    for (int w = NORM_LANES / 2; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
            acc[k] += acc[k + w];
    return acc[0];
}

/* part[b] = the sum of squares of block b of g, each block on one thread. */
static void block_sums(double *part, const float *g, size_t n, size_t block,
                       long blocks)
{
#pragma omp for schedule(static) nowait
    for (long b = 0; b < blocks; b++) {
        size_t from = (size_t)b * block;
        part[b] = sum_squares(g + from, n - from < block ? n - from : block);
    }
}

double optim_grad_norm(const float *grads, size_t n)
{
    /* The block length depends on n alone: NORM_BLOCK, or longer (a
     * multiple of 32) when n would need more than NORM_MAX_BLOCKS. */
    size_t block = NORM_BLOCK;
    if (n > block * NORM_MAX_BLOCKS)
        block = ((n + NORM_MAX_BLOCKS - 1) / NORM_MAX_BLOCKS + 31) / 32 * 32;
    long blocks = (long)((n + block - 1) / block);
    /* The block sums live on this thread's stack, so this is not a pass
     * for the threads of a caller's region to share (parallel.h). */
    assert(!in_parallel());
    double part[NORM_MAX_BLOCKS];
    PARALLEL_CALL(parallel_worth((long)n, NORM_PARALLEL_MIN),
                  block_sums(part, grads, n, block, blocks));
    double sum = 0.0;
    for (long b = 0; b < blocks; b++)
        sum += part[b];
    return sqrt(sum);
}

float optim_clip_scale(double norm, double clip)
{
    if (clip <= 0.0 || !(norm > clip))
        return 1.0f;
    return (float)(clip / (norm + 1e-6));
}

void optim_clip(float *grads, size_t n, double norm, double clip)
{
    float scale = optim_clip_scale(norm, clip);
    if (scale == 1.0f)
        return;
    for (size_t i = 0; i < n; i++)
        grads[i] *= scale;
}

/* The constants of one AdamW step (adamw_range). */
typedef struct {
    float scale, shrink, b1, b2, one_b1, one_b2, inv_sqrt_bc2, eps, step_size;
} AdamStep;

#ifdef __AVX512F__
/* adamw_range's update of n parameters, 16 at a time (the last ones
 * masked). The square root and the division, which on Intel cores share
 * one execution port and were most of the update's time, are replaced by
 * the approximate reciprocal square root and reciprocal (relative error
 * 2^-14), each refined by one Newton step to about 1e-7, an ulp or two of
 * the exact ones; every parameter goes the same way, whatever the thread
 * count. The names model's update (57K parameters, AdamW alone) took
 * 23 us on one thread of an Intel Xeon and takes 19.5; in the bench's M
 * step at 2 threads, 20.5 -> 17.7 us (three alternating runs). Without
 * AVX-512 the loop below it is the same computation, exactly rounded. */
static void adamw_vectors(float *p, float *m, float *v, const float *g, size_t n,
                          const AdamStep *k)
{
    const __m512 scale = _mm512_set1_ps(k->scale), shrink = _mm512_set1_ps(k->shrink);
    const __m512 b1 = _mm512_set1_ps(k->b1), b2 = _mm512_set1_ps(k->b2);
    const __m512 one_b1 = _mm512_set1_ps(k->one_b1), one_b2 = _mm512_set1_ps(k->one_b2);
    const __m512 inv_sqrt_bc2 = _mm512_set1_ps(k->inv_sqrt_bc2);
    const __m512 eps = _mm512_set1_ps(k->eps), step_size = _mm512_set1_ps(k->step_size);
    const __m512 half = _mm512_set1_ps(0.5f), three = _mm512_set1_ps(3.0f);
    const __m512 two = _mm512_set1_ps(2.0f), zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 live = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 gs = _mm512_mul_ps(_mm512_maskz_loadu_ps(live, g + i), scale);
        __m512 pi = _mm512_mul_ps(_mm512_maskz_loadu_ps(live, p + i), shrink);
        __m512 mi = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(live, m + i),
                                    _mm512_mul_ps(one_b1, gs));
        __m512 vi = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(live, v + i),
                                    _mm512_mul_ps(_mm512_mul_ps(one_b2, gs), gs));
        /* sqrt(v) = v / sqrt(v): y ~ 1/sqrt(v), then y (3 - v y^2) / 2;
         * where v is 0, sqrt(v) is 0 (y would be infinite). */
        __m512 y = _mm512_rsqrt14_ps(vi);
        __m512 vy = _mm512_mul_ps(vi, y);
        y = _mm512_mul_ps(_mm512_mul_ps(half, y), _mm512_fnmadd_ps(vy, y, three));
        __m512 root = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(vi, zero, _CMP_GT_OQ),
                                          vi, y);
        __m512 denom = _mm512_fmadd_ps(root, inv_sqrt_bc2, eps);
        /* 1 / denom: r ~ 1/d, then r (2 - d r). */
        __m512 r = _mm512_rcp14_ps(denom);
        r = _mm512_mul_ps(r, _mm512_fnmadd_ps(denom, r, two));
        pi = _mm512_fnmadd_ps(_mm512_mul_ps(step_size, mi), r, pi);
        _mm512_mask_storeu_ps(p + i, live, pi);
        _mm512_mask_storeu_ps(m + i, live, mi);
        _mm512_mask_storeu_ps(v + i, live, vi);
    }
}
#endif

static void adamw_range(const Optimizer *o, float *p, const float *g,
                        float scale, size_t start, size_t count, int decay,
                        double lr, uint64_t t)
{
    const OptimConfig *c = &o->cfg;
    /* Bias correction: m and v start at 0, so early averages are too small
     * by the factors (1 - b^t); dividing them out removes that bias. */
    double bc1 = 1.0 - pow(c->beta1, (double)t);
    double bc2 = 1.0 - pow(c->beta2, (double)t);
    AdamStep k = {
        .scale = scale,
        .shrink = decay ? (float)(1.0 - lr * c->weight_decay) : 1.0f,
        .b1 = (float)c->beta1,
        .b2 = (float)c->beta2,
        /* 1 - beta in double first: (1 - 0.999f) would be off by 1e-5
         * relative. */
        .one_b1 = (float)(1.0 - c->beta1),
        .one_b2 = (float)(1.0 - c->beta2),
        .inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2)),
        .eps = (float)c->eps,
        .step_size = (float)(lr / bc1),
    };
    float *restrict m = o->m + start, *restrict v = o->v + start;
    float *restrict pp = p + start;
    const float *restrict gg = g + start;
    /* Called by every thread of optim_step's parallel region (or by the
     * caller alone, parallel.h): each thread owns a contiguous range of
     * this tensor's parameters, the range whose gradients it cleared
     * (model_zero_grad); no barrier at the end, since the tensors are
     * disjoint. */
    long lo, hi;
    thread_range((long)count, 16, &lo, &hi);
#ifdef __AVX512F__
    if (hi > lo)
        adamw_vectors(pp + lo, m + lo, v + lo, gg + lo, (size_t)(hi - lo), &k);
#else
    for (size_t i = (size_t)lo; i < (size_t)hi; i++) {
        /* The clipped gradient, rounded to float as optim_clip stores it. */
        float gs = gg[i] * k.scale;
        pp[i] *= k.shrink;
        m[i] = k.b1 * m[i] + k.one_b1 * gs;
        v[i] = k.b2 * v[i] + k.one_b2 * gs * gs;
        float denom = sqrtf(v[i]) * k.inv_sqrt_bc2 + k.eps;
        pp[i] -= k.step_size * m[i] / denom;
    }
#endif
}

static void sgd_range(const Optimizer *o, float *p, const float *g, float scale,
                      size_t start, size_t count, int decay, double lr)
{
    const OptimConfig *c = &o->cfg;
    float mu = (float)c->momentum, flr = (float)lr;
    float wd = decay ? (float)c->weight_decay : 0.0f;
    float *restrict m = o->m + start, *restrict pp = p + start;
    const float *restrict gg = g + start;
    /* As in adamw_range: each thread owns a contiguous range. */
    long lo, hi;
    thread_range((long)count, 16, &lo, &hi);
    for (size_t i = (size_t)lo; i < (size_t)hi; i++) {
        /* wd * p first: with -ffp-contract the compiler fuses that product
         * with the add (one rounding), as it did before clipping moved in
         * here, and gs stays the clipped gradient rounded to float. */
        float decay_term = wd * pp[i];
        float gs = gg[i] * scale;
        float grad = gs + decay_term;
        m[i] = mu * m[i] + grad;
        pp[i] -= flr * m[i];
    }
}

static void update_tensors(Optimizer *o, float *params, const float *grads,
                           float grad_scale, const TensorInfo *tensors,
                           int n_tensors, double lr, uint64_t t)
{
    for (int k = 0; k < n_tensors; k++) {
        size_t count = tensors[k].rows * tensors[k].cols;
        if (o->cfg.kind == OPTIM_ADAMW)
            adamw_range(o, params, grads, grad_scale, tensors[k].offset, count,
                        tensors[k].decay, lr, t);
        else
            sgd_range(o, params, grads, grad_scale, tensors[k].offset, count,
                      tensors[k].decay, lr);
    }
}

void optim_step_scaled(Optimizer *o, float *params, const float *grads,
                       float grad_scale, const TensorInfo *tensors,
                       int n_tensors, double lr, uint64_t t)
{
    /* One parallel region for every tensor (not one per tensor), from
     * MODEL_PARAMS_PARALLEL_MIN parameters (model.h): the names model of
     * the bench's M config (57K parameters) is above it, 300 steps at 2
     * threads, 30 runs, median 88 -> 85 ms. */
    PARALLEL_CALL(parallel_worth((long)o->n, MODEL_PARAMS_PARALLEL_MIN),
                  update_tensors(o, params, grads, grad_scale, tensors, n_tensors,
                                 lr, t));
}

void optim_step(Optimizer *o, float *params, const float *grads,
                const TensorInfo *tensors, int n_tensors, double lr, uint64_t t)
{
    /* g * 1.0f is g exactly. */
    optim_step_scaled(o, params, grads, 1.0f, tensors, n_tensors, lr, t);
}

double optim_lr_range(double start, double end, uint64_t i, uint64_t n)
{
    if (n < 2)
        return start;
    return start * pow(end / start, (double)i / (double)(n - 1));
}

double optim_lr_smooth(double *avg, double beta, double loss, uint64_t i)
{
    *avg = beta * *avg + (1 - beta) * loss;
    return *avg / (1 - pow(beta, (double)(i + 1)));
}

double optim_lr_suggest(const double *lr, const double *smoothed, size_t n)
{
    if (n == 0)
        return 0;
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (smoothed[i] < smoothed[best])
            best = i;
    return lr[best] / 10;
}
