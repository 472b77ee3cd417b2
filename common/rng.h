/* rng.h - a small, explicit random number generator (xoshiro256**, seeded by
 * splitmix64). The state is a struct passed by pointer: no globals, no rand(),
 * so a run is reproducible from its seed and the state fits in a checkpoint. */
#ifndef TINYCHAR_RNG_H
#define TINYCHAR_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

/* Any 64-bit seed, 0 included, gives a valid (non-zero) state. */
void rng_seed(Rng *rng, uint64_t seed);
uint64_t rng_u64(Rng *rng);
/* Uniform integer in [0, n), without modulo bias. n must be > 0. */
uint64_t rng_below(Rng *rng, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(Rng *rng);
/* Standard normal N(0, 1) by the Box-Muller transform. */
double rng_normal(Rng *rng);

#endif
