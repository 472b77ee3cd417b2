/* table.c - the first layer by table (see table.h): the table is T matrix
 * products of the embedding table with a column block of W_0, a row's
 * pre-activation is a sum of T table rows (in training, of the rows its
 * batch reads: table_build_rows), and the backward pass scatters the rows'
 * gradients into the table's gradient and multiplies back.
 * Threads own whole rows of z, whole positions t of the table and dtable
 * (and their blocks of dW_0 and parts of demb), or whole elements of demb,
 * so results do not depend on the thread count. */
#include "table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/parallel.h"
#include "matmul.h"

/* Below these sizes a pass called outside a parallel region runs on the
 * calling thread (inside the model's region, common/parallel.h, every pass
 * is shared out). At these, the names model (T*V*E*H = 1.3M multiply-adds)
 * built and back-propagated its table on both cores even before the model
 * ran its passes in one region: each thread's positions and its slice of
 * the gradient stay in its own cache, and 1000 steps of the bench's M
 * config at 2 threads took 0.24 s instead of 0.29 s (medians of 10). */
#define PARALLEL_MIN_MACS (1L << 20) /* table_build(_rows), table_backward:
                                      * of T*V*E*H, a bound on the rows built */
#define PARALLEL_MIN_ADDS (1L << 19) /* table_forward */

static void build_positions(float *table, const float *emb, const float *w0,
                            int t, int v, int e, int h)
{
    size_t in = (size_t)t * e;
    /* table[j] (V, H) = emb (V, E) W_0[:, jE:(j+1)E]^T, reading the
     * transpose in place: B[p][o] = w0[o * T*E + j*E + p]. The T products
     * write disjoint blocks, so each thread owns whole positions j; one
     * parallel region for all of them, not one per product. */
#pragma omp for schedule(static) nowait
    for (int j = 0; j < t; j++) {
        matmul_serial(table + (size_t)j * v * h, (size_t)h, emb, (size_t)e, 1,
                      w0 + (size_t)j * e, 1, in, v, h, e);
    }
}

void table_build(float *table, const float *emb, const float *w0,
                 int t, int v, int e, int h)
{
    PARALLEL_CALL(parallel_worth((long)t * v * e * h, PARALLEL_MIN_MACS),
                  build_positions(table, emb, w0, t, v, e, h));
}

int table_rows_init(TableRows *ix, int t, int v, int e, int max_batch,
                    Error *err)
{
    const char *what = "first-layer table rows";
    memset(ix, 0, sizeof *ix);
    size_t tv = (size_t)t * v;
    ix->count = mem_calloc((size_t)t, sizeof *ix->count, what, err);
    ix->chars = ix->count ? mem_calloc(tv, sizeof *ix->chars, what, err) : NULL;
    ix->ids = ix->chars ? mem_calloc((size_t)max_batch * t, sizeof *ix->ids, what, err)
                        : NULL;
    ix->emb = ix->ids ? mem_calloc_aligned(tv * e, sizeof *ix->emb, what, err) : NULL;
    ix->slot = ix->emb ? mem_calloc((size_t)v, sizeof *ix->slot, what, err) : NULL;
    if (!ix->slot) {
        table_rows_free(ix);
        return -1;
    }
    return 0;
}

void table_rows_free(TableRows *ix)
{
    free(ix->count);
    free(ix->chars);
    free(ix->ids);
    free(ix->emb);
    free(ix->slot);
    memset(ix, 0, sizeof *ix);
}

/* Fills ix from the batch ctx (N, T), on one thread. */
static void index_rows(TableRows *ix, const int32_t *ctx, const float *emb,
                       int n, int t, int v, int e)
{
    int32_t *slot = ix->slot;
    for (int j = 0; j < t; j++) {
        int32_t *chars = ix->chars + (size_t)j * v;
        float *embj = ix->emb + (size_t)j * v * e;
        /* Which characters occur at position j, then their rows in
         * increasing character order: d W_0's sum over the rows then adds
         * the same terms in the same order as over the full table's rows
         * (the others are zero). */
        for (int c = 0; c < v; c++)
            slot[c] = -1;
        for (int r = 0; r < n; r++)
            slot[ctx[(size_t)r * t + j]] = 0;
        int u = 0;
        for (int c = 0; c < v; c++)
            if (slot[c] == 0) {
                slot[c] = u;
                chars[u] = c;
                memcpy(embj + (size_t)u * e, emb + (size_t)c * e,
                       (size_t)e * sizeof *embj);
                u++;
            }
        ix->count[j] = u;
        for (int r = 0; r < n; r++)
            ix->ids[(size_t)r * t + j] = slot[ctx[(size_t)r * t + j]];
    }
}

