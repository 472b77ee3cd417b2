/* evaluate.h - mean loss of a model over a dataset, shared by `train` (its
 * periodic train/val losses) and `eval` (the loss over a whole file). */
#ifndef TINYCHAR_EVALUATE_H
#define TINYCHAR_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "../data/data.h"
#include "../model/model.h"

/* Mean cross-entropy (nats per character) over max_examples examples spread
 * evenly across the dataset (all of them if max_examples is 0 or larger than
 * the dataset). Deterministic: it draws no random numbers, and sums in a fixed
 * order in double. ctx (B*T) and targets (B) are scratch of a->max_batch rows. */
double evaluate_loss(const Model *m, Activations *a, const Dataset *ds,
                     size_t max_examples, int32_t *ctx, int32_t *targets);

#endif
