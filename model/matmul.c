/* matmul.c - a packed, register-blocked matrix product in the style of BLIS:
 * for each block of NC columns and KC steps of the sum, each thread copies
 * the part of B's block it needs into contiguous (KC, NR) panels
 * (zero-padded), then, for blocks of MC of its rows of A, runs a
 * micro-kernel that keeps an MR x NR tile of C in vector registers. A is
 * read in place when that is cheap (contiguous rows, or small), else first
 * copied into (KC, MR) panels. The B panel a micro-kernel reads stays in L1
 * while it sweeps the rows of the A block (in L2), so neither operand is
 * re-read from memory. GCC vector extensions let the compiler pick AVX-512,
 * AVX2 or SSE for the tile without intrinsics. */
#include "matmul.h"

#include <assert.h>
#include <string.h>

#include "../common/parallel.h"

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define VW 16            /* floats per vector register */
#elif defined(__AVX__)
#define VW 8
#else
#define VW 4             /* SSE2: 16 registers hold the 12 accumulators */
#endif
#define MR 6             /* rows of the register tile */
#define NR (2 * VW)      /* columns of the register tile: two vectors */
#define KC 256           /* steps of the sum per packed block */
#define MC 144           /* rows of A per block of a thread (MR multiple) */
#define NC 1024          /* columns of B packed at once, shared (NR multiple) */
/* A is read in place, not packed, when its rows are contiguous (a_col 1)
 * or all of the strided A a block reads fits in L1 (K * a_col floats at
 * most this many): packing then costs more than it saves (it was a fifth
 * of the time of the names model's small products). A transposed A spread
 * over more memory is packed: one contiguous stream instead of MR values
 * from each of K distant lines. */
#define A_IN_PLACE_SPAN 8192
/* B_IN_PLACE: a panel of B NR columns wide is read where it is, not
 * copied, when B's rows are contiguous and the panel stays in L1 while the
 * micro-kernels sweep the rows of A: its K rows span at most
 * B_IN_PLACE_SPAN floats (128 KB), and they fit the ways of the L1 sets
 * they fall in (b_in_l1). The copy was most of the time of a small
 * product's packing: on a Zen 1, the names model's d h and d W_out
 * products took 14.2 and 15.1 us and take 13.9 and 14.4, its d emb parts
 * (12 x 24 by 128, B's rows 192 floats apart) 3.24 and 2.75. Only full
 * panels: a narrower one is copied and zero-padded, since the micro-kernel
 * reads NR columns. */
#define B_IN_PLACE_SPAN 32768
/* The L1 data cache assumed: 64 sets of 64-byte lines, 8 ways (32 KB; the
 * cores here have 8 or 12 ways). */
#define L1_SETS 64
#define L1_WAYS 8

/* Whether k rows of one line each, b_row floats apart, fit in L1 at once:
 * rows a multiple of 16 floats apart fall in 64 / gcd(stride in lines, 64)
 * sets (one set for a stride of 4 KB), at most L1_WAYS rows in each; rows
 * at any other stride drift across the sets. */
static int b_in_l1(size_t k, size_t b_row)
{
    if (k * b_row > B_IN_PLACE_SPAN)
        return 0;
    if (b_row % 16)
        return 1;
    size_t stride = b_row / 16 % L1_SETS, sets = L1_SETS;
    if (stride == 0)
        sets = 1;
    else
        while (stride % 2 == 0 && sets > 1) {
            stride /= 2;
            sets /= 2;
        }
    return k <= sets * L1_WAYS;
}

/* Below this many multiply-adds a product called outside a parallel region
 * runs on the calling thread: the start and barriers of a region would
 * cost more than they save. (Inside one, every product is shared out.) */
#define PARALLEL_MIN_MACS (1L << 20)

/* aligned(4): loads and stores through this type may be unaligned. */
typedef float vf __attribute__((vector_size(VW * sizeof(float)), aligned(4)));

/* Where a micro-kernel reads its MR rows of A: element (i, p) at
 * a[off[i] + p * step]. For a packed panel off[i] = i and step = MR; for A
 * read in place off[i] = i * a_row and step = a_col, with the rows of an
 * edge tile past the end of A pointed at the tile's own first row (their
 * sums are never stored). */
typedef struct {
    const float *a;
    size_t off[MR];
    size_t step;
} APanel;

