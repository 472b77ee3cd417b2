/* table.c - the first layer by table (see table.h): the table is T matrix
 * products of the embedding table with a column block of W_0, a row's
 * pre-activation is a sum of T table rows (in training, of the rows its
 * batch reads: table_build_rows), and the backward pass scatters the rows'
 * gradients into the table's gradient and multiplies back.
 * Threads own hidden units, in whole blocks of HIDDEN_BLOCK, the same in
 * every pass (their blocks of the table and dtable, their columns of z
 * and dz, their rows of W_0 and d W_0, their blocks' parts of demb), or
 * whole elements of demb, so results do not depend on the thread count. */
#include "table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/parallel.h"
#include "blocks.h"
#include "fastmath.h"
#include "matmul.h"

/* Below these sizes a pass called outside a parallel region runs on the
 * calling thread (inside the model's region, common/parallel.h, every pass
 * is shared out). At these, the names model (T*V*E*H = 1.3M multiply-adds)
 * built and back-propagated its table on both cores even before the model
 * ran its passes in one region (its threads then owned positions: each
 * thread's positions and its slice of the gradient stayed in its own
 * cache), and 1000 steps of the bench's M config at 2 threads took 0.24 s
 * instead of 0.29 s (medians of 10). */
#define PARALLEL_MIN_MACS (1L << 20) /* table_build(_rows), table_backward:
                                      * of T*V*E*H, a bound on the rows built */
#define PARALLEL_MIN_ADDS (1L << 19) /* table_forward */

/* Threads own whole blocks of hidden units (blocks.h), the same in
 * every pass of a step, so each reads and writes the same memory on every
 * thread: its rows of W_0 (which the optimizer's update also splits by
 * rows, optim.c) and of d W_0, its blocks of the table, its blocks (or
 * columns) of z and dz. So a block of the table is an array of its own.
 * The threads of a split by positions, which read their positions' column
 * blocks of W_0 in every row while the update splits W_0 by rows, made the
 * names model's update take 27 us a step at 2 threads (AMD Zen 4); it
 * takes 15. The blocks are fixed, whatever the thread count, because
 * demb sums over hidden units in these blocks. */

/* This thread's blocks of rows 0 .. u-1 of table[j] for every j,
 *   (U, width) = emb rows (U, E) W_0[k0:k0+width, jE:(j+1)E]^T,
 * U = count[j] rows of emb_rows + j * row_step (count NULL: V rows of emb
 * at every j), reading the transpose in place:
 * B[p][o] = w0[(k0 + o) * T*E + j*E + p]. */
static void build_hidden(float *table, const float *emb_rows, size_t row_step,
                         const int32_t *count, const float *w0, int t, int v,
                         int e, int h)
{
    size_t in = (size_t)t * e;
    long o0, o1;
    hidden_range(h, &o0, &o1);
    for (int b = (int)(o0 / HIDDEN_BLOCK); (long)b * HIDDEN_BLOCK < o1; b++) {
        Block k = block_of(b, h);
        float *block = table + k.k0 * t * v;
        for (int j = 0; j < t; j++)
            matmul_serial(block + (size_t)j * v * k.width, (size_t)k.width,
                          emb_rows + (size_t)j * row_step, (size_t)e, 1,
                          w0 + k.k0 * in + (size_t)j * e, 1, in,
                          count ? count[j] : v, k.width, e);
    }
}

void table_build(float *table, const float *emb, const float *w0,
                 int t, int v, int e, int h)
{
    PARALLEL_CALL(parallel_worth((long)t * v * e * h, PARALLEL_MIN_MACS),
                  build_hidden(table, emb, 0, NULL, w0, t, v, e, h));
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
    ix->by_row = ix->emb ? mem_calloc((size_t)max_batch * t, sizeof *ix->by_row,
                                      what, err)
                         : NULL;
    ix->first = ix->by_row ? mem_calloc((size_t)t * (v + 1), sizeof *ix->first, what, err)
                           : NULL;
    ix->slot = ix->first ? mem_calloc((size_t)v, sizeof *ix->slot, what, err) : NULL;
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
    free(ix->by_row);
    free(ix->first);
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
        /* The rows grouped by table row, by counting: group sizes, their
         * starts, then each row in increasing r to its group. */
        int32_t *first = ix->first + (size_t)j * (v + 1);
        int32_t *by_row = ix->by_row + (size_t)j * n;
        memset(first, 0, (size_t)(u + 1) * sizeof *first);
        for (int r = 0; r < n; r++)
            first[ix->ids[(size_t)r * t + j] + 1]++;
        for (int i = 0; i < u; i++)
            first[i + 1] += first[i];
        for (int c = 0; c < u; c++)
            slot[c] = first[c];
        for (int r = 0; r < n; r++)
            by_row[slot[ix->ids[(size_t)r * t + j]]++] = r;
    }
}

