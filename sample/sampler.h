/* sampler.h - turning the model's scores (logits) for the next character into
 * a choice: temperature, then top-k, then top-p (nucleus), then a draw.
 * Pure maths on one row of logits; knows nothing of files or text. */
#ifndef TINYCHAR_SAMPLER_H
#define TINYCHAR_SAMPLER_H

#include <stdint.h>

#include "../common/error.h"
#include "../common/rng.h"

typedef struct {
    double temperature;  /* 0 = always the most likely character */
    int top_k;           /* keep the k most likely; 0 = all */
    double top_p;        /* keep the smallest set with this much mass; 1 = all */
} SamplerConfig;

/* One candidate while sorting: its probability and id. */
typedef struct {
    double p;
    int32_t id;
} SampleCandidate;

typedef struct {
    SamplerConfig cfg;
    int vocab;
    double *probs;            /* (V) the final distribution */
    SampleCandidate *order;   /* (V) scratch: candidates by probability */
} Sampler;

int sampler_init(Sampler *s, const SamplerConfig *cfg, int vocab, Error *err);
void sampler_free(Sampler *s);

/* Computes the next-character distribution into s->probs (sums to 1):
 *   p_j ∝ exp((logit_j - max) / temperature), or one-hot on the first
 *   largest logit when temperature is 0;
 *   top-k: keep the k largest p (ties broken by lower id), zero the rest;
 *   top-p: keep the most likely ids, in that order, until their share of
 *   the remaining mass reaches top_p (at least one id), zero the rest;
 *   renormalize. */
void sampler_distribution(Sampler *s, const float *logits);

/* Draws an id from sampler_distribution(logits) using one uniform number. */
int32_t sampler_pick(Sampler *s, const float *logits, Rng *rng);

#endif