/* C tile (mr, nr) at c (row stride ldc) += sum over p < kc of A[.][p] (MR
 * values, from ap) times bp[p] (NR values), or = that sum if store (C is
 * then never read). The tile sum starts from zero and runs in increasing
 * p, then is added to (or stored in) C once, so every element gets its
 * block sum in an order that depends only on the sizes, wherever A is read
 * from. Twelve named accumulators (MR rows x 2 vectors) stay in registers;
 * an array indexed in a loop would be kept in memory by the compiler at
 * -O2. */
static inline __attribute__((always_inline)) void
micro_kernel_body(float *c, size_t ldc, const APanel *ap, const float *bp,
                  size_t bstep, int kc, int mr, int nr, size_t step, int store)
{
    /* C is read and written only after the sum: start fetching it now, so
     * the miss overlaps the FMAs instead of following them. */
    for (int i = 0; i < mr && !store; i++) {
        __builtin_prefetch(c + (size_t)i * ldc, 1);
        __builtin_prefetch(c + (size_t)i * ldc + NR - 1, 1);
    }
    vf c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    vf c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    const float *a0 = ap->a + ap->off[0], *a1 = ap->a + ap->off[1];
    const float *a2 = ap->a + ap->off[2], *a3 = ap->a + ap->off[3];
    const float *a4 = ap->a + ap->off[4], *a5 = ap->a + ap->off[5];
    for (int p = 0; p < kc; p++, bp += bstep) {
        vf b0 = *(const vf *)bp, b1 = *(const vf *)(bp + VW);
        size_t o = (size_t)p * step;
#define ROW(i)                  \
        do {                    \
            float s = a##i[o];  \
            c##i##0 += s * b0;  \
            c##i##1 += s * b1;  \
        } while (0)
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
#undef ROW
    }
    if (mr == MR && nr == NR) {
#define OUT(i)                                                \
        do {                                                  \
            vf *r = (vf *)(c + (size_t)(i) * ldc);            \
            r[0] = store ? c##i##0 : r[0] + c##i##0;          \
            r[1] = store ? c##i##1 : r[1] + c##i##1;          \
        } while (0)
        OUT(0); OUT(1); OUT(2); OUT(3); OUT(4); OUT(5);
#undef OUT
        return;
    }
#ifdef __AVX512F__
    /* An edge tile: the rows that exist, each through two masked vectors
     * (the elements past nr neither read nor written). */
    __mmask16 m0 = nr >= VW ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr > VW ? (__mmask16)((1u << (nr - VW)) - 1) : 0;
#define OUT(i)                                                                \
    do {                                                                      \
        if (i < mr) {                                                         \
            float *r = c + (size_t)(i) * ldc;                                 \
            __m512 x0 = (__m512)c##i##0, x1 = (__m512)c##i##1;                \
            if (!store) {                                                     \
                x0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, r), x0);         \
                x1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, r + VW), x1);    \
            }                                                                 \
            _mm512_mask_storeu_ps(r, m0, x0);                                 \
            _mm512_mask_storeu_ps(r + VW, m1, x1);                            \
        }                                                                     \
    } while (0)
    OUT(0); OUT(1); OUT(2); OUT(3); OUT(4); OUT(5);
#undef OUT
    return;
#endif
    /* An edge tile: through memory, adding (or storing) only the elements
     * that exist. */
    float ct[MR][NR] __attribute__((aligned(64)));
#define STORE(i)                         \
    do {                                 \
        *(vf *)&ct[i][0] = c##i##0;      \
        *(vf *)&ct[i][VW] = c##i##1;     \
    } while (0)
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
#undef STORE
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        if (store) {
            memcpy(ci, ct[i], (size_t)nr * sizeof *ci);
            continue;
        }
        int j = 0;
        if (nr >= VW) {
            *(vf *)ci += *(const vf *)&ct[i][0];
            j = VW;
            if (nr == NR) {
                *(vf *)(ci + VW) += *(const vf *)&ct[i][VW];
                continue;
            }
        }
        for (; j < nr; j++)
            ci[j] += ct[i][j];
    }
}

/* Three copies of the body: for packed panels the steps are the constants
 * MR and NR, which the compiler folds into the addressing. B's rows are
 * bstep floats apart: NR in a packed panel, B's own row stride in place. */
