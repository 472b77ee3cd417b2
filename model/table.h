/* table.h - the first hidden layer computed per character instead of per
 * row. For one row the first layer's pre-activation is
 *     z = b_0 + W_0 x = b_0 + sum over t of W_0[:, tE:(t+1)E] emb[ctx_t],
 * so it depends on each context character only through one column block of
 * W_0 times one embedding row, and there are just T*V such products:
 *     table[t][c] = W_0[:, tE:(t+1)E] emb[c]          (H values each).
 * Building the table costs T*V*E*H multiply-adds where the batch costs
 * B*T*E*H, so it is the cheaper route whenever V < B (names: V 27, B 256),
 * and for generation it is built once and every character is T row
 * additions. The backward pass takes the same route in reverse. It is the
 * same model with the same gradients, up to float rounding; tests compare
 * it with the direct route (embedding_forward then linear_forward).
 *
 * A training step builds only the rows its batch reads (TableRows).
 *
 * The table's hidden units are stored in blocks of HIDDEN_BLOCK (the last
 * may be narrower, blocks.h), each block a (T, V, width) array of its own,
 * one after another: table_at says where table[t][c][o] is. Threads share
 * out the table's passes by these blocks (blocks.h and table.c say why).
 *
 * Shapes (legend in model.h): table (T, V, H) in that layout; dtable the
 * same memory (table_backward); emb (V, E);
 * demb_parts (table_demb_parts_floats); w0 (H, T*E); ctx (N, T);
 * z, dz (N, H), row-major or (blocked) stored in blocks (blocks.h). */
#ifndef TINYCHAR_TABLE_H
#define TINYCHAR_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "blocks.h"

/* Where table[j][c][o] is, in a table of T positions, V characters and H
 * hidden units: block b = o / HIDDEN_BLOCK starts after b full blocks. */
static inline size_t table_at(int t, int v, int h, int j, int c, int o)
{
    Block k = block_of(o / HIDDEN_BLOCK, h);
    return k.k0 * t * v + ((size_t)j * v + c) * k.width + ((size_t)o - k.k0);
}

/* The table rows a batch reads. Training builds only those: at position t
 * a batch of B rows uses at most min(B, V) characters (names, B 64, T 8:
 * about 100 of the 216 (t, c) pairs), and a table row no row reads has a
 * zero gradient, so leaving it out changes nothing but the work. Position
 * t's rows are its characters that occur in the batch, in increasing
 * order, stored as rows 0 .. count[t]-1 of table[t]. */
typedef struct {
    int32_t *count;  /* (T) rows built at each position */
    int32_t *chars;  /* (T, V) chars[t][i]: the character of row i */
    int32_t *ids;    /* (N, T) ids[r][t]: the row of table[t] that batch row
                      * r reads, the one of character ctx[r][t]
                      * (table_forward's ids) */
    float *emb;      /* (T, V, E) emb[t][i] = the embedding of chars[t][i] */
    int32_t *by_row; /* (T, N) by_row[t]: the batch rows, grouped by the row
                      * of table[t] they read, in increasing order within
                      * a group; group i is by_row[t][first[t][i] ..
                      * first[t][i + 1]) */
    int32_t *first;  /* (T, V + 1) */
    int32_t *slot;   /* (V) scratch: a character's row at one position */
} TableRows;

/* Allocates for batches of up to max_batch rows; free is safe on a zeroed
 * or half-built struct. */
int table_rows_init(TableRows *ix, int t, int v, int e, int max_batch,
                    Error *err);
void table_rows_free(TableRows *ix);

/* Every row, for generation: table[t][c][h] = sum_e w0[h][t*E + e] emb[c][e] */
void table_build(float *table, const float *emb, const float *w0,
                 int t, int v, int e, int h);

/* The rows the batch ctx (N, T) reads (every id in 0 .. V-1): fills ix
 * from ctx and emb, then
 *     table[t][i][h] = sum_e w0[h][t*E + e] emb[chars[t][i]][e]
 * for the i < count[t]. table_forward then takes ix->ids as its ids. */
void table_build_rows(float *table, TableRows *ix, const int32_t *ctx,
                      const float *emb, const float *w0, int n, int t, int v,
                      int e, int h);

/* z[r] = b0 + sum_t table[t][ids[r][t]], the t in increasing order.
 * b0 (H) or NULL; ids (N, T) are the characters (a table from table_build)
 * or a TableRows' ids (from table_build_rows). */
void table_forward(float *z, int blocked, const float *table, const float *b0,
                   const int32_t *ids, int n, int t, int v, int h);
/* The first hidden layer's output: table_forward, then y = tanh(z) in
 * place, each thread's hidden units as soon as their sums are done, while
 * they are in its cache (the values of layers.h's tanh_forward). */
void table_forward_tanh(float *y, int blocked, const float *table,
                        const float *b0, const int32_t *ids, int n, int t,
                        int v, int h);

/* Floats of table_backward's demb_parts: two (V, E) arrays for each block
 * of hidden units (table.c). */
size_t table_demb_parts_floats(int v, int e, int h);

/* Backward of table_build_rows composed with table_forward, adding into
 * dw0 (H, T*E), db0 (H) and demb (V, E); any may be NULL. ix is what
 * table_build_rows filled for this batch. dtable (T, V, H) and demb_parts
 * are scratch, their contents afterwards unspecified; the table itself is
 * never read, so dtable may be the table's own memory (model_backward
 * passes it). With dtable[t][i] = d loss / d table[t][i], for the rows
 * i < count[t] alone (the others are read by no row, so their gradient is
 * zero):
 *     db0 += sum of dz's rows, in row order
 *     dtable[t][i] = sum of dz[r] over the batch rows r with ids[r][t] = i
 *     dw0[:, tE:(t+1)E] += dtable[t]^T ix->emb[t]
 *     demb[chars[t][i]] += dtable[t][i] w0[:, tE:(t+1)E]
 * The last sum runs over the hidden units in blocks of HIDDEN_BLOCK: each
 * block's part, summed over t in increasing order, then the blocks' sums
 * added to demb in block order. Each thread computes its hidden units of
 * the positions t one at a time in one (V, its hidden units) slice of the
 * scratch, reused for every t. */
void table_backward(float *dw0, float *db0, float *demb, float *dtable,
                    float *demb_parts, const float *dz, int blocked,
                    const TableRows *ix, const float *w0, int n, int t, int v,
                    int e, int h);

#endif