/* This thread's positions [*j0, *j1). A position's work grows with its
 * rows (its products have count[j] rows or sums of count[j] terms), and
 * counts differ widely: names, T 8, B 64, has about 3 characters at the
 * oldest position (mostly padding) and 18 at the newest, so halves of the
 * positions would give the threads 30 and 69 of the 99 rows. Instead each
 * position goes to the thread whose share of the rows, in order, holds
 * the position's middle row: 46 and 53. The ranges stay contiguous, so
 * each thread writes one run of columns of each row of dW_0 (runs of
 * single positions from alternating threads, E floats each, would share
 * nearly every cache line of it between the cores). Which thread
 * computes a position changes no result. */
static void my_positions(const TableRows *ix, int t, long *j0, long *j1)
{
    long total = 0, before = 0, nt = thread_count(), id = thread_id();
    for (int j = 0; j < t; j++)
        total += ix->count[j];
    *j0 = *j1 = 0;
    if (total == 0) { /* no rows: nothing to share */
        if (id == 0)
            *j1 = t;
        return;
    }
    for (int j = 0; j < t; j++) {
        /* twice the middle row, against twice the share boundaries */
        long mid2 = 2 * before + ix->count[j], owner = mid2 * nt / (2 * total);
        if (owner > nt - 1)
            owner = nt - 1;
        if (owner < id)
            *j0 = *j1 = j + 1;
        else if (owner == id)
            *j1 = j + 1;
        before += ix->count[j];
    }
}

/* table_build_rows on the threads of the caller's region (or the caller
 * alone): one thread fills ix, then each builds its positions j (their
 * blocks of the table: my_positions). */
static void build_rows_positions(float *table, TableRows *ix, const int32_t *ctx,
                                 const float *emb, const float *w0, int n,
                                 int t, int v, int e, int h)
{
    size_t in = (size_t)t * e;
#pragma omp single
    index_rows(ix, ctx, emb, n, t, v, e);
    long j0, j1;
    my_positions(ix, t, &j0, &j1);
    for (long j = j0; j < j1; j++) {
        /* table[j][i] for i < count[j]: (U, H) = emb rows (U, E)
         * W_0[:, jE:(j+1)E]^T, as in build_positions. */
        const float *embj = ix->emb + (size_t)j * v * e;
        matmul_serial(table + (size_t)j * v * h, (size_t)h, embj, (size_t)e, 1,
                      w0 + (size_t)j * e, 1, in, ix->count[j], h, e);
    }
}

void table_build_rows(float *table, TableRows *ix, const int32_t *ctx,
                      const float *emb, const float *w0, int n, int t, int v,
                      int e, int h)
{
    PARALLEL_CALL(parallel_worth((long)t * v * e * h, PARALLEL_MIN_MACS),
                  build_rows_positions(table, ix, ctx, emb, w0, n, t, v, e, h));
}

/* A table bigger than this, read by more rows than it has characters (so
 * that its rows are read more than once on average), is summed a group of
 * positions at a time, each group (about this size at most) by every row
 * before the next group: the rows then re-read the group from the
 * last-level cache instead of the whole table from memory. XL's table is
 * 35 MB: its forward pass took 17 to 22 ms on one thread and 10 to 13 on
 * two, and takes 10 to 12 and 7 to 8 in five groups. A row's z still gets
 * b_0 and then the positions in increasing order. */
#define TABLE_GROUP_BYTES (8L << 20)

/* The rows of z of this thread (all of them outside a parallel region),
 * positions g at a time. */
static void forward_rows(float *z, const float *table, const float *b0,
                         const int32_t *ctx, int n, int t, int v, int h, int g)
{
    long r0, r1;
    thread_range(n, 1, &r0, &r1);
    /* At least one pass, so that z gets b0 even with no positions. */
    for (int j0 = 0; j0 == 0 || j0 < t; j0 += g) {
        int j1 = j0 + g < t ? j0 + g : t;
        for (long r = r0; r < r1; r++) {
            float *zr = z + (size_t)r * h;
            if (j0 == 0) {
                if (b0)
                    memcpy(zr, b0, (size_t)h * sizeof *zr);
                else
                    memset(zr, 0, (size_t)h * sizeof *zr);
            }
            for (int j = j0; j < j1; j++) {
                const float *row =
                    table + ((size_t)j * v + ctx[(size_t)r * t + j]) * h;
                for (int o = 0; o < h; o++)
                    zr[o] += row[o];
            }
        }
    }
}