static void micro_kernel(float *c, size_t ldc, const APanel *ap, const float *bp,
                         size_t bstep, int kc, int mr, int nr, int store)
{
    if (bstep != NR)
        micro_kernel_body(c, ldc, ap, bp, bstep, kc, mr, nr, ap->step, store);
    else if (ap->step == MR)
        micro_kernel_body(c, ldc, ap, bp, NR, kc, mr, nr, MR, store);
    else
        micro_kernel_body(c, ldc, ap, bp, NR, kc, mr, nr, ap->step, store);
}

/* The same for a panel at most VW wide (the last of an odd width): one
 * vector per row, so twice the rows (two full tiles of A, pa and pb) keep twelve
 * accumulators busy, and each C element gets the same sum, in the same
 * order, as from micro_kernel. */
static inline __attribute__((always_inline)) void
micro_kernel_narrow_body(float *c, size_t ldc, const APanel *pa, const APanel *pb,
                         const float *bp, size_t bstep, int kc, int nr, size_t step,
                         int store)
{
    for (int i = 0; i < 2 * MR && !store; i++)
        __builtin_prefetch(c + (size_t)i * ldc, 1);
    vf c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    vf d0 = {0}, d1 = {0}, d2 = {0}, d3 = {0}, d4 = {0}, d5 = {0};
    const float *x0 = pa->a + pa->off[0], *x1 = pa->a + pa->off[1];
    const float *x2 = pa->a + pa->off[2], *x3 = pa->a + pa->off[3];
    const float *x4 = pa->a + pa->off[4], *x5 = pa->a + pa->off[5];
    const float *y0 = pb->a + pb->off[0], *y1 = pb->a + pb->off[1];
    const float *y2 = pb->a + pb->off[2], *y3 = pb->a + pb->off[3];
    const float *y4 = pb->a + pb->off[4], *y5 = pb->a + pb->off[5];
    for (int p = 0; p < kc; p++, bp += bstep) {
        vf b0 = *(const vf *)bp;
        size_t o = (size_t)p * step;
#define ROW(i)                     \
        do {                       \
            c##i += x##i[o] * b0;  \
            d##i += y##i[o] * b0;  \
        } while (0)
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
#undef ROW
    }
    float ct[2 * MR][VW] __attribute__((aligned(64)));
#define STORE(i)                         \
    do {                                 \
        *(vf *)&ct[i][0] = c##i;         \
        *(vf *)&ct[MR + i][0] = d##i;    \
    } while (0)
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
#undef STORE
    for (int i = 0; i < 2 * MR; i++) {
        float *ci = c + (size_t)i * ldc;
        if (store) {
            memcpy(ci, ct[i], (size_t)nr * sizeof *ci);
            continue;
        }
        if (nr == VW) {
            *(vf *)ci += *(const vf *)&ct[i][0];
            continue;
        }
        for (int j = 0; j < nr; j++)
            ci[j] += ct[i][j];
    }
}

static void micro_kernel_narrow(float *c, size_t ldc, const APanel *pa,
                                const APanel *pb, const float *bp, int kc, int nr,
                                int store)
{
    if (pa->step == MR)
        micro_kernel_narrow_body(c, ldc, pa, pb, bp, NR, kc, nr, MR, store);
    else
        micro_kernel_narrow_body(c, ldc, pa, pb, bp, NR, kc, nr, pa->step, store);
}

/* The lane permutations of a VW x VW transpose by perfect shuffles: with
 * rows r, log2(VW) rounds of r'[2i] = lo(r[i], r[i + VW/2]) and
 * r'[2i+1] = hi(r[i], r[i + VW/2]), where lo interleaves the first halves of
 * two vectors and hi the second halves, turn rows into columns. */
typedef int vi __attribute__((vector_size(VW * sizeof(int))));
#if VW == 16
#define SHUF_LO {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23}
#define SHUF_HI {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31}
#elif VW == 8
#define SHUF_LO {0, 8, 1, 9, 2, 10, 3, 11}
#define SHUF_HI {4, 12, 5, 13, 6, 14, 7, 15}
#else
#define SHUF_LO {0, 4, 1, 5}
#define SHUF_HI {2, 6, 3, 7}
#endif

/* dst[p][j] = src[j][p] for p, j < VW: the rows src + j * ld (VW floats
 * each) become the rows dst + p * NR. Pure data movement, no arithmetic. */
