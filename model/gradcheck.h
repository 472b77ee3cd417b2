/* gradcheck.h - the finite-difference gradient check of a whole model,
 * tensor by tensor: backpropagation made visible, and a self-test anyone can
 * run (`tinychar gradcheck`). Backprop's gradient of the mean loss (analytic)
 * is compared with central differences of the loss itself (numeric):
 *   numeric = (loss(p + h) - loss(p - h)) / (2h)
 * for each parameter p, nudged in place and put back. Never prints; the
 * program prints the table. Not a speed tool: two forward passes per
 * parameter checked. */
#ifndef TINYCHAR_GRADCHECK_H
#define TINYCHAR_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "model.h"

/* The step h. The model computes in float; see gradcheck.c for why 1e-2. */
#define GRADCHECK_EPS 1e-2
/* Relative error |a - n| / max(|a|, |n|, GRADCHECK_FLOOR): the floor keeps
 * float rounding in a near-zero gradient from looking like a large error. */
#define GRADCHECK_FLOOR 1e-2
/* A tensor passes when its largest relative error is at most this, and its
 * gradient is not all zero (largest |analytic| above GRADCHECK_MIN_GRAD).
 * The worst error seen over seeds 1-5 and sizes up to T 16, E 24, H 256,
 * L 4, V 100 is 3.6e-3, so the tolerance leaves a margin near 3, while a
 * wrong formula gives errors near 1. */
#define GRADCHECK_TOL 1e-2
#define GRADCHECK_MIN_GRAD 1e-7
/* Rows of the random batch the loss is measured on. */
#define GRADCHECK_BATCH 8
/* Entries checked per tensor: all of a small one, a seeded sample of this
 * many from a larger one. */
#define GRADCHECK_MAX_ENTRIES 300

/* The verdict on one parameter tensor. */
typedef struct {
    char name[24];
    size_t rows, cols;
    size_t checked;        /* entries compared */
    double max_rel_err;    /* largest relative error over them */
    double max_abs_err;    /* largest |analytic - numeric| */
    double max_grad;       /* largest |analytic| */
    int pass;
} GradcheckRow;

/* A small random model, a random batch, and backprop's gradient for it. */
typedef struct {
    Model model;
    Activations acts;
    int32_t *ctx;          /* (B, T) */
    int32_t *targets;      /* (B) */
    float *analytic;       /* (n_params) d mean loss / d params from backprop */
    double loss;           /* the mean loss at the unperturbed parameters */
    Rng rng;               /* picks the sampled entries */
} GradcheckCase;

/* Builds the model for cfg (vocab at least 2) with random parameters from
 * seed, a random batch of GRADCHECK_BATCH rows, and runs forward and
 * backward. The parameters are drawn so every tensor gets a gradient well
 * away from zero (embeddings N(0, 0.8), weights N(0, 1/fan_in), biases
 * N(0, 0.2), output weights N(0, 4/H)). GradcheckCase must be zeroed. */
int gradcheck_case_init(GradcheckCase *c, const ModelConfig *cfg, uint64_t seed,
                        Error *err);
void gradcheck_case_free(GradcheckCase *c);

/* Compares c->analytic with central differences for every tensor, filling
 * rows (one per tensor, in storage order) and returning how many; the
 * parameters are back to their values afterwards. */
int gradcheck_case_run(GradcheckCase *c, GradcheckRow rows[MODEL_MAX_TENSORS]);

#endif
