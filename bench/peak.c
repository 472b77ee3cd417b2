/* peak.c - the FP32 peak of this machine, measured: every thread runs a loop
 * of 12 independent chains of native-width vector FMAs (acc = acc * m + c),
 * enough to cover the FMA latency (4 to 5 cycles) on two FMA units (8 to 10
 * chains needed), while the 12 accumulators plus m and c still fit in the 16
 * registers of AVX2 (more would spill to memory and measure the spills).
 * Compiled with -march=native, so the vectors are AVX-512 or AVX2 FMAs.
 * Threads are plain pthreads, so the peak is measured in OpenMP-less builds too. */
#include "peak.h"

#include <pthread.h>
#include <time.h>

typedef float vpeak __attribute__((vector_size(PEAK_LANES * sizeof(float))));

/* Flops per loop iteration: 12 chains x PEAK_LANES lanes x 2 flops. */
#define CHAINS 12
#define FLOPS_PER_ITER (CHAINS * PEAK_LANES * 2.0)
/* Iterations between clock reads: about 0.1 ms at 100 GFLOP/s. */
#define BLOCK 20000

typedef struct {
    double seconds;   /* in: how long to run */
    double iters;     /* out: iterations done */
    float sink;       /* out: keeps the result alive */
} Job;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *fma_loop(void *arg)
{
    Job *job = arg;
    /* m and c come through volatile reads so the compiler cannot fold the
     * recurrence; with m < 1 every chain converges to c / (1 - m) = 1, no
     * overflow and no subnormals. */
    volatile float vm = 0.999999f, vc = 1e-6f;
    vpeak m = {0}, c = {0};
    m += vm;
    c += vc;
    /* Distinct starting values, or the compiler merges identical chains. */
    vpeak a0 = c * 0, a1 = c * 1, a2 = c * 2, a3 = c * 3, a4 = c * 4, a5 = c * 5;
    vpeak a6 = c * 6, a7 = c * 7, a8 = c * 8, a9 = c * 9, a10 = c * 10;
    vpeak a11 = c * 11;
    double t0 = now(), iters = 0;
    do {
        for (int i = 0; i < BLOCK; i++) {
            /* With -ffp-contract=fast each line is one FMA instruction. */
            a0 = a0 * m + c;   a1 = a1 * m + c;   a2 = a2 * m + c;   a3 = a3 * m + c;
            a4 = a4 * m + c;   a5 = a5 * m + c;   a6 = a6 * m + c;   a7 = a7 * m + c;
            a8 = a8 * m + c;   a9 = a9 * m + c;   a10 = a10 * m + c; a11 = a11 * m + c;
        }
        iters += BLOCK;
    } while (now() - t0 < job->seconds);
    vpeak s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) +
            ((a8 + a9) + (a10 + a11));
    job->sink = s[0];
    job->iters = iters;
    return NULL;
}

double peak_gflops(int threads, double seconds, int trials)
{
    enum { MAX_THREADS = 256 };
    if (threads < 1 || threads > MAX_THREADS)
        return 0;
    double best = 0;
    for (int t = 0; t < trials; t++) {
        pthread_t tid[MAX_THREADS];
        Job jobs[MAX_THREADS];
        double t0 = now();
        int started = 0;
        for (; started < threads; started++) {
            jobs[started] = (Job){.seconds = seconds};
            if (pthread_create(&tid[started], NULL, fma_loop, &jobs[started]) != 0)
                break;
        }
        double iters = 0;
        for (int i = 0; i < started; i++) {
            pthread_join(tid[i], NULL);
            iters += jobs[i].iters;
        }
        double wall = now() - t0;
        if (started < threads)
            return 0;
        double gflops = iters * FLOPS_PER_ITER / wall * 1e-9;
        if (gflops > best)
            best = gflops;
    }
    return best;
}

const char *peak_isa(void)
{
#if defined(__AVX512F__)
    return "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
    return "AVX2+FMA";
#elif defined(__AVX__)
    return "AVX";
#elif defined(__SSE2__)
    return "SSE2";
#else
    return "generic";
#endif
}