#if VW == 8 && defined(__AVX__)
/* With AVX, the classic way: each register gets the same half of two rows
 * four apart (row j's and row j+4's first halves, by a 128-bit load and an
 * insert from memory), and a 4 x 4 transpose within each 128-bit lane
 * (unpacks and shuffles) then makes whole columns. The perfect shuffles
 * below cross the lanes in every round, each a slow instruction on AMD's
 * Zen 1 (vperm2f128, 8 micro-ops): there the names model's table product
 * (12 x 128 by 24, B transposed) took 3.74 us and takes 3.35, and the
 * step's forward pass on one thread 188 -> 181 us. */
static void transpose_block(float *dst, const float *src, size_t ld)
{
    __m256 t[8];
    for (int j = 0; j < 4; j++) {
        const float *lo = src + (size_t)j * ld, *hi = src + (size_t)(j + 4) * ld;
        t[j] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)),
                                    _mm_loadu_ps(hi), 1);
        t[j + 4] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo + 4)),
                                        _mm_loadu_ps(hi + 4), 1);
    }
    /* Columns 0-3 from t[0..3] (the first halves), 4-7 from t[4..7]. */
    for (int g = 0; g < 8; g += 4) {
        __m256 u0 = _mm256_unpacklo_ps(t[g], t[g + 1]);
        __m256 u1 = _mm256_unpackhi_ps(t[g], t[g + 1]);
        __m256 u2 = _mm256_unpacklo_ps(t[g + 2], t[g + 3]);
        __m256 u3 = _mm256_unpackhi_ps(t[g + 2], t[g + 3]);
        _mm256_storeu_ps(dst + (size_t)(g + 0) * NR, _mm256_shuffle_ps(u0, u2, 0x44));
        _mm256_storeu_ps(dst + (size_t)(g + 1) * NR, _mm256_shuffle_ps(u0, u2, 0xee));
        _mm256_storeu_ps(dst + (size_t)(g + 2) * NR, _mm256_shuffle_ps(u1, u3, 0x44));
        _mm256_storeu_ps(dst + (size_t)(g + 3) * NR, _mm256_shuffle_ps(u1, u3, 0xee));
    }
}
#else
static void transpose_block(float *dst, const float *src, size_t ld)
{
    const vi lo = SHUF_LO, hi = SHUF_HI;
    vf r[VW], t[VW];
#pragma GCC unroll 16
    for (int j = 0; j < VW; j++)
        r[j] = *(const vf *)(src + (size_t)j * ld);
    /* One round from x into y; the rounds alternate between r and t
     * (fully unrolled, so both arrays live in registers). */
#define ROUND(y, x)                                                      \
    do {                                                                 \
        _Pragma("GCC unroll 8")                                          \
        for (int i = 0; i < VW / 2; i++) {                               \
            y[2 * i] = __builtin_shuffle(x[i], x[i + VW / 2], lo);       \
            y[2 * i + 1] = __builtin_shuffle(x[i], x[i + VW / 2], hi);   \
        }                                                                \
    } while (0)
    ROUND(t, r);
    ROUND(r, t);
#if VW >= 8
    ROUND(t, r);
#endif
#if VW == 16
    ROUND(r, t);
#endif
#undef ROUND
#if VW == 8
    const vf *out = t; /* an odd number of rounds ends in t */
#else
    const vf *out = r;
#endif
#pragma GCC unroll 16
    for (int p = 0; p < VW; p++)
        *(vf *)(dst + (size_t)p * NR) = out[p];
}
#endif

/* transpose_block reading only the first nh < VW rows of src: the other
 * VW - nh columns of dst are zeros. */
static void transpose_cols(float *dst, const float *src, size_t ld, int nh)
{
    float in[VW * VW] __attribute__((aligned(64))) = {0};
    for (int j = 0; j < nh; j++)
        *(vf *)(in + (size_t)j * VW) = *(const vf *)(src + (size_t)j * ld);
    transpose_block(dst, in, VW);
}

