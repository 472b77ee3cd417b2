/* layers.h - the layers of the model, each as a forward and a backward
 * function side by side. Shapes are row-major; letters follow the legend in
 * model.h (N rows of a batch, IN/OUT features, T context, E embedding, V vocab).
 *
 * Conventions: outputs first, then inputs, then sizes. A backward function
 * takes the input-gradients first, then the upstream gradient, then what the
 * forward pass produced, and ADDS into its gradient outputs (+=), so the
 * caller zeroes them once per step; any of those may be NULL. The two
 * elementwise backward passes (tanh, the loss) are the exception: they WRITE
 * (=) the gradient of their input, an activation that nothing else adds to,
 * which saves zeroing it first. */
#ifndef TINYCHAR_LAYERS_H
#define TINYCHAR_LAYERS_H

#include <stdint.h>

/* The embedding lookup: row n of x is the T embeddings of its context ids,
 * concatenated.   x (N, T*E)   emb (V, E)   ctx (N, T) */
void embedding_forward(float *x, const float *emb, const int32_t *ctx,
                       int n, int t, int e);
/* demb[ctx[n][j]] += dx[n][j*E .. j*E+E): each id's row collects the gradient
 * of every place it was looked up (a scatter-add). */
void embedding_backward(float *demb, const float *dx, const int32_t *ctx,
                        int n, int t, int e);

/* The linear layer: y = x W^T + b.
 *   x (N, IN)   w (OUT, IN)   b (OUT) or NULL   y (N, OUT) */
void linear_forward(float *y, const float *x, const float *w, const float *b,
                    int n, int in, int out);
/* Adds into dx (N, IN), dw (OUT, IN), db (OUT):
 *   dx = dy W        dw = dy^T x        db = sum over rows of dy
 * Threads own columns of dx where it is wide enough, as in tanh_backward. */
void linear_backward(float *dx, float *dw, float *db, const float *dy,
                     const float *x, const float *w, int n, int in, int out);

/* The activation: y = tanh(x), elementwise (y may be x).
 *   x, y (N, H): threads own ranges of columns (hidden units), as in the
 *   first layer's table passes and in dx (the same ones where H splits
 *   evenly into blocks), so an activation mostly stays in the cache of
 *   the core that computed it. */
void tanh_forward(float *y, const float *x, int n, int h);
/* dx = dy * (1 - y^2), since d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2.
 * Writes dx (not +=); dx may be dy.   dx, dy, y (N, H) */
void tanh_backward(float *dx, const float *dy, const float *y, int n, int h);

/* The output layer of a one-layer model whose first layer goes by table
 * (model.h), its input x (N, IN) = tanh(z) stored in blocks of hidden
 * units (blocks.h). Each thread reads only its own blocks of x (the
 * others' would have to come from their cores' caches): it computes their
 * blocks of dz and columns of dw, and their parts of y.
 *   linear_forward_blocks: linear_forward, y (N, OUT) row-major, as
 *   y[r] = b + parts[0][r] + parts[1][r] + ..., parts[bk] (N, OUT) block
 *   bk's part of x W^T (scratch of blocks * N * OUT floats).
 *   linear_tanh_backward_blocks: linear_backward and tanh_backward in one
 *   pass: dz = (dy W) * (1 - x^2), the gradient of tanh's input z (in
 *   blocks), WRITTEN (=); dw and db added into as in linear_backward. */
void linear_forward_blocks(float *y, float *parts, const float *x,
                           const float *w, const float *b, int n, int in, int out);
void linear_tanh_backward_blocks(float *dz, float *dw, float *db,
                                 const float *dy, const float *x, const float *w,
                                 int n, int in, int out);

/* The loss: softmax then cross-entropy against the target id of each row.
 *   probs[n][j] = exp(logits[n][j]) / sum_k exp(logits[n][k])
 *   loss[n]     = -log probs[n][target[n]]
 * logits (N, V)   targets (N)   probs (N, V) (may be logits)   loss (N) */
void softmax_cross_entropy_forward(float *loss, float *probs,
                                   const float *logits, const int32_t *targets,
                                   int n, int v);
/* For the mean loss L = scale * sum_n loss[n] (scale = 1/N):
 *   dlogits[n][j] = scale * (probs[n][j] - [j == target[n]])
 * Writes dlogits (not +=); dlogits may be probs. */
void softmax_cross_entropy_backward(float *dlogits, const float *probs,
                                    const int32_t *targets, float scale,
                                    int n, int v);

#endif
