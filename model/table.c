/* table.c - the first layer by table (see table.h): the table is T matrix
 * products of the embedding table with a column block of W_0, a row's
 * pre-activation is a sum of T table rows, and the backward pass scatters
 * the rows' gradients into the table's gradient and multiplies back.
 * Threads own whole rows of z, or whole positions t of dtable, so results do
 * not depend on the thread count. */
#include "table.h"

#include <stddef.h>
#include <string.h>

#include "matmul.h"

/* Below this many values a pass runs on the calling thread (as in layers.c). */
#define PARALLEL_MIN 32768L

void table_build(float *table, const float *emb, const float *w0,
                 int t, int v, int e, int h)
{
    size_t in = (size_t)t * e;
    memset(table, 0, (size_t)t * v * h * sizeof *table);
    /* table[j] (V, H) = emb (V, E) W_0[:, jE:(j+1)E]^T, reading the
     * transpose in place: B[p][o] = w0[o * T*E + j*E + p]. */
    for (int j = 0; j < t; j++)
        matmul_acc(table + (size_t)j * v * h, (size_t)h, emb, (size_t)e, 1,
                   w0 + (size_t)j * e, 1, in, v, h, e);
}

void table_forward(float *z, const float *table, const float *b0,
                   const int32_t *ctx, int n, int t, int v, int h)
{
#pragma omp parallel for schedule(static) if ((long)n * t * h >= PARALLEL_MIN)
    for (int r = 0; r < n; r++) {
        float *zr = z + (size_t)r * h;
        if (b0)
            memcpy(zr, b0, (size_t)h * sizeof *zr);
        else
            memset(zr, 0, (size_t)h * sizeof *zr);
        for (int j = 0; j < t; j++) {
            const float *row = table + ((size_t)j * v + ctx[(size_t)r * t + j]) * h;
            for (int o = 0; o < h; o++)
                zr[o] += row[o];
        }
    }
}

void table_backward(float *dw0, float *demb, float *dtable, const float *dz,
                    const int32_t *ctx, const float *emb, const float *w0,
                    int n, int t, int v, int e, int h)
{
    size_t in = (size_t)t * e;
    /* Forward: z[r] += table[j][ctx[r][j]], so each row's dz goes to the
     * table row it read; rows are added in increasing r. */
#pragma omp parallel for schedule(static) if ((long)n * t * h >= PARALLEL_MIN)
    for (int j = 0; j < t; j++) {
        float *dj = dtable + (size_t)j * v * h;
        memset(dj, 0, (size_t)v * h * sizeof *dj);
        for (int r = 0; r < n; r++) {
            float *row = dj + (size_t)ctx[(size_t)r * t + j] * h;
            const float *dzr = dz + (size_t)r * h;
            for (int o = 0; o < h; o++)
                row[o] += dzr[o];
        }
    }
    for (int j = 0; j < t; j++) {
        const float *dj = dtable + (size_t)j * v * h;
        /* Forward: table[j][c][o] = sum_p w0[o][jE + p] emb[c][p], so
         *   dw0[o][jE + p] += sum_c dtable[j][c][o] emb[c][p]
         * (A[o][c] = dtable[j][c][o], read transposed in place). */
        if (dw0)
            matmul_acc(dw0 + (size_t)j * e, in, dj, 1, (size_t)h, emb, (size_t)e,
                       1, h, e, v);
        /*   demb[c][p] += sum_o dtable[j][c][o] w0[o][jE + p]   */
        if (demb)
            matmul_acc(demb, (size_t)e, dj, (size_t)h, 1, w0 + (size_t)j * e, in,
                       1, v, e, h);
    }
}