/* panel (kc, NR) = B[p0 .. p0+kc)[j0 .. j0+nr), zero past nr. */
static void pack_b_panel(float *panel, const float *b, size_t b_row, size_t b_col,
                         int p0, int kc, int j0, int nr)
{
    if (nr < NR)
        memset(panel, 0, (size_t)kc * NR * sizeof *panel);
    if (b_col == 1) {
        /* B's rows are contiguous: whole vectors, then the tail, copied
         * inline (a memcpy call per panel row cost as much as the copy). */
        const float *src = b + (size_t)p0 * b_row + j0;
        for (int p = 0; p < kc; p++, src += b_row) {
            float *d = panel + (size_t)p * NR;
            int j = 0;
            for (; j + VW <= nr; j += VW)
                *(vf *)(d + j) = *(const vf *)(src + j);
            for (; j < nr; j++)
                d[j] = src[j];
        }
        return;
    }
    const float *src = b + (size_t)p0 * b_row + (size_t)j0 * b_col;
    int p = 0;
    if (b_row == 1) {
        /* B is a transposed matrix (y = x W^T reads W^T): its columns are
         * contiguous, so whole VW x VW blocks are transposed in registers;
         * a block past the last column of B (N = 27: the output layer of
         * the names model) from a zero-padded copy of the columns there. */
        for (; p + VW <= kc; p += VW)
            for (int h = 0; h < nr; h += VW) {
                float *d = panel + (size_t)p * NR + h;
                const float *s = src + (size_t)p + (size_t)h * b_col;
                if (nr - h >= VW)
                    transpose_block(d, s, b_col);
                else
                    transpose_cols(d, s, b_col, nr - h);
            }
    }
    for (; p < kc; p++)
        for (int j = 0; j < nr; j++)
            panel[(size_t)p * NR + j] = src[(size_t)p * b_row + (size_t)j * b_col];
}

/* ap: rows i0 .. i0+mc of A[.][p0 .. p0+kc) as consecutive (kc, MR) panels,
 * each the transpose of MR rows, zero past mc. */
static void pack_a(float *ap, const float *a, size_t a_row, size_t a_col,
                   int i0, int mc, int p0, int kc)
{
    if (a_row == 1) {
        /* A is a transposed matrix (dW = dy^T x reads dy^T): the mc values
         * of each p are adjacent. Read them in one sweep per p and deal
         * them out to the panels: MR values of each p per panel instead
         * would visit kc lines a_col floats apart once per panel, and at
         * a_col a multiple of 1024 those all fall in one set of L1. */
        if (mc % MR)
            memset(ap + (size_t)(mc / MR) * kc * MR, 0,
                   (size_t)kc * MR * sizeof *ap);
        for (int p = 0; p < kc; p++) {
            const float *src = a + (size_t)i0 + (size_t)(p0 + p) * a_col;
            float *d = ap + (size_t)p * MR;
            int ir = 0;
            for (; ir + MR <= mc; ir += MR, d += (size_t)kc * MR)
                memcpy(d, src + ir, MR * sizeof *d);
            for (int i = 0; ir + i < mc; i++)
                d[i] = src[ir + i];
        }
        return;
    }
    for (int ir = 0; ir < mc; ir += MR, ap += (size_t)kc * MR) {
        int mr = mc - ir < MR ? mc - ir : MR;
        if (mr < MR)
            memset(ap, 0, (size_t)kc * MR * sizeof *ap);
        const float *src = a + (size_t)(i0 + ir) * a_row + (size_t)p0 * a_col;
        if (mr == MR) {
            /* Unrolled over the MR rows: six streams, no inner loop. */
            const float *s0 = src, *s1 = s0 + a_row, *s2 = s1 + a_row;
            const float *s3 = s2 + a_row, *s4 = s3 + a_row, *s5 = s4 + a_row;
            for (int p = 0; p < kc; p++) {
                size_t o = (size_t)p * a_col;
                float *d = ap + (size_t)p * MR;
                d[0] = s0[o];
                d[1] = s1[o];
                d[2] = s2[o];
                d[3] = s3[o];
                d[4] = s4[o];
                d[5] = s5[o];
            }
            continue;
        }
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < mr; i++)
                ap[(size_t)p * MR + i] = src[(size_t)i * a_row + (size_t)p * a_col];
    }
}

/* How a product is computed: C = A B (the first block of the sum stores,
 * the later ones add) rather than C += A B; and its threads' shares whole
 * column panels of C whenever there is one for each thread. */
enum { STORE = 1, BY_COLS = 2 };

/* Thread t of nt's share of C += A B (C = A B with STORE), packing B into
 * bt, its own buffer of KC * ncb floats (ncb a multiple of NR). Whole row
 * blocks, or whole column panels when there are too few row blocks to go
 * round (or BY_COLS): either way the
 * thread owns its C elements, and it packs the parts of B (and of A, where
 * A is packed) it reads itself, so no thread waits for another. Packing
 * the same B (or A) twice costs less than a barrier at these sizes. How
 * the columns are cut into blocks changes no value: each element's sum
 * runs over the same KC blocks of p in the same order. */
