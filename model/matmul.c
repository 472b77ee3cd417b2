/* matmul.c - a packed, register-blocked matrix product in the style of BLIS:
 * for each block of KC steps of the sum and each panel of NR columns of B,
 * copy the panel into a contiguous buffer (zero-padded), then for each block
 * of MR rows of A copy those too, and run a micro-kernel that keeps an
 * MR x NR tile of C in vector registers. GCC vector extensions let the
 * compiler pick AVX-512, AVX2 or SSE for the tile without intrinsics. */
#include "matmul.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__)
#define VW 16            /* floats per vector register */
#else
#define VW 8
#endif
#define MR 6             /* rows of the register tile */
#define NR (2 * VW)      /* columns of the register tile: two vectors */
#define KC 128           /* steps of the sum per packed block */
#define NC (8 * NR)      /* columns of B packed at once (a multiple of NR) */

/* aligned(4): loads and stores through this type may be unaligned. */
typedef float vf __attribute__((vector_size(VW * sizeof(float)), aligned(4)));

/* ct (MR, NR) = sum over p < kc of ap[p] (MR values) times bp[p] (NR values).
 * The tile starts from zero, so every element is its sum over p in order.
 * Twelve named accumulators (MR rows x 2 vectors) stay in registers; an array
 * indexed in a loop would be kept in memory by the compiler at -O2. */
static void micro_kernel(float ct[MR][NR], const float *ap, const float *bp, int kc)
{
    vf c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    vf c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int p = 0; p < kc; p++, ap += MR, bp += NR) {
        vf b0 = *(const vf *)bp, b1 = *(const vf *)(bp + VW);
#define ROW(i)                  \
        do {                    \
            float s = ap[i];    \
            c##i##0 += s * b0;  \
            c##i##1 += s * b1;  \
        } while (0)
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
#undef ROW
    }
#define STORE(i)                         \
    do {                                 \
        *(vf *)&ct[i][0] = c##i##0;      \
        *(vf *)&ct[i][VW] = c##i##1;     \
    } while (0)
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
#undef STORE
}

/* bp: the columns j0 .. j0+nc of B[p0 .. p0+kc), as consecutive panels of
 * (kc, NR) values, zero-padded past nc. */
static void pack_b(float *bp, const float *b, size_t b_row, size_t b_col,
                   int p0, int kc, int j0, int nc)
{
    for (int q = 0; q < nc; q += NR) {
        float *panel = bp + (size_t)q * kc;
        int nr = nc - q < NR ? nc - q : NR;
        if (nr < NR)
            memset(panel, 0, (size_t)kc * NR * sizeof *panel);
        if (b_col == 1) {
            for (int p = 0; p < kc; p++)
                memcpy(panel + (size_t)p * NR, b + (size_t)(p0 + p) * b_row + j0 + q,
                       (size_t)nr * sizeof *panel);
        } else {
            /* B is a transposed matrix (b_row == 1 in practice): read each
             * column as the contiguous run it is in the source. */
            for (int j = 0; j < nr; j++) {
                const float *src = b + (size_t)(j0 + q + j) * b_col + (size_t)p0 * b_row;
                for (int p = 0; p < kc; p++)
                    panel[(size_t)p * NR + j] = src[(size_t)p * b_row];
            }
        }
    }
}

/* ap (kc, MR) = A[i0 .. i0+mr)[p0 .. p0+kc) transposed, zero beyond mr. */
static void pack_a(float *ap, const float *a, size_t a_row, size_t a_col,
                   int i0, int mr, int p0, int kc)
{
    if (mr < MR)
        memset(ap, 0, (size_t)kc * MR * sizeof *ap);
    for (int i = 0; i < mr; i++) {
        const float *src = a + (size_t)(i0 + i) * a_row + (size_t)p0 * a_col;
        for (int p = 0; p < kc; p++)
            ap[(size_t)p * MR + i] = src[(size_t)p * a_col];
    }
}