/* table_build_rows on the threads of the caller's region (or the caller
 * alone): one thread fills ix, then each builds its hidden units of every
 * row. */
static void build_rows_hidden(float *table, TableRows *ix, const int32_t *ctx,
                              const float *emb, const float *w0, int n, int t,
                              int v, int e, int h)
{
#pragma omp single
    index_rows(ix, ctx, emb, n, t, v, e);
    build_hidden(table, ix->emb, (size_t)v * e, ix->count, w0, t, v, e, h);
}

void table_build_rows(float *table, TableRows *ix, const int32_t *ctx,
                      const float *emb, const float *w0, int n, int t, int v,
                      int e, int h)
{
    PARALLEL_CALL(parallel_worth((long)t * v * e * h, PARALLEL_MIN_MACS),
                  build_rows_hidden(table, ix, ctx, emb, w0, n, t, v, e, h));
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

/* One vector register of floats (16 with AVX-512, 8 with AVX, 4
 * otherwise), loaded and stored at any alignment. A wider type than the
 * registers is split by the compiler into pairs that it keeps in memory
 * (16-float chunks on AVX2 spilled every sum to the stack). */
#if defined(__AVX512F__)
#define CW 16
#elif defined(__AVX__)
#define CW 8
#else
#define CW 4
#endif
typedef float Chunk __attribute__((vector_size(CW * sizeof(float)), aligned(4)));
/* Floats summed per pass of sum_row_list: 4 AVX-512 registers, 8 AVX, 16
 * SSE (all of them: some of the sums may then wait on the stack). */
#define PASS 64
/* Rows summed per call of sum_row_list, their addresses on the stack. */
#define ROW_LIST 64

/* dst[o] (from 0, or with add from dst[o]) + row[0][o] + row[1][o] + ...
 * + row[count-1][o], for o < width, in that order: PASS values at a time
 * summed in registers, then stored, so dst is read and written once, not
 * once per row. */
static void sum_row_list(float *dst, int add, const float *const *row, int count,
                         size_t width)
{
    size_t o = 0;
    for (; o + PASS <= width; o += PASS) {
        Chunk s[PASS / CW];
#pragma GCC unroll 16
        for (int c = 0; c < PASS / CW; c++)
            s[c] = add ? *(const Chunk *)(dst + o + c * CW) : (Chunk){0};
        for (int q = 0; q < count; q++)
#pragma GCC unroll 16
            for (int c = 0; c < PASS / CW; c++)
                s[c] += *(const Chunk *)(row[q] + o + c * CW);
#pragma GCC unroll 16
        for (int c = 0; c < PASS / CW; c++)
            *(Chunk *)(dst + o + c * CW) = s[c];
    }
    for (; o < width; o++) {
        float s = add ? dst[o] : 0.0f;
        for (int q = 0; q < count; q++)
            s += row[q][o];
        dst[o] = s;
    }
}

/* zr[o] += the sum over j0 <= j < j1 of block[j][ids[j]][o], for o < width,
 * the j in increasing order (ROW_LIST positions a call: a partial sum goes
 * through zr as a float, unchanged). */
static void add_rows(float *zr, const float *block, const int32_t *ids, int j0,
                     int j1, int v, size_t width)
{
    const float *row[ROW_LIST];
    for (int jc = j0; jc < j1; jc += ROW_LIST) {
        int count = j1 - jc < ROW_LIST ? j1 - jc : ROW_LIST;
        for (int q = 0; q < count; q++)
            row[q] = block + ((size_t)(jc + q) * v + ids[jc + q]) * width;
        sum_row_list(zr, 1, row, count, width);
    }
}

/* dst[o] (from 0, or with add from dst[o]) + src[rows[0]][o] +
 * src[rows[1]][o] + ... for o < k.width, the rows in the order given (rows
 * NULL: 0 .. count-1), src[r] at src + block_row(n, h, blocked, k, r). */
static void sum_rows(float *dst, int add, const float *src, const int32_t *rows,
                     int count, int n, int h, int blocked, Block k)
{
    const float *row[ROW_LIST];
    for (int qc = 0; qc == 0 || qc < count; qc += ROW_LIST) {
        int m = count - qc < ROW_LIST ? count - qc : ROW_LIST;
        for (int q = 0; q < m; q++)
            row[q] = src + block_row(n, h, blocked, k, rows ? rows[qc + q] : qc + q);
        sum_row_list(dst, add || qc > 0, row, m, (size_t)k.width);
    }
}

/* x[i] = tanh(x[i]) for i < n. */
static void tanh_in_place(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = tanh_fast(x[i]);
}

/* This thread's hidden units of every row of z, positions g at a time;
 * then, with act, tanh of each of its blocks as soon as its sums are done. */
static void forward_hidden(float *z, int blocked, int act, const float *table,
                           const float *b0, const int32_t *ctx, int n, int t,
                           int v, int h, int g)
{
    long o0, o1;
    hidden_range(h, &o0, &o1);
    for (int b = (int)(o0 / HIDDEN_BLOCK); (long)b * HIDDEN_BLOCK < o1; b++) {
        Block k = block_of(b, h);
        const float *block = table + k.k0 * t * v;
        size_t width = (size_t)k.width;
        /* At least one pass, so that z gets b0 even with no positions. */
        for (int j0 = 0; j0 == 0 || j0 < t; j0 += g) {
            int j1 = j0 + g < t ? j0 + g : t;
            for (int r = 0; r < n; r++) {
                float *zr = z + block_row(n, h, blocked, k, r);
                if (j0 == 0) {
                    if (b0)
                        memcpy(zr, b0 + k.k0, width * sizeof *zr);
                    else
                        memset(zr, 0, width * sizeof *zr);
                }
                add_rows(zr, block, ctx + (size_t)r * t, j0, j1, v, width);
            }
        }
        /* The block's sums are done (and in this core's cache). Stored in
         * blocks, its rows are one run of memory: one loop over all of it
         * took 8 us a step of the names model on one thread, one per row
         * 14. */
        if (act && blocked)
            tanh_in_place(z + k.k0 * n, (size_t)n * width);
        for (int r = 0; act && !blocked && r < n; r++)
            tanh_in_place(z + block_row(n, h, 0, k, r), width);
    }
}

static void forward(float *z, int blocked, int act, const float *table,
                    const float *b0, const int32_t *ctx, int n, int t, int v,
                    int h)
{
    /* As few groups as keep each within the bound, of equal size. */
    size_t bytes = (size_t)t * v * h * sizeof(float);
    size_t groups = n > v ? (bytes + TABLE_GROUP_BYTES - 1) / TABLE_GROUP_BYTES : 1;
    if (groups < 1)
        groups = 1;
    int g = t > 0 ? (int)(((size_t)t + groups - 1) / groups) : 1;
    /* Each thread owns its hidden units of every row, in every group. */
    PARALLEL_CALL(parallel_worth((long)n * t * h, PARALLEL_MIN_ADDS),
                  forward_hidden(z, blocked, act, table, b0, ctx, n, t, v, h, g));
}

void table_forward(float *z, int blocked, const float *table, const float *b0,
                   const int32_t *ctx, int n, int t, int v, int h)
{
    forward(z, blocked, 0, table, b0, ctx, n, t, v, h);
}

void table_forward_tanh(float *y, int blocked, const float *table,
                        const float *b0, const int32_t *ctx, int n, int t,
                        int v, int h)
{
    forward(y, blocked, 1, table, b0, ctx, n, t, v, h);
}

size_t table_demb_parts_floats(int v, int e, int h)
{
    size_t blocks = ((size_t)h + HIDDEN_BLOCK - 1) / HIDDEN_BLOCK;
    return 2 * blocks * (size_t)v * e;
}

/* Both phases of table_backward for this thread (all of it outside a
 * parallel region): first its hidden units of every position (their rows
 * of dw0, their blocks' sums of demb), then, after a barrier, whole
 * elements of demb. */
static void backward_hidden(float *dw0, float *db0, float *demb, float *dtable,
                            float *demb_parts, const float *dz, int blocked,
                            const TableRows *ix, const float *w0, int n, int t,
                            int v, int e, int h)
{
    size_t in = (size_t)t * e, ve = (size_t)v * e;
    int blocks = (h + HIDDEN_BLOCK - 1) / HIDDEN_BLOCK;
    /* sums[b] (V, E): block b's part of demb; part[b] (V, E): one
     * position's, before it is added to sums[b]. */
    float *sums = demb_parts, *part = demb_parts + (size_t)blocks * ve;
    long o0, o1;
    hidden_range(h, &o0, &o1);
    size_t hh = (size_t)(o1 - o0);
    int b_first = (int)(o0 / HIDDEN_BLOCK);
    int b_end = (int)((o1 + HIDDEN_BLOCK - 1) / HIDDEN_BLOCK);
    if (demb && hh > 0)
        memset(sums + (size_t)b_first * ve, 0,
               (size_t)(b_end - b_first) * ve * sizeof *sums);
    /* Forward: z[r][o] = b0[o] + ..., so db0[o] += sum_r dz[r][o], rows in
     * order, as for any linear layer (layers.c). */
    for (int b = b_first; db0 && b < b_end; b++) {
        Block k = block_of(b, h);
        sum_rows(db0 + k.k0, 1, dz, NULL, n, n, h, blocked, k);
    }
    /* dj (V, hh): position j's gradient, this thread's hidden units of it,
     * reused for every j in the memory of this thread's blocks of dtable
     * (T*V*hh floats): it stays in this core's cache where it fits (M:
     * 27 x 128 floats), and its products are computed while it is there. */
    float *dj = dtable + (size_t)o0 * t * v;
    for (int j = 0; j < t && hh > 0; j++) {
        int u = ix->count[j];
        const float *embj = ix->emb + (size_t)j * ve;
        const int32_t *chars = ix->chars + (size_t)j * v;
        /* Forward: z[r] += table[j][ids[r][j]], so each table row's
         * gradient is the sum of the dz of the rows that read it, added
         * in increasing r (from zero). Summed a table row at a time in
         * registers and stored once: added row by row into dj, each row's
         * dz cost a load and a store of dj (the names model's backward
         * pass at 1 thread on a Zen 1, with d b_0 summed the same way:
         * 227 -> 210 us). */
        const int32_t *first = ix->first + (size_t)j * (v + 1);
        const int32_t *by_row = ix->by_row + (size_t)j * n;
        for (int b = b_first; b < b_end; b++) {
            Block k = block_of(b, h);
            for (int i = 0; i < u; i++)
                sum_rows(dj + (size_t)i * hh + (k.k0 - (size_t)o0), 0, dz,
                         by_row + first[i], first[i + 1] - first[i], n, h,
                         blocked, k);
        }
        /* Forward: table[j][i][o] = sum_p w0[o][jE + p] emb[chars[j][i]][p], so
         *   dw0[o][jE + p] += sum_i dtable[j][i][o] emb[chars[j][i]][p]
         * (A[o][i] = dtable[j][i][o], in dj, read transposed in place). */
        if (dw0)
            matmul_acc_serial(dw0 + (size_t)o0 * in + (size_t)j * e, in, dj, 1,
                              hh, embj, (size_t)e, 1, (int)hh, e, u);
        /* and each block b's part of demb,
         *   part[b][i][p] = sum over o in block b of dtable[j][i][o] w0[o][jE + p],
         *   sums[b][chars[j][i]] += part[b][i]. */
        for (int b = b_first; demb && b < b_end; b++) {
            Block k = block_of(b, h);
            float *pb = part + (size_t)b * ve, *sb = sums + (size_t)b * ve;
            matmul_serial(pb, (size_t)e, dj + (k.k0 - (size_t)o0), hh, 1,
                          w0 + k.k0 * in + (size_t)j * e, in, 1, u, e, k.width);
            for (int i = 0; i < u; i++) {
                float *dst = sb + (size_t)chars[i] * e;
                const float *src = pb + (size_t)i * e;
                for (int p = 0; p < e; p++)
                    dst[p] += src[p];
            }
        }
    }
#pragma omp barrier
    /* (every block's sum is complete)
     *   demb += sums[0] + sums[1] + ..., added in that order
     * Each thread owns a range of demb's elements, cut at multiples of 16
     * floats, so two threads never write one cache line. A character no
     * row read gets zeros. */
    if (demb) {
        long i0, i1;
        thread_range((long)ve, 16, &i0, &i1);
        for (int b = 0; b < blocks; b++) {
            const float *sb = sums + (size_t)b * ve;
            for (long k = i0; k < i1; k++)
                demb[k] += sb[k];
        }
    }
}

void table_backward(float *dw0, float *db0, float *demb, float *dtable,
                    float *demb_parts, const float *dz, int blocked,
                    const TableRows *ix, const float *w0, int n, int t, int v,
                    int e, int h)
{
    PARALLEL_CALL(parallel_worth((long)t * v * e * h, PARALLEL_MIN_MACS),
                  backward_hidden(dw0, db0, demb, dtable, demb_parts, dz,
                                  blocked, ix, w0, n, t, v, e, h));
}