static void product_share(float *c, size_t ldc, const float *a, size_t a_row,
                          size_t a_col, const float *b, size_t b_row,
                          size_t b_col, int m, int n, int k, float *bt, int ncb,
                          int t, int nt, int how)
{
    int row_blocks = (m + MR - 1) / MR, col_panels = (n + NR - 1) / NR;
    int split_rows = (how & BY_COLS) && col_panels >= nt
                         ? 0
                         : row_blocks >= 2 * nt || row_blocks >= col_panels;
    int store = how & STORE;
    int units = split_rows ? row_blocks : col_panels;
    int u0 = (int)((long)units * t / nt), u1 = (int)((long)units * (t + 1) / nt);
    int i_begin = split_rows ? u0 * MR : 0;
    int i_end = split_rows ? (u1 * MR < m ? u1 * MR : m) : m;
    int j_begin = split_rows ? 0 : u0 * NR;
    int j_end = split_rows ? n : (u1 * NR < n ? u1 * NR : n);
    /* Whether the micro-kernels read A in place rather than from packed
     * panels: decided from the sizes alone, so every thread decides alike
     * (either way gives the same bits). */
    int in_place = a_col == 1 || (size_t)k * a_col <= A_IN_PLACE_SPAN;
    /* And whether they read B's full-width panels in place (B_IN_PLACE). */
    int b_in_place = b_col == 1 && b_in_l1((size_t)k, b_row);
    float ap[MC * KC] __attribute__((aligned(64)));
    for (int jc = j_begin; jc < j_end && i_begin < i_end; jc += ncb) {
        int nc = j_end - jc < ncb ? j_end - jc : ncb;
        int panels = (nc + NR - 1) / NR;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC;
            int put = store && p0 == 0;
            for (int q = 0; q < panels; q++) {
                int nr = nc - q * NR < NR ? nc - q * NR : NR;
                if (!(b_in_place && nr == NR))
                    pack_b_panel(bt + (size_t)q * NR * kc, b, b_row, b_col, p0,
                                 kc, jc + q * NR, nr);
            }
            for (int i0 = i_begin; i0 < i_end; i0 += MC) {
                int mc = i_end - i0 < MC ? i_end - i0 : MC;
                if (!in_place)
                    pack_a(ap, a, a_row, a_col, i0, mc, p0, kc);
                /* Where each tile of MR rows of this block reads A. */
                APanel tiles[MC / MR];
                for (int ir = 0; ir < mc; ir += MR) {
                    APanel *tp = &tiles[ir / MR];
                    if (in_place) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        tp->a = a + (size_t)(i0 + ir) * a_row + (size_t)p0 * a_col;
                        for (int i = 0; i < MR; i++)
                            tp->off[i] = (size_t)(i < mr ? i : 0) * a_row;
                        tp->step = a_col;
                    } else {
                        tp->a = ap + (size_t)ir * kc;
                        for (int i = 0; i < MR; i++)
                            tp->off[i] = (size_t)i;
                        tp->step = MR;
                    }
                }
                for (int q = 0; q < panels; q++) {
                    int nr = nc - q * NR < NR ? nc - q * NR : NR;
                    int b_here = b_in_place && nr == NR;
                    const float *bq = b_here ? b + (size_t)p0 * b_row + jc + q * NR
                                             : bt + (size_t)q * NR * kc;
                    size_t bstep = b_here ? b_row : NR;
                    float *cq = c + jc + q * NR;
                    int ir = 0;
                    if (nr <= VW)
                        for (; ir + 2 * MR <= mc; ir += 2 * MR)
                            micro_kernel_narrow(cq + (size_t)(i0 + ir) * ldc, ldc,
                                                &tiles[ir / MR], &tiles[ir / MR + 1],
                                                bq, kc, nr, put);
                    for (; ir < mc; ir += MR)
                        micro_kernel(cq + (size_t)(i0 + ir) * ldc, ldc,
                                     &tiles[ir / MR], bq, bstep, kc,
                                     mc - ir < MR ? mc - ir : MR, nr, put);
                }
            }
        }
    }
}

