/* sampler.c - temperature, top-k and top-p sampling in double precision. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"

int sampler_init(Sampler *s, const SamplerConfig *cfg, int vocab, Error *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->vocab = vocab;
    s->probs = mem_calloc((size_t)vocab, sizeof *s->probs, "sampler", err);
    s->order = mem_calloc((size_t)vocab, sizeof *s->order, "sampler", err);
    if (!s->probs || !s->order) {
        sampler_free(s);
        return -1;
    }
    return 0;
}

void sampler_free(Sampler *s)
{
    free(s->probs);
    free(s->order);
    memset(s, 0, sizeof *s);
}

/* Descending probability, lower id first on ties, so the cut-off of top-k
 * and top-p is unambiguous. */
static int by_prob_desc(const void *pa, const void *pb)
{
    const SampleCandidate *a = pa, *b = pb;
    if (a->p != b->p)
        return a->p > b->p ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

void sampler_distribution(Sampler *s, const float *logits)
{
    int V = s->vocab;
    double *p = s->probs;
    int argmax = 0;
    for (int j = 1; j < V; j++)
        if (logits[j] > logits[argmax])
            argmax = j;
    if (s->cfg.temperature == 0.0) {
        memset(p, 0, (size_t)V * sizeof *p);
        p[argmax] = 1.0;
        return;
    }
    /* Softmax of logits / temperature, shifted by the max for stability. */
    double max = logits[argmax], sum = 0.0;
    for (int j = 0; j < V; j++) {
        p[j] = exp(((double)logits[j] - max) / s->cfg.temperature);
        sum += p[j];
    }
    for (int j = 0; j < V; j++)
        p[j] /= sum;
    int k = s->cfg.top_k > 0 && s->cfg.top_k < V ? s->cfg.top_k : V;
    if (k == V && s->cfg.top_p >= 1.0)
        return;
    for (int j = 0; j < V; j++)
        s->order[j] = (SampleCandidate){p[j], j};
    qsort(s->order, (size_t)V, sizeof *s->order, by_prob_desc);
    /* Keep the first k in that order; among them, stop once the kept mass
     * reaches top_p of the top-k mass. */
    double topk_mass = 0.0;
    for (int i = 0; i < k; i++)
        topk_mass += p[s->order[i].id];
    int keep = 0;
    double kept = 0.0;
    while (keep < k) {
        kept += p[s->order[keep++].id];
        if (kept >= s->cfg.top_p * topk_mass)
            break;
    }
    for (int i = keep; i < V; i++)
        p[s->order[i].id] = 0.0;
    for (int i = 0; i < keep; i++)
        p[s->order[i].id] /= kept;
}

int32_t sampler_pick(Sampler *s, const float *logits, Rng *rng)
{
    sampler_distribution(s, logits);
    double u = rng_uniform(rng), c = 0.0;
    int32_t last = 0;
    for (int j = 0; j < s->vocab; j++) {
        if (s->probs[j] <= 0.0)
            continue;
        c += s->probs[j];
        last = j;
        if (u < c)
            return j;
    }
    return last; /* rounding left u just above the total */
}
