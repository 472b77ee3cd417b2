/* peak.h - this machine's measured FP32 peak: how many GFLOP/s a loop of
 * independent vector FMAs reaches on 1, 2, ... threads. The yardstick the
 * benchmark divides its matrix-product GFLOP/s by; not a model kernel. */
#ifndef TINYCHAR_BENCH_PEAK_H
#define TINYCHAR_BENCH_PEAK_H

/* Floats per vector the FMA loop uses: one native vector register, so each
 * multiply-add is one FMA instruction (16 on AVX-512, 8 on AVX2). */
#if defined(__AVX512F__)
#define PEAK_LANES 16
#elif defined(__AVX__)
#define PEAK_LANES 8
#else
#define PEAK_LANES 4
#endif

/* GFLOP/s of `threads` threads each running the FMA loop for about
 * `seconds`; the best of `trials` runs, since on a shared machine anything
 * but the best measures the other load. Returns 0 if a thread cannot start. */
double peak_gflops(int threads, double seconds, int trials);

/* The instruction set the FMA loop was compiled for, e.g. "AVX-512". */
const char *peak_isa(void);

#endif
