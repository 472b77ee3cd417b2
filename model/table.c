/* table.c - the first layer by table (see table.h): the table is T matrix
 * products of the embedding table with a column block of W_0, a row's
 * pre-activation is a sum of T table rows, and the backward pass scatters
 * the rows' gradients into the table's gradient and multiplies back.
 * Threads own whole rows of z, whole positions t of the table and dtable
 * (and their blocks of dW_0), or whole rows of demb, so results do not
 * depend on the thread count. */
#include "table.h"

#include <stddef.h>
#include <string.h>

#include "matmul.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Below these sizes a pass runs on the calling thread. Higher than a pass
 * alone would pay for: on a model as small as the names one (T*V*E*H =
 * 1.3M multiply-adds, N*T*H = 131K additions) a second thread leaves its
 * part of z and of the gradients in the other core's cache, and the serial
 * passes after it (the optimizer above all) lose more fetching them than
 * the thread saved: 2000 steps of the bench's M config at 2 threads took
 * 0.55 s with the table passes in parallel and 0.51 s without. */
#define PARALLEL_MIN_MACS (1L << 22) /* table_build, table_backward */
#define PARALLEL_MIN_ADDS (1L << 19) /* table_forward */

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int thread_count(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

void table_build(float *table, const float *emb, const float *w0,
                 int t, int v, int e, int h)
{
    size_t in = (size_t)t * e;
    /* table[j] (V, H) = emb (V, E) W_0[:, jE:(j+1)E]^T, reading the
     * transpose in place: B[p][o] = w0[o * T*E + j*E + p]. The T products
     * write disjoint blocks, so each thread owns whole positions j; one
     * parallel region for all of them, not one per product. */
#pragma omp parallel for schedule(static) if ((long)t * v * e * h >= PARALLEL_MIN_MACS)
    for (int j = 0; j < t; j++) {
        float *tj = table + (size_t)j * v * h;
        memset(tj, 0, (size_t)v * h * sizeof *tj);
        matmul_acc_serial(tj, (size_t)h, emb, (size_t)e, 1, w0 + (size_t)j * e, 1,
                          in, v, h, e);
    }
}

void table_forward(float *z, const float *table, const float *b0,
                   const int32_t *ctx, int n, int t, int v, int h)
{
#pragma omp parallel for schedule(static) if ((long)n * t * h >= PARALLEL_MIN_ADDS)
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
    /* Two phases in one region: first each thread owns whole positions j
     * (dtable[j] and the column block j of dw0), then whole rows of demb. */
#pragma omp parallel if ((long)t * v * e * h >= PARALLEL_MIN_MACS)
    {
#pragma omp for schedule(static)
        for (int j = 0; j < t; j++) {
            /* Forward: z[r] += table[j][ctx[r][j]], so each row's dz goes to
             * the table row it read; rows are added in increasing r. */
            float *dj = dtable + (size_t)j * v * h;
            memset(dj, 0, (size_t)v * h * sizeof *dj);
            for (int r = 0; r < n; r++) {
                float *row = dj + (size_t)ctx[(size_t)r * t + j] * h;
                const float *dzr = dz + (size_t)r * h;
                for (int o = 0; o < h; o++)
                    row[o] += dzr[o];
            }
            /* Forward: table[j][c][o] = sum_p w0[o][jE + p] emb[c][p], so
             *   dw0[o][jE + p] += sum_c dtable[j][c][o] emb[c][p]
             * (A[o][c] = dtable[j][c][o], read transposed in place). */
            if (dw0)
                matmul_acc_serial(dw0 + (size_t)j * e, in, dj, 1, (size_t)h, emb,
                                  (size_t)e, 1, h, e, v);
        }
        /* (the implied barrier: every dtable[j] is complete)
         *   demb[c][p] += sum_j sum_o dtable[j][c][o] w0[o][jE + p]
         * Every position adds into the same demb, so here each thread owns
         * whole rows c instead and adds the positions in increasing j: the
         * same sums in the same order for any number of threads. Which
         * thread owns a row changes no value; the cut at multiples of 8
         * rows keeps two threads off one cache line of demb for any even E
         * (8 rows of E floats are a multiple of 64 bytes). */
        if (demb) {
            int blocks = (v + 7) / 8, id = thread_id(), nt = thread_count();
            int c0 = blocks * id / nt * 8, c1 = blocks * (id + 1) / nt * 8;
            if (c1 > v)
                c1 = v;
            for (int j = 0; j < t && c0 < c1; j++)
                matmul_acc_serial(demb + (size_t)c0 * e, (size_t)e,
                                  dtable + ((size_t)j * v + c0) * h, (size_t)h, 1,
                                  w0 + (size_t)j * e, in, 1, c1 - c0, e, h);
        }
    }
}
