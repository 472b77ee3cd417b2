/* matmul.h - the one fast kernel behind every linear layer: C += A B with
 * strided A and B, so the same code computes y = x W^T, dx = dy W and
 * dW = dy^T x without transposing anything in memory. Deterministic: each
 * element of C is written by one thread, summing in an order that depends
 * only on the sizes, never on the thread count. */
#ifndef TINYCHAR_MATMUL_H
#define TINYCHAR_MATMUL_H

#include <stddef.h>

/* C (M, N) += A (M, K) B (K, N), where
 *   A[i][p] = a[i * a_row + p * a_col]
 *   B[p][j] = b[p * b_row + j * b_col]
 *   C[i][j] = c[i * ldc + j]
 * Each C element receives, for each block of KC consecutive p, the sum over
 * that block in increasing p. Called inside a parallel region, by every
 * thread of it with the same arguments: they share the work, and C is
 * complete when the call returns (common/parallel.h). */
void matmul_acc(float *c, size_t ldc, const float *a, size_t a_row,
                size_t a_col, const float *b, size_t b_row, size_t b_col,
                int m, int n, int k);

/* matmul_acc with C shared among the threads by columns whenever C has
 * at least one panel of the micro-kernel's width (32 floats with AVX-512)
 * per thread (each thread's columns whole panels, in thread order), for
 * a C that the caller's next pass reads by columns. The same bits. */
void matmul_acc_cols(float *c, size_t ldc, const float *a, size_t a_row,
                     size_t a_col, const float *b, size_t b_row, size_t b_col,
                     int m, int n, int k);

/* The same product on the calling thread only, for callers that run
 * several products side by side inside their own parallel region (each
 * thread owning its products' C). Gives the same bits as matmul_acc. Uses
 * about 410 KB of the calling thread's stack. */
void matmul_acc_serial(float *c, size_t ldc, const float *a, size_t a_row,
                       size_t a_col, const float *b, size_t b_row, size_t b_col,
                       int m, int n, int k);

/* C = A B on the calling thread: the values matmul_acc_serial gives into a
 * C of zeros, without reading C (the first block of the sum is stored, not
 * added; so a block sum that rounds to -0 stays -0, where 0 + -0 is +0). */
void matmul_serial(float *c, size_t ldc, const float *a, size_t a_row,
                   size_t a_col, const float *b, size_t b_row, size_t b_col,
                   int m, int n, int k);

/* y (OUT) += W x for one input row x (IN), W (OUT, IN) row-major: the
 * matrix-vector product of generating one character at a time. */
void matvec_acc(float *y, const float *x, const float *w, int in, int out);

/* The plain triple loop computing the same thing, for tests and as the
 * obviously-right definition. */
void matmul_acc_ref(float *c, size_t ldc, const float *a, size_t a_row,
                    size_t a_col, const float *b, size_t b_row, size_t b_col,
                    int m, int n, int k);

#endif
