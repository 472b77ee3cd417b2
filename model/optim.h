/* optim.h - the learning-rate schedule, gradient clipping and the two
 * optimizers (AdamW and SGD with momentum) that turn gradients into a step.
 * Works on the model's flat parameter array and its tensor list. */
#ifndef TINYCHAR_OPTIM_H
#define TINYCHAR_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "model.h"

typedef enum { OPTIM_ADAMW = 0, OPTIM_SGD = 1 } OptimKind;

typedef struct {
    OptimKind kind;
    double lr;            /* peak learning rate */
    double min_lr;        /* learning rate at the end of the cosine decay */
    uint64_t warmup;      /* steps of linear warmup */
    double weight_decay;  /* applied to weight matrices only */
    double clip;          /* global gradient-norm limit, 0 = off */
    double beta1, beta2, eps;   /* AdamW */
    double momentum;            /* SGD */
} OptimConfig;

typedef struct {
    OptimConfig cfg;
    size_t n;
    int n_moments;  /* 2 for AdamW (m, v), 1 for SGD (momentum buffer) */
    float *m;       /* (n) AdamW first moment; SGD momentum buffer */
    float *v;       /* (n) AdamW second moment; NULL for SGD */
    void *block;    /* the allocation holding m and v */
} Optimizer;

int optim_init(Optimizer *o, const OptimConfig *cfg, size_t n_params, Error *err);
void optim_free(Optimizer *o);

/* Learning rate for step `step` (0-based) at training progress p in [0, 1]:
 *   step < warmup:  lr * (step + 1) / warmup
 *   otherwise:      min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2
 * where the caller measures p over the decay phase (steps or seconds). */
double optim_lr(const OptimConfig *cfg, uint64_t step, double progress);

/* Training progress p for optim_lr: over the steps after warmup when the run
 * has steps_total steps, else the fraction of the time budget used. */
double optim_progress(const OptimConfig *cfg, uint64_t step,
                      uint64_t steps_total, double elapsed, double time_budget);

/* Global L2 norm of the gradient, computed in double in a fixed order. */
double optim_grad_norm(const float *grads, size_t n);

/* The factor gradient clipping scales every gradient by: clip / (norm + 1e-6)
 * if clip > 0 and the norm exceeds it, as torch.nn.utils.clip_grad_norm_
 * does, else exactly 1. */
float optim_clip_scale(double norm, double clip);

/* Scales every gradient by optim_clip_scale(norm, clip), in place: a pass of
 * its own over the gradients, which optim_step_scaled saves. */
void optim_clip(float *grads, size_t n, double norm, double clip);

/* One update of every parameter. `t` is the 1-based step number (for Adam's
 * bias correction); tensors says which ranges are matrices (weight decay).
 *   AdamW (decoupled decay, as torch.optim.AdamW):
 *     p -= lr * wd * p                      (matrices only)
 *     m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
 *     p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *   SGD with momentum (L2 decay, as torch.optim.SGD):
 *     g += wd * p                           (matrices only)
 *     m = mu m + g;   p -= lr * m */
void optim_step(Optimizer *o, float *params, const float *grads,
                const TensorInfo *tensors, int n_tensors, double lr, uint64_t t);

/* optim_step with every gradient g read as g * grad_scale (one float
 * multiplication, rounded as optim_clip rounds it), so clipping costs no
 * pass of its own and the step has the very same bits as optim_clip then
 * optim_step:
 *   optim_step_scaled(o, p, g, optim_clip_scale(norm, clip), ...)   */
void optim_step_scaled(Optimizer *o, float *params, const float *grads,
                       float grad_scale, const TensorInfo *tensors,
                       int n_tensors, double lr, uint64_t t);

/* The learning-rate finder (Smith 2015, "cyclical learning rates"; fastai's
 * lr_find): train a fresh model for n steps while the learning rate grows
 * exponentially from start to end, and watch the loss.
 *   lr(i) = start * (end / start)^(i / (n - 1))        i = 0 .. n-1      */
double optim_lr_range(double start, double end, uint64_t i, uint64_t n);

/* Exponential moving average of the batch losses with bias correction, so
 * the first values are not pulled towards 0:
 *   avg = beta avg + (1 - beta) loss;   smoothed = avg / (1 - beta^(i+1))
 * *avg starts at 0; i is the 0-based step. Returns the smoothed loss. */
double optim_lr_smooth(double *avg, double beta, double loss, uint64_t i);

/* The suggested learning rate from n (lr, smoothed loss) pairs: the rate at
 * the lowest smoothed loss, divided by 10 (the loss is still falling fast
 * there, well before it turns and blows up). 0 when n = 0. */
double optim_lr_suggest(const double *lr, const double *smoothed, size_t n);

#endif