/* Columns of B packed at once by a thread with a buffer of its own
 * (matmul_acc_serial, matmul_serial, matmul_acc inside a region): a
 * quarter of NC, so its buffer is 256 KB, and with product_share's block
 * of A (144 KB) the call needs about 410 KB of stack: inside an OpenMP
 * worker thread's default stack (glibc's, RLIMIT_STACK: 8 MB here), not
 * inside an OMP_STACKSIZE set below that. */
#define NC_SERIAL (NC / 4)

/* Thread t of nt's share of the product, packing B into a buffer of its
 * own, on its own stack: the whole product with t 0 of 1. */
static void product_own_buffer(float *c, size_t ldc, const float *a, size_t a_row,
                               size_t a_col, const float *b, size_t b_row,
                               size_t b_col, int m, int n, int k, int t, int nt,
                               int how)
{
    static_assert(NC_SERIAL % NR == 0, "block sizes");
    float bt[KC * NC_SERIAL] __attribute__((aligned(64)));
    product_share(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, bt,
                  NC_SERIAL, t, nt, how);
}

/* matmul_acc called outside a parallel region: on every thread of one of
 * its own, sharing one packing buffer, if big enough; else on the calling
 * thread. A function of its own, so that the buffer (1 MB of the caller's
 * stack) is not reserved on a worker thread's stack by the call inside a
 * region. */
static __attribute__((noinline)) void
product_outside_region(float *c, size_t ldc, const float *a, size_t a_row,
                       size_t a_col, const float *b, size_t b_row, size_t b_col,
                       int m, int n, int k, int how)
{
    /* The packing buffer for B, on the caller's stack (no allocation in a
     * step); each thread packs into its own slice of it. */
    float bp[KC * NC] __attribute__((aligned(64)));
#ifdef _OPENMP
    /* Each thread needs at least one NR-wide slice of bp. */
    int nt = omp_get_max_threads();
    if (nt > NC / NR)
        nt = NC / NR;
    if (nt > 1 && (long)m * n * k >= PARALLEL_MIN_MACS) {
        /* One start and one join, no barriers; thread t packs into its
         * slice of bp, ncb columns of KC rows. */
#pragma omp parallel num_threads(nt)
        {
            int t = omp_get_thread_num(), ncb = NC / NR / omp_get_num_threads() * NR;
            product_share(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k,
                          bp + (size_t)t * ncb * KC, ncb, t, omp_get_num_threads(), how);
        }
        return;
    }
#endif
    /* Small products run on the calling thread without entering a parallel
     * region at all. */
    product_share(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, bp, NC, 0, 1, how);
}

/* matmul_acc and matmul_acc_cols. */
static void product(float *c, size_t ldc, const float *a, size_t a_row,
                    size_t a_col, const float *b, size_t b_row, size_t b_col,
                    int m, int n, int k, int how)
{
    if (m <= 0 || n <= 0 || k <= 0)
        return;
    static_assert(MR == 6 && NC % NR == 0 && MC % MR == 0, "block sizes");
    if (in_parallel()) {
        /* Called by every thread of the caller's region: each computes
         * its share, then waits for the others, so C is complete when
         * the call returns. */
        product_own_buffer(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k,
                           thread_id(), thread_count(), how);
#pragma omp barrier
        return;
    }
    product_outside_region(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, how);
}

void matmul_acc(float *c, size_t ldc, const float *a, size_t a_row,
                size_t a_col, const float *b, size_t b_row, size_t b_col,
                int m, int n, int k)
{
    product(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, 0);
}

void matmul_acc_cols(float *c, size_t ldc, const float *a, size_t a_row,
                     size_t a_col, const float *b, size_t b_row, size_t b_col,
                     int m, int n, int k)
{
    product(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, BY_COLS);
}

void matmul_acc_serial(float *c, size_t ldc, const float *a, size_t a_row,
                       size_t a_col, const float *b, size_t b_row, size_t b_col,
                       int m, int n, int k)
{
    if (m > 0 && n > 0 && k > 0)
        product_own_buffer(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, 0, 1, 0);
}

void matmul_serial(float *c, size_t ldc, const float *a, size_t a_row,
                   size_t a_col, const float *b, size_t b_row, size_t b_col,
                   int m, int n, int k)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int i = 0; i < m; i++)
            memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof *c);
        return;
    }
    product_own_buffer(c, ldc, a, a_row, a_col, b, b_row, b_col, m, n, k, 0, 1, STORE);
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
