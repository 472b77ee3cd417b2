/* parallel.h - running a pass on every thread only when that pays.
 *
 * Entering an OpenMP parallel region costs about half a microsecond even
 * when its if clause is false: libgomp still sets up (and takes down) a
 * team of one thread. A character of sampling takes about two microseconds
 * and a step of a small model a few dozen, so a pass too small for threads
 * must not enter a region at all. Such a pass keeps its loop in a function
 * of its own, written as an orphaned worksharing loop (`#pragma omp for`):
 * called inside a region, the loop's iterations are shared out among the
 * threads; called outside one, the calling thread runs them all. So the
 * passes built this way must not be called from inside a parallel region
 * of their caller's: there the loop would be shared out among the caller's
 * threads. None is (the model's passes run one after another). */
#ifndef TINYCHAR_PARALLEL_H
#define TINYCHAR_PARALLEL_H

#ifdef _OPENMP
#include <omp.h>
#endif

/* Whether work (values, multiply-adds: the caller's unit) of at least min
 * is there, and more than one thread to share it. */
static inline int parallel_worth(long work, long min)
{
#ifdef _OPENMP
    return work >= min && omp_get_max_threads() > 1;
#else
    (void)work;
    (void)min;
    return 0;
#endif
}

/* This thread's number and the number of threads sharing the work: 0 and 1
 * outside a parallel region (and without OpenMP), for loops that split
 * their work by hand. */
static inline int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline int thread_count(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Runs the statement call on every thread, in one parallel region, if
 * worth; else on the calling thread alone. The region ends right after the
 * call, so the loops inside may skip their own closing barrier (nowait). */
#define PARALLEL_CALL(worth, call)    \
    do {                              \
        if (worth) {                  \
            _Pragma("omp parallel")   \
            call;                     \
        } else {                      \
            call;                     \
        }                             \
    } while (0)

#endif
