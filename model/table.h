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
 * Shapes (legend in model.h): table, dtable (T, V, H); emb (V, E);
 * demb_parts (T, V, E); w0 (H, T*E); ctx (N, T); z, dz (N, H). */
#ifndef TINYCHAR_TABLE_H
#define TINYCHAR_TABLE_H

#include <stdint.h>

/* table[t][c][h] = sum_e w0[h][t*E + e] emb[c][e] */
void table_build(float *table, const float *emb, const float *w0,
                 int t, int v, int e, int h);

/* z[r] = b0 + sum_t table[t][ctx[r][t]], the t in increasing order.
 * b0 (H) or NULL. */
void table_forward(float *z, const float *table, const float *b0,
                   const int32_t *ctx, int n, int t, int v, int h);

/* Backward of table_build composed with table_forward, adding into dw0
 * (H, T*E) and demb (V, E); either may be NULL. dtable (T, V, H) and
 * demb_parts (T, V, E) are scratch, their contents afterwards unspecified;
 * the table itself is never read, so dtable may be the table's own memory
 * (model_backward passes it). With dtable[t] = d loss / d table[t]:
 *     dtable[t][c] = sum of dz[r] over the rows r with ctx[r][t] = c
 *     dw0[:, tE:(t+1)E] += dtable[t]^T emb
 *     demb_parts[t] = dtable[t] w0[:, tE:(t+1)E],  demb += sum over t of them
 * Each thread computes its positions t one at a time in one (V, H) slice
 * of the scratch, which stays in its core's cache (the parts of demb are
 * computed while dtable[t] is there); the parts are then added in
 * increasing t. The bias gradient (the sum of dz's rows) is the caller's,
 * as for any linear layer. */
void table_backward(float *dw0, float *demb, float *dtable, float *demb_parts,
                    const float *dz, const int32_t *ctx, const float *emb,
                    const float *w0, int n, int t, int v, int e, int h);

#endif
