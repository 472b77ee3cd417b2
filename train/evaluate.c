/* evaluate.c - forward passes only, in batches, over a fixed set of examples. */
#include "evaluate.h"

double evaluate_loss(const Model *m, Activations *a, const Dataset *ds,
                     size_t max_examples, int32_t *ctx, int32_t *targets)
{
    size_t n = ds->n_examples;
    size_t count = (max_examples == 0 || max_examples > n) ? n : max_examples;
    int T = m->cfg.context;
    double sum = 0.0;
    for (size_t start = 0; start < count; start += (size_t)a->max_batch) {
        int rows = (int)((count - start) < (size_t)a->max_batch
                             ? count - start : (size_t)a->max_batch);
        for (int r = 0; r < rows; r++) {
            /* Example i of `count` evenly spaced ones: floor(i * n / count). */
            size_t i = start + (size_t)r;
            size_t k = count == n ? i : (size_t)((double)i * (double)n / (double)count);
            targets[r] = data_example(ds, k, ctx + (size_t)r * T);
        }
        model_forward(m, a, ctx, targets, rows);
        for (int r = 0; r < rows; r++)
            sum += a->losses[r];
    }
    return count ? sum / (double)count : 0.0;
}
