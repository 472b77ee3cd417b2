/* blocks.h - hidden units in blocks of HIDDEN_BLOCK: the unit by which
 * threads share out the first layer's table (table.h) and, in a one-layer
 * model on that route, the hidden activations (model.h's hidden_blocks).
 *
 * Each thread owns whole blocks, the same ones in every pass of a step,
 * and each block is its own stretch of memory: an activation (N, H) stored
 * in blocks is block 0 as an (N, width) row-major array, then block 1, and
 * so on. Why not columns of the usual (N, H) array: a core that writes a
 * cache line the other core holds waits for it (about 7 ns a line on an
 * AMD Zen 4, one after another), and the cores' hardware prefetchers read
 * the lines next to the ones they are asked for, so two threads writing
 * alternate runs of a few hundred bytes (their columns of each row) take
 * each other's lines all the time. Zeroing a (64, 256) array then adding
 * one to it by columns took 9.9 us a time on two threads of an Intel Xeon
 * and 6.4 on one; by blocks, 3.9 (bench/ has no such microbenchmark; the
 * names model's step shows it: model.c). */
#ifndef TINYCHAR_BLOCKS_H
#define TINYCHAR_BLOCKS_H

#include <stddef.h>

#include "../common/parallel.h"

/* Hidden units per block: the names model (H 256) has two, one for each
 * of two threads. */
#define HIDDEN_BLOCK 128

/* Block b of H hidden units: units [k0, k0 + width); the last block may be
 * narrower. */
typedef struct {
    size_t k0;
    int width;
} Block;

static inline Block block_of(int b, int h)
{
    Block k = {.k0 = (size_t)b * HIDDEN_BLOCK, .width = HIDDEN_BLOCK};
    if (k.k0 + HIDDEN_BLOCK > (size_t)h)
        k.width = h - (int)k.k0;
    return k;
}

static inline int block_count(int h)
{
    return (h + HIDDEN_BLOCK - 1) / HIDDEN_BLOCK;
}

/* This thread's hidden units [*o0, *o1): whole blocks, all of them outside
 * a parallel region. Its blocks are b = o0 / HIDDEN_BLOCK up to the one
 * holding o1 - 1. */
static inline void hidden_range(int h, long *o0, long *o1)
{
    thread_range(h, HIDDEN_BLOCK, o0, o1);
}

/* Where element (r, o) of an (N, H) activation stored in blocks is. */
static inline size_t blocked_at(int n, int h, int r, int o)
{
    Block k = block_of(o / HIDDEN_BLOCK, h);
    return k.k0 * n + (size_t)r * k.width + ((size_t)o - k.k0);
}

/* Where row r of block k starts in an (N, H) activation: stored in
 * blocks, or (blocked 0) row-major, where the block is columns k0 .. k0 +
 * width of row r. Its width values follow one another either way. */
static inline size_t block_row(int n, int h, int blocked, Block k, int r)
{
    return blocked ? k.k0 * n + (size_t)r * k.width : (size_t)r * h + k.k0;
}

#endif