void table_forward(float *z, const float *table, const float *b0,
                   const int32_t *ctx, int n, int t, int v, int h)
{
    /* As few groups as keep each within the bound, of equal size. */
    size_t bytes = (size_t)t * v * h * sizeof(float);
    size_t groups = n > v ? (bytes + TABLE_GROUP_BYTES - 1) / TABLE_GROUP_BYTES : 1;
    if (groups < 1)
        groups = 1;
    int g = t > 0 ? (int)(((size_t)t + groups - 1) / groups) : 1;
    /* Each thread owns a range of rows, in every group. */
    PARALLEL_CALL(parallel_worth((long)n * t * h, PARALLEL_MIN_ADDS),
                  forward_rows(z, table, b0, ctx, n, t, v, h, g));
}

/* Both phases of table_backward for this thread (all of it outside a
 * parallel region): first whole positions j (the column block j of dw0 and
 * demb_parts[j]), then, after a barrier, whole elements of demb. */
static void backward_positions(float *dw0, float *demb, float *dtable,
                               float *demb_parts, const float *dz,
                               const TableRows *ix, const float *w0, int n, int t,
                               int v, int e, int h)
{
    size_t in = (size_t)t * e, ve = (size_t)v * e;
    /* This thread's positions j0 .. j1 (those it built the table rows
     * of: my_positions), and one (V, H) slice of dtable for all of them,
     * reused: each position's gradient is used up before the next begins,
     * and a slice that stays in this core's cache costs no write-back of
     * T of them. The slice is the one of the thread's first position, so
     * no two threads share one. */
    long j0, j1;
    my_positions(ix, t, &j0, &j1);
    float *dj = dtable + (size_t)j0 * v * h;
    for (long j = j0; j < j1; j++) {
        int u = ix->count[j];
        const float *embj = ix->emb + (size_t)j * ve;
        /* Forward: z[r] += table[j][ids[r][j]], so each row's dz goes to
         * the table row it read; rows are added in increasing r. */
        memset(dj, 0, (size_t)u * h * sizeof *dj);
        for (int r = 0; r < n; r++) {
            float *row = dj + (size_t)ix->ids[(size_t)r * t + j] * h;
            const float *dzr = dz + (size_t)r * h;
            for (int o = 0; o < h; o++)
                row[o] += dzr[o];
        }
        /* Forward: table[j][i][o] = sum_p w0[o][jE + p] emb[chars[j][i]][p], so
         *   dw0[o][jE + p] += sum_i dtable[j][i][o] emb[chars[j][i]][p]
         * (A[o][i] = dtable[j][i][o], in dj, read transposed in place). */
        if (dw0)
            matmul_acc_serial(dw0 + (size_t)j * e, in, dj, 1, (size_t)h, embj,
                              (size_t)e, 1, h, e, u);
        /* and position j's part of demb,
         *   demb_parts[j][i][p] = sum_o dtable[j][i][o] w0[o][jE + p],
         * while position j's gradient is still in this core's cache. */
        if (demb)
            matmul_serial(demb_parts + (size_t)j * ve, (size_t)e, dj,
                          (size_t)h, 1, w0 + (size_t)j * e, in, 1, u, e, h);
    }
#pragma omp barrier
    /* (every part is complete)
     *   demb[chars[j][i]] += demb_parts[j][i], for j = 0, 1, ..., T-1
     * Each thread owns a range of demb's elements and adds the parts in
     * increasing j: the same sums in the same order for any number of
     * threads. The ranges are cut at multiples of 16 floats, so two
     * threads never write one cache line. */
    if (demb) {
        long i0, i1;
        thread_range((long)ve, 16, &i0, &i1);
        for (int j = 0; j < t; j++) {
            const float *pj = demb_parts + (size_t)j * ve;
            const int32_t *chars = ix->chars + (size_t)j * v;
            for (int i = 0; i < ix->count[j]; i++) {
                /* Row i's part goes to demb's row chars[i]: the elements
                 * [c E, (c + 1) E) of which this thread owns [i0, i1). */
                long c0 = (long)chars[i] * e, from = c0 > i0 ? c0 : i0;
                long to = c0 + e < i1 ? c0 + e : i1;
                for (long k = from; k < to; k++)
                    demb[k] += pj[(size_t)i * e + (size_t)(k - c0)];
            }
        }
    }
}

void table_backward(float *dw0, float *demb, float *dtable, float *demb_parts,
                    const float *dz, const TableRows *ix, const float *w0,
                    int n, int t, int v, int e, int h)
{
    PARALLEL_CALL(parallel_worth((long)t * v * e * h, PARALLEL_MIN_MACS),
                  backward_positions(dw0, demb, dtable, demb_parts, dz, ix, w0,
                                     n, t, v, e, h));
}