void matmul_acc(float *c, size_t ldc, const float *a, size_t a_row,
                size_t a_col, const float *b, size_t b_row, size_t b_col,
                int m, int n, int k)
{
    if (m <= 0 || n <= 0 || k <= 0)
        return;
    int row_blocks = (m + MR - 1) / MR, col_panels = (n + NR - 1) / NR;
    /* Share out whole row blocks, or whole column panels when there are too
     * few row blocks to go round. Either way a thread owns its C elements. */
#pragma omp parallel
    {
        int nt = 1, t = 0;
#ifdef _OPENMP
        nt = omp_get_num_threads();
        t = omp_get_thread_num();
#endif
        int split_rows = row_blocks >= 2 * nt || row_blocks >= col_panels;
        int units = split_rows ? row_blocks : col_panels;
        int u0 = (int)((long)units * t / nt), u1 = (int)((long)units * (t + 1) / nt);
        int rb0 = split_rows ? u0 : 0, rb1 = split_rows ? u1 : row_blocks;
        int j_begin = split_rows ? 0 : u0 * NR;
        int j_end = split_rows ? n : (u1 * NR < n ? u1 * NR : n);
        float bp[KC * NC] __attribute__((aligned(64)));
        float ap[KC * MR] __attribute__((aligned(64)));
        float ct[MR][NR] __attribute__((aligned(64)));
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC;
            for (int j0 = j_begin; j0 < j_end; j0 += NC) {
                int nc = j_end - j0 < NC ? j_end - j0 : NC;
                pack_b(bp, b, b_row, b_col, p0, kc, j0, nc);
                for (int rb = rb0; rb < rb1; rb++) {
                    int i0 = rb * MR, mr = m - i0 < MR ? m - i0 : MR;
                    pack_a(ap, a, a_row, a_col, i0, mr, p0, kc);
                    for (int q = 0; q < nc; q += NR) {
                        int nr = nc - q < NR ? nc - q : NR;
                        micro_kernel(ct, ap, bp + (size_t)q * kc, kc);
                        for (int i = 0; i < mr; i++) {
                            float *cr = c + (size_t)(i0 + i) * ldc + j0 + q;
                            for (int j = 0; j < nr; j++)
                                cr[j] += ct[i][j];
                        }
                    }
                }
            }
        }
    }
}

/* Sum of the lanes of v, in lane order. */
static float hsum(vf v)
{
    float s = 0.0f;
    for (int l = 0; l < VW; l++)
        s += v[l];
    return s;
}

void matvec_acc(float *y, const float *x, const float *w, int in, int out)
{
    /* Four outputs at a time: four independent chains of vector FMAs hide
     * the FMA latency that a single running sum would wait on. Every output
     * sums lane l over i = l (mod VW), then the lanes in order, then the
     * tail, whichever branch computes it. */
    int o = 0;
    for (; o + 4 <= out; o += 4) {
        const float *w0 = w + (size_t)o * in, *w1 = w0 + in;
        const float *w2 = w1 + in, *w3 = w2 + in;
        vf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        int i = 0;
        for (; i + VW <= in; i += VW) {
            vf xv = *(const vf *)(x + i);
            a0 += xv * *(const vf *)(w0 + i);
            a1 += xv * *(const vf *)(w1 + i);
            a2 += xv * *(const vf *)(w2 + i);
            a3 += xv * *(const vf *)(w3 + i);
        }
        float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
        for (; i < in; i++) {
            s0 += x[i] * w0[i];
            s1 += x[i] * w1[i];
            s2 += x[i] * w2[i];
            s3 += x[i] * w3[i];
        }
        y[o] += s0;
        y[o + 1] += s1;
        y[o + 2] += s2;
        y[o + 3] += s3;
    }
    for (; o < out; o++) {
        const float *w0 = w + (size_t)o * in;
        vf a0 = {0};
        int i = 0;
        for (; i + VW <= in; i += VW)
            a0 += *(const vf *)(x + i) * *(const vf *)(w0 + i);
        float s0 = hsum(a0);
        for (; i < in; i++)
            s0 += x[i] * w0[i];
        y[o] += s0;
    }
}

void matmul_acc_ref(float *c, size_t ldc, const float *a, size_t a_row,
                    size_t a_col, const float *b, size_t b_row, size_t b_col,
                    int m, int n, int k)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float sum = 0.0f;
            for (int p = 0; p < k; p++)
                sum += a[(size_t)i * a_row + (size_t)p * a_col] *
                       b[(size_t)p * b_row + (size_t)j * b_col];
            c[(size_t)i * ldc + j] += sum;
        }
}
